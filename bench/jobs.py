"""Background-jobs benchmark: submit → completed latency and burst throughput over real HTTP.

A real `quantops` server (uvicorn subprocess, SQLite, DuckDB with the 10-year synthetic demo AAPL) is
driven by an HTTP client: POST /api/v1/backtests, then long-poll GET /api/v1/backtests/{id}?wait=30.
Peers in the same run, same data and machine:
- the engine called directly in this process (`quantops.backtest_arrays`): the floor, no service;
- the `celery` backend (Redis broker + a real Celery worker subprocess) behind an identical server.

Usage: .venv/bin/python bench/jobs.py [--sequential 50] [--burst 200] [--workers 2] [--no-celery]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from _harness import free_port, wait_healthy  # bench/ is on sys.path when a script here runs

SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 50}
BODY = {"strategy_config": SMA, "symbol": "AAPL", "start": "2015-01-01", "end": "2024-12-31"}
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Row:
    backend: str
    case: str
    n: int
    p50_ms: float
    p95_ms: float
    throughput: float | None
    completed: str


def prepare(root: Path, workers: int) -> tuple[dict[str, str], str]:
    """Migrated SQLite, demo AAPL in DuckDB, one user → (env, api key). Not timed."""
    from quantops.config import get_settings
    from quantops.data.store import MarketDataStore
    from quantops.services.users import UsersService
    from quantops.store.db import Database
    from quantops.store.repositories import UserRepository

    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTOPS_")}
    env.update(
        QUANTOPS_DATA_DIR=str(root), QUANTOPS_JOB_WORKERS=str(workers), QUANTOPS_MARKET_DATA_PROVIDER="none"
    )
    settings = get_settings(data_dir=root, job_workers=workers)
    store = MarketDataStore(settings.resolved_duckdb_path)
    store.load_demo(["AAPL"])
    store.close()

    async def setup() -> str:
        db = Database(settings.resolved_database_url)
        try:
            await db.upgrade()
            return (await UsersService(UserRepository(db)).create("bench", ["analyst"])).api_key
        finally:
            await db.dispose()

    return env, asyncio.run(setup())


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = start(
        [sys.executable, "-m", "uvicorn", "--factory", "quantops.api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "info"],
        env,
        log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    if wait_healthy(url, timeout=120):
        return process, url
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


async def run_one(client: httpx.AsyncClient) -> tuple[float, str]:
    started = time.perf_counter()
    submitted = await client.post("/api/v1/backtests", json=BODY)
    submitted.raise_for_status()
    backtest_id = submitted.json()["id"]
    status = "pending"
    while status in ("pending", "running"):
        reply = await client.get(f"/api/v1/backtests/{backtest_id}", params={"wait": 30})
        status = reply.json()["status"]
    return time.perf_counter() - started, status


async def sequential(url: str, key: str, n: int, warm_up: int = 5) -> tuple[list[float], list[str]]:
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=120) as client:
        for _ in range(warm_up):  # worker processes compile/load the engine first; not timed
            await run_one(client)
        results = [await run_one(client) for _ in range(n)]
    return [t for t, _ in results], [s for _, s in results]


async def burst(url: str, key: str, n: int) -> tuple[list[float], list[str], float]:
    limits = httpx.Limits(max_connections=n + 10)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": key}, timeout=300, limits=limits
    ) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(run_one(client) for _ in range(n)))
        elapsed = time.perf_counter() - started
    return [t for t, _ in results], [s for _, s in results], elapsed


def summarize(
    backend: str, case: str, seconds: list[float], statuses: list[str], elapsed: float | None
) -> Row:
    done = sum(s == "completed" for s in statuses)
    return Row(
        backend,
        case,
        len(seconds),
        float(np.percentile(seconds, 50) * 1000),
        float(np.percentile(seconds, 95) * 1000),
        len(seconds) / elapsed if elapsed else None,
        f"{done}/{len(statuses)}",
    )


def direct_engine(n: int, root: Path) -> Row:
    """The floor: the same backtest on the same arrays, in this process."""
    import quantops
    from quantops.data.store import MarketDataStore

    store = MarketDataStore(root / "peer.duckdb")
    store.load_demo(["AAPL"])
    bars = store.get_bars("AAPL", "2015-01-01", "2024-12-31")
    store.close()
    args = (bars.open, bars.high, bars.low, bars.close, bars.timestamps, SMA)
    quantops.backtest_arrays(*args)  # compile
    seconds = []
    for _ in range(n):
        started = time.perf_counter()
        quantops.backtest_arrays(*args).stats  # noqa: B018  (stats are computed lazily)
        seconds.append(time.perf_counter() - started)
    return summarize(
        "engine in-process (peer)", f"{len(bars)} bars, no service", seconds, ["completed"] * n, None
    )


def bench_backend(backend: str, args: argparse.Namespace, rows: list[Row]) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"qo-bench-{backend}-"))
    env, key = prepare(root, args.workers)
    processes: list[subprocess.Popen[bytes]] = []
    if backend == "celery":
        env.update(
            QUANTOPS_JOB_BACKEND="celery",
            QUANTOPS_REDIS_URL=REDIS_URL,
            QUANTOPS_REDIS_PREFIX=f"qobench{uuid.uuid4().hex[:8]}",
        )
        processes.append(
            start(
                [sys.executable, "-m", "celery", "-A", "quantops.worker", "worker",
                 "--loglevel=warning", f"--concurrency={args.workers}",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                env,
                root / "worker.log",
            )
        )  # fmt: skip
    server, url = start_server(env, root / "server.log")
    processes.append(server)
    try:
        seconds, statuses = asyncio.run(sequential(url, key, args.sequential))
        rows.append(summarize(backend, "10y daily, one at a time", seconds, statuses, None))
        seconds, statuses, elapsed = asyncio.run(burst(url, key, args.burst))
        rows.append(summarize(backend, f"burst of {args.burst}", seconds, statuses, elapsed))
    finally:
        for process in processes:
            stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-celery", action="store_true")
    args = parser.parse_args()

    rows = [direct_engine(args.sequential, Path(tempfile.mkdtemp(prefix="qo-bench-peer-")))]
    bench_backend("local", args, rows)
    if not args.no_celery:
        bench_backend("celery", args, rows)

    headers = ["backend", "case", "n", "p50 ms", "p95 ms", "throughput /s", "completed"]
    table = [
        [r.backend, r.case, str(r.n), f"{r.p50_ms:.1f}", f"{r.p95_ms:.1f}",
         f"{r.throughput:.1f}" if r.throughput else "", r.completed]
        for r in rows
    ]  # fmt: skip
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print(line(row))
    print(
        f"(submit → completed over HTTP incl. long-poll; {args.workers} job workers; SQLite; "
        f"{os.cpu_count()}-CPU machine shared with other work; target p50 < 250 ms for the local backend)"
    )


if __name__ == "__main__":
    main()
