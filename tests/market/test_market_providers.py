"""Yahoo (chart API) and Alpha Vantage providers against recorded answers served on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import SecretStr

from quantops.config import get_settings
from quantops.data import MarketDataStore, ProviderError, UnknownSymbolError, build_provider, open_store
from quantops.data.providers import AlphaVantageProvider, YahooProvider

RECORDED = Path(__file__).parent / "recorded"
TEST_KEY = "AVKEY-test-9f3c2e71"  # must match conftest.ALPHAVANTAGE_TEST_KEY


def _ns(day: str) -> int:
    return pd.Timestamp(day, tz="UTC").value


def _days(timestamps: np.ndarray) -> list[str]:
    return pd.DatetimeIndex(timestamps.view("datetime64[ns]")).strftime("%Y-%m-%d").tolist()


def test_yahoo_daily_bars_match_the_recorded_answer(recorded_api) -> None:
    provider = YahooProvider(recorded_api.base_url, timeout=5)
    bars = provider.fetch("AAPL", "1d", _ns("2024-01-01"), _ns("2024-02-01"))
    recorded = json.loads((RECORDED / "yahoo_chart_AAPL_1d.json").read_text())["chart"]["result"][0]
    quote = recorded["indicators"]["quote"][0]
    real_rows = [i for i, v in enumerate(quote["close"]) if v is not None]
    assert len(bars) == len(real_rows) == 13  # the all-null placeholder row is dropped
    np.testing.assert_array_equal(bars.close, [quote["close"][i] for i in real_rows])
    np.testing.assert_array_equal(bars.volume, [quote["volume"][i] for i in real_rows])
    # 09:30 New York → stamped at 00:00 UTC of the exchange date.
    assert _days(bars.timestamps)[:3] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert np.all(bars.timestamps % (86_400 * 10**9) == 0)
    (request,) = recorded_api.chart_requests("AAPL")
    assert request["interval"] == "1d" and int(request["period1"]) == _ns("2024-01-01") // 10**9
    provider.close()


def test_yahoo_unknown_symbol_and_retry_on_server_error(recorded_api) -> None:
    provider = YahooProvider(recorded_api.base_url, timeout=5)
    with pytest.raises(UnknownSymbolError):
        provider.fetch("NOSUCH", "1d", _ns("2024-01-01"), _ns("2024-02-01"))
    recorded_api.failures_before_success["/v8/finance/chart/AAPL"] = 2  # two 503s, then the answer
    assert len(provider.fetch("AAPL", "1d", _ns("2024-01-01"), _ns("2024-02-01"))) == 13
    recorded_api.failures_before_success["/v8/finance/chart/AAPL"] = 5
    with pytest.raises(ProviderError, match="after 3 attempts"):
        provider.fetch("AAPL", "1d", _ns("2024-01-01"), _ns("2024-02-01"))
    provider.close()


def test_yahoo_unreachable_is_a_provider_error() -> None:
    provider = YahooProvider("http://127.0.0.1:9", timeout=1)  # discard port: connection refused
    with pytest.raises(ProviderError, match="yahoo"):
        provider.fetch("AAPL", "1d", _ns("2024-01-01"), _ns("2024-02-01"))


def test_store_reads_through_yahoo_only_for_uncovered_ranges(recorded_api, store_path: Path) -> None:
    settings = get_settings(
        duckdb_path=store_path, market_data_provider="yahoo", yahoo_base_url=recorded_api.base_url
    )
    store = open_store(settings)
    first = store.get_bars("aapl", "2024-01-02", "2024-01-10")
    assert _days(first.timestamps) == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08",
                                       "2024-01-09", "2024-01-10"]  # fmt: skip
    store.get_bars("AAPL", "2024-01-03", "2024-01-09")  # covered: no HTTP request
    assert len(recorded_api.chart_requests("AAPL")) == 1
    wider = store.get_bars("AAPL", "2024-01-02", "2024-01-19")
    requests = recorded_api.chart_requests("AAPL")
    assert len(requests) == 2
    assert int(requests[1]["period1"]) == _ns("2024-01-11") // 10**9  # only the uncovered tail
    assert int(requests[1]["period2"]) == _ns("2024-01-20") // 10**9
    assert len(wider) == 13 and wider.close[-1] == 191.56
    store.close()
    with open_store(settings) as reopened:  # restart: still covered, counters kept
        reopened.get_bars("AAPL", "2024-01-05", "2024-01-12")
        status = reopened.cache_status()
    assert len(recorded_api.chart_requests("AAPL")) == 2
    assert (status["hits"], status["misses"]) == (2, 2) and status["provider"] == "yahoo"
    assert status["per_symbol"][0]["sources"] == ["yahoo"] and status["per_symbol"][0]["synthetic"] is False


def test_alphavantage_daily_bars(recorded_api) -> None:
    provider = AlphaVantageProvider(SecretStr(TEST_KEY), recorded_api.base_url, timeout=5)
    bars = provider.fetch("IBM", "1d", _ns("2024-01-03"), _ns("2024-01-10"))
    series = json.loads((RECORDED / "alphavantage_daily_IBM.json").read_text())["Time Series (Daily)"]
    assert _days(bars.timestamps) == ["2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"]
    np.testing.assert_array_equal(bars.close, [float(series[d]["4. close"]) for d in _days(bars.timestamps)])
    np.testing.assert_array_equal(
        bars.volume, [float(series[d]["5. volume"]) for d in _days(bars.timestamps)]
    )
    (request,) = recorded_api.query_requests()
    assert request["function"] == "TIME_SERIES_DAILY" and request["symbol"] == "IBM"
    # Whole history comes back each time, so a second gap in the same minute reuses the answer.
    provider.fetch("IBM", "1d", _ns("2024-01-10"), _ns("2024-01-13"))
    assert len(recorded_api.query_requests()) == 1
    provider.close()


def test_alphavantage_errors(recorded_api) -> None:
    provider = AlphaVantageProvider(SecretStr(TEST_KEY), recorded_api.base_url, timeout=5)
    with pytest.raises(UnknownSymbolError):
        provider.fetch("NOSUCH", "1d", _ns("2024-01-01"), _ns("2024-02-01"))
    with pytest.raises(ProviderError, match="rate limit"):
        provider.fetch("RATELIMITED", "1d", _ns("2024-01-01"), _ns("2024-02-01"))
    with pytest.raises(ProviderError, match="API key was rejected"):
        AlphaVantageProvider(SecretStr("wrong"), recorded_api.base_url).fetch(
            "IBM", "1d", 0, _ns("2025-01-01")
        )
    with pytest.raises(ProviderError, match="no API key"):
        AlphaVantageProvider(None, recorded_api.base_url).fetch("IBM", "1d", 0, _ns("2025-01-01"))


def test_alphavantage_key_never_reaches_logs_or_errors(recorded_api, store_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    settings = get_settings(
        duckdb_path=store_path,
        market_data_provider="alphavantage",
        alphavantage_api_key=TEST_KEY,
        alphavantage_base_url=recorded_api.base_url,
    )
    with open_store(settings) as store:
        store.get_bars("IBM", "2024-01-02", "2024-01-12")
        with pytest.raises(UnknownSymbolError) as unknown:
            store.get_bars("NOSUCH", "2024-01-02", "2024-01-12")
        status = store.cache_status()
    assert recorded_api.query_requests()[0]["apikey"] == TEST_KEY  # it was really sent
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log the URL
    assert TEST_KEY not in caplog.text and "apikey=***" in caplog.text
    assert TEST_KEY not in str(unknown.value) and TEST_KEY not in json.dumps(status)
    # A transport failure message (which contains the URL) is redacted too.
    failing = AlphaVantageProvider(SecretStr(TEST_KEY), "http://127.0.0.1:9", timeout=1)
    with pytest.raises(ProviderError) as failure:
        failing.fetch("IBM", "1d", 0, _ns("2025-01-01"))
    assert TEST_KEY not in str(failure.value)


def test_build_provider_names() -> None:
    settings = get_settings()
    assert build_provider(settings) is None  # default offline
    assert build_provider(settings, "yfinance").name == "yahoo"
    assert build_provider(settings, "synthetic").synthetic is True
    with pytest.raises(ValueError, match="provider"):
        build_provider(settings, "bloomberg")


def test_unknown_to_provider_but_imported_symbol_is_served_from_store(
    recorded_api, store_path: Path, goog_csv: Path
) -> None:
    provider = YahooProvider(recorded_api.base_url, timeout=5)
    with MarketDataStore(store_path, provider=provider) as store:
        store.import_file(goog_csv, symbol="MYGOOG")
        bars = store.get_bars("MYGOOG", "2012-12-01", "2013-06-30")  # tail beyond the file: provider 404
        assert _days(bars.timestamps)[-1] == "2013-03-01"
        with pytest.raises(UnknownSymbolError):
            store.get_bars("NOSUCH", "2012-12-01", "2013-06-30")


def test_yahoo_intraday_keeps_utc_times() -> None:
    from quantops.data.providers.yahoo import parse_chart_response

    open_ny = int(pd.Timestamp("2024-01-02 09:30", tz="America/New_York").timestamp())
    payload = {
        "chart": {
            "result": [
                {
                    "meta": {"gmtoffset": -18000},
                    "timestamp": [open_ny, open_ny + 3600],
                    "indicators": {
                        "quote": [
                            {"open": [1.0, 2.0], "high": [1.5, 2.5], "low": [0.5, 1.5], "close": [1.2, 2.2],
                             "volume": [10, None]}
                        ]
                    },
                }
            ],
            "error": None,
        }
    }  # fmt: skip
    bars = parse_chart_response(payload, "AAPL", "1h")
    assert bars.index.strftime("%H:%M").tolist() == ["14:30", "15:30"]  # UTC, not floored to the day
    np.testing.assert_array_equal(bars.volume, [10.0, 0.0])  # a null volume is 0, the bar is kept
