"""Reliability and security defects found by probing (issue #10), each with a test that failed before."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from tests.conftest import ApiClient, create_test_users
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from quantops.api.middleware import RedactApiKeys
from quantops.chat.tools import ToolContext
from quantops.services.errors import ValidationFailed

SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 20}


def _redacted(message: str, *args: object) -> str:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, message, args or None, None)
    RedactApiKeys().filter(record)
    return record.getMessage()


def test_log_redaction_decodes_parameter_names() -> None:
    secret = "qo_SECRETSECRET"
    for query in (
        f"api_key={secret}",
        f"api%5Fkey={secret}",
        f"api%5fkey={secret}",
        f"%61pi_key={secret}",
        f"API_KEY={secret}",
        f"x=1&api%5Fkey={secret}&y=2",
    ):
        line = _redacted(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/api/v1/ws/events?{query}", "1.1", 200
        )
        assert secret not in line, line
        assert "***" in line
    # Other parameters stay readable.
    assert "symbol=AAPL" in _redacted("GET /x?symbol=AAPL&api%5Fkey=" + secret)


async def test_chunked_body_over_the_limit_is_413(api) -> None:
    async def chunks():
        for _ in range(30):
            yield b"x" * 100_000

    response = await api.client.post(
        "/api/v1/strategies",
        content=chunks(),
        headers={**api.auth("alice"), "content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert "too large" in response.text


# ---- #7: missing extras and database errors at the command line ---------------------------------------


SCALE_MODULES = ("redis", "celery", "kombu", "asyncpg", "psycopg")
# `python -c WITHOUT_SCALE module args…`: runs the module as __main__ with the scale extra's modules
# unimportable (None in sys.modules), as in an install without `[scale]`.
WITHOUT_SCALE = (
    "import runpy, sys\n"
    f"for name in {SCALE_MODULES!r}: sys.modules[name] = None\n"
    "sys.argv.pop(0)\n"
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
)


def _python(env: dict[str, str], *args: str, without_scale: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", WITHOUT_SCALE, *args] if without_scale else [sys.executable, "-m", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "overrides",
    [
        {"redis_url": "redis://127.0.0.1:6379/0"},
        {"job_backend": "celery", "redis_url": "redis://127.0.0.1:6379/0"},
        {"job_backend": "celery", "celery_broker_url": "redis://127.0.0.1:6379/0"},
        {"database_url": "postgresql+asyncpg://postgres@127.0.0.1:5432/test"},
    ],
    ids=["redis", "celery", "celery-broker", "postgres"],
)
def test_missing_scale_extra_names_the_extra(make_settings, settings_env_for, tmp_path, overrides) -> None:
    env = settings_env_for(make_settings(**overrides))
    # As uvicorn --factory or the Celery worker build it: the error names the extra.
    started = _python(
        env, "uvicorn", "--factory", "quantops.api.app:create_app", "--port", "1", without_scale=True
    )
    assert started.returncode != 0
    last = started.stderr.strip().splitlines()[-1]
    assert "MissingExtraError" in last and "pip install 'quantops[scale]'" in last, started.stderr[-2000:]
    # The CLI: one line, exit 1 (`users list` needs only the database driver).
    commands = [["serve", "--port", "1"]] + ([["users", "list"]] if "database_url" in overrides else [])
    for command in commands:
        result = _python(env, "quantops.cli", *command, without_scale=True)
        assert result.returncode == 1, result.stderr[-2000:]
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "pip install 'quantops[scale]'" in lines[0], result.stderr[-2000:]


def test_cli_database_error_is_one_line(make_settings, settings_env_for, database_url, tmp_path) -> None:
    # The same database, made unusable: PostgreSQL a database that does not exist, SQLite a corrupt file.
    if database_url.startswith("postgresql"):
        broken = database_url.rsplit("/", 1)[0] + "/qo_does_not_exist"
    else:
        corrupt = tmp_path / "corrupt.db"
        corrupt.write_bytes(b"this is not a database file" * 100)
        broken = f"sqlite+aiosqlite:///{corrupt}"
    env = settings_env_for(make_settings(broken))
    for command in (
        ["users", "list"],
        ["db", "upgrade"],
        ["users", "ensure-default"],
        ["serve", "--port", "1"],
    ):
        result = _python(env, "quantops.cli", *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: database"), result.stderr[-3000:]
        assert "Traceback" not in result.stderr


# ---- #1: NUL characters are a 422 naming the field on every route (PostgreSQL refused them as a 500) ----


@pytest.fixture
async def full_api(make_settings, database_url) -> AsyncIterator[ApiClient]:
    """In-process app with every extension (chat, comparison) on both databases."""
    from quantops.api.app import create_app
    from quantops.services.container import build_container

    container = build_container(make_settings(database_url))
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        users = await create_test_users(container)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is an answer here
        async with httpx.AsyncClient(transport=transport, base_url="http://quantops.test") as client:
            yield ApiClient(client, container, {name: u.api_key for name, u in users.items()})


NUL = "\x00"
CHAT = "/api/v1/chatops-advanced"


def _nul_cases(
    strategy_id: str, other_id: str, session_id: str
) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, request kwargs, field the 422 must name)."""
    return [
        (
            "POST",
            "/api/v1/strategies",
            {"json": {"name": "x", "description": f"a{NUL}b", "config": SMA}},
            "description",
        ),
        ("POST", "/api/v1/strategies", {"json": {"name": f"n{NUL}", "config": SMA}}, "name"),
        ("PATCH", f"/api/v1/strategies/{strategy_id}", {"json": {"description": NUL}}, "description"),
        ("GET", "/api/v1/strategies/a%00b", {}, "strategy_id"),
        ("DELETE", "/api/v1/strategies/%00", {}, "strategy_id"),
        ("GET", "/api/v1/backtests", {"params": {"strategy_id": f"s{NUL}"}}, "strategy_id"),
        ("GET", "/api/v1/backtests", {"params": {"symbol": f"A{NUL}"}}, "symbol"),
        ("GET", "/api/v1/backtests/x%00", {}, "backtest_id"),
        ("POST", "/api/v1/backtests", {"json": {"strategy_id": f"i{NUL}", "symbol": "GOOG"}}, "strategy_id"),
        ("GET", "/api/v1/market-data/bars/G%00", {}, "symbol"),
        ("PATCH", "/api/v1/users/me", {"json": {"webhook_url": f"http://example.com/{NUL}"}}, "webhook_url"),
        ("POST", f"{CHAT}/session/create", {"params": {"user_id": f"u{NUL}"}}, "user_id"),
        ("POST", f"{CHAT}/session/{session_id}/chat", {"json": {"question": f"hi{NUL}"}}, "question"),
        (
            "POST",
            f"{CHAT}/session/{session_id}/chat",
            {"json": {"question": "hi", "user_roles": [NUL]}},
            "user_roles",
        ),
        ("POST", f"{CHAT}/session/{session_id}%00/chat", {"json": {"question": "hi"}}, "session_id"),
        ("POST", f"{CHAT}/session/{session_id}/chat/stream", {"json": {"question": f"{NUL}"}}, "question"),
        ("GET", f"{CHAT}/session/%00", {}, "session_id"),
        ("DELETE", f"{CHAT}/session/%00", {}, "session_id"),
        ("GET", f"{CHAT}/session/%00/export", {}, "session_id"),
        (
            "POST",
            f"{CHAT}/backtest/trigger",
            {"json": {"strategy_config": {**SMA, "symbol": "GOOG"}, "trigger_reason": f"r{NUL}"}},
            "trigger_reason",
        ),
        (
            "POST",
            f"{CHAT}/backtest/trigger",
            {"json": {"strategy_config": {**SMA, f"sym{NUL}": "GOOG"}, "trigger_reason": "r"}},
            "strategy_config",
        ),
        (
            "POST",
            f"{CHAT}/strategies/compare",
            {"json": {"strategy_ids": [strategy_id, f"x{NUL}"]}},
            "strategy_ids",
        ),
        (
            "POST",
            f"{CHAT}/strategies/compare",
            {"json": {"strategy_ids": [strategy_id, other_id], "natural_language_query": NUL}},
            "natural_language_query",
        ),
    ]


