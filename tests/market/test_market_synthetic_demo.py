"""Seeded synthetic provider and the demo universe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from quantops.data import DEMO_SYMBOLS, MarketDataStore
from quantops.data.providers.synthetic import SyntheticProvider
from quantops.data.validation import find_problems


def _ns(day: str) -> int:
    return pd.Timestamp(day, tz="UTC").value


def test_same_seed_same_bars_and_different_seed_differs() -> None:
    a = SyntheticProvider(seed=11).fetch("AAPL", "1d", _ns("2016-01-01"), _ns("2017-01-01"))
    b = SyntheticProvider(seed=11).fetch("AAPL", "1d", _ns("2016-01-01"), _ns("2017-01-01"))
    c = SyntheticProvider(seed=12).fetch("AAPL", "1d", _ns("2016-01-01"), _ns("2017-01-01"))
    other = SyntheticProvider(seed=11).fetch("MSFT", "1d", _ns("2016-01-01"), _ns("2017-01-01"))
    np.testing.assert_array_equal(a.close, b.close)
    assert not np.array_equal(a.close, c.close) and not np.array_equal(a.close, other.close)
    assert len(a) == len(pd.bdate_range("2016-01-01", "2016-12-31"))


def test_realistic_daily_statistics_and_valid_ohlc() -> None:
    provider = SyntheticProvider()
    vols, ranges = [], []
    for symbol in DEMO_SYMBOLS:
        bars = provider.fetch(symbol, "1d", _ns("2015-01-01"), _ns("2025-01-01"))
        assert find_problems(bars) == []
        log_returns = np.diff(np.log(bars.close))
        vols.append(log_returns.std() * np.sqrt(252))
        ranges.append(np.median((bars.high - bars.low) / bars.close))
        # A random walk: no exploitable lag-1 autocorrelation.
        assert abs(np.corrcoef(log_returns[1:], log_returns[:-1])[0, 1]) < 0.1
        assert np.all(bars.volume > 0)
    # Equities: annualised volatility ~15-45 %, median daily high-low range ~1-4 % of price.
    assert min(vols) > 0.12 and max(vols) < 0.55
    assert min(ranges) > 0.005 and max(ranges) < 0.05


def test_demo_loads_ten_years_of_labelled_synthetic_data(store_path: Path) -> None:
    with MarketDataStore(store_path) as store:
        assert store.is_empty()
        results = store.load_demo()
        assert len(results) == len(DEMO_SYMBOLS) >= 10
        status = store.cache_status()
        again = store.load_demo()  # already covered: nothing generated again
    assert all(r.rows_written == 0 and r.ranges_fetched == 0 for r in again)
    assert {"AAPL", "MSFT", "NVDA", "GOOG", "AMZN", "TSLA", "META", "SPY", "QQQ"} <= set(status["symbols"])
    assert status["synthetic_symbols"] == sorted(DEMO_SYMBOLS) and "not real market prices" in status["note"]
    for row in status["per_symbol"]:
        assert row["synthetic"] is True and row["sources"] == ["synthetic"]
        years = (pd.Timestamp(row["last"]) - pd.Timestamp(row["first"])).days / 365.25
        assert years >= 9.99 and row["rows"] >= 2500
