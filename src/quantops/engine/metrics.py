"""Performance metrics over an equity curve and a trade list (numpy + numba, no pandas).

Definitions follow empyrical (and are cross-checked against it in tests):
- bar returns r[0] = equity[0]/initial_cash − 1, r[i] = equity[i]/equity[i−1] − 1;
- Sharpe = mean(r − rf) / std(r − rf, ddof=1) · √A; Sortino = mean(r − rf)·A / (√mean(min(r − rf, 0)²)·√A);
  rf is the per-bar risk-free rate derived from the annual one, A the bars per year;
- CAGR = (final/initial)^(A/len(r)) − 1; annual volatility = std(r, ddof=1)·√A;
- max drawdown = min(equity / running max − 1) with the initial cash as the first peak;
- Calmar = CAGR / |max drawdown|; historical VaR(p) = percentile(r, 100·(1−p));
  CVaR(p) = mean of the worst ⌊(len−1)·(1−p)⌋+1 returns (empyrical's rule).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SECONDS_PER_DAY = 86_400.0


def periods_per_year(timestamps_ns: np.ndarray) -> float:
    """Bars per year inferred from the bar spacing.

    Daily bars → 252 (trading days), or 365 when more than ~17% of bars fall on weekends (crypto,
    backtesting.py's rule); weekly → 52; monthly → 12; intraday → 252 × median bars per trading day.
    """
    n = timestamps_ns.shape[0]
    if n < 2:
        return 252.0
    step_days = float(np.median(np.diff(timestamps_ns))) / 1e9 / SECONDS_PER_DAY
    if step_days >= 25:
        return 12.0
    if step_days >= 5:
        return 52.0
    days = timestamps_ns // np.int64(86_400 * 10**9)
    if step_days >= 0.9:
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        weekend_share = float(np.mean(weekday >= 5))
        return 365.0 if weekend_share > 0.17 else 252.0
    _, per_day = np.unique(days, return_counts=True)
    return 252.0 * float(np.median(per_day))


@njit(cache=True)
def bar_returns(equity: np.ndarray, initial_cash: float) -> np.ndarray:
    n = equity.shape[0]
    out = np.empty(n)
    prev = initial_cash
    for i in range(n):
        out[i] = equity[i] / prev - 1.0 if prev > 0.0 else 0.0
        prev = equity[i]
    return out


@njit(cache=True)
def sharpe_ratio(returns: np.ndarray, rf_per_bar: float, ann: float) -> float:
    n = returns.shape[0]
    if n < 2:
        return np.nan
    excess = returns - rf_per_bar
    std = np.std(excess) * math.sqrt(n / (n - 1.0))
    if std == 0.0:
        return np.nan
    return np.mean(excess) / std * math.sqrt(ann)


@njit(cache=True)
def sortino_ratio(returns: np.ndarray, rf_per_bar: float, ann: float) -> float:
    n = returns.shape[0]
    if n < 1:
        return np.nan
    excess = returns - rf_per_bar
    downside = 0.0
    for i in range(n):
        if excess[i] < 0.0:
            downside += excess[i] * excess[i]
    downside = math.sqrt(downside / n) * math.sqrt(ann)
    if downside == 0.0:
        return np.nan
    return np.mean(excess) * ann / downside


@njit(cache=True)
def annual_volatility(returns: np.ndarray, ann: float) -> float:
    n = returns.shape[0]
    if n < 2:
        return np.nan
    return np.std(returns) * math.sqrt(n / (n - 1.0)) * math.sqrt(ann)


@njit(cache=True)
def cagr(final_equity: float, initial_cash: float, n_bars: int, ann: float) -> float:
    if n_bars < 1 or initial_cash <= 0.0:
        return np.nan
    growth = final_equity / initial_cash
    if growth <= 0.0:
        return -1.0
    return growth ** (ann / n_bars) - 1.0


@njit(cache=True)
def max_drawdown(equity: np.ndarray, initial_cash: float) -> tuple[float, int, int, int, int]:
    """(max drawdown ≤ 0, its trough bar, longest underwater stretch in bars, that stretch's start and end).

    The initial cash is the first peak (start bar −1). An underwater stretch runs from a peak bar to the
    last bar before the equity is back at or above that peak (or to the end of data).
    """
    peak = initial_cash
    peak_bar = -1
    worst = 0.0
    worst_trough = -1
    longest = 0
    longest_start = -1
    longest_end = -1
    for i in range(equity.shape[0]):
        if equity[i] >= peak:
            peak = equity[i]
            peak_bar = i
        else:
            dd = equity[i] / peak - 1.0 if peak > 0.0 else -1.0
            if dd < worst:
                worst = dd
                worst_trough = i
            if i - peak_bar > longest:
                longest = i - peak_bar
                longest_start = peak_bar
                longest_end = i
    return worst, worst_trough, longest, longest_start, longest_end


@njit(cache=True)
def value_at_risk(returns: np.ndarray, confidence: float) -> float:
    if returns.shape[0] == 0:
        return np.nan
    return np.percentile(returns, 100.0 * (1.0 - confidence))


@njit(cache=True)
def conditional_value_at_risk(returns: np.ndarray, confidence: float) -> float:
    n = returns.shape[0]
    if n == 0:
        return np.nan
    cutoff = int((n - 1) * (1.0 - confidence))
    worst = np.sort(returns)[: cutoff + 1]
    return np.mean(worst)


def _nan_to_none(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def compute_stats(
    equity: np.ndarray,
    position: np.ndarray,
    trades_pnl: np.ndarray,
    trades_return_pct: np.ndarray,
    trades_fees: np.ndarray,
    initial_cash: float,
    ann: float,
    risk_free_rate: float = 0.0,
    timestamps_ns: np.ndarray | None = None,
) -> dict[str, float | int | None]:
    """Every headline statistic; returns/drawdowns/rates in percent, undefined values as None."""
    n = equity.shape[0]
    returns = bar_returns(equity, initial_cash)
    rf_per_bar = (1.0 + risk_free_rate) ** (1.0 / ann) - 1.0
    final = float(equity[-1]) if n else float(initial_cash)
    growth_cagr = cagr(final, initial_cash, n, ann)
    dd, _trough, dd_bars, dd_start, dd_end = max_drawdown(equity, initial_cash)
    dd_days = math.nan
    if timestamps_ns is not None and n:
        dd_days = 0.0
        if dd_end >= 0:
            dd_days = float(timestamps_ns[dd_end] - timestamps_ns[max(dd_start, 0)]) / 1e9 / SECONDS_PER_DAY
    calmar = growth_cagr / abs(dd) if dd < 0 else math.nan

    num_trades = int(trades_pnl.shape[0])
    wins = trades_pnl[trades_pnl > 0]
    losses = trades_pnl[trades_pnl < 0]
    gross_profit = float(wins.sum())
    gross_loss = float(-losses.sum())
    stats: dict[str, float | int | None] = {
        "initial_cash": float(initial_cash),
        "final_equity": final,
        "total_return": (final / initial_cash - 1.0) * 100.0,
        "cagr": growth_cagr * 100.0,
        "annual_volatility": annual_volatility(returns, ann) * 100.0,
        "sharpe_ratio": sharpe_ratio(returns, rf_per_bar, ann),
        "sortino_ratio": sortino_ratio(returns, rf_per_bar, ann),
        "max_drawdown": dd * 100.0,
        "max_drawdown_duration_bars": int(dd_bars),
        "max_drawdown_duration_days": dd_days,
        "calmar_ratio": calmar,
        "num_trades": num_trades,
        "win_rate": float(wins.shape[0]) / num_trades * 100.0 if num_trades else math.nan,
        "profit_factor": gross_profit / gross_loss if gross_loss > 0 else math.nan,
        "expectancy": float(trades_pnl.mean()) if num_trades else math.nan,
        "avg_trade_return": float(trades_return_pct.mean()) if num_trades else math.nan,
        "best_trade_return": float(trades_return_pct.max()) if num_trades else math.nan,
        "worst_trade_return": float(trades_return_pct.min()) if num_trades else math.nan,
        "total_fees": float(trades_fees.sum()),
        "exposure": float(np.mean(position != 0.0)) * 100.0 if n else 0.0,
        "var_95": value_at_risk(returns, 0.95) * 100.0,
        "cvar_95": conditional_value_at_risk(returns, 0.95) * 100.0,
        "var_99": value_at_risk(returns, 0.99) * 100.0,
        "cvar_99": conditional_value_at_risk(returns, 0.99) * 100.0,
        "periods_per_year": float(ann),
        "num_bars": int(n),
    }
    return {k: (_nan_to_none(v) if isinstance(v, float) else v) for k, v in stats.items()}
