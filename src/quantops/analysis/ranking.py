"""Direction-aware ranking of strategies by several metrics, with a composite rank.

Rule (documented in docs/analysis.md):
1. For each requested metric, strategies get competition ranks (1 = best; equal values share the
   best rank of their group: 1, 1, 3). "Better" follows ``METRIC_DIRECTIONS``: higher for returns and
   ratios, lower for volatility, smaller magnitude for max drawdown. Values are compared after rounding
   to 10 decimals so floating-point noise does not split ties. A missing (NaN) value ranks after every
   present value.
2. Composite score = arithmetic mean of the per-metric ranks (lower is better).
3. Final order: composite score, then the per-metric ranks in the order the metrics were requested
   (the first requested metric is the primary criterion), then the input order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from quantops.analysis.errors import AnalysisError
from quantops.analysis.performance import METRIC_DIRECTIONS, Direction

_TIE_DECIMALS = 10


@dataclass(frozen=True, slots=True)
class RankedStrategy:
    position: int
    name: str
    composite_score: float
    metric_ranks: dict[str, int]
    metric_values: dict[str, float]


@dataclass(frozen=True, slots=True)
class Ranking:
    metrics: tuple[str, ...]
    entries: tuple[RankedStrategy, ...]

    @property
    def order(self) -> list[str]:
        return [entry.name for entry in self.entries]


def competition_ranks(values: np.ndarray, direction: Direction) -> np.ndarray:
    """1-based competition ranks (ties share the lowest rank), best first per ``direction``; NaN last."""
    values = np.asarray(values, dtype=np.float64)
    keys = np.round(direction.key(values), _TIE_DECIMALS)
    missing = np.isnan(keys)
    ranks = np.empty(values.size, dtype=np.int64)
    present_keys = keys[~missing]
    # rank = 1 + number of present values strictly better than this one.
    sorted_keys = np.sort(present_keys)
    ranks[~missing] = 1 + np.searchsorted(sorted_keys, present_keys, side="left")
    ranks[missing] = present_keys.size + 1
    return ranks


def rank_strategies(
    names: Sequence[str],
    metric_values: Mapping[str, Sequence[float] | np.ndarray],
    metrics: Sequence[str],
) -> Ranking:
    """Rank ``names`` by ``metrics`` (each a key of ``metric_values`` holding one value per name)."""
    if not metrics:
        raise AnalysisError("at least one metric is required for ranking")
    unknown = [m for m in metrics if m not in METRIC_DIRECTIONS]
    if unknown:
        raise AnalysisError(f"unknown metric(s): {', '.join(unknown)}")
    n = len(names)
    rank_matrix = np.empty((len(metrics), n), dtype=np.int64)
    value_matrix = np.empty((len(metrics), n), dtype=np.float64)
    for row, metric in enumerate(metrics):
        if metric not in metric_values:
            raise AnalysisError(f"no values given for metric {metric!r}")
        values = np.asarray(metric_values[metric], dtype=np.float64)
        if values.shape != (n,):
            raise AnalysisError(f"metric {metric!r} needs one value per strategy ({n})")
        value_matrix[row] = values
        rank_matrix[row] = competition_ranks(values, METRIC_DIRECTIONS[metric])
    composite = rank_matrix.mean(axis=0)
    # np.lexsort sorts by the last key first: input order < metric ranks (reversed) < composite.
    sort_keys = [np.arange(n), *rank_matrix[::-1], composite]
    order = np.lexsort(sort_keys)
    entries = tuple(
        RankedStrategy(
            position=position,
            name=names[index],
            composite_score=float(composite[index]),
            metric_ranks={m: int(rank_matrix[row, index]) for row, m in enumerate(metrics)},
            metric_values={m: float(value_matrix[row, index]) for row, m in enumerate(metrics)},
        )
        for position, index in enumerate(order, start=1)
    )
    return Ranking(tuple(metrics), entries)
