"""One-period Value at Risk and Conditional VaR (expected shortfall), historical and parametric.

All figures are losses in percent of the period return, reported as positive numbers
(VaR 95 % = 2.1 means "on 5 % of days the return was −2.1 % or worse") — the platform's one VaR
convention, also used by a backtest's ``stats`` (``var_95``, ``cvar_95``, …; docs/engine.md).
- Historical VaR: the (1 − level) percentile of returns with linear interpolation (as
  ``numpy.percentile`` / ``empyrical.value_at_risk``), negated — ``quantops.engine.metrics.tail_risk``.
- Historical CVaR: the mean of the ⌊(n − 1)(1 − level)⌋ + 1 lowest returns (as
  ``empyrical.conditional_value_at_risk``), negated — the same engine function.
- Parametric (normal): with sample mean μ and standard deviation σ (ddof=1) and z = Φ⁻¹(1 − level),
  VaR = −(μ + zσ), CVaR = −(μ − σ φ(z) / (1 − level)).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from quantops.analysis.errors import AnalysisError
from quantops.engine.metrics import tail_risk

DEFAULT_LEVELS: tuple[float, ...] = (0.95, 0.99)
_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class RiskResult:
    """Arrays of shape (n_strategies, n_levels), positive loss percentages."""

    levels: tuple[float, ...]
    historical_var: np.ndarray
    historical_cvar: np.ndarray
    parametric_var: np.ndarray
    parametric_cvar: np.ndarray


def value_at_risk(returns: np.ndarray, levels: tuple[float, ...] = DEFAULT_LEVELS) -> RiskResult:
    """VaR/CVaR of each column of ``returns`` (n_periods, n_strategies) at each confidence level."""
    returns = np.asarray(returns, dtype=np.float64)
    if returns.ndim == 1:
        returns = returns[:, None]
    n_periods, n_strategies = returns.shape
    if n_periods < 2:
        raise AnalysisError("VaR needs at least 2 returns")
    for level in levels:
        if not 0.5 < level < 1.0:
            raise AnalysisError(f"confidence level {level} must lie in (0.5, 1)")

    tails = np.array([1.0 - level for level in levels])
    # Historical figures by the engine's rule (the backtest stats' var_95/cvar_95 are the same numbers).
    historical_var = np.empty((n_strategies, len(levels)))
    historical_cvar = np.empty((n_strategies, len(levels)))
    for column in range(n_strategies):
        tails_of_column = tail_risk(np.ascontiguousarray(returns[:, column]), tuple(levels))
        for index, level in enumerate(levels):
            historical_var[column, index] = -tails_of_column[level][0]
            historical_cvar[column, index] = -tails_of_column[level][1]

    tails = np.array([1.0 - level for level in levels])
    mean = returns.mean(axis=0)[:, None]
    std = returns.std(axis=0, ddof=1)[:, None]
    z = np.array([_STANDARD_NORMAL.inv_cdf(tail) for tail in tails])
    density = np.array([_STANDARD_NORMAL.pdf(value) for value in z])
    parametric_var = -(mean + z * std)
    parametric_cvar = -(mean - std * density / tails)
    return RiskResult(
        levels=tuple(levels),
        historical_var=historical_var * 100.0,
        historical_cvar=historical_cvar * 100.0,
        parametric_var=parametric_var * 100.0,
        parametric_cvar=parametric_cvar * 100.0,
    )
