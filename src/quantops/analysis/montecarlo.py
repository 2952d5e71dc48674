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
        return rng.integers(0, n_periods, size=(n_periods, n_resamples), dtype=np.int32)
    if block_size > n_periods:
        raise AnalysisError(f"block_size {block_size} exceeds the {n_periods} available returns")
    n_blocks = -(-n_periods // block_size)
    starts = rng.integers(0, n_periods, size=(n_blocks, 1, n_resamples), dtype=np.int32)
    indices = starts + np.arange(block_size, dtype=np.int32)[None, :, None]
    indices[indices >= n_periods] -= n_periods  # wrap around (cheaper than %)
    return indices.reshape(n_blocks * block_size, n_resamples)[:n_periods]


def percentiles_of_rows(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Percentiles ``q`` along the last axis (numpy's default "linear" method), shape (..., len(q)).

    Sorting once and interpolating is ~6× faster than ``np.percentile`` on many short rows, whose
    multi-kth partition dominates the Monte Carlo summary otherwise."""
    ordered = np.sort(values, axis=-1)
    position = np.asarray(q, dtype=np.float64) / 100.0 * (ordered.shape[-1] - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, ordered.shape[-1] - 1)
    weight = position - below
    low, high = ordered[..., below], ordered[..., above]
    return low + (high - low) * weight


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

    # All paths advance together one day at a time. The state per (resample, strategy) is the log
    # distance below the running peak, d_t = min(0, d_{t-1} + r_t) (a new high resets it to 0, the
    # starting equity is the first peak), so a day costs two vector ops on 5,000 numbers; the worst
    # drawdown is a min-reduction per chunk of CHUNK_DAYS days, and the log equity a float64 sum per
    # chunk. Several times faster than materialising n_resamples × n_periods paths per strategy
    # (cumsum/accumulate along a long axis are serial and memory bound). The drawdown recursion runs
    # in float32 by default (resets at every new high, so rounding does not build up; tested against
    # float64, which ``dtype=np.float64`` selects).
    shape = (n_resamples, n_strategies)
    log_equity = np.zeros(shape, dtype=np.float64)
    drawdown = np.zeros(shape, dtype=dtype)
    worst = np.zeros(shape, dtype=dtype)
    buffer = np.empty((CHUNK_DAYS, *shape), dtype=dtype)
    fan_paths = np.empty((fan_steps.size, *shape), dtype=np.float64)
    next_fan = 0
    for chunk_start in range(0, n_periods, CHUNK_DAYS):
        chunk = log_returns.take(indices[chunk_start : chunk_start + CHUNK_DAYS], axis=0)  # (days, R, k)
        days = chunk.shape[0]
        previous = drawdown
        for offset in range(days):
            current = buffer[offset]
            np.add(previous, chunk[offset], out=current)
            np.minimum(current, 0.0, out=current)
            previous = current
        drawdown = previous.copy()  # the buffer is reused by the next chunk
        np.minimum(worst, buffer[:days].min(axis=0), out=worst)
        while next_fan < fan_steps.size and fan_steps[next_fan] <= chunk_start + days:
            within = fan_steps[next_fan] - chunk_start
            fan_paths[next_fan] = log_equity + chunk[:within].sum(axis=0)
            next_fan += 1
        log_equity += chunk.sum(axis=0)  # <= 64 terms in the chunk dtype, carried in float64

    worst = worst.astype(np.float64)
    q = np.asarray(percentiles, dtype=np.float64)
    finals = np.expm1(log_equity.T)  # (k, R)
    drawdowns = np.expm1(worst.T)
    final_return = percentiles_of_rows(finals, q) * 100.0
    max_drawdown = percentiles_of_rows(drawdowns, q) * 100.0
    probability_of_loss = np.mean(finals < 0.0, axis=1)
    fan_by_strategy = np.expm1(np.ascontiguousarray(fan_paths.transpose(2, 0, 1)))  # (k, F, R)
    fan = percentiles_of_rows(fan_by_strategy, q)  # (k, F, Q)
    fan = fan.transpose(0, 2, 1) * 100.0
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