async def test_nul_characters_are_a_422_naming_the_field(full_api) -> None:
    c, alice = full_api.client, full_api.auth("alice")
    created = await c.post("/api/v1/strategies", json={"name": "base", "config": SMA}, headers=alice)
    strategy_id = created.json()["id"]
    other = await c.post("/api/v1/strategies", json={"name": "other", "config": SMA}, headers=alice)
    other_id = other.json()["id"]
    session_id = (await c.post(f"{CHAT}/session/create", headers=alice)).json()["session_id"]
    wrong: list[str] = []
    for method, path, kwargs, field_name in _nul_cases(strategy_id, other_id, session_id):
        response = await c.request(method, path, headers=alice, **kwargs)
        named = response.status_code == 422 and field_name in response.text
        if not named or "NUL" not in response.text:
            wrong.append(f"{method} {path!r} {kwargs} -> {response.status_code} {response.text[:200]}")
    admin = await c.post("/api/v1/users", json={"name": f"z{NUL}"}, headers=full_api.auth("root"))
    if admin.status_code != 422 or "name" not in admin.text:
        wrong.append(f"POST /api/v1/users -> {admin.status_code} {admin.text[:200]}")
    assert not wrong, "\n".join(wrong)
    # Nothing was stored, and the server still works.
    listed = (await c.get("/api/v1/strategies", headers=alice)).json()
    assert sorted(s["name"] for s in listed) == ["base", "other"]


