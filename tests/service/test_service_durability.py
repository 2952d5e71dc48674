"""Durable jobs: a real server subprocess is SIGKILLed mid-job; on restart nothing is lost or stuck."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from quantops.store.db import Database
from quantops.store.models import Backtest

SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 20}
N_JOBS = 8


async def _read_states(database_url: str) -> dict[str, tuple[str, int, datetime | None]]:
    db = Database(database_url)
    try:
        async with db.session() as session:
            result = await session.execute(
                select(Backtest.id, Backtest.status, Backtest.attempts, Backtest.started_at)
            )
            return {bid: (status, attempts, started) for bid, status, attempts, started in result.all()}
    finally:
        await db.dispose()


def states(database_url: str) -> dict[str, tuple[str, int, datetime | None]]:
    return asyncio.run(_read_states(database_url))


def just_started(current: dict[str, tuple[str, int, datetime | None]]) -> bool:
    """A job claimed <150 ms ago: with a report it runs for longer, so a kill now lands mid-job."""
    now = datetime.now(UTC)
    return any(
        s == "running" and started is not None and now - started < timedelta(milliseconds=150)
        for s, _, started in current.values()
    )


def wait_all_terminal(url: str, headers: dict[str, str], timeout: float = 180) -> list[dict]:
    deadline = time.monotonic() + timeout
    items: list[dict] = []
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/api/v1/backtests", params={"limit": 200}, headers=headers, timeout=10)
        items = response.json()["items"]
        if items and all(b["status"] in ("completed", "failed", "cancelled") for b in items):
            return items
        time.sleep(0.2)
    raise TimeoutError(f"not all terminal: {[(b['id'], b['status']) for b in items]}")


@pytest.mark.slow
@pytest.mark.parametrize("max_attempts_after_restart", [3, 1], ids=["rerun", "give-up"])
def test_sigkill_mid_job_then_restart(
    make_settings, database_url, start_server, seed_database, max_attempts_after_restart: int
) -> None:
    settings = make_settings(database_url, job_workers=1, job_max_attempts=3)
    key = seed_database(settings, {"alice": ["analyst"]})["alice"].api_key
    headers = {"X-API-Key": key}
    server = start_server(settings)

    # Reports make each job take a few hundred ms, so the single worker is always busy with one.
    body = {"strategy_config": SMA, "symbol": "AAPL", "generate_report": True}
    ids = []
    for _ in range(N_JOBS):
        response = httpx.post(f"{server.url}/api/v1/backtests", json=body, headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current = states(database_url)
        statuses = [s for s, _, _ in current.values()]
        if "completed" in statuses and "pending" in statuses and just_started(current):
            break
        time.sleep(0.02)
    else:
        pytest.fail(f"never saw completed+running+pending together: {current}")
    os.kill(server.process.pid, signal.SIGKILL)  # the server dies mid-job, no shutdown hooks
    server.process.wait(timeout=30)
    os.killpg(server.process.pid, signal.SIGKILL)  # and its orphaned worker processes with it

    at_kill = states(database_url)
    running = [bid for bid, (s, _, _) in at_kill.items() if s == "running"]
    pending = [bid for bid, (s, _, _) in at_kill.items() if s == "pending"]
    assert running and pending, at_kill  # stuck as-is until someone recovers them

    restarted = start_server(
        make_settings(database_url, job_workers=1, job_max_attempts=max_attempts_after_restart)
    )
    items = {b["id"]: b for b in wait_all_terminal(restarted.url, headers)}
    assert set(items) == set(ids)  # nothing lost
    for bid in pending:
        assert items[bid]["status"] == "completed" and items[bid]["attempts"] == 1
    for bid in running:
        if max_attempts_after_restart > 1:
            assert items[bid]["status"] == "completed" and items[bid]["attempts"] == 2
        else:
            assert items[bid]["status"] == "failed"
            assert "interrupted" in items[bid]["error"] and "gave up" in items[bid]["error"]
    for bid, item in items.items():
        if item["status"] == "completed":
            result = httpx.get(f"{restarted.url}/api/v1/backtests/{bid}/result", headers=headers, timeout=10)
            assert result.status_code == 200 and len(result.json()["equity"]) == item["n_bars"]
            report = httpx.get(f"{restarted.url}/api/v1/backtests/{bid}/report", headers=headers, timeout=10)
            assert report.status_code == 200
    assert "job recovery: re-queued" in restarted.log()


async def test_killed_worker_process_is_replaced_and_job_rerun(service_container) -> None:
    """SIGKILL of the local worker process mid-job: the pool is replaced and the job runs again."""
    from quantops.services.schemas import BacktestCreate

    container = service_container
    alice = await container.users.authenticate(container.test_users["alice"].api_key)
    request = BacktestCreate(strategy_config=SMA, symbol="AAPL", generate_report=True)
    ids = [(await container.backtests.submit(alice, request)).id for _ in range(3)]
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        for row in await container.backtests.repo.unfinished():
            if row.status == "running" and datetime.now(UTC) - row.started_at < timedelta(milliseconds=150):
                victim = row.id
                break
        else:
            await asyncio.sleep(0.01)
    assert victim is not None
    for process in list(container.jobs._executor._processes.values()):  # the pool's worker processes
        os.kill(process.pid, signal.SIGKILL)
    finals = {bid: await container.backtests.wait(alice, bid, timeout=120) for bid in ids}
    assert all(b.status == "completed" for b in finals.values()), finals
    assert finals[victim].attempts == 2
    assert sum(b.attempts for b in finals.values()) == len(ids) + 1
