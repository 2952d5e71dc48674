"""Performance metrics over an equity curve and a trade list (numpy + numba, no pandas).

Definitions follow empyrical (and are cross-checked against it in tests):
- bar returns r[0] = equity[0]/initial_cash − 1, r[i] = equity[i]/equity[i−1] − 1;
- Sharpe = mean(r − rf) / std(r − rf, ddof=1) · √A; Sortino = mean(r − rf)·A / (√mean(min(r − rf, 0)²)·√A);
  rf is the per-bar risk-free rate derived from the annual one, A the bars per year;
- CAGR = (final/initial)^(A/len(r)) − 1; annual volatility = std(r, ddof=1)·√A;
- max drawdown = min(equity / running max − 1) with the initial cash as the first peak;
- Calmar = CAGR / |max drawdown|; historical VaR(p) = −percentile(r, 100·(1−p));
  CVaR(p) = −mean of the worst ⌊(len−1)·(1−p)⌋+1 returns (empyrical's rule, negated: in ``stats`` VaR and
  CVaR are losses, positive = loss, as in comparisons).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SECONDS_PER_DAY = 86_400.0


@njit(cache=True)
def _spacing_profile(timestamps_ns: np.ndarray) -> tuple[float, float, float]:
    """(median bar step in days, share of bars on Sat/Sun, median bars per calendar day).

    Step and weekend share come from at most ~20,000 evenly spread bars: enough to classify the spacing.
    """
    n = timestamps_ns.shape[0]
    stride = max(1, (n - 1) // 20_000)
    m = (n - 1) // stride
    step = np.empty(m)
    weekend = 0
    for k in range(m):
        i = k * stride
        step[k] = (timestamps_ns[i + 1] - timestamps_ns[i]) / 1e9 / SECONDS_PER_DAY
        if (timestamps_ns[i] // (86_400 * 10**9) + 3) % 7 >= 5:  # 1970-01-01 was a Thursday; 0 = Monday
            weekend += 1
    runs = np.empty(n, dtype=np.float64)
    n_runs = 0
    run = 0
    prev_day = timestamps_ns[0] // (86_400 * 10**9)
    for i in range(n):
        day = timestamps_ns[i] // (86_400 * 10**9)
        if day != prev_day:
            runs[n_runs] = run
            n_runs += 1
            run = 0
            prev_day = day
        run += 1
    runs[n_runs] = run
    n_runs += 1
    return np.median(step), weekend / max(m, 1), np.median(runs[:n_runs])


def periods_per_year(timestamps_ns: np.ndarray) -> float:
    """Bars per year inferred from the bar spacing.

    Daily bars → 252 (trading days), or 365 when more than ~17% of bars fall on weekends (crypto,
    backtesting.py's rule); weekly → 52; monthly → 12; intraday → 252 × median bars per calendar day.
    """
    if timestamps_ns.shape[0] < 2:
        return 252.0
    step_days, weekend_share, bars_per_day = _spacing_profile(timestamps_ns)
    if step_days >= 25:
        return 12.0
    if step_days >= 5:
        return 52.0
    if step_days >= 0.9:
        return 365.0 if weekend_share > 0.17 else 252.0
    return 252.0 * float(bars_per_day)


def per_bar_rate(annual_rate: float, ann: float) -> float:
    """The per-bar risk-free rate of an annual one (a fraction): (1 + r)^(1/A) − 1."""
    return (1.0 + annual_rate) ** (1.0 / ann) - 1.0


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
def return_moments(returns: np.ndarray, rf_per_bar: float) -> tuple[float, float, float]:
    """(mean excess return, std of returns with ddof=1, downside RMS of excess returns) in two passes."""
    n = returns.shape[0]
    if n == 0:
        return np.nan, np.nan, np.nan
    total = 0.0
    for i in range(n):
        total += returns[i]
    mean = total / n
    squares = 0.0
    downside = 0.0
    for i in range(n):
        dev = returns[i] - mean
        squares += dev * dev
        excess = returns[i] - rf_per_bar
        if excess < 0.0:
            downside += excess * excess
    std = math.sqrt(squares / (n - 1)) if n > 1 else np.nan
    return mean - rf_per_bar, std, math.sqrt(downside / n)


@njit(cache=True)
def sharpe_ratio(returns: np.ndarray, rf_per_bar: float, ann: float) -> float:
    mean_excess, std, _ = return_moments(returns, rf_per_bar)
    if not std > 0.0:  # also NaN (fewer than two returns)
        return np.nan
    return mean_excess / std * math.sqrt(ann)


@njit(cache=True)
def sortino_ratio(returns: np.ndarray, rf_per_bar: float, ann: float) -> float:
    mean_excess, _, downside = return_moments(returns, rf_per_bar)
    if not downside > 0.0:
        return np.nan
    return mean_excess * ann / (downside * math.sqrt(ann))


@njit(cache=True)
def annual_volatility(returns: np.ndarray, ann: float) -> float:
    return return_moments(returns, 0.0)[1] * math.sqrt(ann)


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


# Layout of the array returned by ``summary_metrics`` (percent where the stats dict uses percent).
(
    M_FINAL_EQUITY, M_TOTAL_RETURN, M_CAGR, M_ANNUAL_VOLATILITY, M_SHARPE, M_SORTINO, M_MAX_DRAWDOWN,
    M_DD_BARS, M_DD_START, M_DD_END, M_CALMAR, M_NUM_TRADES, M_WIN_RATE, M_PROFIT_FACTOR, M_EXPECTANCY,
    M_AVG_TRADE_RETURN, M_BEST_TRADE_RETURN, M_WORST_TRADE_RETURN, M_TOTAL_FEES, M_EXPOSURE,
) = range(20)  # fmt: skip
N_SUMMARY = 20
# Column of each ``summary_metrics`` figure, by its name in the stats dict (``quantops.engine.catalogue``).
SUMMARY_COLUMNS: dict[str, int] = {
    "final_equity": M_FINAL_EQUITY, "total_return": M_TOTAL_RETURN, "cagr": M_CAGR,
    "annual_volatility": M_ANNUAL_VOLATILITY, "sharpe_ratio": M_SHARPE, "sortino_ratio": M_SORTINO,
    "max_drawdown": M_MAX_DRAWDOWN, "max_drawdown_duration_bars": M_DD_BARS, "calmar_ratio": M_CALMAR,
    "num_trades": M_NUM_TRADES, "win_rate": M_WIN_RATE, "profit_factor": M_PROFIT_FACTOR,
    "expectancy": M_EXPECTANCY, "avg_trade_return": M_AVG_TRADE_RETURN,
    "best_trade_return": M_BEST_TRADE_RETURN, "worst_trade_return": M_WORST_TRADE_RETURN,
    "total_fees": M_TOTAL_FEES, "exposure": M_EXPOSURE,
}  # fmt: skip


@njit(cache=True)
def summary_metrics(
    equity: np.ndarray, returns: np.ndarray, position: np.ndarray, trade_pnl: np.ndarray,
    trade_return_pct: np.ndarray, trade_fees: np.ndarray, initial_cash: float, ann: float, rf_per_bar: float,
) -> np.ndarray:  # fmt: skip
    """Every equity- and trade-based metric in one compiled pass (used by backtests and sweeps).

    ``returns`` = ``bar_returns(equity, initial_cash)`` (passed in so callers can reuse it).
    """
    out = np.full(N_SUMMARY, np.nan)
    n = equity.shape[0]
    final = equity[n - 1] if n > 0 else initial_cash
    growth = cagr(final, initial_cash, n, ann)
    dd, _trough, dd_bars, dd_start, dd_end = max_drawdown(equity, initial_cash)
    out[M_FINAL_EQUITY] = final
    out[M_TOTAL_RETURN] = (final / initial_cash - 1.0) * 100.0
    out[M_CAGR] = growth * 100.0
    mean_excess, std, downside = return_moments(returns, rf_per_bar)
    out[M_ANNUAL_VOLATILITY] = std * math.sqrt(ann) * 100.0
    if std > 0.0:
        out[M_SHARPE] = mean_excess / std * math.sqrt(ann)
    if downside > 0.0:
        out[M_SORTINO] = mean_excess * ann / (downside * math.sqrt(ann))
    out[M_MAX_DRAWDOWN] = dd * 100.0
    out[M_DD_BARS] = dd_bars
    out[M_DD_START] = dd_start
    out[M_DD_END] = dd_end
    if dd < 0.0:
        out[M_CALMAR] = growth / abs(dd)
    n_trades = trade_pnl.shape[0]
    out[M_NUM_TRADES] = n_trades
    wins = 0
    gross_profit = 0.0
    gross_loss = 0.0
    fees = 0.0
    for k in range(n_trades):
        pnl = trade_pnl[k]
        fees += trade_fees[k]
        if pnl > 0.0:
            wins += 1
            gross_profit += pnl
        elif pnl < 0.0:
            gross_loss -= pnl
    out[M_TOTAL_FEES] = fees
    if n_trades > 0:
        out[M_WIN_RATE] = wins / n_trades * 100.0
        out[M_EXPECTANCY] = np.mean(trade_pnl)
        out[M_AVG_TRADE_RETURN] = np.mean(trade_return_pct)
        out[M_BEST_TRADE_RETURN] = np.max(trade_return_pct)
        out[M_WORST_TRADE_RETURN] = np.min(trade_return_pct)
    if gross_loss > 0.0:
        out[M_PROFIT_FACTOR] = gross_profit / gross_loss
    held = 0
    for i in range(n):
        if position[i] != 0.0:
            held += 1
    out[M_EXPOSURE] = held / n * 100.0 if n > 0 else 0.0
    return out


def tail_risk(
    returns: np.ndarray, confidences: tuple[float, ...] = (0.95, 0.99)
) -> dict[float, tuple[float, float]]:
    """Historical (VaR, CVaR) per confidence level with one O(n) partition instead of a sort.

    VaR(p) = percentile(r, 100·(1−p)) with linear interpolation (numpy's default, as empyrical);
    CVaR(p) = mean of the ⌊(n−1)·(1−p)⌋+1 smallest returns (empyrical's rule).
    """
    n = returns.shape[0]
    if n == 0:
        return {c: (math.nan, math.nan) for c in confidences}
    plan = {}
    kth: set[int] = set()
    for c in confidences:
        position = (1.0 - c) * (n - 1)
        lo, hi = math.floor(position), math.ceil(position)
        cutoff = int((n - 1) * (1.0 - c))
        plan[c] = (position, lo, hi, cutoff)
        kth.update((lo, hi, cutoff))
    part = np.partition(returns, sorted(kth))
    out = {}
    for c, (position, lo, hi, cutoff) in plan.items():
        var = part[lo] + (part[hi] - part[lo]) * (position - lo)
        out[c] = (float(var), float(np.mean(part[: cutoff + 1])))
    return out


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
    rf_per_bar = per_bar_rate(risk_free_rate, ann)
    returns = bar_returns(equity, initial_cash)
    m = summary_metrics(
        equity, returns, position, trades_pnl, trades_return_pct, trades_fees, float(initial_cash),
        float(ann), float(rf_per_bar),
    )  # fmt: skip
    dd_days = math.nan
    if timestamps_ns is not None and n:
        dd_days = 0.0
        start, end = int(m[M_DD_START]), int(m[M_DD_END])
        if end >= 0:
            dd_days = float(timestamps_ns[end] - timestamps_ns[max(start, 0)]) / 1e9 / SECONDS_PER_DAY
    tails = tail_risk(returns)
    stats: dict[str, float | int | None] = {
        "initial_cash": float(initial_cash),
        "final_equity": float(m[M_FINAL_EQUITY]),
        "total_return": float(m[M_TOTAL_RETURN]),
        "cagr": float(m[M_CAGR]),
        "annual_volatility": float(m[M_ANNUAL_VOLATILITY]),
        "sharpe_ratio": float(m[M_SHARPE]),
        "sortino_ratio": float(m[M_SORTINO]),
        "max_drawdown": float(m[M_MAX_DRAWDOWN]),
        "max_drawdown_duration_bars": int(m[M_DD_BARS]),
        "max_drawdown_duration_days": dd_days,
        "calmar_ratio": float(m[M_CALMAR]),
        "num_trades": int(m[M_NUM_TRADES]),
        "win_rate": float(m[M_WIN_RATE]),
        "profit_factor": float(m[M_PROFIT_FACTOR]),
        "expectancy": float(m[M_EXPECTANCY]),
        "avg_trade_return": float(m[M_AVG_TRADE_RETURN]),
        "best_trade_return": float(m[M_BEST_TRADE_RETURN]),
        "worst_trade_return": float(m[M_WORST_TRADE_RETURN]),
        "total_fees": float(m[M_TOTAL_FEES]),
        "exposure": float(m[M_EXPOSURE]),
        # VaR/CVaR are losses, positive = loss (the comparison reports the same numbers; docs/engine.md).
        "var_95": -tails[0.95][0] * 100.0,
        "cvar_95": -tails[0.95][1] * 100.0,
        "var_99": -tails[0.99][0] * 100.0,
        "cvar_99": -tails[0.99][1] * 100.0,
        "periods_per_year": float(ann),
        "num_bars": int(n),
    }
    return {k: (_nan_to_none(v) if isinstance(v, float) else v) for k, v in stats.items()}
