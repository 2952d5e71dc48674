"""Duration model: run seconds ≈ a + b · bars per strategy type, fitted on measured runs.

A least-squares fit over the most recent completed runs, regularised by a prior line (pseudo-
observations) so a type with no or few runs still gets a sane estimate, and the fit follows the
measurements as they accumulate. Queue wait is added from the jobs ahead of the new one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from quantops.store.repositories import RunSample

# Prior: ~50 ms fixed overhead (IPC, DB, pickling) + 2 µs per bar; as much weight as PRIOR_WEIGHT runs.
PRIOR_INTERCEPT_S = 0.05
PRIOR_SLOPE_S_PER_BAR = 2e-6
PRIOR_WEIGHT = 1.0
_PRIOR_X = np.array([250.0, 2_500.0, 10_000.0])


@dataclass(frozen=True, slots=True)
class DurationModel:
    intercept_s: float
    slope_s_per_bar: float
    n_samples: int

    def predict(self, n_bars: int) -> float:
        return max(0.001, self.intercept_s + self.slope_s_per_bar * max(n_bars, 0))


def fit_duration_model(samples: Sequence[RunSample]) -> DurationModel:
    prior_y = PRIOR_INTERCEPT_S + PRIOR_SLOPE_S_PER_BAR * _PRIOR_X
    x = np.concatenate([_PRIOR_X, [s.n_bars for s in samples]])
    y = np.concatenate([prior_y, [s.run_seconds for s in samples]])
    weights = np.concatenate([np.full(_PRIOR_X.size, PRIOR_WEIGHT / _PRIOR_X.size), np.ones(len(samples))])
    (intercept, slope), *_ = np.linalg.lstsq(
        np.column_stack([np.ones_like(x), x]) * np.sqrt(weights)[:, None], y * np.sqrt(weights), rcond=None
    )
    # Both parameters are physically ≥ 0 (timer jitter on tiny runs can tip an unconstrained fit);
    # with two parameters the constrained optimum lies on one of the axes when the free one does not.
    if slope < 0:
        intercept, slope = float(np.average(y, weights=weights)), 0.0
    elif intercept < 0:
        intercept, slope = 0.0, float(np.sum(weights * x * y) / np.sum(weights * x * x))
    return DurationModel(float(intercept), float(slope), len(samples))


class DurationEstimator:
    """Caches one fitted model per strategy type for `ttl_seconds` (a refit is one indexed query)."""

    def __init__(
        self, load_samples: Callable[[str], Awaitable[list[RunSample]]], ttl_seconds: float = 10.0
    ) -> None:
        self._load_samples = load_samples
        self._ttl = ttl_seconds
        self._models: dict[str, tuple[float, DurationModel]] = {}

    async def model(self, config_type: str) -> DurationModel:
        cached = self._models.get(config_type)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        model = fit_duration_model(await self._load_samples(config_type))
        self._models[config_type] = (now, model)
        return model

    def invalidate(self, config_type: str) -> None:
        self._models.pop(config_type, None)

    async def estimate(self, config_type: str, n_bars: int, jobs_ahead: int, workers: int) -> float:
        model = await self.model(config_type)
        run = model.predict(n_bars)
        # Jobs ahead share the workers; assume they cost about as much as this one.
        queue_wait = (jobs_ahead // max(workers, 1)) * run
        return round(run + queue_wait, 4)
