"""Alpha Vantage provider (the original platform's source): ``TIME_SERIES_DAILY`` / ``_WEEKLY`` JSON.

The key comes from settings (``QUANTOPS_ALPHAVANTAGE_API_KEY``) and never appears in errors or logs
(the httpx logger gets a redacting filter). Alpha Vantage always answers with the whole history, so
the last answer per symbol is kept briefly: one ``get_bars`` with several gaps costs one call.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
from pydantic import SecretStr

from quantops.data.bars import Bars
from quantops.data.errors import InvalidRequestError, ProviderError, UnknownSymbolError
from quantops.data.providers.http import HttpJsonClient

_FUNCTIONS = {
    "1d": ("TIME_SERIES_DAILY", "Time Series (Daily)"),
    "1wk": ("TIME_SERIES_WEEKLY", "Weekly Time Series"),
}
_FIELDS = ("1. open", "2. high", "3. low", "4. close", "5. volume")
_ANSWER_TTL_SECONDS = 60.0


def parse_time_series(payload: object, symbol: str, interval: str) -> Bars:
    if not isinstance(payload, dict):
        raise ProviderError("alphavantage: unexpected answer (not a JSON object)")
    if "Error Message" in payload:
        message = str(payload["Error Message"])
        if "apikey" in message.lower():
            raise ProviderError("alphavantage: the API key was rejected")
        # Alpha Vantage answers an unknown ticker with "Invalid API call"; nothing else distinguishes it.
        raise UnknownSymbolError(symbol)
    for notice in ("Note", "Information"):
        if notice in payload:
            raise ProviderError(f"alphavantage: {payload[notice]}")
    series_key = _FUNCTIONS[interval][1]
    series = payload.get(series_key)
    if not isinstance(series, dict):
        raise ProviderError(f"alphavantage: answer has no {series_key!r}")
    if not series:
        return Bars.empty(symbol, interval)
    dates = pd.DatetimeIndex(pd.to_datetime(list(series.keys()), utc=True, errors="coerce")).as_unit("ns")
    if dates.isna().any():
        raise ProviderError("alphavantage: unparsable date in answer")
    try:
        values = np.array([[float(row[f]) for f in _FIELDS] for row in series.values()], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"alphavantage: malformed bar ({exc})") from None
    order = np.argsort(dates.asi8, kind="stable")
    return Bars.from_arrays(symbol, interval, dates.asi8[order], *(values[order, i] for i in range(5)))


class AlphaVantageProvider:
    name = "alphavantage"
    synthetic = False

    def __init__(
        self,
        api_key: SecretStr | None,
        base_url: str = "https://www.alphavantage.co",
        timeout: float = 20.0,
        outputsize: str = "full",
    ) -> None:
        self._api_key = api_key
        self._outputsize = outputsize
        self._http = HttpJsonClient(base_url, timeout, provider="alphavantage")
        self._answers: dict[tuple[str, str], tuple[float, Bars]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def _full_history(self, symbol: str, interval: str) -> Bars:
        key = (symbol, interval)
        with self._lock:
            cached = self._answers.get(key)
            if cached and time.monotonic() - cached[0] < _ANSWER_TTL_SECONDS:
                return cached[1]
        if self._api_key is None or not self._api_key.get_secret_value():
            raise ProviderError("alphavantage: no API key; set QUANTOPS_ALPHAVANTAGE_API_KEY")
        function = _FUNCTIONS[interval][0]
        params: dict[str, str | int] = {
            "function": function,
            "symbol": symbol,
            "outputsize": self._outputsize,
            "datatype": "json",
            "apikey": self._api_key.get_secret_value(),
        }
        status, payload = self._http.get_json("/query", params)
        if status >= 400:
            raise ProviderError(f"alphavantage: HTTP {status}")
        bars = parse_time_series(payload, symbol, interval)
        with self._lock:
            self._answers[key] = (time.monotonic(), bars)
        return bars

    def fetch(self, symbol: str, interval: str, start_ns: int, end_ns: int) -> Bars:
        if interval not in _FUNCTIONS:
            raise InvalidRequestError(
                "interval", f"alphavantage provider serves {', '.join(_FUNCTIONS)} only"
            )
        return self._full_history(symbol, interval).slice_ns(start_ns, end_ns)
