"""Pearson correlation of the strategies' daily returns on their common dates."""

from __future__ import annotations

import numpy as np


def correlation_matrix(returns: np.ndarray) -> np.ndarray:
    """Pearson correlation between the columns of ``returns`` (n_periods, n_strategies).

    A column with zero variance (a strategy that never traded) has no defined correlation: its
    off-diagonal entries are NaN while its diagonal stays 1, unlike ``numpy.corrcoef`` which
    returns NaN and warns.
    """
    returns = np.asarray(returns, dtype=np.float64)
    centred = returns - returns.mean(axis=0)
    norms = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    covariance_sums = centred.T @ centred
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = covariance_sums / np.outer(norms, norms)
    correlation = np.clip(correlation, -1.0, 1.0)
    correlation[~np.isfinite(correlation)] = np.nan
    np.fill_diagonal(correlation, 1.0)
    return correlation
