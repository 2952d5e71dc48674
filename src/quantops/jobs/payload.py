"""What a job carries to a worker and what it brings back.

The submitting process owns the DuckDB file, so it loads the bars and ships the arrays; workers
never open the market-data store. Celery messages are JSON, so arrays travel base64-encoded.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_ARRAY_FIELDS = ("timestamps", "open", "high", "low", "close", "volume")


def _encode(array: np.ndarray) -> dict[str, Any]:
    array = np.ascontiguousarray(array)
    return {"dtype": array.dtype.str, "data": base64.b64encode(array.tobytes()).decode("ascii")}


def _decode(obj: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(obj["data"]), dtype=np.dtype(obj["dtype"])).copy()


@dataclass(slots=True)
class JobPayload:
    backtest_id: str
    attempt: int
    symbol: str
    interval: str
    config: dict[str, Any]
    settings: dict[str, Any]
    timestamps: np.ndarray  # int64 ns UTC
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    report_path: str | None = None  # where the worker writes the HTML tear sheet, if asked
    title: str = ""
    synthetic: bool = False  # the bars are synthetic demo data (the report page says so)

    @property
    def n_bars(self) -> int:
        return int(self.close.shape[0])

    def to_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "backtest_id": self.backtest_id,
            "attempt": self.attempt,
            "symbol": self.symbol,
            "interval": self.interval,
            "config": self.config,
            "settings": self.settings,
            "report_path": self.report_path,
            "title": self.title,
            "synthetic": self.synthetic,
        }
        for name in _ARRAY_FIELDS:
            message[name] = _encode(getattr(self, name))
        return message

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> JobPayload:
        arrays = {name: _decode(message[name]) for name in _ARRAY_FIELDS}
        scalars = {k: v for k, v in message.items() if k not in _ARRAY_FIELDS}
        return cls(**scalars, **arrays)


@dataclass(slots=True)
class JobOutcome:
    """Result of one run in compact, JSON-safe form (what the results table stores)."""

    stats: dict[str, Any]
    equity: dict[str, list[Any]]  # {"t": [epoch ms], "v": [value]}
    trades: dict[str, list[Any]]  # columnar
    n_bars: int
    run_seconds: float
    report_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_message(self) -> dict[str, Any]:
        return {
            "stats": self.stats,
            "equity": self.equity,
            "trades": self.trades,
            "n_bars": self.n_bars,
            "run_seconds": self.run_seconds,
            "report_path": self.report_path,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> JobOutcome:
        return cls(**message)