# ---- #3: binary WebSocket frames (and NUL over WebSockets), real server, both databases -----------------


async def test_websockets_answer_binary_frames_and_stay_usable(
    make_settings, database_url, start_server, seed_database
) -> None:
    settings = make_settings(database_url)
    key = (await asyncio.to_thread(seed_database, settings, {"alice": ["analyst"]}))["alice"].api_key
    server = await asyncio.to_thread(start_server, settings)
    ws = server.url.replace("http://", "ws://")
    headers = {"X-API-Key": key}
    async with httpx.AsyncClient(base_url=server.url, timeout=60, headers=headers) as client:
        session_id = (await client.post(f"{CHAT}/session/create")).json()["session_id"]

    async with connect(f"{ws}{CHAT}/ws/chat/{session_id}", additional_headers=headers) as chat:
        await chat.send(b'{"question": "help"}')
        error = json.loads(await asyncio.wait_for(chat.recv(), 30))
        assert error["type"] == "error" and "binary" in json.dumps(error["detail"]), error
        await chat.send(json.dumps({"question": f"help{NUL}"}))
        nul = json.loads(await asyncio.wait_for(chat.recv(), 30))
        assert nul["type"] == "error" and "question" in json.dumps(nul["detail"]) and "NUL" in json.dumps(nul)
        await chat.send(json.dumps({"question": "help"}))  # still usable: a whole turn
        while (event := json.loads(await asyncio.wait_for(chat.recv(), 60)))["type"] != "done":
            assert event["type"] != "error", event
        assert event["session_id"] == session_id

    async with connect(f"{ws}/api/v1/ws/events", additional_headers=headers) as events:
        assert json.loads(await asyncio.wait_for(events.recv(), 30))["type"] == "subscribed"
        await events.send(b"\x00\x01binary")
        error = json.loads(await asyncio.wait_for(events.recv(), 30))
        assert error["type"] == "error" and "binary" in error["detail"], error
        await events.send("ignored text")
        await events.ping()  # the socket is alive (a pong comes back)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, headers=headers) as client:
            submitted = await client.post(
                "/api/v1/backtests",
                json={"strategy_config": SMA, "symbol": "GOOG", "notify_on_completion": True},
            )
            assert submitted.status_code == 202, submitted.text
        event = json.loads(await asyncio.wait_for(events.recv(), 120))
        assert event["type"] == "backtest.completed" and event["backtest_id"] == submitted.json()["id"]

    # A NUL in a WebSocket path is refused before any database lookup (was a 500 on PostgreSQL).
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ws}{CHAT}/ws/chat/x%00y", additional_headers=headers):
            pass
    assert refused.value.response.status_code in (403, 422)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, headers=headers) as client:
        assert (await client.get("/readyz")).status_code == 200
    assert "Traceback" not in server.log(), server.log()[-3000:]


# ---- #2: dates outside the representable range are a 422 naming the field (were an OverflowError 500) ----

FAR_DATES = ["0001-01-01", "1600-06-30", "2300-01-01", "9999-12-31"]


@pytest.mark.parametrize("far", FAR_DATES)
def test_library_refuses_unrepresentable_dates_clearly(far, market_duckdb) -> None:
    import datetime as dt

    from quantops.data.errors import InvalidRequestError
    from quantops.data.store import MarketDataStore
    from quantops.data.timeutil import end_ns_exclusive_of, start_ns_of

    for value in (far, dt.date.fromisoformat(far), dt.datetime.fromisoformat(far)):
        for function, field_name in ((start_ns_of, "start"), (end_ns_exclusive_of, "end")):
            with pytest.raises(InvalidRequestError) as refused:
                function(value)
            assert refused.value.field == field_name and "1900-01-01" in str(refused.value)
    store = MarketDataStore(market_duckdb)
    try:
        with pytest.raises(InvalidRequestError, match="start"):
            store.get_bars("GOOG", far, None)
        with pytest.raises(InvalidRequestError, match="end"):
            store.get_bars("GOOG", None, far)
    finally:
        store.close()


