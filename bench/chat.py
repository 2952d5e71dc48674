"""ChatOps speed: server CPU per offline chat turn, and turn latency at 50 concurrent sessions beside the
same server's /healthz measured in the same run (the floor of the HTTP stack under the same load).

- CPU: 50 sessions (created beforehand) fire turns back to back; the server process's utime+stime
  (/proc) over the phase divided by the turns — independent of queueing and of the clients' CPU.
  Questions need no backtest run (the target excludes backtest compute): help, lists, cache status,
  prices, "show backtest <id>", strategies.
- Latency: 50 chat sessions and 50 /healthz clients run at the same time with the same pacing
  (paced: each waits 1-3 s between requests; saturated: back to back), so both rows see one load.
- WebSocket: time to the first chunk event and to the done event.
Run once with SQLite (embedded default) and once with PostgreSQL (a per-run database, dropped after).
`--profile N` instead runs N turns in this process through the ASGI app under cProfile and prints where
the CPU goes (per package, then the top functions) and the ChatService CPU per question.

A `quantops serve` subprocess (DuckDB in a temp dir, offline planner, no LLM) is started on a free
loopback port; the clients run in this process (asyncio + httpx / websockets).
Usage: .venv/bin/python bench/chat.py [--sessions 50] [--turns 20] [--no-postgres] [--cpu-only]
       [--profile N]
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
from pathlib import Path
from typing import Any

import httpx
from _harness import free_port, serve  # bench/ is on sys.path when a script here runs
from websockets.asyncio.client import connect

from quantops.config import get_settings
from quantops.data.store import MarketDataStore
from quantops.services.container import build_container

RETRIES: list[int] = []
# How cProfile file names map to a package (first match wins).
PACKAGE_PATTERNS = (r"site-packages/([^/]+)", r"src/(quantops/[^/]+)", r"python3\.\d+/([^/]+)")


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


async def send(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; a keep-alive connection the server closed just as we reused it is counted and the
    request sent again (not a server error: uvicorn drops connections idle for 5 s)."""
    try:
        response = await client.request(method, url, **kwargs)
    except (httpx.ReadError, httpx.RemoteProtocolError):
        RETRIES.append(1)
        response = await client.request(method, url, **kwargs)
    response.raise_for_status()
    return response


async def seed(client: httpx.AsyncClient, api: str, headers: dict[str, str]) -> str:
    """One completed backtest, so "show backtest <id>" / "그 결과 보여줘" read a real result."""
    sid = (await send(client, "POST", f"{api}/session/create", headers=headers)).json()["session_id"]
    seeded = await send(
        client,
        "POST",
        f"{api}/session/{sid}/chat",
        headers=headers,
        json={"question": "backtest sma 10/50 on AAPL 2016-2020", "user_roles": ["analyst"]},
    )
    return seeded.json()["backtest_ids"][0]


async def chat_load(
    client: httpx.AsyncClient, base: str, key: str, sids: list[str], backtest_id: str, turns: int, paced: bool
) -> list[float]:
    """Each session asks `turns` questions; returns the turn latencies (ms)."""
    api = base + "/api/v1/chatops-advanced"
    headers = {"X-API-Key": key}

    async def one_session(index: int, sid: str) -> list[float]:
        timings: list[float] = []
        think = random.Random(index)
        for turn in range(turns):
            question = QUESTIONS[(index + turn) % len(QUESTIONS)]
            if question == "그 결과 보여줘" and turn == 0:
                question = f"show backtest {backtest_id}"
            started = time.perf_counter()
            body = {"question": question, "user_roles": ["analyst"]}
            await send(client, "POST", f"{api}/session/{sid}/chat", headers=headers, json=body)
            timings.append((time.perf_counter() - started) * 1000)
            if paced:
                await asyncio.sleep(think.uniform(1.0, 3.0))
        return timings

    results = await asyncio.gather(*(one_session(i, sid) for i, sid in enumerate(sids)))
    return [t for session in results for t in session]


async def health_load(
    client: httpx.AsyncClient, base: str, clients: int, requests: int, paced: bool
) -> list[float]:
    async def worker(index: int) -> list[float]:
        timings = []
        think = random.Random(1000 + index)
        for _ in range(requests):
            started = time.perf_counter()
            await send(client, "GET", base + "/healthz")
            timings.append((time.perf_counter() - started) * 1000)
            if paced:
                await asyncio.sleep(think.uniform(1.0, 3.0))
        return timings

    results = await asyncio.gather(*(worker(i) for i in range(clients)))
    return [t for r in results for t in r]


