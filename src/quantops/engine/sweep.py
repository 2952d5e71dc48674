"""Many simulations in parallel (numba ``prange``): one row of signals per parameter combination.

Each row runs the same kernel as a single backtest (``simulate_into``) and reduces its equity curve
to the headline metrics, so a sweep never keeps per-combination equity curves around.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit, prange

from quantops.engine import metrics as mt
from quantops.engine.catalogue import SWEEP_METRICS
from quantops.engine.metrics import bar_returns, summary_metrics
from quantops.engine.simulator import (
    N_TRADE_FIELDS,
    T_FEES,
    T_PNL,
    T_RETURN_PCT,
    SimParams,
    simulate_into,
    trade_capacity,
)

N_SWEEP_METRICS = len(SWEEP_METRICS)
# Where each sweep metric sits in ``summary_metrics``'s output.
SWEEP_COLUMNS = np.array([mt.SUMMARY_COLUMNS[key] for key in SWEEP_METRICS], dtype=np.int64)


@njit(parallel=True, cache=True)
def _simulate_many(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    entries: np.ndarray, exits: np.ndarray,
    initial_cash: float, commission: float, commission_fixed: float, slippage: float,
    fill_next_open: bool, allow_short: bool, size_type: int, size: float, fractional: bool,
    stop_loss: float, take_profit: float, ann: float, rf_per_bar: float,
) -> np.ndarray:  # fmt: skip
    n_rows = entries.shape[0]
    n = close.shape[0]
    out = np.full((n_rows, N_SWEEP_METRICS), np.nan)
    for row in prange(n_rows):
        equity = np.empty(n)
        position = np.empty(n)
        trades = np.empty((trade_capacity(entries[row], exits[row], allow_short), N_TRADE_FIELDS))
        n_trades = simulate_into(
            open_, high, low, close, entries[row], exits[row],
            initial_cash, commission, commission_fixed, slippage, fill_next_open, allow_short,
            size_type, size, fractional, stop_loss, take_profit, equity, position, trades,
        )  # fmt: skip
        m = summary_metrics(
            equity, bar_returns(equity, initial_cash), position, trades[:n_trades, T_PNL],
            trades[:n_trades, T_RETURN_PCT], trades[:n_trades, T_FEES], initial_cash, ann, rf_per_bar,
        )  # fmt: skip
        for col in range(N_SWEEP_METRICS):
            out[row, col] = m[SWEEP_COLUMNS[col]]
    return out


# numba's workqueue threading layer (the fallback when neither TBB nor OpenMP is available) must not run
# two parallel kernels at once; a sweep already uses every core, so serialising costs nothing.
_PARALLEL_LOCK = threading.Lock()


def simulate_many(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    entries: np.ndarray, exits: np.ndarray, params: SimParams, ann: float, risk_free_rate: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """Metrics matrix (rows = signal rows, columns = ``SWEEP_METRICS``) for 2-D boolean signals."""
    rf_per_bar = mt.per_bar_rate(risk_free_rate, ann)
    with _PARALLEL_LOCK:
        return _simulate_many(
            open_, high, low, close, np.ascontiguousarray(entries), np.ascontiguousarray(exits),
            float(params.initial_cash), float(params.commission), float(params.commission_fixed),
            float(params.slippage), bool(params.fill_next_open), bool(params.allow_short),
            int(params.size_type), float(params.size), bool(params.fractional), float(params.stop_loss),
            float(params.take_profit),
            float(ann), float(rf_per_bar),
        )  # fmt: skip
