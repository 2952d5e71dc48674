"""ChatOps HTTP/WebSocket/SSE endpoints under ``/api/v1/chatops-advanced`` (the original paths).

A thin adapter over ``container.chat`` (`quantops.chat.service.ChatService`): streaming endpoints pass
one sink and serialise the chat core's events (`quantops.chat.events`) unchanged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, WebSocket, status
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sse_starlette.sse import EventSourceResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from quantops.api.deps import (
    BINARY_FRAME_ERROR,
    CurrentUser,
    get_container,
    receive_text_frame,
    websocket_user,
)
from quantops.chat.events import ChatEvent, ErrorEvent
from quantops.chat.schemas import (
    AutoBacktestRequest,
    AutoBacktestResponse,
    ChatRequest,
    ChatResponse,
    ChatSessionOut,
    ChatSessionSummary,
    SessionCreated,
)
from quantops.chat.service import ChatService
from quantops.services.container import Container
from quantops.services.errors import ServiceError
from quantops.urls import CHATOPS_PREFIX

log = logging.getLogger(__name__)

PREFIX = CHATOPS_PREFIX
router = APIRouter(prefix=PREFIX, tags=["chatops"])
page_router = APIRouter(tags=["chatops"])
_PAGE = resources.files("quantops.chat") / "static" / "chat.html"


def get_chat(request: Request) -> ChatService:
    chat = get_container(request).chat
    if not isinstance(chat, ChatService):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "chat service is not installed")
    return chat


ChatDep = Annotated[ChatService, Depends(get_chat)]
SESSION_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such chat session (or not yours)"}
}


# The original identified the caller by ``?user_id=`` (it had no authentication). It is accepted on the
# original's requests so they work as documented; the API key alone decides who acts.
CompatUserId = Annotated[
    str | None,
    Query(
        max_length=200,
        description="accepted for compatibility with the original platform; the API key decides the user",
    ),
]


@router.post(
    "/session/create",
    response_model=SessionCreated,
    status_code=status.HTTP_201_CREATED,
    responses={403: {"description": "user_id is not the authenticated user"}},
)
async def create_session(user: CurrentUser, chat: ChatDep, user_id: CompatUserId = None) -> SessionCreated:
    return await chat.create_session(user)


@router.post("/session/{session_id}/chat", response_model=ChatResponse, responses=SESSION_NOT_FOUND)
async def chat_turn(session_id: str, body: ChatRequest, user: CurrentUser, chat: ChatDep) -> Response:
    reply = await chat.chat(user, session_id, body.question, body.user_roles, body.include_history)
    # The service built and validated the response: serialise it once (FastAPI would validate it again
    # against response_model and encode it through jsonable_encoder — a third of a turn's HTTP cost).
    return Response(reply.model_dump_json(), media_type="application/json")


@router.post(
    "/session/{session_id}/chat/stream", response_class=EventSourceResponse, responses=SESSION_NOT_FOUND
)
async def chat_turn_sse(
    session_id: str, body: ChatRequest, user: CurrentUser, chat: ChatDep
) -> EventSourceResponse:
    """Server-sent events of the turn (`quantops.chat.events`): `progress` and `chunk` events, then one
    `done` (the ChatResponse) or `error`; each `data:` is the event's JSON, `event:` its type."""
    await chat.check_session(user, session_id)  # 404 before the stream starts
    queue: asyncio.Queue[ChatEvent | None] = asyncio.Queue()

    async def run() -> None:
        try:
            with contextlib.suppress(Exception):  # the sink got the ErrorEvent (the service logged it)
                await chat.chat(
                    user, session_id, body.question, body.user_roles, body.include_history, queue.put
                )
        finally:
            await queue.put(None)

    async def events() -> AsyncIterator[dict[str, str]]:
        task = asyncio.create_task(run())
        try:
            while (event := await queue.get()) is not None:
                yield {"event": event.type, "data": event.to_json()}
        finally:
            if not task.done():
                # Client went away: let the turn finish (it is persisted) rather than cut it mid-write.
                await asyncio.shield(task)

    return EventSourceResponse(events())


