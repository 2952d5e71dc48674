"""Bootstrap Monte Carlo of each strategy's daily returns (seeded; i.i.d. or circular block).

Every resample draws one sequence of day indices that is applied to all strategies alike, so the
cross-strategy dependence of a given day is preserved. With ``block_size`` set, indices come from the
circular block bootstrap (Politis & Romano 1992): blocks of consecutive days starting at uniformly
drawn positions, wrapping around the end, which keeps short-range autocorrelation (volatility
clustering, trend persistence) that the i.i.d. bootstrap destroys. Each path has as many days as the
history. Paths are built in log space (cumulative sum of log1p returns), which equals compounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantops.analysis.errors import AnalysisError

DEFAULT_PERCENTILES: tuple[float, ...] = (5.0, 25.0, 50.0, 75.0, 95.0)
DEFAULT_RESAMPLES = 1_000
FAN_POINTS = 60
CHUNK_DAYS = 64


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    """Per-strategy bootstrap distribution summaries (strategies in input order; percent units).

    ``final_return`` and ``max_drawdown`` have shape (n_strategies, n_percentiles); ``fan`` has shape
    (n_strategies, n_percentiles, n_fan_points) holding the cumulative-return percentiles at the
    day offsets ``fan_steps`` (1-based numbers of days into the path).
    """

    n_resamples: int
    block_size: int | None
    seed: int
    percentiles: tuple[float, ...]
    final_return: np.ndarray
    max_drawdown: np.ndarray
    probability_of_loss: np.ndarray
    fan_steps: np.ndarray
    fan: np.ndarray


def bootstrap_indices(
    n_periods: int, n_resamples: int, rng: np.random.Generator, block_size: int | None = None
) -> np.ndarray:
    """Day indices of shape (n_periods, n_resamples) — column r is resample r's sequence of days.

    I.i.d. uniform draws, or with ``block_size`` > 1 circular blocks: each block starts at a uniform
    position and runs ``block_size`` consecutive days, wrapping past the end; the last block is cut
    to fit. Time-major layout so a step of the simulation reads one contiguous row.
    """
    if block_size is None or block_size <= 1:
        return rng.integers(0, n_periods, size=(n_periods, n_resamples))
    if block_size > n_periods:
        raise AnalysisError(f"block_size {block_size} exceeds the {n_periods} available returns")
    n_blocks = -(-n_periods // block_size)
    starts = rng.integers(0, n_periods, size=(n_blocks, 1, n_resamples))
    indices = (starts + np.arange(block_size)[None, :, None]) % n_periods
    return indices.reshape(n_blocks * block_size, n_resamples)[:n_periods]


def monte_carlo(
    returns: np.ndarray,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    block_size: int | None = None,
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES,
    fan_points: int = FAN_POINTS,
    dtype: type[np.floating] = np.float32,
) -> MonteCarloResult:
    """Resample ``returns`` (n_periods, n_strategies) ``n_resamples`` times and summarise the paths."""
    returns = np.asarray(returns, dtype=np.float64)
    if returns.ndim == 1:
        returns = returns[:, None]
    n_periods, n_strategies = returns.shape
    if n_periods < 2:
        raise AnalysisError("Monte Carlo needs at least 2 returns")
    if n_resamples < 1:
        raise AnalysisError("n_resamples must be at least 1")
    if not np.all(np.isfinite(returns)) or np.any(returns <= -1.0):
        raise AnalysisError("returns must be finite and above -100% to be compounded")

    rng = np.random.default_rng(seed)
    indices = bootstrap_indices(n_periods, n_resamples, rng, block_size)
    log_returns = np.log1p(returns).astype(dtype)
    fan_steps = np.unique(np.linspace(1, n_periods, num=min(fan_points, n_periods)).round().astype(np.int64))
    fan_slot = np.full(n_periods + 1, -1)
    fan_slot[fan_steps] = np.arange(fan_steps.size)

    # Walk all paths forward one day at a time with (n_resamples, n_strategies) state: log equity,
    # running peak and worst drawdown so far. The per-day work is a few vector ops on 5,000 numbers,
    # several times faster than materialising n_resamples × n_periods paths per strategy (cumsum and
    # accumulate along a long axis are serial and memory bound). Days are gathered CHUNK_DAYS at a
    # time to save calls; float32 state halves memory traffic (error ~1e-5 relative over 10 years,
    # far below the sampling error of 1,000 resamples; pass dtype=np.float64 for exact sums).
    shape = (n_resamples, n_strategies)
    log_equity = np.zeros(shape, dtype=dtype)
    peak = np.zeros(shape, dtype=dtype)  # the starting equity (log 0) is the first peak
    worst = np.zeros(shape, dtype=dtype)
    gap = np.empty(shape, dtype=dtype)
    fan_paths = np.empty((fan_steps.size, *shape), dtype=np.float64)
    for chunk_start in range(0, n_periods, CHUNK_DAYS):
        chunk = log_returns.take(indices[chunk_start : chunk_start + CHUNK_DAYS], axis=0)
        for offset, day_returns in enumerate(chunk):
            np.add(log_equity, day_returns, out=log_equity)
            np.maximum(peak, log_equity, out=peak)
            np.subtract(log_equity, peak, out=gap)
            np.minimum(worst, gap, out=worst)
            slot = fan_slot[chunk_start + offset + 1]
            if slot >= 0:
                fan_paths[slot] = log_equity

    log_equity = log_equity.astype(np.float64)
    worst = worst.astype(np.float64)
    q = np.asarray(percentiles, dtype=np.float64)
    finals = np.expm1(log_equity)
    drawdowns = np.expm1(worst)
    # np.percentile over axis 0 gives (n_percentiles, n_strategies); transpose to strategies first.
    final_return = np.percentile(finals, q, axis=0).T * 100.0
    max_drawdown = np.percentile(drawdowns, q, axis=0).T * 100.0
    probability_of_loss = np.mean(finals < 0.0, axis=0)
    fan = np.percentile(np.expm1(fan_paths), q, axis=1).transpose(2, 0, 1) * 100.0
    return MonteCarloResult(
        n_resamples=n_resamples,
        block_size=block_size if block_size and block_size > 1 else None,
        seed=seed,
        percentiles=tuple(float(p) for p in q),
        final_return=final_return,
        max_drawdown=max_drawdown,
        probability_of_loss=probability_of_loss,
        fan_steps=fan_steps,
        fan=fan,
    )
