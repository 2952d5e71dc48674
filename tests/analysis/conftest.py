"""Fixtures for the comparison analytics tests: real GOOG bars and equity curves from tests/data."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
