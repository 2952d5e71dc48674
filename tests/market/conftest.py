"""Fixtures for the market-data tests: temp DuckDB files and a local HTTP server with recorded answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from quantops.data import MarketDataStore
from quantops.data.bars import Bars

RECORDED = Path(__file__).parent / "recorded"
GOOG_CSV = Path(__file__).parents[1] / "data" / "GOOG.csv"
ALPHAVANTAGE_TEST_KEY = "AVKEY-test-9f3c2e71"


@dataclass
class RecordedApi:
    """What the fake-free local server saw: every request path and query, for read-through assertions."""

    base_url: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    failures_before_success: dict[str, int] = field(default_factory=dict)

    def chart_requests(self, symbol: str) -> list[dict[str, str]]:
        return [q for p, q in self.requests if p == f"/v8/finance/chart/{symbol}"]

    def query_requests(self) -> list[dict[str, str]]:
        return [q for p, q in self.requests if p == "/query"]


def _yahoo_answer(symbol: str, query: dict[str, str]) -> tuple[int, dict[str, object]]:
    path = RECORDED / f"yahoo_chart_{symbol}_1d.json"
    if not path.exists():
        return 404, json.loads((RECORDED / "yahoo_chart_not_found.json").read_text())
    payload = json.loads(path.read_text())
    result = payload["chart"]["result"][0]
    # Like Yahoo: only bars with period1 <= t < period2.
    period1, period2 = int(query.get("period1", 0)), int(query.get("period2", 2**62))
    keep = [i for i, t in enumerate(result["timestamp"]) if period1 <= t < period2]
    quote = result["indicators"]["quote"][0]
    result["indicators"]["quote"][0] = {k: [v[i] for i in keep] for k, v in quote.items()}
    result["indicators"]["adjclose"][0]["adjclose"] = [
        result["indicators"]["adjclose"][0]["adjclose"][i] for i in keep
    ]
    if keep:
        result["timestamp"] = [result["timestamp"][i] for i in keep]
    else:
        del result["timestamp"]  # Yahoo omits the key when a range has no bars
    return 200, payload


def _alphavantage_answer(query: dict[str, str]) -> tuple[int, dict[str, object]]:
    if query.get("apikey") != ALPHAVANTAGE_TEST_KEY:
        return 200, json.loads((RECORDED / "alphavantage_bad_key.json").read_text())
    symbol = query.get("symbol", "")
    if symbol == "RATELIMITED":
        return 200, json.loads((RECORDED / "alphavantage_rate_limited.json").read_text())
    path = RECORDED / f"alphavantage_daily_{symbol}.json"
    if query.get("function") != "TIME_SERIES_DAILY" or not path.exists():
        return 200, json.loads((RECORDED / "alphavantage_invalid_symbol.json").read_text())
    return 200, json.loads(path.read_text())


@pytest.fixture
def recorded_api() -> Iterator[RecordedApi]:
    """Real HTTP server on 127.0.0.1 (ephemeral port) answering like Yahoo's chart API and Alpha Vantage."""
    api = RecordedApi(base_url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            with lock:
                api.requests.append((url.path, query))
                remaining = api.failures_before_success.get(url.path, 0)
                if remaining:
                    api.failures_before_success[url.path] = remaining - 1
            if remaining:
                status, body = 503, {"error": "temporarily unavailable"}
            elif url.path.startswith("/v8/finance/chart/"):
                status, body = _yahoo_answer(url.path.rsplit("/", 1)[-1], query)
            elif url.path == "/query":
                status, body = _alphavantage_answer(query)
            else:
                status, body = 404, {"error": "no route"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def goog_csv() -> Path:
    return GOOG_CSV


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "market.duckdb"


@pytest.fixture
def empty_store(store_path: Path) -> Iterator[MarketDataStore]:
    store = MarketDataStore(store_path)
    try:
        yield store
    finally:
        store.close()


class CountingProvider:
    """Wraps a real provider and records each (symbol, start_ns, end_ns) it is asked for."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        self.synthetic = inner.synthetic  # type: ignore[attr-defined]
        self.calls: list[tuple[str, int, int]] = []
        self._lock = threading.Lock()

    def fetch(self, symbol: str, interval: str, start_ns: int, end_ns: int) -> Bars:
        with self._lock:
            self.calls.append((symbol, start_ns, end_ns))
        return self.inner.fetch(symbol, interval, start_ns, end_ns)  # type: ignore[attr-defined]


@pytest.fixture
def counting_provider_factory() -> type[CountingProvider]:
    return CountingProvider
