"""VaR/CVaR vs empyrical and scipy; Monte Carlo vs a plain per-path reference and known cases."""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from quantops.analysis import AnalysisError, monte_carlo, value_at_risk
from quantops.analysis.montecarlo import bootstrap_indices


def test_historical_var_cvar_match_empyrical(goog_equity: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    heavy_tailed = rng.standard_t(3, size=(len(goog_equity) - 1, 1)) / 100
    returns = np.column_stack([goog_equity.pct_change().iloc[1:].to_numpy(), heavy_tailed])
    risk = value_at_risk(returns, levels=(0.95, 0.99))
    for column in range(returns.shape[1]):
        for level_index, cutoff in enumerate((0.05, 0.01)):
            expected_var = -empyrical.value_at_risk(returns[:, column], cutoff=cutoff) * 100
            expected_cvar = -empyrical.conditional_value_at_risk(returns[:, column], cutoff=cutoff) * 100
            assert risk.historical_var[column, level_index] == pytest.approx(expected_var, rel=1e-12)
            assert risk.historical_cvar[column, level_index] == pytest.approx(expected_cvar, rel=1e-12)
            assert risk.historical_cvar[column, level_index] >= risk.historical_var[column, level_index]


def test_historical_var_on_hand_computed_sample() -> None:
    # Returns −10 %..+9 % in 1 % steps (20 values). 5th percentile with linear interpolation sits at
    # position 0.05·19 = 0.95 between −10 % and −9 %: −9.05 %. CVaR takes ⌊19·0.05⌋+1 = 1 lowest: −10 %.
    returns = np.arange(-10, 10) / 100.0
    risk = value_at_risk(returns, levels=(0.95,))
    assert risk.historical_var[0, 0] == pytest.approx(9.05)
    assert risk.historical_cvar[0, 0] == pytest.approx(10.0)


def test_parametric_var_cvar_match_scipy_normal() -> None:
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0005, 0.012, size=(1_000, 2)) * np.array([1.0, 2.0])
    risk = value_at_risk(returns, levels=(0.95, 0.99))
    for column in range(2):
        mu, sigma = returns[:, column].mean(), returns[:, column].std(ddof=1)
        dist = stats.norm(mu, sigma)
        for level_index, tail in enumerate((0.05, 0.01)):
            threshold = dist.ppf(tail)
            # Expected shortfall by numerical integration of the normal tail — independent of the formula.
            shortfall = dist.expect(lambda x: x, ub=threshold) / tail
            assert risk.parametric_var[column, level_index] == pytest.approx(-threshold * 100, rel=1e-9)
            assert risk.parametric_cvar[column, level_index] == pytest.approx(-shortfall * 100, rel=1e-6)


def test_var_rejects_silly_levels() -> None:
    with pytest.raises(AnalysisError, match="confidence level"):
        value_at_risk(np.zeros(10), levels=(0.2,))


def _reference_monte_carlo(returns: np.ndarray, indices: np.ndarray, q: tuple[float, ...]) -> dict:
    """Straightforward per-path compounding with an explicit equity curve (no log space)."""
    finals, drawdowns = [], []
    for column in range(returns.shape[1]):
        col_finals, col_drawdowns = [], []
        for resample in range(indices.shape[1]):
            equity = np.concatenate(([1.0], np.cumprod(1.0 + returns[indices[:, resample], column])))
            col_finals.append(equity[-1] - 1.0)
            col_drawdowns.append(np.min(equity / np.maximum.accumulate(equity) - 1.0))
        finals.append(col_finals)
        drawdowns.append(col_drawdowns)
    finals_arr, drawdowns_arr = np.array(finals), np.array(drawdowns)
    return {
        "final": np.percentile(finals_arr, q, axis=1).T * 100,
        "drawdown": np.percentile(drawdowns_arr, q, axis=1).T * 100,
        "loss": (finals_arr < 0).mean(axis=1),
    }