@router.get("/session/{session_id}", response_model=ChatSessionOut, responses=SESSION_NOT_FOUND)
async def get_session(session_id: str, user: CurrentUser, chat: ChatDep) -> ChatSessionOut:
    return await chat.get_session(user, session_id)


@router.get("/sessions", response_model=list[ChatSessionSummary])
async def list_sessions(
    user: CurrentUser, chat: ChatDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ChatSessionSummary]:
    return await chat.list_sessions(user, limit)


@router.delete("/session/{session_id}", status_code=status.HTTP_204_NO_CONTENT, responses=SESSION_NOT_FOUND)
async def delete_session(session_id: str, user: CurrentUser, chat: ChatDep) -> Response:
    await chat.delete_session(user, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/session/{session_id}/export", responses=SESSION_NOT_FOUND)
async def export_session(
    session_id: str,
    user: CurrentUser,
    chat: ChatDep,
    format: Annotated[Literal["json", "markdown"], Query()] = "json",
) -> Response:
    filename, media_type, body = await chat.export(user, session_id, format)
    return Response(
        content=body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/backtest/trigger",
    response_model=AutoBacktestResponse,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "strategy_id not found (or not yours)"}},
)
async def trigger_backtest(
    body: AutoBacktestRequest, user: CurrentUser, chat: ChatDep, user_id: CompatUserId = None
) -> AutoBacktestResponse:
    return await chat.trigger_backtest(user, body)


@router.get("/metrics")
async def chat_metrics(user: CurrentUser, chat: ChatDep) -> dict[str, Any]:
    """Turn counts per engine and cache hit/miss counters (no user data)."""
    return chat.metrics()


@router.websocket("/ws/chat/{session_id}")
async def chat_socket(websocket: WebSocket, session_id: str) -> None:
    """Send `{"question": ...}`; receive the turn's events as JSON text frames (`quantops.chat.events`):
    `{"type":"progress","message"}`… `{"type":"chunk","content"}`… then `{"type":"done",...response}` or
    `{"type":"error","detail","status"}`. A bad frame is an error event and the socket stays open."""
    user = await websocket_user(websocket)
    if user is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="invalid API key")
        return
    container: Container = websocket.app.state.container
    installed = container.chat
    chat = installed if isinstance(installed, ChatService) else None
    await websocket.accept()
    if chat is None:
        await websocket.send_text(ErrorEvent("chat service is not installed", 503).to_json())
        await websocket.close(code=1011)
        return
    try:
        await chat.check_session(user, session_id)
    except ServiceError as exc:
        await websocket.send_text(ErrorEvent.from_exception(exc).to_json())
        await websocket.close(code=4404)
        return

    async def send(event: ChatEvent) -> None:
        # Raising here only detaches this socket from the turn: the service finishes and stores it.
        await websocket.send_text(event.to_json())

    try:
        while True:
            raw = await receive_text_frame(websocket)
            if raw is None:
                await send(ErrorEvent(BINARY_FRAME_ERROR, 400))
                continue
            try:
                body = ChatRequest.model_validate_json(raw)
            except ValidationError as exc:
                await send(ErrorEvent.from_validation_error(exc))
                continue
            with contextlib.suppress(Exception):  # the error event went to the socket already
                await chat.chat(user, session_id, body.question, body.user_roles, body.include_history, send)
            if websocket.client_state is not WebSocketState.CONNECTED:
                return
    except WebSocketDisconnect:
        return
    except RuntimeError:  # sending on a socket the client already closed
        with contextlib.suppress(Exception):
            await websocket.close()


@page_router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
async def chat_page() -> HTMLResponse:
    """A one-file web chat over the WebSocket (asks for the API key, kept in the browser)."""
    return HTMLResponse(_PAGE.read_text(encoding="utf-8"))
