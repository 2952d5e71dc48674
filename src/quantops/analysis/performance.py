"""Return-based performance metrics over the common window, vectorised across strategies.

Conventions and formulas are the engine's (``quantops.engine.metrics``, docs/engine.md), computed by
its functions: returns, CAGR, volatility, drawdown and win rate are in percent; ratios are unitless;
``max_drawdown`` is negative (−25.0 means a 25 % peak-to-trough fall); Sharpe/Sortino use the
backtest's ``periods_per_year`` and ``risk_free_rate``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from quantops.engine import metrics as em
from quantops.engine.catalogue import COMPARISON_METRICS, Direction, metric

TRADING_DAYS_PER_YEAR = 252

# Ranking directions and the supported metric names come from the one metric catalogue.
METRIC_DIRECTIONS: dict[str, Direction] = {key: metric(key).direction for key in COMPARISON_METRICS}
SUPPORTED_METRICS: tuple[str, ...] = COMPARISON_METRICS
# win_rate is trade-based and cannot be derived from equity; callers pass it in from the backtest stats.
EQUITY_METRICS: tuple[str, ...] = tuple(m for m in SUPPORTED_METRICS if m != "win_rate")


def _per_column(value: float | Sequence[float] | np.ndarray | None, n: int, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default)
    out = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    out[np.isnan(out)] = default
    return out


def _series(column: np.ndarray, initial_cash: float) -> tuple[np.ndarray, float]:
    """(the values measured, the account before them): from the starting cash when it is known."""
    column = np.ascontiguousarray(column, dtype=np.float64)
    if math.isfinite(initial_cash) and initial_cash > 0.0:
        return column, float(initial_cash)
    return column[1:], float(column[0])


def strategy_returns(
    equity: np.ndarray, initial_cash: Sequence[float] | np.ndarray | None = None
) -> list[np.ndarray]:
    """Each column's period returns as :func:`performance_metrics` measures them (VaR uses the same)."""
    matrix = np.asarray(equity, dtype=np.float64)
    matrix = matrix[:, None] if matrix.ndim == 1 else matrix
    base = _per_column(initial_cash, matrix.shape[1], np.nan)
    return [em.bar_returns(*_series(matrix[:, j], base[j])) for j in range(matrix.shape[1])]


def performance_metrics(
    equity: np.ndarray,
    periods_per_year: float | Sequence[float] | np.ndarray = TRADING_DAYS_PER_YEAR,
    risk_free_rate: float | Sequence[float] | np.ndarray = 0.0,
    initial_cash: Sequence[float] | np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Metrics for each column of ``equity`` (shape (n_dates, n_strategies) or (n_dates,)).

    Computed by the engine's own metric functions (``quantops.engine.metrics``), so a strategy compared
    over its whole backtest gets the very figures of its backtest ``stats``. ``periods_per_year`` and
    ``risk_free_rate`` (annual fraction) may differ per column; ``initial_cash[j]`` (NaN or None = none)
    is the account value before the first row — the backtest's starting cash, which its first bar's
    return is measured from; without it the first row is the base (n_dates − 1 returns).

    Returns a dict metric name → float64 array of shape (n_strategies,) (or 0-d for 1-D input).
    """
    equity = np.asarray(equity, dtype=np.float64)
    one_d = equity.ndim == 1
    matrix = equity[:, None] if one_d else equity
    n = matrix.shape[1]
    ann = _per_column(periods_per_year, n, TRADING_DAYS_PER_YEAR)
    rf = _per_column(risk_free_rate, n, 0.0)
    base = _per_column(initial_cash, n, np.nan)
    out = {key: np.full(n, np.nan) for key in EQUITY_METRICS}
    for j in range(n):
        series, start = _series(matrix[:, j], base[j])
        rf_per_bar = em.per_bar_rate(float(rf[j]), float(ann[j]))
        returns = em.bar_returns(series, start)
        if series.size == 0:
            continue
        growth = em.cagr(float(series[-1]), start, series.shape[0], float(ann[j]))
        drawdown = em.max_drawdown(series, start)[0]
        out["total_return"][j] = (series[-1] / start - 1.0) * 100.0
        out["cagr"][j] = growth * 100.0
        out["sharpe_ratio"][j] = em.sharpe_ratio(returns, rf_per_bar, float(ann[j]))
        out["sortino_ratio"][j] = em.sortino_ratio(returns, rf_per_bar, float(ann[j]))
        out["max_drawdown"][j] = drawdown * 100.0
        out["calmar_ratio"][j] = growth / abs(drawdown) if drawdown < 0.0 else math.nan
        out["volatility"][j] = em.annual_volatility(returns, float(ann[j])) * 100.0
    for key, values in out.items():
        values[~np.isfinite(values)] = np.nan  # undefined, not ±inf: ranks last and shows null
        if one_d:
            out[key] = values.reshape(())
    return out
