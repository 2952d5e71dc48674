"""Shared fixtures: settings in temp dirs, real PostgreSQL/Redis with per-run isolation, servers.

- `database_url`: parametrized over a fresh SQLite file and a fresh PostgreSQL database (cloned from
  a migrated template created once per run on 127.0.0.1:5432, dropped at the end). PostgreSQL
  tests fail, not skip, when the server is down: `.ci/run` starts it.
- `redis_url` + `redis_prefix`: Redis on 127.0.0.1:6379 with a key prefix unique to the test run;
  keys under it are deleted at the end.
- `market_duckdb`: a DuckDB file (copy of a per-run template) with GOOG (tests/data) and the 10-year
  synthetic demo AAPL/MSFT.
- `make_settings(...)`, `service_container`, `api` (in-process ASGI client with lifespan), and
  `start_server(...)` (a real uvicorn subprocess on a free loopback port, killable with SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

DATA_DIR = Path(__file__).parent / "data"
PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_DB = "test"
REDIS_BASE_URL = "redis://127.0.0.1:6379/0"
RUN_ID = uuid.uuid4().hex[:10]
TEST_USERS: dict[str, list[str]] = {
    "alice": ["analyst"],
    "bob": ["analyst"],
    "vera": ["viewer"],
    "root": ["admin"],
}


# ---- PostgreSQL ------------------------------------------------------------------------------------------
def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=PG_ADMIN_DB, autocommit=True)


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{database}"


def _drop_database(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated database to clone per test (CREATE DATABASE … TEMPLATE is much faster than migrating)."""
    from quantops.store.db import Database

    name = f"qo_tmpl_{RUN_ID}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    async def migrate() -> None:
        db = Database(pg_url(name))
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(migrate())
    try:
        yield name
    finally:
        _drop_database(name)


@pytest.fixture
def postgres_database_url(pg_template: str) -> Iterator[str]:
    name = f"qo_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    try:
        yield pg_url(name)
    finally:
        _drop_database(name)


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    from quantops.store.db import Database

    url = f"sqlite+aiosqlite:///{tmp_path / 'quantops.db'}"

    async def migrate() -> None:
        db = Database(url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: SQLite file and PostgreSQL database (both run)."""
    return request.getfixturevalue(f"{request.param}_database_url")


# ---- Redis -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    import redis

    prefix = f"qotest{RUN_ID}"
    client = redis.Redis.from_url(REDIS_BASE_URL)
    client.ping()
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
        client.close()


@pytest.fixture(scope="session")
def redis_url(redis_prefix: str) -> str:
    return REDIS_BASE_URL


# ---- market data -----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def market_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from quantops.data.store import MarketDataStore

    path = tmp_path_factory.mktemp("market") / "market.duckdb"
    store = MarketDataStore(path)
    try:
        store.import_file(DATA_DIR / "GOOG.csv", "GOOG")
        store.load_demo(["AAPL", "MSFT"])
    finally:
        store.close()
    return path


@pytest.fixture
def market_duckdb(market_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "market.duckdb"
    shutil.copyfile(market_template, target)
    return target


# ---- settings / container / API ------------------------------------------------------------------------
@pytest.fixture
def make_settings(tmp_path: Path, market_duckdb: Path) -> Callable[..., Any]:
    """Settings rooted in this test's temp dir; pass database_url and overrides."""
    from quantops.config import get_settings

    def make(database_url: str | None = None, **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "data_dir": tmp_path,
            "database_url": database_url,
            "duckdb_path": market_duckdb,
            "reports_dir": tmp_path / "reports",
            "redis_url": None,
            "job_backend": "local",
            "job_workers": 1,
            "market_data_provider": "none",
            "llm_api_key": None,
            "llm_base_url": None,
        }
        values.update(overrides)
        return get_settings(**values)

    return make


async def create_test_users(container: Any) -> dict[str, Any]:
    """alice/bob (analyst), vera (viewer), root (admin) → {name: UserCreated} (with api_key)."""
    return {name: await container.users.create(name, roles) for name, roles in TEST_USERS.items()}


@pytest.fixture
async def service_container(make_settings: Callable[..., Any], database_url: str) -> AsyncIterator[Any]:
    """A started container (local job backend) on both databases; users in `.test_users`."""
    from quantops.services.container import build_container

    container = build_container(make_settings(database_url), extensions=())
    await container.start()
    container.test_users = await create_test_users(container)  # type: ignore[attr-defined]
    try:
        yield container
    finally:
        await container.aclose()


@dataclass
class ApiClient:
    """An httpx client on the ASGI app plus the test users' keys."""

    client: httpx.AsyncClient
    container: Any
    keys: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str = "alice") -> dict[str, str]:
        return {"X-API-Key": self.keys[user]}