def http_client(connections: int) -> httpx.AsyncClient:
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them under us.
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=4.0
    )
    return httpx.AsyncClient(timeout=120, limits=limits)


async def create_sessions(client: httpx.AsyncClient, base: str, key: str, count: int) -> list[str]:
    api = base + "/api/v1/chatops-advanced"
    headers = {"X-API-Key": key}
    return [
        (await client.post(f"{api}/session/create", headers=headers)).json()["session_id"]
        for _ in range(count)
    ]


async def measure(
    base: str, key: str, pid: int, sessions: int, turns: int, cpu_only: bool = False
) -> dict[str, tuple[list[float], float] | float]:
    """All HTTP phases against one server; latency lists with their wall seconds, and CPU figures."""
    out: dict[str, tuple[list[float], float] | float] = {}
    api = base + "/api/v1/chatops-advanced"
    async with http_client(2 * sessions + 10) as client:
        backtest_id = await seed(client, api, {"X-API-Key": key})
        warm = await create_sessions(client, base, key, 5)
        await chat_load(client, base, key, warm, backtest_id, 4, paced=False)  # imports, first queries

        # CPU per turn: sessions exist already, nothing else talks to the server.
        sids = await create_sessions(client, base, key, sessions)
        cpu_before = cpu_seconds(pid)
        saturated = await chat_load(client, base, key, sids, backtest_id, turns, paced=False)
        out["cpu_turn"] = (cpu_seconds(pid) - cpu_before) * 1000 / len(saturated)
        cpu_before = cpu_seconds(pid)
        health = await health_load(client, base, sessions, turns, paced=False)
        out["cpu_health"] = (cpu_seconds(pid) - cpu_before) * 1000 / len(health)
        if cpu_only:
            return out

        # Latency: chat sessions and /healthz clients side by side, in the same run.
        for shape, paced in (("paced", True), ("saturated", False)):
            sids = await create_sessions(client, base, key, sessions)
            started = time.perf_counter()
            chat_times, health_times = await asyncio.gather(
                chat_load(client, base, key, sids, backtest_id, turns, paced),
                health_load(client, base, sessions, turns, paced),
            )
            seconds = time.perf_counter() - started
            out[f"chat {shape}"] = (chat_times, seconds)
            out[f"health {shape}"] = (health_times, seconds)
    return out


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


def run_backend(
    label: str, database_url: str | None, sessions: int, turns: int, cpu_only: bool = False
) -> list[str]:
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="quantops-bench-chat-") as tmp:
        data_dir = Path(tmp)
        key = prepare(data_dir, database_url)
        port = free_port()
        server = start_server(data_dir, port, database_url)
        base = f"http://127.0.0.1:{port}"
        try:
            results = asyncio.run(measure(base, key, server.pid, sessions, turns, cpu_only))
            if cpu_only:
                return [cpu_line(label, results)]
            ws_first_single: list[float] = []
            ws_done_single: list[float] = []
            for _ in range(20):
                first, done = asyncio.run(ws_first_chunk(base, key, 1, "캐시 상태는?"))
                ws_first_single += first
                ws_done_single += done
            ws_first, ws_done = asyncio.run(ws_first_chunk(base, key, sessions, "list my backtests"))
        finally:
            server.terminate()
            server.wait(timeout=30)
    for shape in ("paced", "saturated"):
        chat_times, seconds = results[f"chat {shape}"]  # type: ignore[misc]
        health_times, _ = results[f"health {shape}"]  # type: ignore[misc]
        rows.append(row(f"[{label}] chat turn, {sessions} sessions {shape}", chat_times, seconds))
        rows.append(row(f"[{label}]   beside it: GET /healthz, {sessions} clients", health_times, seconds))
    rows.append(row(f"[{label}] WS first chunk, 1 session", ws_first_single))
    rows.append(row(f"[{label}] WS done, 1 session", ws_done_single))
    rows.append(row(f"[{label}] WS first chunk, {sessions} at once", ws_first))
    rows.append(row(f"[{label}] WS done, {sessions} at once", ws_done))
    rows.append(cpu_line(label, results))
    return rows


def cpu_line(label: str, results: dict[str, Any]) -> str:
    return (
        f"<{label} server CPU per offline turn {results['cpu_turn']:.2f} ms "
        f"(target <= 5 ms, no backtest run); per GET /healthz {results['cpu_health']:.2f} ms>"
    )