async def test_far_dates_are_a_422_naming_the_field(full_api) -> None:
    c, alice = full_api.client, full_api.auth("alice")
    ids = [
        (await c.post("/api/v1/strategies", json={"name": f"s{i}", "config": SMA}, headers=alice)).json()[
            "id"
        ]
        for i in range(2)
    ]
    wrong: list[str] = []
    for far in FAR_DATES:
        early = far < "1900"
        cases: list[tuple[str, str, dict[str, Any], str]] = [
            (
                "POST",
                "/api/v1/backtests",
                {"json": {"strategy_config": SMA, "symbol": "GOOG", "start": far}},
                "start",
            ),
            (
                "POST",
                "/api/v1/backtests",
                {"json": {"strategy_config": SMA, "symbol": "GOOG", "end": far}},
                "end",
            ),
            ("GET", "/api/v1/market-data/bars/GOOG", {"params": {"start": far}}, "start"),
            ("GET", "/api/v1/market-data/bars/GOOG", {"params": {"end": far}}, "end"),
            (
                "POST",
                f"{CHAT}/strategies/compare",
                {"json": {"strategy_ids": ids, "symbol": "GOOG", "start" if early else "end": far}},
                "start" if early else "end",
            ),
            (
                "POST",
                f"{CHAT}/backtest/trigger",
                {"json": {"strategy_config": {**SMA, "symbol": "GOOG"}, "trigger_reason": "t", "start": far}},
                "start",
            ),
            (
                "POST",
                f"{CHAT}/backtest/trigger",
                {
                    "json": {
                        "strategy_config": {**SMA, "symbol": "GOOG", "end_date": far},
                        "trigger_reason": "t",
                    }
                },
                "end",
            ),
        ]
        for method, path, kwargs, field_name in cases:
            response = await c.request(method, path, headers=alice, **kwargs)
            if response.status_code != 422 or field_name not in response.text:
                wrong.append(f"{method} {path} {kwargs} -> {response.status_code} {response.text[:300]}")
    assert not wrong, "\n".join(wrong)
    # The chat turn with such dates answers (no 500) and starts nothing.
    session_id = (await c.post(f"{CHAT}/session/create", headers=alice)).json()["session_id"]
    turn = await c.post(
        f"{CHAT}/session/{session_id}/chat",
        json={"question": "backtest sma 10/20 on GOOG from 1600-01-01 to 9999-12-31"},
        headers=alice,
    )
    assert turn.status_code == 200, turn.text
    assert turn.json()["backtest_ids"] == []


# ---- #4: webhook SSRF: non-public addresses refused when set and when sent, unless allow-listed --------

PRIVATE_WEBHOOKS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "https://127.0.0.1:8443/hook",
]
PUBLIC_WEBHOOK = "http://93.184.215.14/hooks/quantops"  # an IP literal: no DNS needed


@asynccontextmanager
async def _app(settings: Any) -> AsyncIterator[ApiClient]:
    from quantops.api.app import create_app
    from quantops.services.container import build_container

    container = build_container(settings, extensions=())
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        if await container.users.get_by_name("alice") is None:
            keys = {name: u.api_key for name, u in (await create_test_users(container)).items()}
        else:  # a second app on the same database
            keys = {name: await container.users.issue_key(name) for name in ("alice", "root")}
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://quantops.test") as client:
            yield ApiClient(client, container, keys)


