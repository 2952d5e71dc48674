"""ChatOps speed over real HTTP: offline chat-turn latency with 50 concurrent sessions, WebSocket time
to first chunk, and the same server's /healthz under the same load as the floor of the HTTP stack
(the peer every row is compared against).

Two load shapes, because they answer different questions:
- paced: 50 sessions, each asking every 1-3 s (seeded think time, ~25 turns/s offered) → turn latency;
- saturated: 50 sessions firing turns back to back → throughput, where latency is mostly queueing.
Run once with SQLite (embedded default) and once with PostgreSQL (a per-run database, dropped after).

A `quantops serve` subprocess (DuckDB in a temp dir, offline planner, no LLM) is started on a free
loopback port; the clients run in this process (asyncio + httpx / websockets).
Usage: .venv/bin/python bench/chat.py [--sessions 50] [--turns 20] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
from _harness import free_port, serve  # bench/ is on sys.path when a script here runs
from websockets.asyncio.client import connect

from quantops.config import get_settings
from quantops.data.store import MarketDataStore
from quantops.services.container import build_container

T = TypeVar("T")
RETRIES: list[int] = []


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), to report server CPU per turn regardless of contention."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Turns that need no backtest run (the target excludes backtest compute time).
QUESTIONS = [
    "help",
    "list my backtests",
    "캐시 상태는?",
    "AAPL price",
    "그 결과 보여줘",
    "내 전략 목록",
    "show failed backtests",
    "MSFT 시세 보여줘",
]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def prepare(data_dir: Path, database_url: str | None) -> str:
    settings = get_settings(
        data_dir=data_dir, database_url=database_url, redis_url=None, market_data_provider="none"
    )
    store = MarketDataStore(settings.resolved_duckdb_path)
    store.load_demo(["AAPL", "MSFT", "NVDA"])
    store.close()

    async def setup() -> str:
        container = build_container(settings, with_market_data=False, extensions=())
        await container.db.upgrade()
        created = await container.users.create("bench", ["analyst"])
        await container.db.dispose()
        return created.api_key

    return asyncio.run(setup())


def start_server(data_dir: Path, port: int, database_url: str | None) -> subprocess.Popen[bytes]:
    env = {
        "QUANTOPS_DATA_DIR": str(data_dir),
        "QUANTOPS_MARKET_DATA_PROVIDER": "none",
        "QUANTOPS_JOB_WORKERS": "1",
    }
    if database_url:
        env["QUANTOPS_DATABASE_URL"] = database_url
    return serve(port, env)


async def chat_load(base: str, key: str, sessions: int, turns: int, paced: bool = False) -> list[float]:
    api = base + "/api/v1/chatops-advanced"
    headers = {"X-API-Key": key}
    limits = httpx.Limits(max_connections=sessions + 10, max_keepalive_connections=sessions + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        # one completed backtest so "그 결과 보여줘" reads a real result
        seed_sid = (await client.post(f"{api}/session/create", headers=headers)).json()["session_id"]
        seeded = await client.post(
            f"{api}/session/{seed_sid}/chat",
            headers=headers,
            json={"question": "backtest sma 10/50 on AAPL 2016-2020", "user_roles": ["analyst"]},
        )
        last_backtest = seeded.json()["backtest_ids"][0]

        async def one_session(index: int) -> list[float]:
            sid = (await client.post(f"{api}/session/create", headers=headers)).json()["session_id"]
            timings: list[float] = []
            think = random.Random(index)
            context_question = f"show backtest {last_backtest}"
            for turn in range(turns):
                question = QUESTIONS[(index + turn) % len(QUESTIONS)]
                if question == "그 결과 보여줘" and turn == 0:
                    question = context_question
                started = time.perf_counter()
                body = {"question": question, "user_roles": ["analyst"]}
                try:
                    response = await client.post(f"{api}/session/{sid}/chat", headers=headers, json=body)
                except (httpx.ReadError, httpx.RemoteProtocolError):
                    # a keep-alive connection closed by the server as we reused it: count it, send again
                    RETRIES.append(1)
                    response = await client.post(f"{api}/session/{sid}/chat", headers=headers, json=body)
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                if paced:
                    await asyncio.sleep(think.uniform(1.0, 3.0))
            return timings

        results = await asyncio.gather(*(one_session(i) for i in range(sessions)))
    return [t for session in results for t in session]


async def health_load(base: str, sessions: int, requests: int, paced: bool = False) -> list[float]:
    limits = httpx.Limits(max_connections=sessions + 10, max_keepalive_connections=sessions + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker(index: int) -> list[float]:
            timings = []
            think = random.Random(index)
            for _ in range(requests):
                started = time.perf_counter()
                (await client.get(base + "/healthz")).raise_for_status()
                timings.append((time.perf_counter() - started) * 1000)
                if paced:
                    await asyncio.sleep(think.uniform(1.0, 3.0))
            return timings

        results = await asyncio.gather(*(worker(i) for i in range(sessions)))
    return [t for r in results for t in r]


async def ws_first_chunk(
    base: str, key: str, sessions: int, question: str
) -> tuple[list[float], list[float]]:
    api = base + "/api/v1/chatops-advanced"
    headers = {"X-API-Key": key}
    async with httpx.AsyncClient(timeout=60) as client:
        sids = [
            (await client.post(f"{api}/session/create", headers=headers)).json()["session_id"]
            for _ in range(sessions)
        ]

    async def one(sid: str) -> tuple[float, float]:
        url = api.replace("http://", "ws://") + f"/ws/chat/{sid}"
        async with connect(url, additional_headers=headers) as ws:
            started = time.perf_counter()
            await ws.send(json.dumps({"question": question, "user_roles": ["analyst"]}))
            first = None
            while True:
                message = json.loads(await ws.recv())
                if first is None:
                    first = (time.perf_counter() - started) * 1000
                if message["type"] != "chunk":
                    return first, (time.perf_counter() - started) * 1000

    results = await asyncio.gather(*(one(sid) for sid in sids))
    return [r[0] for r in results], [r[1] for r in results]


def row(name: str, samples: list[float], seconds: float | None = None) -> str:
    rate = f"{len(samples) / seconds:>8.0f}" if seconds else f"{'':>8}"
    p50, p99 = statistics.median(samples), percentile(samples, 99)
    return f"| {name:<52} | {len(samples):>5} | {p50:>8.2f} | {p99:>8.2f} | {max(samples):>8.2f} | {rate} |"


def timed(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> tuple[T, float]:
    """(result, wall seconds) of one asyncio run."""
    started = time.perf_counter()
    result = asyncio.run(coro_factory())
    return result, time.perf_counter() - started


def create_postgres_database() -> tuple[str, str]:
    import asyncpg

    name = f"quantops_bench_chat_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(create())
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def drop_postgres_database(name: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(drop())


def run_backend(label: str, database_url: str | None, sessions: int, turns: int) -> list[str]:
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="quantops-bench-chat-") as tmp:
        data_dir = Path(tmp)
        key = prepare(data_dir, database_url)
        port = free_port()
        server = start_server(data_dir, port, database_url)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(chat_load(base, key, 5, 4))  # warm-up (imports, first queries)
            paced, paced_s = timed(lambda: chat_load(base, key, sessions, turns, paced=True))
            health_paced, health_paced_s = timed(lambda: health_load(base, sessions, turns, paced=True))
            cpu_before = cpu_seconds(server.pid)
            saturated, saturated_s = timed(lambda: chat_load(base, key, sessions, turns))
            cpu_chat = (cpu_seconds(server.pid) - cpu_before) * 1000 / (len(saturated) + sessions)
            cpu_before = cpu_seconds(server.pid)
            health, health_s = timed(lambda: health_load(base, sessions, turns))
            cpu_health = (cpu_seconds(server.pid) - cpu_before) * 1000 / len(health)
            ws_first_single: list[float] = []
            ws_done_single: list[float] = []
            for _ in range(20):
                first, done = asyncio.run(ws_first_chunk(base, key, 1, "캐시 상태는?"))
                ws_first_single += first
                ws_done_single += done
            (ws_first, ws_done), _ = timed(lambda: ws_first_chunk(base, key, sessions, "list my backtests"))
        finally:
            server.terminate()
            server.wait(timeout=30)
    rows.append(row(f"[{label}] chat turn, {sessions} sessions paced", paced, paced_s))
    rows.append(row(f"[{label}] peer GET /healthz, {sessions} paced", health_paced, health_paced_s))
    rows.append(row(f"[{label}] chat turn, {sessions} sessions saturated", saturated, saturated_s))
    rows.append(row(f"[{label}] peer GET /healthz, {sessions} saturated", health, health_s))
    rows.append(row(f"[{label}] WS first chunk, 1 session", ws_first_single))
    rows.append(row(f"[{label}] WS done, 1 session", ws_done_single))
    rows.append(row(f"[{label}] WS first chunk, {sessions} at once", ws_first))
    rows.append(row(f"[{label}] WS done, {sessions} at once", ws_done))
    rows.append(f"<{label} paced p99 {percentile(paced, 99):.2f} ms>")
    rows.append(
        f"<{label} server CPU per request: chat turn {cpu_chat:.2f} ms (incl. session create), "
        f"/healthz {cpu_health:.2f} ms>"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows = run_backend("sqlite", None, args.sessions, args.turns)
    if not args.no_postgres:
        name, url = create_postgres_database()
        try:
            rows += run_backend("postgres", url, args.sessions, args.turns)
        finally:
            drop_postgres_database(name)
    print(
        f"\nChatOps offline chat over real HTTP (ms), {args.sessions} sessions × {args.turns} turns, "
        f"{os.cpu_count()} CPUs shared with clients and other work (load avg {os.getloadavg()[0]:.1f})"
    )
    print(f"| {'case':<52} | {'n':>5} | {'p50':>8} | {'p99':>8} | {'max':>8} | {'req/s':>8} |")
    print(f"|{'-' * 54}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for line in rows:
        if not line.startswith("<"):
            print(line)
    for line in rows:
        if line.startswith("<"):
            print(line.strip("<>"))
    print("target: chat-turn p99 < 20 ms; keep-alive retries:", len(RETRIES))


if __name__ == "__main__":
    main()