def profile_in_process(turns: int) -> None:
    """N turns through the ASGI app in this process under cProfile: where the CPU of a turn goes."""
    import collections
    import cProfile
    import pstats
    import re

    from quantops.api.app import create_app

    async def run(tmp: Path) -> None:
        settings = get_settings(
            data_dir=tmp, database_url=None, redis_url=None, market_data_provider="none", job_workers=1
        )
        store = MarketDataStore(settings.resolved_duckdb_path)
        store.load_demo(["AAPL", "MSFT", "NVDA"])
        store.close()
        container = build_container(settings)
        await container.db.upgrade()
        app = create_app(container=container)
        async with app.router.lifespan_context(app):
            created = await container.users.create("bench", ["analyst"])
            user = await container.users.authenticate(created.api_key)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                api = "/api/v1/chatops-advanced"
                headers = {"X-API-Key": created.api_key}
                await seed(client, api, headers)
                sids = [(await container.chat.create_session(user)).session_id for _ in range(10)]

                async def http_turns(count: int) -> None:
                    for i in range(count):
                        body = {"question": QUESTIONS[i % len(QUESTIONS)], "user_roles": ["analyst"]}
                        url = f"{api}/session/{sids[i % len(sids)]}/chat"
                        (await client.post(url, headers=headers, json=body)).raise_for_status()

                await http_turns(50)
                per_question: dict[str, list[float]] = collections.defaultdict(list)
                for i in range(turns):
                    question = QUESTIONS[i % len(QUESTIONS)]
                    started = time.process_time()
                    await container.chat.chat(user, sids[i % len(sids)], question, ["analyst"])
                    per_question[question].append((time.process_time() - started) * 1000)
                started = time.process_time()
                await http_turns(turns)
                http_cpu = (time.process_time() - started) * 1000 / turns
                profiler = cProfile.Profile()
                profiler.enable()
                await http_turns(turns)
                profiler.disable()
        print(f"\nin-process CPU per turn over HTTP/ASGI (server + httpx client): {http_cpu:.2f} ms")
        print("ChatService.chat CPU per question (no HTTP, no auth):")
        for question, samples in per_question.items():
            print(f"  {question:<24} {statistics.mean(samples):6.2f} ms")
        stats = pstats.Stats(profiler)
        by_package: collections.Counter[str] = collections.Counter()
        for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            if "epoll" in name:
                continue  # the loop waiting for I/O
            match = next(
                (m for m in map(lambda rx: re.search(rx, filename), PACKAGE_PATTERNS) if m is not None), None
            )
            by_package[match.group(1) if match else name] += tottime
        print(f"cProfile of {turns} HTTP turns, own time per turn (profiler overhead included):")
        for package, seconds in by_package.most_common(12):
            print(f"  {package:<48} {seconds * 1000 / turns:6.2f} ms")
        stats.sort_stats("tottime").print_stats(20)

    with tempfile.TemporaryDirectory(prefix="quantops-bench-chat-profile-") as tmp:
        asyncio.run(run(Path(tmp)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU phase (a quick A/B)")
    parser.add_argument("--profile", type=int, default=0, help="profile N turns in-process instead")
    args = parser.parse_args()
    if args.profile:
        profile_in_process(args.profile)
        return
    rows = run_backend("sqlite", None, args.sessions, args.turns, args.cpu_only)
    if not args.no_postgres:
        name, url = create_postgres_database()
        try:
            rows += run_backend("postgres", url, args.sessions, args.turns, args.cpu_only)
        finally:
            drop_postgres_database(name)
    print(
        f"\nChatOps offline chat over real HTTP (ms), {args.sessions} sessions × {args.turns} turns, "
        f"{os.cpu_count()} CPUs shared with clients and other work (load avg {os.getloadavg()[0]:.1f})\n"
        "latency rows side by side: the chat turns and the /healthz clients ran at the same time"
    )
    print(f"| {'case':<52} | {'n':>5} | {'p50':>8} | {'p99':>8} | {'max':>8} | {'req/s':>8} |")
    print(f"|{'-' * 54}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for line in rows:
        if not line.startswith("<"):
            print(line)
    for line in rows:
        if line.startswith("<"):
            print(line.strip("<>"))
    print("keep-alive retries:", len(RETRIES))


if __name__ == "__main__":
    main()
