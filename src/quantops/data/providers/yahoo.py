"""Yahoo Finance provider over the public chart JSON API (``/v8/finance/chart/{symbol}``) with httpx.

The ``yfinance`` package hard-codes Yahoo's hosts and a cookie/crumb handshake, so it cannot be pointed
at a local server for recorded-response tests; this provider speaks the same chart endpoint yfinance
uses for history, with a configurable base URL (``QUANTOPS_YAHOO_BASE_URL``).
"""

from __future__ import annotations

from urllib.parse import quote

import numpy as np

from quantops.data.bars import Bars
from quantops.data.errors import InvalidRequestError, ProviderError, UnknownSymbolError
from quantops.data.providers.http import HttpJsonClient
from quantops.data.timeutil import NS_PER_DAY, NS_PER_SECOND

_YAHOO_INTERVALS = {"1m": "1m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "60m", "1d": "1d", "1wk": "1wk"}


def _float_array(values: object, length: int) -> np.ndarray:
    if not isinstance(values, list) or len(values) != length:
        return np.full(length, np.nan)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def parse_chart_response(payload: object, symbol: str, interval: str) -> Bars:
    """Chart API answer → Bars; daily/weekly bars are stamped at 00:00 UTC of the exchange date."""
    chart = payload.get("chart") if isinstance(payload, dict) else None
    if not isinstance(chart, dict):
        raise ProviderError("yahoo: unexpected answer (no 'chart' object)")
    error = chart.get("error")
    results = chart.get("result")
    if error or not results:
        code = (error or {}).get("code", "") if isinstance(error, dict) else ""
        description = (error or {}).get("description", "") if isinstance(error, dict) else str(error)
        if code == "Not Found" or "delisted" in str(description) or "No data found" in str(description):
            raise UnknownSymbolError(symbol)
        raise ProviderError(f"yahoo: {code or 'error'}: {description}")
    result = results[0]
    meta = result.get("meta") or {}
    seconds = result.get("timestamp") or []
    if not seconds:
        return Bars.empty(symbol, interval)
    n = len(seconds)
    quote_block = ((result.get("indicators") or {}).get("quote") or [{}])[0]
    open_, high, low, close = (_float_array(quote_block.get(k), n) for k in ("open", "high", "low", "close"))
    volume = np.nan_to_num(_float_array(quote_block.get("volume"), n), nan=0.0)
    timestamps = np.asarray(seconds, dtype=np.int64) * NS_PER_SECOND
    if interval in ("1d", "1wk"):
        offset_ns = int(meta.get("gmtoffset") or 0) * NS_PER_SECOND
        timestamps = ((timestamps + offset_ns) // NS_PER_DAY) * NS_PER_DAY
    # Yahoo emits all-null rows for halted/placeholder sessions; they are not bars.
    keep = np.isfinite(open_) & np.isfinite(high) & np.isfinite(low) & np.isfinite(close)
    order = np.argsort(timestamps[keep], kind="stable")
    columns = [a[keep][order] for a in (timestamps, open_, high, low, close, volume)]
    return Bars.from_arrays(symbol, interval, *columns)


class YahooProvider:
    name = "yahoo"
    synthetic = False

    def __init__(self, base_url: str = "https://query2.finance.yahoo.com", timeout: float = 20.0) -> None:
        self._http = HttpJsonClient(base_url, timeout, provider="yahoo")

    def close(self) -> None:
        self._http.close()

    def fetch(self, symbol: str, interval: str, start_ns: int, end_ns: int) -> Bars:
        yahoo_interval = _YAHOO_INTERVALS.get(interval)
        if yahoo_interval is None:
            raise InvalidRequestError("interval", f"yahoo does not serve {interval!r}")
        params: dict[str, str | int] = {
            "period1": start_ns // NS_PER_SECOND,
            "period2": -(-end_ns // NS_PER_SECOND),
            "interval": yahoo_interval,
            "includePrePost": "false",
            "events": "div,splits",
        }
        status, payload = self._http.get_json(f"/v8/finance/chart/{quote(symbol, safe='')}", params)
        if status >= 400 and not (isinstance(payload, dict) and "chart" in payload):
            raise ProviderError(f"yahoo: HTTP {status}")
        return parse_chart_response(payload, symbol, interval).slice_ns(start_ns, end_ns)
