"""The CPU part of a backtest job; runs in a worker process (local pool or Celery worker)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantops.common import json_safe
from quantops.jobs.payload import JobOutcome, JobPayload

SYNTHETIC_NOTICE = (
    "Synthetic data: {symbol} here is the demo universe's seeded random walk, not real market prices. "
    "Import real data with `quantops data import` or `quantops data fetch`."
)


def _columnar(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    if not rows:
        return {}
    return {name: [row.get(name) for row in rows] for name in rows[0]}


def _finite_list(values: np.ndarray) -> list[float | None]:
    """float64 array → list with NaN/inf as None (JSON has no NaN); vectorised, this runs per job."""
    out: list[float | None] = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = None
    return out


def _equity_arrays(result: Any, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sim = getattr(result, "sim", None)
    values = getattr(sim, "equity", None)
    if isinstance(values, np.ndarray) and values.shape == timestamps.shape:
        return timestamps, values  # the arrays behind `result.equity`, without building a Series
    series: pd.Series = result.equity
    return series.index.as_unit("ns").asi8, series.to_numpy(dtype=float)


def run_payload(payload: JobPayload) -> JobOutcome:
    """Run one backtest from arrays; also writes the tear sheet when the payload asks for one."""
    import quantops
    from quantops.backtest import BacktestSettings

    started = time.perf_counter()
    settings = BacktestSettings.model_validate(payload.settings)
    result = quantops.backtest_arrays(
        payload.open, payload.high, payload.low, payload.close, payload.timestamps, payload.config, settings
    )
    summary = result.to_dict(include_equity=False)  # JSON-safe stats and trades
    timestamps_ns, values = _equity_arrays(result, np.asarray(payload.timestamps, dtype=np.int64))
    equity = {"t": (timestamps_ns // 1_000_000).tolist(), "v": _finite_list(np.asarray(values, dtype=float))}
    trades = _columnar(summary.get("trades", []))
    stats = json_safe(summary["stats"])
    report_path = None
    if payload.report_path:
        from quantops.reports import write_backtest_report

        subtitle = (
            f"{payload.symbol} {payload.interval} · {payload.n_bars} bars · config {payload.config} · "
            f"backtest {payload.backtest_id}"
        )
        notice = SYNTHETIC_NOTICE.format(symbol=payload.symbol) if payload.synthetic else ""
        report_path = str(
            write_backtest_report(
                Path(payload.report_path),
                payload.title or "Backtest",
                subtitle,
                stats,
                equity,
                trades,
                notice=notice,
            )
        )
    return JobOutcome(
        stats=stats,
        equity=equity,
        trades=trades,
        n_bars=payload.n_bars,
        run_seconds=time.perf_counter() - started,
        report_path=report_path,
    )


def warm_up() -> None:
    """Compile the numba kernels once per worker process, before the first real job arrives."""
    n = 300
    rng = np.random.default_rng(0)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    timestamps = (np.arange(n, dtype=np.int64) + 18_000) * 86_400 * 1_000_000_000
    try:
        from quantops.strategies import STRATEGY_TYPES
    except ImportError:  # engine not installed in this process: nothing to warm
        return
    for config_type, spec in STRATEGY_TYPES.items():
        try:
            config = spec.model.model_validate({"config_type": config_type}).model_dump()
        except Exception:
            continue  # needs parameters without defaults; compiled on first use instead
        payload = JobPayload(
            backtest_id="warm-up",
            attempt=0,
            symbol="WARM",
            interval="1d",
            config=config,
            settings={},
            timestamps=timestamps,
            open=close,
            high=close * 1.01,
            low=close * 0.99,
            close=close,
            volume=np.full(n, 1e6),
        )
        try:
            run_payload(payload)
        except Exception:
            continue
