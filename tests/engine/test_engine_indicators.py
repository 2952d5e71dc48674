"""Indicators against TA-Lib on real GOOG prices: equal within 1e-9 after the warm-up, NaN during it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from quantops.engine import indicators

TOL = 1e-9


def assert_matches(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Same NaN warm-up and values within TOL (absolute) after it."""
    theirs = np.asarray(theirs, dtype=float)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    defined = ~np.isnan(theirs)
    assert defined.sum() > len(theirs) // 2
    np.testing.assert_allclose(ours[defined], theirs[defined], rtol=0, atol=TOL)


@pytest.mark.parametrize("period", [2, 5, 10, 20, 50, 200])
def test_sma_ema(goog_arrays: dict[str, np.ndarray], period: int) -> None:
    close = goog_arrays["close"]
    assert_matches(indicators.sma(close, period), talib.SMA(close, period))
    assert_matches(indicators.ema(close, period), talib.EMA(close, period))


@pytest.mark.parametrize("period", [2, 7, 14, 30])
def test_rsi_wilder(goog_arrays: dict[str, np.ndarray], period: int) -> None:
    close = goog_arrays["close"]
    assert_matches(indicators.rsi(close, period), talib.RSI(close, period))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (3, 10, 16)])
def test_macd(goog_arrays: dict[str, np.ndarray], fast: int, slow: int, signal: int) -> None:
    close = goog_arrays["close"]
    ours = indicators.macd(close, fast, slow, signal)
    theirs = talib.MACD(close, fast, slow, signal)
    for a, b in zip(ours, theirs, strict=True):
        assert_matches(a, b)


@pytest.mark.parametrize(("period", "num_std"), [(20, 2.0), (10, 1.5), (50, 3.0)])
def test_bollinger(goog_arrays: dict[str, np.ndarray], period: int, num_std: float) -> None:
    close = goog_arrays["close"]
    ours = indicators.bollinger(close, period, num_std)
    theirs = talib.BBANDS(close, period, num_std, num_std, 0)
    for a, b in zip(ours, theirs, strict=True):
        assert_matches(a, b)


@pytest.mark.parametrize("period", [2, 14, 30])
def test_atr_and_range(goog_arrays: dict[str, np.ndarray], period: int) -> None:
    h, lo, c = goog_arrays["high"], goog_arrays["low"], goog_arrays["close"]
    assert_matches(indicators.atr(h, lo, c, period), talib.ATR(h, lo, c, period))
    assert_matches(indicators.true_range(h, lo, c), talib.TRANGE(h, lo, c))


@pytest.mark.parametrize("period", [2, 20, 55])
def test_rolling_max_min(goog_arrays: dict[str, np.ndarray], period: int) -> None:
    assert_matches(
        indicators.rolling_max(goog_arrays["high"], period), talib.MAX(goog_arrays["high"], period)
    )
    assert_matches(indicators.rolling_min(goog_arrays["low"], period), talib.MIN(goog_arrays["low"], period))


@pytest.mark.parametrize(("k", "slowk", "slowd"), [(14, 3, 3), (5, 3, 3), (21, 5, 7)])
def test_stochastic(goog_arrays: dict[str, np.ndarray], k: int, slowk: int, slowd: int) -> None:
    h, lo, c = goog_arrays["high"], goog_arrays["low"], goog_arrays["close"]
    ours = indicators.stochastic(h, lo, c, k, slowk, slowd)
    theirs = talib.STOCH(
        h, lo, c, fastk_period=k, slowk_period=slowk, slowk_matype=0, slowd_period=slowd, slowd_matype=0
    )
    for a, b in zip(ours, theirs, strict=True):
        assert_matches(a, b)


def test_against_stored_talib_reference(
    goog_arrays: dict[str, np.ndarray], talib_reference: pd.DataFrame
) -> None:
    """The TA-Lib 0.8.2 outputs stored in tests/data (independent of the installed talib)."""
    c, h, lo = goog_arrays["close"], goog_arrays["high"], goog_arrays["low"]
    ref = talib_reference
    assert_matches(indicators.rsi(c, 14), ref["RSI_14"].to_numpy())
    assert_matches(indicators.sma(c, 20), ref["SMA_20"].to_numpy())
    assert_matches(indicators.ema(c, 20), ref["EMA_20"].to_numpy())
    line, sig, hist = indicators.macd(c, 12, 26, 9)
    assert_matches(line, ref["MACD_12_26_9"].to_numpy())
    assert_matches(sig, ref["MACDsignal_12_26_9"].to_numpy())
    assert_matches(hist, ref["MACDhist_12_26_9"].to_numpy())
    upper, middle, lower = indicators.bollinger(c, 20, 2.0)
    assert_matches(upper, ref["BBupper_20_2"].to_numpy())
    assert_matches(middle, ref["BBmiddle_20_2"].to_numpy())
    assert_matches(lower, ref["BBlower_20_2"].to_numpy())
    assert_matches(indicators.atr(h, lo, c, 14), ref["ATR_14"].to_numpy())


def test_crossovers_are_strict_previous_bar() -> None:
    a = np.array([1.0, 2.0, 2.0, 3.0, 1.0, np.nan, 5.0])
    b = np.array([2.0, 2.0, 2.5, 2.5, 2.0, 2.0, 2.0])
    # bar 1: a==b (not strictly above); bar 3: 2<2.5 then 3>2.5 -> above; bar 4: below again
    np.testing.assert_array_equal(indicators.crossed_above(a, b), [0, 0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(indicators.crossed_below(a, b), [0, 0, 0, 0, 1, 0, 0])


def test_short_inputs_are_all_nan() -> None:
    short = np.array([1.0, 2.0, 3.0])
    assert np.isnan(indicators.sma(short, 5)).all()
    assert np.isnan(indicators.rsi(short, 3)).all()
    assert np.isnan(indicators.macd(short, 2, 3, 2)[0]).all()
