"""Return-based performance metrics over the common window, vectorised across strategies.

Conventions (same as the engine's ``stats``): returns, CAGR, volatility, drawdown and win rate are in
percent; ratios are unitless; ``max_drawdown`` is negative (−25.0 means a 25 % peak-to-trough fall).
Annualisation follows empyrical: ``periods_per_year`` periods per year, Sharpe with ddof=1, Sortino
with the root-mean-square of the negative part of returns, CAGR over ``n_returns / periods_per_year``
years, Calmar = CAGR / |max drawdown|.
"""

from __future__ import annotations

import numpy as np

from quantops.engine.catalogue import COMPARISON_METRICS, Direction, metric

TRADING_DAYS_PER_YEAR = 252

# Ranking directions and the supported metric names come from the one metric catalogue.
METRIC_DIRECTIONS: dict[str, Direction] = {key: metric(key).direction for key in COMPARISON_METRICS}
SUPPORTED_METRICS: tuple[str, ...] = COMPARISON_METRICS
# win_rate is trade-based and cannot be derived from equity; callers pass it in from the backtest stats.
EQUITY_METRICS: tuple[str, ...] = tuple(m for m in SUPPORTED_METRICS if m != "win_rate")


def max_drawdown_fraction(equity: np.ndarray) -> np.ndarray:
    """Largest peak-to-trough fall along axis 0 as a non-positive fraction (−0.25 = 25 % drawdown)."""
    running_peak = np.maximum.accumulate(equity, axis=0)
    return np.min(equity / running_peak - 1.0, axis=0)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.divide(numerator, denominator)
    # A zero denominator means "undefined", not ±inf: rank it last and show null.
    return np.where(np.isfinite(ratio), ratio, np.nan)


def performance_metrics(
    equity: np.ndarray, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> dict[str, np.ndarray]:
    """Metrics for each column of ``equity`` (shape (n_dates, n_strategies) or (n_dates,)).

    Returns a dict metric name → float64 array of shape (n_strategies,) (or 0-d for 1-D input).
    """
    equity = np.asarray(equity, dtype=np.float64)
    returns = equity[1:] / equity[:-1] - 1.0
    n_returns = returns.shape[0]
    growth = equity[-1] / equity[0]
    years = n_returns / periods_per_year

    mean = returns.mean(axis=0)
    std = returns.std(axis=0, ddof=1) if n_returns > 1 else np.full(mean.shape, np.nan)
    downside = np.sqrt(np.mean(np.square(np.minimum(returns, 0.0)), axis=0))
    annual_factor = np.sqrt(periods_per_year)
    cagr = growth ** (1.0 / years) - 1.0
    drawdown = max_drawdown_fraction(equity)

    return {
        "total_return": (growth - 1.0) * 100.0,
        "cagr": cagr * 100.0,
        "sharpe_ratio": _safe_divide(mean, std) * annual_factor,
        "sortino_ratio": _safe_divide(mean * periods_per_year, downside * annual_factor),
        "max_drawdown": drawdown * 100.0,
        "calmar_ratio": _safe_divide(cagr, np.abs(drawdown)),
        "volatility": std * annual_factor * 100.0,
    }
