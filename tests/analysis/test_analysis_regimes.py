"""Market-regime rule (synthetic trends + pandas re-implementation on GOOG) and per-regime figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantops.analysis import Regime, RegimeRule, label_regimes, regime_statistics
from quantops.analysis.alignment import NS_PER_DAY
from quantops.analysis.regimes import labels_on_dates, simple_moving_average


def test_trends_are_labelled_after_the_warmup() -> None:
    rule = RegimeRule()
    n = 400
    rising = 100 * 1.002 ** np.arange(n)
    falling = 100 * 0.998 ** np.arange(n)
    flat = 100 + np.sin(np.arange(n) / 5.0)
    for close, regime in ((rising, Regime.BULL), (falling, Regime.BEAR), (flat, Regime.SIDEWAYS)):
        labels = label_regimes(close, rule)
        assert np.all(labels[: rule.warmup_bars] == Regime.UNCLASSIFIED)
        assert np.all(labels[rule.warmup_bars :] == regime), regime


def test_neutral_band_boundary() -> None:
    # SMA(2) slope over 1 bar on a geometric series equals the growth per bar exactly.
    rule = RegimeRule(sma_window=2, slope_lookback=1, band_pct=1.0)
    assert label_regimes(100 * 1.0099 ** np.arange(10), rule)[-1] == Regime.SIDEWAYS
    assert label_regimes(100 * 1.0101 ** np.arange(10), rule)[-1] == Regime.BULL
    assert label_regimes(100 * 0.9899 ** np.arange(10), rule)[-1] == Regime.BEAR


def test_labels_match_a_pandas_implementation_on_goog(goog_bars: pd.DataFrame) -> None:
    close = goog_bars["Close"]
    slope = close.rolling(200).mean().pct_change(20, fill_method=None) * 100
    expected = np.select([slope > 1.0, slope < -1.0, slope.notna()], [1, -1, 0], default=9)
    labels = label_regimes(close.to_numpy())
    np.testing.assert_array_equal(labels, expected)
    shares = {r: np.mean(labels[labels != 9] == r) for r in (1, -1, 0)}
    # GOOG 2005–2013 had every kind of market; all three regimes must occur.
    assert all(share > 0.05 for share in shares.values()), shares


def test_sma_matches_pandas_rolling(goog_bars: pd.DataFrame) -> None:
    close = goog_bars["Close"]
    np.testing.assert_allclose(
        simple_moving_average(close.to_numpy(), 50), close.rolling(50).mean().to_numpy(), rtol=1e-10
    )


def test_labels_on_dates_map_by_day_and_mark_missing_days() -> None:
    label_days = np.array([0, 1, 2, 4]) * NS_PER_DAY
    labels = np.array([1, -1, 0, 1], dtype=np.int8)
    dates = np.array([1, 3, 4, 5]) * NS_PER_DAY + 3_600 * 10**9
    np.testing.assert_array_equal(labels_on_dates(label_days, labels, dates), [-1, 9, 1, 9])


def test_regime_statistics_on_a_hand_case() -> None:
    returns = np.array([[0.01, 0.0], [0.02, 0.01], [-0.03, 0.0], [-0.01, 0.02], [0.05, -0.01]])
    labels = np.array([1, 1, -1, -1, 9])
    analysis = regime_statistics(returns, labels, periods_per_year=252)
    by_regime = {s.regime: s for s in analysis.stats}
    bull, bear, sideways = by_regime[Regime.BULL], by_regime[Regime.BEAR], by_regime[Regime.SIDEWAYS]
    assert bull.periods == 2 and bull.share == pytest.approx(0.4)
    np.testing.assert_allclose(bull.total_return, [(1.01 * 1.02 - 1) * 100, 1.0])
    np.testing.assert_allclose(bear.total_return, [(0.97 * 0.99 - 1) * 100, 2.0])
    np.testing.assert_allclose(bull.annualized_return, [0.015 * 252 * 100, 0.005 * 252 * 100])
    std = np.std([0.01, 0.02], ddof=1)
    assert bull.volatility[0] == pytest.approx(std * np.sqrt(252) * 100)
    assert bull.sharpe_ratio[0] == pytest.approx(0.015 / std * np.sqrt(252))
    assert sideways.periods == 0 and np.all(np.isnan(sideways.total_return))
    assert analysis.unclassified_share == pytest.approx(0.2)


def test_regime_sharpe_is_the_engines_with_each_risk_free_rate() -> None:
    from quantops.engine import metrics as em

    rng = np.random.default_rng(3)
    returns = rng.normal(0.0005, 0.01, (300, 2))
    labels = np.where(np.arange(300) % 3 == 0, Regime.BULL, Regime.BEAR)
    analysis = regime_statistics(returns, labels, periods_per_year=252, risk_free_rate=[0.0, 0.04])
    bull = next(s for s in analysis.stats if s.regime is Regime.BULL)
    subset = returns[labels == Regime.BULL]
    for j, rate in enumerate((0.0, 0.04)):
        expected = em.sharpe_ratio(np.ascontiguousarray(subset[:, j]), em.per_bar_rate(rate, 252.0), 252.0)
        assert bull.sharpe_ratio[j] == pytest.approx(expected, rel=1e-12)
    assert bull.sharpe_ratio[1] < em.sharpe_ratio(np.ascontiguousarray(subset[:, 1]), 0.0, 252.0)
