"""WebSocket and SSE streaming of chat turns over real connections."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from .conftest import ChatServer

pytestmark = pytest.mark.timeout(120)


async def create_session(server: ChatServer, user: str = "alice") -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{server.api}/session/create", headers=server.headers(user))
        assert response.status_code == 201
        return response.json()["session_id"]


def ws_url(server: ChatServer, session_id: str) -> str:
    return server.api.replace("http://", "ws://") + f"/ws/chat/{session_id}"


async def receive_turn(ws: Any, progress: list[str] | None = None) -> tuple[list[str], dict]:
    chunks: list[str] = []
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "chunk":
            chunks.append(message["content"])
        elif message["type"] == "progress":
            assert not chunks, "progress comes before the answer"
            if progress is not None:
                progress.append(message["message"])
        else:
            return chunks, message


async def test_websocket_streams_chunks_then_done(offline_server: ChatServer) -> None:
    sid = await create_session(offline_server)
    async with connect(ws_url(offline_server, sid), additional_headers=offline_server.headers()) as ws:
        await ws.send(
            json.dumps({"question": "backtest ema 12/26 on MSFT 2016-2020", "user_roles": ["analyst"]})
        )
        chunks, done = await receive_turn(ws)
        assert done["type"] == "done" and done["engine"] == "offline"
        assert len(chunks) >= 2 and "".join(chunks) == done["answer"]
        assert len(done["backtest_ids"]) == 1 and "completed" in done["answer"]

        # malformed frames: clear errors, the socket stays usable
        await ws.send("{not json")
        error = json.loads(await ws.recv())
        assert error["type"] == "error"
        await ws.send(json.dumps({"question": ""}))
        error = json.loads(await ws.recv())
        assert error["type"] == "error" and error["detail"][0]["loc"] == ["question"]
        await ws.send(json.dumps({"question": "그 결과 보여줘", "user_roles": ["analyst"]}))
        chunks, done = await receive_turn(ws)
        assert done["type"] == "done" and done["language"] == "ko"
        assert (
            done["tool_calls"][0]["arguments"]["backtest_id"]
            == json.loads(json.dumps(done))["tool_calls"][0]["result"]["id"]
        )


async def test_websocket_rejects_bad_key_and_foreign_session(offline_server: ChatServer) -> None:
    sid = await create_session(offline_server, "alice")
    async with connect(ws_url(offline_server, sid), additional_headers=offline_server.headers("bob")) as ws:
        error = json.loads(await ws.recv())
        assert error == {"type": "error", "detail": f"chat session {sid!r} not found", "status": 404}
    with pytest.raises(Exception):  # noqa: B017 - closed during the handshake (policy violation)
        async with connect(ws_url(offline_server, sid), additional_headers={"X-API-Key": "qo_wrong"}) as ws:
            await ws.recv()


async def test_sse_variant(offline_server: ChatServer) -> None:
    sid = await create_session(offline_server)
    events: list[tuple[str, dict]] = []
    async with (
        httpx.AsyncClient(timeout=60) as client,
        client.stream(
            "POST",
            f"{offline_server.api}/session/{sid}/chat/stream",
            json={"question": "AAPL 시세 보여줘", "user_roles": ["viewer"]},
            headers=offline_server.headers(),
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line.split(":", 1)[1])))
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done" and kinds.count("chunk") >= 1
    done = events[-1][1]
    assert "".join(data["content"] for kind, data in events if kind == "chunk") == done["answer"]
    assert done["language"] == "ko" and "AAPL: 일봉" in done["answer"]
    async with httpx.AsyncClient(timeout=30) as client:
        missing = await client.post(
            f"{offline_server.api}/session/{'f' * 32}/chat/stream",
            json={"question": "hi"},
            headers=offline_server.headers(),
        )
        assert missing.status_code == 404


async def test_turn_is_stored_when_the_websocket_client_leaves_mid_turn(offline_server: ChatServer) -> None:
    import asyncio

    sid = await create_session(offline_server)
    async with connect(ws_url(offline_server, sid), additional_headers=offline_server.headers()) as ws:
        await ws.send(
            json.dumps({"question": "backtest sma 10/50 on NVDA 2016-2020", "user_roles": ["analyst"]})
        )
    # the client is gone before the backtest finished; the turn still completes and is persisted
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(100):
            session = (
                await client.get(f"{offline_server.api}/session/{sid}", headers=offline_server.headers())
            ).json()
            if len(session["conversation_history"]) == 2:
                break
            await asyncio.sleep(0.2)
    assert [m["role"] for m in session["conversation_history"]] == ["user", "assistant"]
    assert session["conversation_history"][1]["metadata"]["backtest_ids"]
