"""Chat fixtures: real quantops API servers on 127.0.0.1 (SQLite + DuckDB in temp dirs, local job
workers) and a scripted OpenAI-compatible server that speaks /v1/chat/completions with SSE streaming.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from quantops.api.app import create_app
from quantops.config import Settings, get_settings
from quantops.data.store import MarketDataStore
from quantops.services.container import build_container

DATA = Path(__file__).resolve().parents[1] / "data"
CHAT_EXTENSIONS = ("quantops.chat.service:install",)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class ThreadedServer:
    """uvicorn in a background thread with its own event loop; real HTTP on a loopback port."""

    def __init__(self, app: Any) -> None:
        self.sock = free_socket()
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


# ---- scripted OpenAI-compatible server -------------------------------------------------------------------
@dataclass
class FakeLLM:
    """Tests push steps; each /v1/chat/completions request consumes one.

    Steps: {"text": "..."} | {"tool_calls": [(name, arguments_json_string)]} | {"status": 429} |
    {"sleep": seconds, ...} | {"garbage": True} (a stream that is not JSON) |
    {"keepalive": seconds} (SSE comment lines every 0.2 s, each resetting the client's read timeout,
    then a text) | {"trickle": "many words", "every": seconds} (one token per interval) |
    {"abort": True} (the connection drops in the middle of the stream).
    Streams that the client abandons are counted in ``abandoned``.
    """

    url: str = ""
    steps: deque[dict[str, Any]] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    abandoned: int = 0

    def script(self, *steps: dict[str, Any]) -> None:
        with self.lock:
            self.steps.clear()
            self.steps.extend(steps)
            self.requests.clear()


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def fake_llm_app(state: FakeLLM) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await request.json()
        with state.lock:
            state.requests.append({"body": body, "auth": request.headers.get("authorization")})
            step = state.steps.popleft() if state.steps else {"text": "(no script)"}
        if "sleep" in step:
            await asyncio.sleep(step["sleep"])
        if "status" in step:
            error = {"error": {"message": f"scripted {step['status']}", "type": "test", "code": None}}
            return JSONResponse(error, status_code=step["status"])

        async def stream() -> Any:
            finished = False
            try:
                async for piece in scripted(step):
                    yield piece
                finished = True
            finally:
                if not finished and not step.get("abort"):
                    with state.lock:
                        state.abandoned += 1

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def scripted(step: dict[str, Any]) -> Any:
        yield _chunk({"role": "assistant", "content": ""})
        if step.get("garbage"):
            yield "data: {this is not json\n\n"
            return
        if step.get("abort"):
            yield _chunk({"content": "partial "})
            raise ConnectionAbortedError("scripted: connection dropped mid-stream")
        if "keepalive" in step:  # bounded: stops by itself even if nobody hangs up
            until = time.monotonic() + step["keepalive"]
            while time.monotonic() < until:
                yield ": keep-alive\n\n"
                await asyncio.sleep(0.2)
            step = {"text": "kept you waiting"}
        if "trickle" in step:
            for word in step["trickle"].split(" "):
                yield _chunk({"content": word + " "})
                await asyncio.sleep(step.get("every", 0.2))
            yield _chunk({}, "stop")
        if "text" in step:
            words = step["text"].split(" ")
            for i, word in enumerate(words):
                yield _chunk({"content": word + (" " if i < len(words) - 1 else "")})
                await asyncio.sleep(0)
            yield _chunk({}, "stop")
        for index, (name, arguments) in enumerate(step.get("tool_calls", [])):
            head = {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": name}}
            yield _chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]})
            half = len(arguments) // 2  # arguments arrive split over chunks, as real servers do
            for part in (arguments[:half], arguments[half:]):
                yield _chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
        if "tool_calls" in step:
            yield _chunk({}, "tool_calls")
        yield "data: [DONE]\n\n"

    return app


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLM]:
    state = FakeLLM()
    with ThreadedServer(fake_llm_app(state)) as server:
        state.url = server.url + "/v1"
        yield state


# ---- quantops servers ------------------------------------------------------------------------------------
@dataclass
class ChatServer:
    url: str
    settings: Settings
    keys: dict[str, str]  # user name -> API key
    user_ids: dict[str, str]

    def headers(self, user: str = "alice") -> dict[str, str]:
        return {"X-API-Key": self.keys[user]}

    @property
    def api(self) -> str:
        return self.url + "/api/v1/chatops-advanced"


USERS = {"alice": ["analyst"], "bob": ["analyst"], "vera": ["viewer"], "root": ["admin", "devops"]}


def _prepare(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    store = MarketDataStore(settings.resolved_duckdb_path)
    try:
        store.import_file(DATA / "GOOG.csv", "GOOG")
        store.load_demo(["AAPL", "MSFT", "NVDA"])
    finally:
        store.close()

    async def setup() -> tuple[dict[str, str], dict[str, str]]:
        container = build_container(settings, with_market_data=False, extensions=())
        try:
            await container.db.upgrade()
            keys, ids = {}, {}
            for name, roles in USERS.items():
                created = await container.users.create(name, roles)
                keys[name], ids[name] = created.api_key, created.id
            return keys, ids
        finally:
            await container.db.dispose()

    return asyncio.run(setup())


def start_chat_server(
    tmp: Path, keys: tuple[dict[str, str], dict[str, str]] | None = None, **overrides: Any
) -> tuple[ThreadedServer, ChatServer]:
    """A quantops server on ``tmp``; pass ``keys`` from an earlier server to reopen the same state."""
    defaults: dict[str, Any] = {
        "data_dir": tmp,
        "database_url": None,
        "redis_url": None,
        "job_backend": "local",
        "job_workers": 1,
        "market_data_provider": "none",
        "llm_api_key": None,
        "llm_base_url": None,
    }
    settings = get_settings(**{**defaults, **overrides})
    api_keys, ids = keys if keys is not None else _prepare(settings)
    container = build_container(settings)  # the app's own extensions: chat (#5) and comparison (#6)
    app = create_app(container=container)
    server = ThreadedServer(app)
    return server, ChatServer("", settings, api_keys, ids)


@pytest.fixture(scope="session")
def offline_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """quantops with no LLM configured: the offline planner answers."""
    server, info = start_chat_server(tmp_path_factory.mktemp("chat-offline"))
    with server:
        info.url = server.url
        yield info


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[ChatServer]:
    """quantops whose brain is the scripted OpenAI-compatible server (short timeout for the timeout test;
    the circuit breaker out of the way: the failure tests fail many turns in a row)."""
    server, info = start_chat_server(
        tmp_path_factory.mktemp("chat-llm"),
        llm_base_url=fake_llm.url,
        llm_api_key="sk-test-secret-key",
        llm_model="test-model",
        llm_timeout_seconds=1.5,
        llm_max_tool_steps=3,
        llm_breaker_failures=1000,
    )
    with server:
        info.url = server.url
        yield info


# ---- in-process chat core --------------------------------------------------------------------------------
@pytest.fixture
async def chat_container(service_container: Any) -> Any:
    """`service_container` (both databases, market data with GOOG/AAPL/MSFT) plus the chat (#5) and
    comparison (#6) extensions: `ChatService` is called directly, no HTTP in between."""
    from quantops.chat.service import install as install_chat
    from quantops.services.comparison import install as install_comparison

    install_comparison(service_container)
    install_chat(service_container)
    service_container.test_contexts = {  # type: ignore[attr-defined]
        name: await service_container.users.authenticate(created.api_key)
        for name, created in service_container.test_users.items()
    }
    return service_container
