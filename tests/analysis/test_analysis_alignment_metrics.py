"""Alignment on common dates and the return-based metrics (hand cases + empyrical cross-checks)."""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest

from quantops.analysis import (
    AnalysisError,
    EquityCurve,
    InsufficientOverlapError,
    align_equity_curves,
    performance_metrics,
)
from quantops.analysis.alignment import NS_PER_DAY

DAY = NS_PER_DAY


def test_alignment_keeps_only_common_days_and_matches_by_calendar_day() -> None:
    a = EquityCurve("a", np.array([0, 1, 2, 3, 4]) * DAY, np.array([100.0, 101, 102, 103, 104]))
    # b is stamped at 16:00 and lacks day 2; c lacks day 0.
    b = EquityCurve("b", np.array([0, 1, 3, 4]) * DAY + 16 * 3_600 * 10**9, np.array([50.0, 55, 60, 66]))
    c = EquityCurve("c", np.array([1, 2, 3, 4]) * DAY, np.array([10.0, 11, 12, 13]))
    aligned = align_equity_curves([a, b, c], min_common_dates=2)
    assert aligned.names == ("a", "b", "c")
    np.testing.assert_array_equal(aligned.timestamps, np.array([1, 3, 4]) * DAY)
    np.testing.assert_array_equal(aligned.equity, [[101, 55, 10], [103, 60, 12], [104, 66, 13]])
    np.testing.assert_allclose(aligned.returns[0], [103 / 101 - 1, 60 / 55 - 1, 12 / 10 - 1])
    assert aligned.returns.shape == (2, 3)


def test_alignment_uses_last_point_of_a_day() -> None:
    stamps = np.array([0, DAY, DAY + 3_600 * 10**9, 2 * DAY])
    curve = EquityCurve("x", stamps, np.array([1.0, 2.0, 3.0, 4.0]))
    aligned = align_equity_curves([curve], min_common_dates=2)
    np.testing.assert_array_equal(aligned.equity[:, 0], [1.0, 3.0, 4.0])


def test_too_few_common_dates_names_the_strategies() -> None:
    a = EquityCurve("alpha", np.arange(40) * DAY, np.linspace(100, 120, 40))
    b = EquityCurve("beta", (np.arange(40) + 30) * DAY, np.linspace(100, 90, 40))
    with pytest.raises(InsufficientOverlapError) as info:
        align_equity_curves([a, b], min_common_dates=30)
    assert info.value.common_dates == 10
    assert "alpha" in str(info.value) and "beta" in str(info.value) and "10" in str(info.value)


@pytest.mark.parametrize(
    ("timestamps", "values", "problem"),
    [
        (np.array([0, 0, DAY]), np.array([1.0, 2.0, 3.0]), "strictly increasing"),
        (np.array([0, DAY, 2 * DAY]), np.array([1.0, 0.0, 3.0]), "positive"),
        (np.array([0, DAY, 2 * DAY]), np.array([1.0, np.nan, 3.0]), "finite"),
        (np.array([0, DAY]), np.array([1.0, 2.0, 3.0]), "equal length"),
    ],
)
def test_bad_equity_is_rejected_with_the_reason(
    timestamps: np.ndarray, values: np.ndarray, problem: str
) -> None:
    with pytest.raises(AnalysisError, match=problem):
        align_equity_curves([EquityCurve("bad", timestamps, values)], min_common_dates=2)


def test_metrics_on_a_hand_computed_curve() -> None:
    # Returns +10 %, −10 %, +10 %: 100 → 110 → 99 → 108.9
    equity = np.array([100.0, 110.0, 99.0, 108.9])
    metrics = performance_metrics(equity, periods_per_year=3)
    assert metrics["total_return"] == pytest.approx(8.9)
    assert metrics["max_drawdown"] == pytest.approx(-10.0)
    # One year of 3 periods: CAGR equals the total return.
    assert metrics["cagr"] == pytest.approx(8.9)
    returns = np.array([0.1, -0.1, 0.1])
    mean, std = returns.mean(), returns.std(ddof=1)
    assert metrics["volatility"] == pytest.approx(std * np.sqrt(3) * 100)
    assert metrics["sharpe_ratio"] == pytest.approx(mean / std * np.sqrt(3))
    downside = np.sqrt(0.01 / 3)
    assert metrics["sortino_ratio"] == pytest.approx(mean * 3 / (downside * np.sqrt(3)))
    assert metrics["calmar_ratio"] == pytest.approx(0.089 / 0.10)


def test_flat_curve_has_undefined_ratios_not_infinities() -> None:
    metrics = performance_metrics(np.full(50, 1_000.0))
    assert metrics["total_return"] == 0.0 and metrics["max_drawdown"] == 0.0
    for name in ("sharpe_ratio", "sortino_ratio", "calmar_ratio"):
        assert np.isnan(metrics[name]), name


def test_metrics_match_empyrical_on_real_equity(goog_equity: pd.DataFrame) -> None:
    equity = goog_equity.to_numpy()
    metrics = performance_metrics(equity)
    returns = goog_equity.pct_change().iloc[1:]
    for column_index, column in enumerate(goog_equity.columns):
        r = returns[column]
        expected = {
            "sharpe_ratio": empyrical.sharpe_ratio(r),
            "sortino_ratio": empyrical.sortino_ratio(r),
            "cagr": empyrical.annual_return(r) * 100,
            "volatility": empyrical.annual_volatility(r) * 100,
            "max_drawdown": empyrical.max_drawdown(r) * 100,
            "calmar_ratio": empyrical.calmar_ratio(r),
            "total_return": empyrical.cum_returns_final(r) * 100,
        }
        for name, value in expected.items():
            assert metrics[name][column_index] == pytest.approx(value, rel=1e-9), (column, name)
