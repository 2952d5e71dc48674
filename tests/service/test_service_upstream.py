"""A failing remote market-data provider is the upstream's fault: 502 with a clear message, never 422/500."""

from __future__ import annotations

import socket
from typing import Any

import httpx

from quantops.api.app import create_app
from quantops.services.container import build_container


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_provider_down_is_502_not_422(make_settings: Any, sqlite_database_url: str) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"  # nothing listens there: connection refused
    settings = make_settings(sqlite_database_url, market_data_provider="yahoo", yahoo_base_url=dead)
    container = build_container(settings, extensions=())
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        alice = await container.users.create("alice", ["analyst"])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quantops.test") as client:
            response = await client.get(
                "/api/v1/market-data/bars/ZZZZ",
                params={"start": "2020-01-01", "end": "2020-02-01"},
                headers={"X-API-Key": alice.api_key},
            )
    assert response.status_code == 502, response.text
    assert "provider" in response.json()["detail"]