async def test_webhook_url_must_be_public_unless_allow_listed(make_settings, database_url) -> None:
    async with _app(make_settings(database_url)) as api:
        for url in PRIVATE_WEBHOOKS:
            refused = await api.client.patch(
                "/api/v1/users/me", json={"webhook_url": url}, headers=api.auth()
            )
            assert refused.status_code == 422, (url, refused.text)
            assert "webhook_url" in refused.text and "webhook_allowlist" in refused.text, refused.text
        me = (await api.client.get("/api/v1/users/me", headers=api.auth())).json()
        assert me["webhook_url"] is None  # nothing stored
        ok = await api.client.patch(
            "/api/v1/users/me", json={"webhook_url": PUBLIC_WEBHOOK}, headers=api.auth()
        )
        assert ok.status_code == 200 and ok.json()["webhook_url"] == PUBLIC_WEBHOOK
        unresolvable = await api.client.patch(
            "/api/v1/users/me", json={"webhook_url": "http://no-such-host.invalid/x"}, headers=api.auth()
        )
        assert unresolvable.status_code == 422 and "webhook_url" in unresolvable.text

    allow = "127.0.0.1, localhost,10.0.0.0/8,fe80::/10"
    async with _app(make_settings(database_url, webhook_allowlist=allow)) as api:
        for url in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://[fe80::1]/hook"):
            ok = await api.client.patch("/api/v1/users/me", json={"webhook_url": url}, headers=api.auth())
            assert ok.status_code == 200, (url, ok.text)
        for url in ("http://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data/"):
            refused = await api.client.patch(
                "/api/v1/users/me", json={"webhook_url": url}, headers=api.auth()
            )
            assert refused.status_code == 422, (url, refused.text)


async def test_webhook_policy_checks_every_address_and_again_at_send_time() -> None:
    from quantops.services.webhooks import WebhookPolicy, WebhookRefused

    answers = {"mixed.example": ["93.184.215.14", "10.0.0.5"], "public.example": ["93.184.215.14"]}

    async def resolver(host: str, port: int) -> list[str]:
        return answers[host]

    policy = WebhookPolicy("", resolver=resolver)
    with pytest.raises(WebhookRefused, match=r"10\.0\.0\.5"):
        await policy.check("http://mixed.example/hook")  # one private address is enough to refuse
    [target] = await policy.pin("https://public.example:8443/hook")
    assert str(target.url) == "https://93.184.215.14:8443/hook"  # connects to the address it checked
    assert target.headers == {"Host": "public.example:8443"}
    assert target.extensions == {"sni_hostname": "public.example"}
    answers["public.example"] = ["127.0.0.1"]  # DNS rebinding: the name now points inside
    with pytest.raises(WebhookRefused, match=r"127\.0\.0\.1"):
        await policy.pin("https://public.example:8443/hook")


