"""Many simulations in parallel (numba ``prange``): one row of signals per parameter combination.

Each row runs the same kernel as a single backtest (``simulate_into``) and reduces its equity curve
to the headline metrics, so a sweep never keeps per-combination equity curves around.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from quantops.engine.metrics import (
    annual_volatility,
    bar_returns,
    cagr,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
)
from quantops.engine.simulator import N_TRADE_FIELDS, T_PNL, SimParams, simulate_into

SWEEP_METRICS = (
    "total_return",
    "cagr",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown",
    "calmar_ratio",
    "annual_volatility",
    "num_trades",
    "win_rate",
    "profit_factor",
    "exposure",
    "final_equity",
)
N_SWEEP_METRICS = len(SWEEP_METRICS)


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
        trades = np.empty((n, N_TRADE_FIELDS))
        n_trades = simulate_into(
            open_, high, low, close, entries[row], exits[row],
            initial_cash, commission, commission_fixed, slippage, fill_next_open, allow_short,
            size_type, size, fractional, stop_loss, take_profit, equity, position, trades,
        )  # fmt: skip
        returns = bar_returns(equity, initial_cash)
        final = equity[n - 1]
        growth = cagr(final, initial_cash, n, ann)
        dd = max_drawdown(equity, initial_cash)[0]
        wins = 0
        gross_profit = 0.0
        gross_loss = 0.0
        for k in range(n_trades):
            pnl = trades[k, T_PNL]
            if pnl > 0.0:
                wins += 1
                gross_profit += pnl
            elif pnl < 0.0:
                gross_loss -= pnl
        held = 0
        for i in range(n):
            if position[i] != 0.0:
                held += 1
        out[row, 0] = (final / initial_cash - 1.0) * 100.0
        out[row, 1] = growth * 100.0
        out[row, 2] = sharpe_ratio(returns, rf_per_bar, ann)
        out[row, 3] = sortino_ratio(returns, rf_per_bar, ann)
        out[row, 4] = dd * 100.0
        out[row, 5] = growth / abs(dd) if dd < 0.0 else np.nan
        out[row, 6] = annual_volatility(returns, ann) * 100.0
        out[row, 7] = n_trades
        out[row, 8] = wins / n_trades * 100.0 if n_trades > 0 else np.nan
        out[row, 9] = gross_profit / gross_loss if gross_loss > 0.0 else np.nan
        out[row, 10] = held / n * 100.0
        out[row, 11] = final
    return out


def simulate_many(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    entries: np.ndarray, exits: np.ndarray, params: SimParams, ann: float, risk_free_rate: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """Metrics matrix (rows = signal rows, columns = ``SWEEP_METRICS``) for 2-D boolean signals."""
    rf_per_bar = (1.0 + risk_free_rate) ** (1.0 / ann) - 1.0
    return _simulate_many(
        open_, high, low, close, np.ascontiguousarray(entries), np.ascontiguousarray(exits),
        float(params.initial_cash), float(params.commission), float(params.commission_fixed),
        float(params.slippage), bool(params.fill_next_open), bool(params.allow_short), int(params.size_type),
        float(params.size), bool(params.fractional), float(params.stop_loss), float(params.take_profit),
        float(ann), float(rf_per_bar),
    )  # fmt: skip
