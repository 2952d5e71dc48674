"""Put several equity curves on their common dates and derive daily returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from quantops.analysis.errors import AnalysisError, InsufficientOverlapError

NS_PER_DAY = 86_400 * 1_000_000_000
DEFAULT_MIN_COMMON_DATES = 30


@dataclass(frozen=True, slots=True)
class EquityCurve:
    """One strategy's equity: int64 ns UTC timestamps (ascending) and account values.

    Optional, from its backtest (so the comparison's figures are the backtest's own): ``initial_cash``
    (the account before the first point), ``periods_per_year`` and ``risk_free_rate`` (annual fraction).
    """

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    initial_cash: float | None = None
    periods_per_year: float | None = None
    risk_free_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class AlignedReturns:
    """Equity of every strategy on the dates all of them share, plus the period returns between them.

    ``equity`` has shape (n_dates, n_strategies); ``returns`` has shape (n_dates - 1, n_strategies) and
    ``returns[i]`` is the return from ``timestamps[i]`` to ``timestamps[i + 1]``.
    """

    names: tuple[str, ...]
    timestamps: np.ndarray
    equity: np.ndarray
    returns: np.ndarray
    # Per curve: the common window starts at its first point / keeps every one of its points inside it.
    starts_at_first_point: tuple[bool, ...] = ()
    complete: tuple[bool, ...] = ()

    @property
    def n_strategies(self) -> int:
        return len(self.names)

    @property
    def return_timestamps(self) -> np.ndarray:
        return self.timestamps[1:]


def _validated(curve: EquityCurve) -> tuple[np.ndarray, np.ndarray]:
    timestamps = np.asarray(curve.timestamps, dtype=np.int64)
    values = np.asarray(curve.values, dtype=np.float64)
    if timestamps.ndim != 1 or timestamps.shape != values.shape:
        raise AnalysisError(f"equity of {curve.name!r}: timestamps and values must be 1-D of equal length")
    if timestamps.size and np.any(np.diff(timestamps) <= 0):
        raise AnalysisError(f"equity of {curve.name!r}: timestamps must be strictly increasing")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise AnalysisError(f"equity of {curve.name!r}: values must be finite and positive")
    return timestamps, values


def align_equity_curves(
    curves: Sequence[EquityCurve] | Mapping[str, tuple[np.ndarray, np.ndarray]],
    min_common_dates: int = DEFAULT_MIN_COMMON_DATES,
) -> AlignedReturns:
    """Intersect the curves by UTC calendar day and return equity and returns on the common days.

    Matching by day (not by exact nanosecond) lets curves stamped at different times of the same day
    (e.g. 00:00 vs 16:00 close) line up; if a curve has two points on one day the last one counts.
    """
    if isinstance(curves, Mapping):
        curves = [EquityCurve(name, ts, vals) for name, (ts, vals) in curves.items()]
    if len(curves) < 1:
        raise AnalysisError("at least one equity curve is required")
    names = [c.name for c in curves]
    if len(set(names)) != len(names):
        raise AnalysisError("equity curve names must be unique")

    per_curve_days: list[np.ndarray] = []
    per_curve_values: list[np.ndarray] = []
    per_curve_stamps: list[np.ndarray] = []
    for curve in curves:
        timestamps, values = _validated(curve)
        days = timestamps // NS_PER_DAY
        if days.size < 2 or np.all(days[1:] != days[:-1]):  # usual case: one point per day
            per_curve_days.append(days)
            per_curve_values.append(values)
            per_curve_stamps.append(timestamps)
            continue
        # Keep the last observation of each day: the last index of each run of equal days.
        last_index = np.flatnonzero(np.append(days[1:] != days[:-1], True))
        per_curve_days.append(days[last_index])
        per_curve_values.append(values[last_index])
        per_curve_stamps.append(timestamps[last_index])

    first_days = per_curve_days[0]
    if all(np.array_equal(first_days, days) for days in per_curve_days[1:]):
        common_days = first_days  # same calendar (same symbol and period): nothing to intersect
    else:
        common_days = reduce(np.intersect1d, per_curve_days)
    if common_days.size < max(min_common_dates, 2):
        raise InsufficientOverlapError(int(common_days.size), max(min_common_dates, 2), names)

    equity = np.empty((common_days.size, len(curves)), dtype=np.float64)
    for column, (days, values) in enumerate(zip(per_curve_days, per_curve_values, strict=True)):
        equity[:, column] = values[np.searchsorted(days, common_days)]
    # Report the first curve's own timestamps on the common days (keeps its time-of-day).
    timestamps = per_curve_stamps[0][np.searchsorted(first_days, common_days)]
    returns = equity[1:] / equity[:-1] - 1.0
    starts = tuple(bool(days[0] == common_days[0]) for days in per_curve_days)
    complete = tuple(
        bool(np.count_nonzero((days >= common_days[0]) & (days <= common_days[-1])) == common_days.size)
        for days in per_curve_days
    )
    return AlignedReturns(tuple(names), timestamps, equity, returns, starts, complete)
