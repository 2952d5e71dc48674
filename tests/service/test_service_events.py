"""Completion events over a real server: the user's WebSocket channel and webhook (real HTTP receiver)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 20}


class WebhookReceiver:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.received = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.events.append(json.loads(body))
                receiver.received.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/quantops"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


async def test_completion_event_reaches_websocket_and_webhook(live_api, webhook) -> None:
    ws_base = live_api.url.replace("http://", "ws://") + "/api/v1/ws/events"
    async with httpx.AsyncClient(base_url=live_api.url, timeout=30) as client:
        patched = await client.patch(
            "/api/v1/users/me", json={"webhook_url": webhook.url}, headers=live_api.auth("bob")
        )
        assert patched.status_code == 200
        async with (
            connect(f"{ws_base}?api_key={live_api.keys['bob']}") as bob_socket,
            connect(ws_base, additional_headers=live_api.auth("alice")) as alice_socket,
        ):
            assert json.loads(await bob_socket.recv())["type"] == "subscribed"
            assert json.loads(await alice_socket.recv())["type"] == "subscribed"
            submitted = await client.post(
                "/api/v1/backtests",
                json={"strategy_config": SMA, "symbol": "GOOG", "notify_on_completion": True},
                headers=live_api.auth("bob"),
            )
            assert submitted.status_code == 202
            backtest_id = submitted.json()["id"]
            event = json.loads(await asyncio.wait_for(bob_socket.recv(), 90))
            assert event["type"] == "backtest.completed" and event["backtest_id"] == backtest_id
            assert event["stats"]["num_trades"] == 47 and event["url"] == f"/api/v1/backtests/{backtest_id}"
            # Alice's channel stays silent: one user never sees another's events.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(alice_socket.recv(), 1.0)
        assert await asyncio.to_thread(webhook.received.wait, 30)
        assert webhook.events[0]["backtest_id"] == backtest_id and webhook.events[0]["status"] == "completed"

        # No notification requested → no event.
        quiet = await client.post(
            "/api/v1/backtests", json={"strategy_config": SMA, "symbol": "GOOG"}, headers=live_api.auth("bob")
        )
        done = await client.get(
            f"/api/v1/backtests/{quiet.json()['id']}", params={"wait": 60}, headers=live_api.auth("bob")
        )
        assert done.json()["status"] == "completed"
        await asyncio.sleep(0.5)
        assert len(webhook.events) == 1
        await client.patch("/api/v1/users/me", json={"webhook_url": None}, headers=live_api.auth("bob"))

    # A bad key is refused at the handshake (closing before accept answers HTTP 403).
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ws_base}?api_key=qo_wrong") as socket:
            await socket.recv()
    assert refused.value.response.status_code == 403
    # Keys passed in URLs are redacted from the server's access log.
    log = live_api.server.log()
    assert "api_key=***" in log and live_api.keys["bob"] not in log