@pytest.mark.parametrize("block_size", [None, 10])
def test_monte_carlo_matches_per_path_reference(block_size: int | None) -> None:
    rng = np.random.default_rng(5)
    returns = rng.normal(0.0003, 0.015, size=(300, 3))
    result = monte_carlo(returns, n_resamples=200, seed=42, block_size=block_size, dtype=np.float64)
    indices = bootstrap_indices(300, 200, np.random.default_rng(42), block_size)
    reference = _reference_monte_carlo(returns, indices, result.percentiles)
    np.testing.assert_allclose(result.final_return, reference["final"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(result.max_drawdown, reference["drawdown"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(result.probability_of_loss, reference["loss"])
    assert result.final_return.shape == (3, 5)
    assert np.all(np.diff(result.final_return, axis=1) >= 0)
    assert np.all(result.max_drawdown <= 0)


def test_float32_paths_agree_with_float64_within_a_hundred_thousandth() -> None:
    returns = np.random.default_rng(12).normal(0.0004, 0.012, size=(2_520, 3))
    fast = monte_carlo(returns, n_resamples=300, seed=5)
    exact = monte_carlo(returns, n_resamples=300, seed=5, dtype=np.float64)
    # Percent figures: compare equity multiples (1 + r/100), the quantity compounded in float32.
    np.testing.assert_allclose(1 + fast.final_return / 100, 1 + exact.final_return / 100, rtol=1e-5)
    np.testing.assert_allclose(1 + fast.max_drawdown / 100, 1 + exact.max_drawdown / 100, rtol=1e-5)
    np.testing.assert_allclose(fast.probability_of_loss, exact.probability_of_loss, atol=1 / 300)


def test_constant_returns_give_a_degenerate_distribution() -> None:
    returns = np.full((252, 1), 0.001)
    result = monte_carlo(returns, n_resamples=100, seed=1)
    np.testing.assert_allclose(result.final_return, (1.001**252 - 1) * 100, rtol=1e-5)
    np.testing.assert_allclose(result.max_drawdown, 0.0, atol=1e-12)
    assert result.probability_of_loss[0] == 0.0
    losing = monte_carlo(np.full((50, 1), -0.01), n_resamples=50, seed=1)
    assert losing.probability_of_loss[0] == 1.0
    np.testing.assert_allclose(losing.max_drawdown, (0.99**50 - 1) * 100, rtol=1e-5)


def test_full_length_blocks_are_rotations_so_final_return_is_exact() -> None:
    rng = np.random.default_rng(9)
    returns = rng.normal(0.0, 0.02, size=(120, 2))
    result = monte_carlo(returns, n_resamples=300, seed=3, block_size=120, dtype=np.float64)
    exact = (np.prod(1 + returns, axis=0) - 1) * 100
    np.testing.assert_allclose(result.final_return, np.repeat(exact[:, None], 5, axis=1), rtol=1e-9)
    # Drawdowns still differ between rotations.
    assert np.ptp(result.max_drawdown[0]) > 0


def test_block_indices_are_consecutive_runs_wrapping_around() -> None:
    indices = bootstrap_indices(100, 50, np.random.default_rng(0), block_size=7)
    assert indices.shape == (100, 50)
    steps = np.diff(indices, axis=0) % 100
    in_block = np.ones(99, dtype=bool)
    in_block[6::7] = False  # the step from the last day of a block to the first of the next
    assert np.all(steps[in_block] == 1)
    assert not np.all(steps[~in_block] == 1)


def test_iid_bootstrap_is_unbiased_for_mean_log_growth() -> None:
    rng = np.random.default_rng(2)
    returns = rng.normal(0.0004, 0.01, size=(1_000, 1))
    result = monte_carlo(returns, n_resamples=2_000, seed=8, percentiles=(50.0,))
    expected_median_log = np.log1p(returns).sum()
    # The median of the sum of 1,000 i.i.d. draws is near its mean (sd of the sum ≈ 0.32).
    assert np.log1p(result.final_return[0, 0] / 100) == pytest.approx(expected_median_log, abs=0.05)


def test_monte_carlo_is_seeded() -> None:
    returns = np.random.default_rng(4).normal(0, 0.01, size=(200, 2))
    a = monte_carlo(returns, n_resamples=100, seed=1)
    b = monte_carlo(returns, n_resamples=100, seed=1)
    c = monte_carlo(returns, n_resamples=100, seed=2)
    np.testing.assert_array_equal(a.final_return, b.final_return)
    assert not np.array_equal(a.final_return, c.final_return)


def test_fan_ends_at_the_final_return_percentiles() -> None:
    returns = np.random.default_rng(6).normal(0.001, 0.01, size=(500, 2))
    result = monte_carlo(returns, n_resamples=300, seed=0)
    assert result.fan_steps[-1] == 500 and result.fan_steps[0] == 1
    np.testing.assert_allclose(result.fan[:, :, -1], result.final_return, rtol=1e-9)


def test_monte_carlo_rejects_impossible_returns() -> None:
    with pytest.raises(AnalysisError, match="-100%"):
        monte_carlo(np.array([[0.1], [-1.0], [0.2]]))
    with pytest.raises(AnalysisError, match="block_size"):
        monte_carlo(np.zeros((10, 1)), block_size=11)


def test_percentiles_of_rows_match_numpy_linear() -> None:
    from quantops.analysis.montecarlo import percentiles_of_rows

    values = np.random.default_rng(0).normal(size=(3, 4, 101))
    q = np.array([0.0, 5.0, 33.3, 50.0, 95.0, 100.0])
    expected = np.moveaxis(np.percentile(values, q, axis=-1), 0, -1)
    np.testing.assert_allclose(percentiles_of_rows(values, q), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(percentiles_of_rows(np.array([7.0]), q), np.full(6, 7.0))
