"""Market regimes of the underlying and each strategy's behaviour in them.

Rule (documented in docs/analysis.md): with SMA = simple moving average of the close over
``sma_window`` bars (default 200) and slope = SMA_t / SMA_{t−lookback} − 1 over ``slope_lookback``
bars (default 20), a bar is **bull** when slope > +band, **bear** when slope < −band and **sideways**
otherwise (band default 1 %, i.e. the 200-day average moved less than 1 % over a month). Bars without
enough history for the slope are **unclassified**. A return from date t−1 to t is attributed to the
regime of date t−1 — the regime known before the return happened, so there is no look-ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from quantops.analysis.alignment import NS_PER_DAY
from quantops.analysis.errors import AnalysisError
from quantops.analysis.performance import TRADING_DAYS_PER_YEAR
from quantops.engine import metrics as em


class Regime(IntEnum):
    BEAR = -1
    SIDEWAYS = 0
    BULL = 1
    UNCLASSIFIED = 9

    @property
    def label(self) -> str:
        return self.name.lower()


CLASSIFIED_REGIMES: tuple[Regime, ...] = (Regime.BULL, Regime.BEAR, Regime.SIDEWAYS)


@dataclass(frozen=True, slots=True)
class RegimeRule:
    sma_window: int = 200
    slope_lookback: int = 20
    band_pct: float = 1.0

    @property
    def warmup_bars(self) -> int:
        """Bars needed before the first classified bar."""
        return self.sma_window + self.slope_lookback - 1


def simple_moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing SMA; the first ``window - 1`` entries are NaN."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    if values.size >= window:
        cumulative = np.concatenate(([0.0], np.cumsum(values)))
        out[window - 1 :] = (cumulative[window:] - cumulative[:-window]) / window
    return out


def label_regimes(close: np.ndarray, rule: RegimeRule = RegimeRule()) -> np.ndarray:
    """Regime code (``Regime`` values, int8) for each bar of ``close``."""
    close = np.asarray(close, dtype=np.float64)
    if rule.sma_window < 2 or rule.slope_lookback < 1 or rule.band_pct < 0:
        raise AnalysisError("regime rule needs sma_window >= 2, slope_lookback >= 1, band_pct >= 0")
    sma = simple_moving_average(close, rule.sma_window)
    slope_pct = np.full(close.shape, np.nan)
    lookback = rule.slope_lookback
    if close.size > lookback:
        slope_pct[lookback:] = (sma[lookback:] / sma[:-lookback] - 1.0) * 100.0
    labels = np.full(close.shape, Regime.UNCLASSIFIED, dtype=np.int8)
    known = ~np.isnan(slope_pct)
    labels[known] = Regime.SIDEWAYS
    labels[known & (slope_pct > rule.band_pct)] = Regime.BULL
    labels[known & (slope_pct < -rule.band_pct)] = Regime.BEAR
    return labels


def labels_on_dates(label_timestamps: np.ndarray, labels: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Regime of each of ``dates`` (int64 ns) matched by UTC day; days the underlying lacks → unclassified."""
    label_days = np.asarray(label_timestamps, dtype=np.int64) // NS_PER_DAY
    wanted_days = np.asarray(dates, dtype=np.int64) // NS_PER_DAY
    positions = np.searchsorted(label_days, wanted_days)
    positions_clipped = np.minimum(positions, max(label_days.size - 1, 0))
    found = (positions < label_days.size) & (label_days[positions_clipped] == wanted_days)
    out = np.full(wanted_days.shape, Regime.UNCLASSIFIED, dtype=np.int8)
    out[found] = np.asarray(labels)[positions_clipped[found]]
    return out


@dataclass(frozen=True, slots=True)
class RegimeStats:
    """One regime: share of return periods in it and per-strategy figures (arrays, strategies in order).

    ``total_return`` is compounded over the regime's days (%), ``annualized_return`` is the mean period
    return × periods per year (%), ``volatility`` annualised (%), ``sharpe_ratio`` mean/std·√periods;
    NaN where the regime has fewer than 2 periods.
    """

    regime: Regime
    periods: int
    share: float
    total_return: np.ndarray
    annualized_return: np.ndarray
    volatility: np.ndarray
    sharpe_ratio: np.ndarray


@dataclass(frozen=True, slots=True)
class RegimeAnalysis:
    rule: RegimeRule
    period_labels: np.ndarray
    stats: tuple[RegimeStats, ...]
    unclassified_share: float


def regime_statistics(
    returns: np.ndarray,
    period_labels: np.ndarray,
    rule: RegimeRule = RegimeRule(),
    periods_per_year: float = TRADING_DAYS_PER_YEAR,
    risk_free_rate: float | Sequence[float] = 0.0,
) -> RegimeAnalysis:
    """Per-regime figures for ``returns`` (n_periods, n_strategies) with one label per period; Sharpe and
    volatility by the engine's functions (``risk_free_rate``: annual, per strategy or one for all)."""
    returns = np.asarray(returns, dtype=np.float64)
    if returns.ndim == 1:
        returns = returns[:, None]
    period_labels = np.asarray(period_labels)
    if period_labels.shape != (returns.shape[0],):
        raise AnalysisError("need exactly one regime label per return period")
    n_periods, n_strategies = returns.shape
    rf = np.broadcast_to(np.asarray(risk_free_rate, dtype=np.float64), (n_strategies,))
    rf_per_bar = [em.per_bar_rate(float(rate), float(periods_per_year)) for rate in rf]
    stats: list[RegimeStats] = []
    for regime in CLASSIFIED_REGIMES:
        mask = period_labels == regime
        count = int(mask.sum())
        subset = returns[mask]
        nan_row = np.full(n_strategies, np.nan)
        if count >= 1:
            total = (np.prod(1.0 + subset, axis=0) - 1.0) * 100.0
            mean = subset.mean(axis=0)
        else:
            total, mean = nan_row, nan_row
        if count >= 2:
            columns = [np.ascontiguousarray(subset[:, j]) for j in range(n_strategies)]
            sharpe = np.array(
                [em.sharpe_ratio(c, rf_per_bar[j], float(periods_per_year)) for j, c in enumerate(columns)]
            )
            volatility = np.array([em.annual_volatility(c, float(periods_per_year)) for c in columns]) * 100.0
            sharpe = np.where(np.isfinite(sharpe), sharpe, np.nan)
        else:
            volatility, sharpe = nan_row, nan_row
        stats.append(
            RegimeStats(
                regime=regime,
                periods=count,
                share=count / n_periods if n_periods else 0.0,
                total_return=total,
                annualized_return=mean * periods_per_year * 100.0,
                volatility=volatility,
                sharpe_ratio=sharpe,
            )
        )
    unclassified = int(np.sum(period_labels == Regime.UNCLASSIFIED))
    return RegimeAnalysis(
        rule=rule,
        period_labels=period_labels,
        stats=tuple(stats),
        unclassified_share=unclassified / n_periods if n_periods else 0.0,
    )
