"""Fixtures for the comparison analytics tests: real GOOG bars and equity curves from tests/data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn

from quantops.analysis import EquityCurve
from quantops.api.app import CORE_ROUTERS, create_app
from quantops.api.routers import compare as compare_router
from quantops.config import Settings, get_settings
from quantops.data.demo import load_demo
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


# ---- a real server (uvicorn on loopback) over SQLite + DuckDB in a temp dir, for the API tests ----------

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


async def start_live_server(settings: Settings, demo_symbols: list[str]) -> tuple[LiveServer, Any, Any]:
    container = build_container(settings, extensions=(COMPARISON_EXTENSION,))
    await container.db.upgrade()
    assert container.market_data is not None
    store = container.market_data.store
    await asyncio.to_thread(load_demo, store, demo_symbols)
    await asyncio.to_thread(store.import_file, DATA_DIR / "GOOG.csv", "GOOGREAL")
    alice = await container.users.create("alice", ["analyst"])
    bob = await container.users.create("bob", ["analyst"])
    viewer = await container.users.create("vera", ["viewer"])
    app = create_app(settings, container=container, routers=[*CORE_ROUTERS, compare_router.router])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    live = LiveServer(f"http://127.0.0.1:{port}", container, alice.api_key, bob.api_key, viewer.api_key)
    return live, server, task


def live_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return get_settings(
        data_dir=tmp_path,
        market_data_provider="none",
        job_backend="local",
        job_workers=2,
        public_base_url="http://127.0.0.1",
        redis_url=None,
        **overrides,
    )


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live, server, task = await start_live_server(live_settings(tmp_path), ["SPY", "QQQ"])
    try:
        yield live
    finally:
        server.should_exit = True
        await task
