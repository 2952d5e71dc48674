"""Fixtures for the comparison analytics tests: real GOOG bars and equity curves from tests/data."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn

from quantops.analysis import EquityCurve
from quantops.api.app import create_app
from quantops.config import Settings
from quantops.services.container import Container, build_container

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def goog_bars() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "GOOG.csv", parse_dates=["Date"], index_col="Date")


@pytest.fixture(scope="session")
def goog_equity() -> pd.DataFrame:
    """Three equity curves of an SMA(10/20) cross on GOOG (backtesting.py and two vectorbt fills)."""
    return pd.read_csv(DATA_DIR / "equity_sma_cross_10_20_GOOG.csv", parse_dates=["Date"], index_col="Date")


def to_ns(index: pd.DatetimeIndex) -> np.ndarray:
    return index.as_unit("ns").asi8.copy()


@pytest.fixture(scope="session")
def goog_curves(goog_equity: pd.DataFrame, goog_bars: pd.DataFrame) -> list[EquityCurve]:
    """The three strategy curves plus buy-and-hold GOOG, on the same dates."""
    timestamps = to_ns(goog_equity.index)
    curves = [EquityCurve(str(col), timestamps, goog_equity[col].to_numpy()) for col in goog_equity.columns]
    hold = goog_bars["Close"].reindex(goog_equity.index).to_numpy() / goog_bars["Close"].iloc[0] * 10_000
    curves.append(EquityCurve("buy_and_hold", timestamps, hold))
    return curves


# ---- a real uvicorn server on loopback, in the test event loop, on the shared settings fixtures ----

COMPARISON_EXTENSION = "quantops.services.comparison:install"


@dataclass
class LiveServer:
    base_url: str
    container: Container
    alice_key: str
    bob_key: str
    viewer_key: str

    def client(self, key: str | None = None, timeout: float = 120.0) -> httpx.AsyncClient:
        headers = {"X-API-Key": key or self.alice_key}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout)

    @staticmethod
    async def create_strategy(client: httpx.AsyncClient, name: str, config: dict[str, Any]) -> str:
        response = await client.post("/api/v1/strategies", json={"name": name, "config": config})
        assert response.status_code in (200, 201), response.text
        return response.json()["id"]

    @staticmethod
    async def run_backtest(
        client: httpx.AsyncClient,
        strategy_id: str,
        symbol: str,
        start: str | None = None,
        end: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"strategy_id": strategy_id, "symbol": symbol, "start": start, "end": end}
        response = await client.post("/api/v1/backtests", json=body)
        assert response.status_code == 202, response.text
        response = await client.get(f"/api/v1/backtests/{response.json()['id']}", params={"wait": 60})
        assert response.json()["status"] == "completed", response.text
        return response.json()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[LiveServer]:
    """Serve ``create_app`` on ``settings.port`` with the comparison extension; users alice, bob, vera."""
    container = build_container(settings, extensions=(COMPARISON_EXTENSION,))
    await container.db.upgrade()
    alice = await container.users.create("alice", ["analyst"])
    bob = await container.users.create("bob", ["analyst"])
    viewer = await container.users.create("vera", ["viewer"])
    app = create_app(settings, container=container)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield LiveServer(settings.public_base_url, container, alice.api_key, bob.api_key, viewer.api_key)
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def live_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings on a free loopback port (public_base_url matches, so report_url is fetchable)."""

    def make(database_url: str | None = None, **overrides: Any) -> Settings:
        port = _free_port()
        values: dict[str, Any] = {
            "port": port,
            "public_base_url": f"http://127.0.0.1:{port}",
            "job_workers": 2,
        }
        values.update(overrides)
        return make_settings(database_url, **values)

    return make


@pytest.fixture
async def live_server(
    live_settings: Callable[..., Settings], sqlite_database_url: str
) -> AsyncIterator[LiveServer]:
    """SQLite-backed server (most API tests)."""
    async with serve(live_settings(sqlite_database_url)) as live:
        yield live


@pytest.fixture
async def live_server_any_db(
    live_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[LiveServer]:
    """The same on SQLite and on PostgreSQL (per-test database)."""
    async with serve(live_settings(database_url)) as live:
        yield live


# ---- a tiny OpenAI-compatible chat-completions server on loopback ------------------------------------


class FakeLLM:
    """Answers POST /v1/chat/completions according to ``mode``; records every request it got."""

    GOOD: ClassVar[dict[str, str]] = {
        "summary": "LLM summary: the comparison ranks the strategies on the common dates, citing facts.",
        "recommendation": "LLM recommendation: prefer the top strategy for its risk-adjusted return.",
        "reasoning": "LLM reasoning: Sharpe, drawdown, Monte Carlo percentiles and VaR figures support it.",
    }
    GOOD_KO: ClassVar[dict[str, str]] = {
        "summary": "LLM 요약: 공통 날짜에서 전략들을 비교했고 순위표의 수치를 그대로 인용했습니다. "
        "1위 전략이 가장 좋습니다.",
        "recommendation": "LLM 추천: 위험 대비 수익이 가장 좋은 1위 전략을 추천합니다. "
        "손실 확률도 가장 낮습니다.",
        "reasoning": "LLM 근거: 샤프 비율, 최대 낙폭, 몬테카를로 백분위수와 VaR 수치가 "
        "이 결론을 뒷받침합니다.",
    }

    def __init__(self) -> None:
        self.mode = "good"
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                if fake.mode == "error":
                    self._send(500, {"error": {"message": "boom", "type": "server_error"}})
                    return
                if fake.mode == "slow":
                    time.sleep(2.0)
                if fake.mode == "trickle":  # every byte resets the client's 1 s read timeout
                    self._trickle(json.dumps({"choices": [], "padding": " " * 200}).encode())
                    return
                content = {
                    "good": json.dumps(FakeLLM.GOOD),
                    "good_ko": "```json\n" + json.dumps(FakeLLM.GOOD_KO, ensure_ascii=False) + "\n```",
                    "english_for_korean": json.dumps(FakeLLM.GOOD),
                    "garbage": "Sure! Strategy A is great.",
                    "short": json.dumps({**FakeLLM.GOOD, "summary": "too short"}),
                    "slow": json.dumps(FakeLLM.GOOD),
                }[fake.mode]
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "test"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def _trickle(self, data: bytes) -> None:
                """A 200 whose body arrives one byte per 0.3 s (≈ 70 s); stops when the client hangs up."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    for i in range(len(data)):
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                        time.sleep(0.3)

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # The "slow" answer arrives after the client gave up: a closed socket is expected.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    llm = FakeLLM()
    try:
        yield llm
    finally:
        llm.close()


LLM_TEST_KEY = "sk-test-llm-key-never-shown"


@pytest.fixture
async def llm_live_server(
    live_settings: Callable[..., Settings], sqlite_database_url: str, fake_llm: FakeLLM
) -> AsyncIterator[tuple[LiveServer, FakeLLM]]:
    """A server whose comparison narrative comes from ``fake_llm`` (1 s read timeout, 3 s deadline)."""
    settings = live_settings(
        sqlite_database_url,
        llm_base_url=fake_llm.base_url,
        llm_api_key=LLM_TEST_KEY,
        llm_model="narrator-test",
        llm_timeout_seconds=1.0,
        llm_turn_deadline_seconds=3.0,
    )
    async with serve(settings) as live:
        yield live, fake_llm
