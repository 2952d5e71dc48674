"""The CPU part of a backtest job; runs in a worker process (local pool or Celery worker)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantops.jobs.payload import JobOutcome, JobPayload, json_safe


def _trades_columnar(trades: pd.DataFrame) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {}
    for name in trades.columns:
        column = trades[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            columns[str(name)] = [None if pd.isna(v) else v.isoformat() for v in column]
        else:
            columns[str(name)] = json_safe(column.tolist())
    return columns


def run_payload(payload: JobPayload) -> JobOutcome:
    """Run one backtest from arrays; also writes the tear sheet when the payload asks for one."""
    import quantops
    from quantops.backtest import BacktestSettings

    started = time.perf_counter()
    settings = BacktestSettings.model_validate(payload.settings)
    result = quantops.backtest_arrays(
        payload.open, payload.high, payload.low, payload.close, payload.timestamps, payload.config, settings
    )
    equity_index = result.equity.index
    if isinstance(equity_index, pd.DatetimeIndex):
        epoch_ms = equity_index.as_unit("ms").asi8.tolist()
    else:
        epoch_ms = (np.asarray(payload.timestamps, dtype=np.int64) // 1_000_000).tolist()
    equity = {"t": epoch_ms, "v": json_safe(result.equity.to_numpy(dtype=float))}
    trades = _trades_columnar(result.trades)
    stats = json_safe(dict(result.stats))
    report_path = None
    if payload.report_path:
        from quantops.services.reports import write_backtest_report

        subtitle = (
            f"{payload.symbol} {payload.interval} · {payload.n_bars} bars · config {payload.config} · "
            f"backtest {payload.backtest_id}"
        )
        report_path = str(
            write_backtest_report(
                Path(payload.report_path), payload.title or "Backtest", subtitle, stats, equity, trades
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
