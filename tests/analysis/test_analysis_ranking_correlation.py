"""Ranking rule (direction, ties, NaN, composite, tie-break) and correlation vs numpy/pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantops.analysis import AnalysisError, Direction, correlation_matrix, rank_strategies
from quantops.analysis.ranking import competition_ranks


def test_competition_ranks_follow_direction_and_share_ties() -> None:
    values = np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(competition_ranks(values, Direction.HIGHER), [4, 1, 1, 3])
    np.testing.assert_array_equal(competition_ranks(values, Direction.LOWER), [1, 3, 3, 2])


def test_drawdown_ranks_by_magnitude_whatever_the_sign() -> None:
    negative = np.array([-30.0, -5.0, -12.0])
    np.testing.assert_array_equal(competition_ranks(negative, Direction.SMALLER_MAGNITUDE), [3, 1, 2])
    np.testing.assert_array_equal(competition_ranks(-negative, Direction.SMALLER_MAGNITUDE), [3, 1, 2])


def test_missing_values_rank_last_and_float_noise_does_not_split_ties() -> None:
    values = np.array([np.nan, 0.1 + 0.2, 0.3, 0.5])
    np.testing.assert_array_equal(competition_ranks(values, Direction.HIGHER), [4, 2, 2, 1])


def test_composite_rank_and_tie_break_by_first_requested_metric() -> None:
    names = ["A", "B", "C", "D"]
    metric_values = {
        "sharpe_ratio": [1.0, 2.0, 0.5, 2.0],
        "max_drawdown": [-10.0, -30.0, -5.0, -30.0],
        "volatility": [15.0, 20.0, 10.0, 20.0],
    }
    ranking = rank_strategies(names, metric_values, ["sharpe_ratio", "max_drawdown", "volatility"])
    scores = {e.name: e.composite_score for e in ranking.entries}
    # A: ranks 3,2,2 → 7/3 ; B: 1,3,3 → 7/3 ; C: 4,1,1 → 2 ; D: 1,3,3 → 7/3
    assert scores == pytest.approx({"A": 7 / 3, "B": 7 / 3, "C": 2.0, "D": 7 / 3})
    # C best composite; A/B/D tie at 7/3 → first metric (sharpe): B and D rank 1, A rank 3;
    # B vs D identical everywhere → input order.
    assert ranking.order == ["C", "B", "D", "A"]
    assert [e.position for e in ranking.entries] == [1, 2, 3, 4]
    assert ranking.entries[0].metric_ranks == {"sharpe_ratio": 4, "max_drawdown": 1, "volatility": 1}


def test_ranking_rejects_unknown_or_missing_metrics() -> None:
    with pytest.raises(AnalysisError, match="unknown metric"):
        rank_strategies(["A", "B"], {"alpha": [1, 2]}, ["alpha"])
    with pytest.raises(AnalysisError, match="win_rate"):
        rank_strategies(["A", "B"], {"sharpe_ratio": [1, 2]}, ["win_rate"])
    with pytest.raises(AnalysisError, match="one value per strategy"):
        rank_strategies(["A", "B"], {"sharpe_ratio": [1, 2, 3]}, ["sharpe_ratio"])


def test_correlation_matches_numpy_and_pandas() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(size=(500, 1))
    returns = np.hstack([base + rng.normal(scale=s, size=(500, 1)) for s in (0.1, 0.5, 2.0)] + [-base])
    ours = correlation_matrix(returns)
    np.testing.assert_allclose(ours, np.corrcoef(returns, rowvar=False), atol=1e-12)
    np.testing.assert_allclose(ours, pd.DataFrame(returns).corr().to_numpy(), atol=1e-12)
    assert ours[0, 3] < -0.99


def test_correlation_of_a_flat_strategy_is_undefined_but_diagonal_is_one() -> None:
    returns = np.column_stack([np.random.default_rng(1).normal(size=100), np.zeros(100)])
    corr = correlation_matrix(returns)
    assert corr[0, 0] == 1.0 and corr[1, 1] == 1.0
    assert np.isnan(corr[0, 1]) and np.isnan(corr[1, 0])


def test_correlation_of_real_curves(goog_equity: pd.DataFrame) -> None:
    returns = goog_equity.pct_change().iloc[1:]
    np.testing.assert_allclose(correlation_matrix(returns.to_numpy()), returns.corr().to_numpy(), atol=1e-12)
