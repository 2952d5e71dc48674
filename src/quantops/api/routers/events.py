"""WebSocket channel of the acting user: backtest completion events (and anything else published)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from quantops.api.deps import BINARY_FRAME_ERROR, receive_text_frame, websocket_user
from quantops.services.container import Container
from quantops.urls import API_PREFIX

router = APIRouter(tags=["events"])


@router.websocket(f"{API_PREFIX}/ws/events")
async def events_socket(websocket: WebSocket) -> None:
    """Auth: `X-API-Key` / `Authorization: Bearer` header, or `?api_key=` (browsers). JSON messages."""
    user = await websocket_user(websocket)
    if user is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="invalid API key")
        return
    container: Container = websocket.app.state.container
    await websocket.accept()
    async with container.events.subscribe(user.id) as queue:
        await websocket.send_json({"type": "subscribed", "user": user.name})
        receiver = asyncio.create_task(_drain_client(websocket, queue))
        try:
            while not receiver.done():
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    await websocket.send_json(getter.result())
                else:
                    getter.cancel()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receiver


async def _drain_client(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    """Read (and ignore) client text messages so a disconnect is noticed; a binary frame gets an error
    event (through the queue: one sender per socket) and the socket stays open."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            if await receive_text_frame(websocket) is None:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait({"type": "error", "detail": BINARY_FRAME_ERROR})