@pytest.fixture
async def api(make_settings: Callable[..., Any], database_url: str) -> AsyncIterator[ApiClient]:
    from quantops.api.app import create_app
    from quantops.services.container import build_container

    container = build_container(make_settings(database_url), extensions=())
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        users = await create_test_users(container)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quantops.test") as client:
            yield ApiClient(client, container, {name: u.api_key for name, u in users.items()})


# ---- real server subprocess -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Any) -> dict[str, str]:
    """QUANTOPS_* environment reproducing `settings` in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTOPS_")}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"QUANTOPS_{name.upper()}"] = str(value)
    return env


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_http_ok(url: str, timeout: float = 90.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start uvicorn subprocesses serving `create_app()` from `settings`; all killed at teardown."""
    started: list[ServerProcess] = []

    def start(settings: Any) -> ServerProcess:
        server = _launch_server(settings, tmp_path / f"server-{len(started)}.log")
        started.append(server)
        return server

    yield start
    for server in started:
        kill_server_group(server)


@dataclass
class LiveApi:
    url: str
    keys: dict[str, str]
    user_ids: dict[str, str]
    settings: Any
    server: ServerProcess

    def auth(self, user: str = "alice") -> dict[str, str]:
        return {"X-API-Key": self.keys[user]}


def _launch_server(settings: Any, log_path: Path) -> ServerProcess:
    port = free_port()
    env = settings_env(settings)
    env["QUANTOPS_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "quantops.api.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "info",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        # Own session: SIGKILL of the server orphans its workers like a real crash; teardown kills the group.
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_http_ok(server.url + "/healthz", process=process)
    except Exception as exc:
        kill_server_group(server)
        raise RuntimeError(f"server failed to start:\n{server.log()[-3000:]}") from exc
    return server


def kill_server_group(server: ServerProcess) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)


def prepare_database(settings: Any, users: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Migrate the settings' database and create users → {name: UserCreated}."""
    from quantops.services.container import build_container

    async def setup() -> dict[str, Any]:
        container = build_container(settings, with_market_data=False, extensions=())
        try:
            await container.db.upgrade()
            return {
                name: await container.users.create(name, roles)
                for name, roles in (users or TEST_USERS).items()
            }
        finally:
            await container.db.dispose()

    return asyncio.run(setup())


@pytest.fixture(scope="session")
def live_api(tmp_path_factory: pytest.TempPathFactory, market_template: Path) -> Iterator[LiveApi]:
    """One real uvicorn server (SQLite, local jobs) shared by a test session; don't kill it."""
    from quantops.config import get_settings

    root = tmp_path_factory.mktemp("live-api")
    shutil.copyfile(market_template, root / "market.duckdb")
    settings = get_settings(
        data_dir=root,
        database_url=None,
        duckdb_path=root / "market.duckdb",
        redis_url=None,
        job_backend="local",
        job_workers=1,
        market_data_provider="none",
        max_body_bytes=200_000,
        webhook_allowlist="127.0.0.1",  # tests' webhook receivers listen on loopback
    )
    users = prepare_database(settings, {**TEST_USERS, "fuzz": ["analyst"]})
    server = _launch_server(settings, root / "server.log")
    try:
        yield LiveApi(
            server.url,
            {n: u.api_key for n, u in users.items()},
            {n: u.id for n, u in users.items()},
            settings,
            server,
        )
    finally:
        kill_server_group(server)


@pytest.fixture
def seed_database() -> Callable[..., dict[str, Any]]:
    """`seed_database(settings, users=None)`: migrate + create users → {name: UserCreated with api_key}."""
    return prepare_database


@pytest.fixture
def settings_env_for() -> Callable[[Any], dict[str, str]]:
    """`settings_env_for(settings)`: the QUANTOPS_* environment for a subprocess with these settings."""
    return settings_env