class _Receiver:
    """A real HTTP server on loopback that records webhook POSTs (with their Host header)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.received = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append((self.headers.get("host", ""), json.loads(body)))
                receiver.received.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def _run_notified_backtest(api: ApiClient) -> str:
    submitted = await api.client.post(
        "/api/v1/backtests",
        json={"strategy_config": SMA, "symbol": "GOOG", "notify_on_completion": True},
        headers=api.auth(),
    )
    assert submitted.status_code == 202, submitted.text
    backtest_id = submitted.json()["id"]
    done = await api.client.get(f"/api/v1/backtests/{backtest_id}", params={"wait": 60}, headers=api.auth())
    assert done.json()["status"] == "completed"
    await api.container.events.drain()
    return backtest_id


async def test_webhook_to_a_private_address_is_not_sent(make_settings, database_url, caplog) -> None:
    receiver = _Receiver()
    try:
        async with _app(make_settings(database_url)) as api:
            # Stored before this check existed (or resolved publicly when set): refused at send time too.
            alice = await api.container.users.get_by_name("alice")
            await api.container.users.repo.update(alice.id, webhook_url=f"http://127.0.0.1:{receiver.port}/h")
            with caplog.at_level(logging.WARNING, logger="quantops.services.events"):
                await _run_notified_backtest(api)
                for _ in range(300):  # the event is published just after the status changes
                    if "refused" in caplog.text:
                        break
                    await asyncio.sleep(0.1)
            assert "webhook to 127.0.0.1 refused" in caplog.text and "non-public" in caplog.text
            await api.container.events.drain()
            assert receiver.requests == []

        async with _app(make_settings(database_url, webhook_allowlist="localhost")) as api:
            url = f"http://localhost:{receiver.port}/hooks/quantops"
            set_ok = await api.client.patch("/api/v1/users/me", json={"webhook_url": url}, headers=api.auth())
            assert set_ok.status_code == 200, set_ok.text
            backtest_id = await _run_notified_backtest(api)
            assert await asyncio.to_thread(receiver.received.wait, 30)
            host, event = receiver.requests[0]
            assert event["backtest_id"] == backtest_id and event["status"] == "completed"
            assert host == f"localhost:{receiver.port}"  # sent to the pinned address, Host kept
    finally:
        receiver.close()


# ---- #8: out-of-range settings are refused (periods_per_year=1e308 gave a Sharpe of 1.2e152) -----------


def test_every_numeric_backtest_setting_is_bounded() -> None:
    from pydantic import ValidationError

    from quantops.backtest import BacktestSettings

    numeric = [
        name
        for name, info in BacktestSettings.model_fields.items()
        if info.annotation in (float, int, float | None, int | None)
    ]
    assert set(numeric) >= {"initial_cash", "commission", "commission_fixed", "size", "periods_per_year"}
    for name in numeric:
        for value in (1e308, float("inf"), float("-inf"), float("nan"), -1e308):
            extra = {"size_type": "cash"} if name == "size" else {}
            with pytest.raises(ValidationError) as refused:
                BacktestSettings(**{name: value, **extra})
            assert name in str(refused.value), (name, value)
    assert BacktestSettings(periods_per_year=252, commission_fixed=1.0, size=1000, size_type="cash")


async def test_out_of_range_settings_are_a_422(full_api) -> None:
    c, alice = full_api.client, full_api.auth("alice")
    for settings in (
        {"periods_per_year": 1e308},
        {"periods_per_year": 10_000_000},
        {"commission_fixed": 1e300},
        {"size_type": "cash", "size": 1e300},
        {"size_type": "units", "size": 1e300},
    ):
        body = {"strategy_config": SMA, "symbol": "GOOG", "settings": settings}
        response = await c.post("/api/v1/backtests", json=body, headers=alice)
        name = next(k for k in settings if k != "size_type")
        assert response.status_code == 422 and name in response.text, (settings, response.text)
    raw = '{"strategy_config": {"config_type": "sma_crossover"}, "symbol": "GOOG", "settings": {"size": NaN}}'
    nan = await c.post(
        "/api/v1/backtests", content=raw, headers={**alice, "content-type": "application/json"}
    )
    assert nan.status_code == 422, nan.text
    fine = await c.post(
        "/api/v1/backtests",
        json={"strategy_config": SMA, "symbol": "GOOG", "settings": {"periods_per_year": 252}},
        headers=alice,
    )
    assert fine.status_code == 202, fine.text


# ---- #9: the server's file paths are shown to admins only -------------------------------------------


async def test_cache_status_shows_server_paths_to_admins_only(full_api, market_duckdb) -> None:
    c = full_api.client
    path = str(market_duckdb)
    for user in ("vera", "alice"):
        status = await c.get("/api/v1/market-data/status", headers=full_api.auth(user))
        assert status.status_code == 200 and "AAPL" in status.json()["symbols"]
        assert path not in status.text and str(market_duckdb.parent) not in status.text, status.text[:300]
        session_id = (await c.post(f"{CHAT}/session/create", headers=full_api.auth(user))).json()[
            "session_id"
        ]
        turn = await c.post(
            f"{CHAT}/session/{session_id}/chat",
            json={"question": "cache status"},
            headers=full_api.auth(user),
        )
        assert turn.status_code == 200 and turn.json()["tool_calls"], turn.text
        assert str(market_duckdb.parent) not in turn.text, turn.text
    admin = await c.get("/api/v1/market-data/status", headers=full_api.auth("root"))
    assert admin.json()["path"] == path
    session_id = (await c.post(f"{CHAT}/session/create", headers=full_api.auth("root"))).json()["session_id"]
    turn = await c.post(
        f"{CHAT}/session/{session_id}/chat", json={"question": "cache status"}, headers=full_api.auth("root")
    )
    assert path in turn.json()["answer"]


# ---- #10: report pages of synthetic demo data say so ---------------------------------------------------


async def test_report_page_of_demo_data_says_synthetic(api) -> None:
    c, alice = api.client, api.auth("alice")
    pages: dict[str, str] = {}
    for symbol in ("AAPL", "GOOG"):  # AAPL: the synthetic demo; GOOG: imported real prices (tests/data)
        body = {"strategy_config": SMA, "symbol": symbol, "generate_report": True}
        submitted = (await c.post("/api/v1/backtests", json=body, headers=alice)).json()
        done = await c.get(f"/api/v1/backtests/{submitted['id']}", params={"wait": 60}, headers=alice)
        assert done.json()["status"] == "completed", done.text
        report = await c.get(f"/api/v1/backtests/{submitted['id']}/report", headers=alice)
        assert report.status_code == 200
        pages[symbol] = report.text
    assert "synthetic" in pages["AAPL"].lower() and "not real market prices" in pages["AAPL"]
    assert "synthetic" not in pages["GOOG"].lower()


# ---- #11: contract findings of schemathesis, each as a plain test ---------------------------------------


async def test_contract_edges(api) -> None:
    c, alice = api.client, api.auth("alice")
    strategy_id = (
        await c.post("/api/v1/strategies", json={"name": "s", "config": SMA}, headers=alice)
    ).json()["id"]
    # 405 names every method of the path (Starlette named only the first route's).
    for method, path, allow in (
        ("OPTIONS", "/api/v1/strategies", "GET, POST"),
        ("PUT", f"/api/v1/strategies/{strategy_id}", "GET, PATCH, DELETE"),
        ("OPTIONS", "/api/v1/users/me", "GET, PATCH"),
    ):
        response = await c.request(method, path, headers=alice)
        assert response.status_code == 405 and response.headers.get("allow") == allow, (
            path,
            response.headers,
        )
    # A body that is not UTF-8 JSON is a 422 on the body, not an undocumented 400.
    raw = await c.post(
        "/api/v1/strategies", content=b"\xff\xfe{", headers={**alice, "content-type": "application/json"}
    )
    assert raw.status_code == 422 and raw.json()["detail"][0]["loc"] == ["body"], raw.text
    # Booleans are booleans: 0 / 1 / "true" are refused, naming the field.
    for value in (0, 1, "true"):
        body = {"strategy_config": SMA, "symbol": "GOOG", "generate_report": value}
        loose = await c.post("/api/v1/backtests", json=body, headers=alice)
        assert loose.status_code == 422 and "generate_report" in loose.text, (value, loose.text)
    # Unknown or repeated query parameters are refused, naming them.
    typo = await c.get("/api/v1/backtests", params={"limt": 5}, headers=alice)
    assert typo.status_code == 422 and "limt" in typo.text, typo.text
    twice = await c.get("/api/v1/backtests?symbol=AAPL&symbol=MSFT", headers=alice)
    assert twice.status_code == 422 and "symbol" in twice.text, twice.text
    assert (await c.get("/api/v1/backtests", params={"limit": 5}, headers=alice)).status_code == 200
    # The schema says what the server enforces: config_type is required, symbols and dates bounded.
    schema = (await c.get("/openapi.json")).json()
    sma = schema["components"]["schemas"]["SmaCrossoverConfig"]
    assert "config_type" in sma["required"]
    bars = schema["paths"]["/api/v1/market-data/bars/{symbol}"]["get"]
    params = {p["name"]: p["schema"] for p in bars["parameters"]}
    assert "pattern" in params["symbol"] and "1900" not in str(params["symbol"])
    assert "pattern" in str(params["start"])


async def test_chat_core_never_sends_nul_to_the_database(full_api) -> None:
    """Adapters other than the API (CLI, a future Slack) call the chat service directly; a NUL in the
    question or in planned tool arguments must not reach PostgreSQL (it was a DBAPIError)."""
    chat, users = full_api.container.chat, full_api.container.users
    alice = await users.authenticate(full_api.keys["alice"])
    session = await chat.create_session(alice)
    with pytest.raises(ValidationFailed) as refused:
        await chat.chat(alice, session.session_id, f"create strategy sma 10/20 named evil{NUL}name", [])
    assert refused.value.field == "question" and "NUL" in refused.value.message
    # Tool arguments (as the planner or an LLM gives them) with NUL: refused naming the argument.
    outcome = await chat.registry.call(
        "create_strategy",
        {"name": f"evil{NUL}", "config": SMA},
        ToolContext(user=alice, container=full_api.container),
        frozenset({"create_strategy"}),
    )
    assert not outcome.ok and outcome.status_code == 422 and "name" in (outcome.error or "")
    assert NUL not in json.dumps(outcome.args)
    # Text the server did not receive from the caller (LLM output) is stored without NUL.
    turns = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": f"a{NUL}b", "meta": {NUL: NUL}},
    ]
    await chat.repo.record_turns(alice.id, session.session_id, turns, title=f"t{NUL}")
    stored = await chat.get_session(alice, session.session_id)
    assert [m.content for m in stored.conversation_history][-1] == "a\ufffdb"
    assert await full_api.container.strategies.list(alice) == []
