"""`celery` job backend with a real Celery worker subprocess, Redis broker/results, both databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quantops.services.container import build_container
from quantops.services.schemas import BacktestCreate
from quantops.services.users import to_context

SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 20}
pytestmark = [pytest.mark.celery, pytest.mark.redis]


@pytest.fixture
def celery_settings(make_settings, database_url, redis_url, redis_prefix):
    # A prefix per test: its own queue and keys, so parallel runs never steal each other's tasks.
    return make_settings(
        database_url,
        job_backend="celery",
        redis_url=redis_url,
        redis_prefix=f"{redis_prefix}:{uuid.uuid4().hex[:6]}",
        job_timeout_seconds=60,
    )


@pytest.fixture
def celery_worker(celery_settings, settings_env_for, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log_path = tmp_path / "celery.log"
    command = [
        sys.executable, "-m", "celery", "-A", "quantops.worker", "worker",
        "--pool=solo", "--loglevel=info", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=settings_env_for(celery_settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    yield process
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    print(log_path.read_text(errors="replace")[-4000:])


async def test_celery_worker_runs_backtests_and_events_cross_processes(
    celery_settings, celery_worker, seed_database
) -> None:
    users = await asyncio.to_thread(
        seed_database, celery_settings, {"alice": ["analyst"], "bob": ["analyst"]}
    )
    container = build_container(celery_settings, extensions=())
    await container.start()
    try:
        alice = await container.users.authenticate(users["alice"].api_key)
        assert alice is not None
        async with container.events.subscribe(alice.id) as events:
            submitted = await container.backtests.submit(
                alice,
                BacktestCreate(
                    strategy_config=SMA, symbol="GOOG", generate_report=True, notify_on_completion=True
                ),
            )
            assert submitted.status == "pending"
            done = await container.backtests.wait(alice, submitted.id, timeout=120)
            assert done.status == "completed", done
            assert done.attempts == 1 and done.n_bars == 2148 and done.report_url
            # The worker published through Redis; this process relayed it to the local subscriber.
            event = await asyncio.wait_for(events.get(), 30)
        assert event["type"] == "backtest.completed" and event["backtest_id"] == submitted.id
        assert event["stats"]["num_trades"] == done.stats["num_trades"]
        result = await container.backtests.result(alice, submitted.id)
        assert len(result.equity) == 2148
        assert container.reports.backtest_report_path(submitted.id).is_file()

        # Idempotent by backtest id: re-sending the same message does not run it again.
        payload = await container.job_handler.load_payload(submitted.id, attempt=0)
        assert payload is None  # completed rows have no payload at all
        second = await container.backtests.submit(alice, BacktestCreate(strategy_config=SMA, symbol="AAPL"))
        message = (await container.job_handler.load_payload(second.id)).to_message()
        duplicate = container.jobs.app.send_task("quantops.run_backtest", args=[message])  # type: ignore[attr-defined]
        assert (await container.backtests.wait(alice, second.id, timeout=120)).status == "completed"
        outcome = await asyncio.to_thread(duplicate.get, timeout=60)
        assert outcome == {"backtest_id": second.id, "status": "skipped"}
        assert (await container.backtests.get(alice, second.id)).attempts == 1

        bob = to_context(await container.users.repo.get_by_name("bob"))
        from quantops.services.errors import NotFoundError

        with pytest.raises(NotFoundError):
            await container.backtests.get(bob, second.id)
    finally:
        await container.aclose()


@pytest.fixture
def start_celery_worker(settings_env_for, tmp_path: Path) -> Iterator[object]:
    """Start Celery worker subprocesses (prefork, 1 child) for given settings; all killed at teardown."""
    started: list[subprocess.Popen[bytes]] = []

    def start(settings, *options: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        command = [
            sys.executable, "-m", "celery", "-A", "quantops.worker", "worker",
            "--pool=prefork", "--concurrency=1", "--loglevel=info",
            "--without-gossip", "--without-mingle", "--without-heartbeat", *options,
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            env=settings_env_for(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.mark.slow
async def test_killed_celery_worker_job_is_resent_and_completed(
    make_settings, database_url, redis_url, redis_prefix, seed_database, start_celery_worker
) -> None:
    settings = make_settings(
        database_url,
        job_backend="celery",
        redis_url=redis_url,
        redis_prefix=f"{redis_prefix}:{uuid.uuid4().hex[:6]}",
        job_timeout_seconds=3,
        job_sweep_seconds=0.5,
    )
    users = await asyncio.to_thread(seed_database, settings, {"alice": ["analyst"]})
    first_worker = start_celery_worker(settings)
    container = build_container(settings, extensions=())
    await container.start()
    try:
        alice = await container.users.authenticate(users["alice"].api_key)
        request = BacktestCreate(strategy_config=SMA, symbol="AAPL", generate_report=True)
        ids = [(await container.backtests.submit(alice, request)).id for _ in range(3)]
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            for row in await container.backtests.repo.unfinished():
                if row.status == "running" and datetime.now(UTC) - row.started_at < timedelta(
                    milliseconds=150
                ):
                    victim = row.id
                    break
            else:
                await asyncio.sleep(0.01)
        assert victim is not None
        os.killpg(first_worker.pid, signal.SIGKILL)  # worker and its child die mid-job, message unacked
        first_worker.wait(timeout=30)
        assert (await container.backtests.get(alice, victim)).status == "running"
        start_celery_worker(settings)  # a replacement; the server's sweep re-sends the stale job to it
        finals = {bid: await container.backtests.wait(alice, bid, timeout=120) for bid in ids}
        assert all(b.status == "completed" for b in finals.values()), finals
        assert finals[victim].attempts == 2
    finally:
        await container.aclose()


@pytest.mark.slow
async def test_killed_worker_prefetched_and_running_jobs_are_resent_without_the_visibility_timeout(
    make_settings, database_url, redis_url, redis_prefix, seed_database, start_celery_worker
) -> None:
    """A worker holding a running job and a prefetched one is SIGKILLed: both messages stay invisible in
    Redis for the visibility timeout (here 300 s); the expired heartbeat makes the server re-send both."""
    import redis

    from quantops.jobs.celery_liveness import WorkerRegistry

    prefix = f"{redis_prefix}:{uuid.uuid4().hex[:6]}"
    settings = make_settings(
        database_url,
        job_backend="celery",
        redis_url=redis_url,
        redis_prefix=prefix,
        job_timeout_seconds=240,  # → visibility timeout 300 s, and running rows are not stale before 240 s
        job_sweep_seconds=0.5,
        job_worker_heartbeat_seconds=2,
    )
    users = await asyncio.to_thread(seed_database, settings, {"alice": ["analyst"]})
    broker = redis.Redis.from_url(redis_url)
    registry = WorkerRegistry.for_settings(settings)
    assert registry is not None
    # Concurrency 1 that takes a second message while the first runs (prefetch 2, not acks-late's 1).
    first_worker = start_celery_worker(settings, "--prefetch-multiplier=2")
    container = build_container(settings, extensions=())
    await container.start()
    try:
        alice = await container.users.authenticate(users["alice"].api_key)
        request = BacktestCreate(strategy_config=SMA, symbol="AAPL")
        first = (await container.backtests.submit(alice, request)).id
        second = (await container.backtests.submit(alice, request)).id
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the first run compiles the engine: seconds of "running"
            rows = {row.id: row.status for row in await container.backtests.repo.unfinished()}
            held = registry.holdings([first, second])
            if (
                rows.get(first) == "running"
                and rows.get(second) == "pending"
                and all(h.holders for h in held)
                and broker.hlen(f"{prefix}:unacked") == 2  # both messages delivered, invisible to others
            ):
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail(f"the worker never held both jobs: {rows}")
        os.killpg(first_worker.pid, signal.SIGKILL)
        first_worker.wait(timeout=30)
        killed = time.monotonic()
        start_celery_worker(settings)
        finals = {bid: await container.backtests.wait(alice, bid, timeout=150) for bid in (first, second)}
        assert all(b.status == "completed" for b in finals.values()), finals
        recovered = time.monotonic() - killed
        print(f"both jobs completed {recovered:.1f} s after the SIGKILL")
        # Generous (a fresh worker compiles the engine); without recovery this is ≥ 300 s.
        assert recovered < 100
        assert finals[first].attempts == 2 and finals[second].attempts == 1
        deadline = time.monotonic() + 30  # the worker forgets a job just after committing its result
        while any(h.holders for h in registry.holdings([first, second])) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert all(not h.holders for h in registry.holdings([first, second]))
    finally:
        await container.aclose()
        broker.close()
        registry.close()


def test_holding_orphaned_rules() -> None:
    from quantops.jobs.celery_liveness import Holding

    def holding(holders: dict[str, str], alive: set[str]) -> Holding:
        return Holding("b1", holders, frozenset(alive))

    # never taken (still queued) or taken by a live worker: leave it
    assert not holding({}, set()).orphaned("pending", 0)
    assert not holding({"w1": "received"}, {"w1"}).orphaned("pending", 0)
    assert not holding({"w1": "running:1"}, {"w1"}).orphaned("running", 1)
    # every holder dead: re-send, pending or running (a claim not yet noted still counts)
    assert holding({"w1": "received"}, set()).orphaned("pending", 0)
    assert holding({"w1": "received", "w2": "received"}, set()).orphaned("pending", 0)
    assert holding({"w1": "received"}, set()).orphaned("running", 1)
    # the claimer of the current attempt is dead, a live worker only holds a duplicate message
    assert holding({"w1": "running:1", "w2": "received"}, {"w2"}).orphaned("running", 1)
    # ... but a live worker on the current attempt is what counts, not a dead one's older attempt
    assert not holding({"w1": "running:1", "w2": "running:2"}, {"w2"}).orphaned("running", 2)
    # a pending job also received by a live worker will be run by it
    assert not holding({"w1": "received", "w2": "received"}, {"w2"}).orphaned("pending", 0)
    assert holding({"w1": "running:1", "w2": "received"}, {"w2"}).dead == ["w1"]


def test_worker_registry_heartbeat_expires_and_holdings_follow_the_job(redis_url, redis_prefix) -> None:
    from quantops.jobs.celery_liveness import RECEIVED, Heartbeat, WorkerRegistry

    registry = WorkerRegistry(redis_url, f"{redis_prefix}:{uuid.uuid4().hex[:6]}", 0.6, 60)
    try:
        heartbeat = Heartbeat(registry, "w-live")
        heartbeat.start()
        registry.beat("w-dead")  # beats once, then is SIGKILLed
        for worker in ("w-live", "w-dead"):
            registry.hold("b1", worker, RECEIVED)
        registry.hold("b2", "w-live", "running:1")
        time.sleep(1.5)  # > the TTL; the live worker's thread refreshed its key every 0.2 s
        b1, b2, b3 = registry.holdings(["b1", "b2", "b3"])
        assert b1.alive == {"w-live"} and b1.dead == ["w-dead"] and not b1.orphaned("pending", 0)
        assert not b2.orphaned("running", 1) and b3.holders == {}
        registry.let_go("b1", "w-live")  # it skipped a duplicate: only the dead holder is left
        assert registry.holdings(["b1"])[0].orphaned("pending", 0)
        registry.forget_workers("b1", ["w-dead"])
        registry.finished("b2")
        assert [h.holders for h in registry.holdings(["b1", "b2"])] == [{}, {}]
        heartbeat.stop()  # a clean shutdown retires the key at once
        registry.hold("b4", "w-live", RECEIVED)
        assert registry.holdings(["b4"])[0].orphaned("pending", 0)
    finally:
        registry.close()


@pytest.mark.slow
async def test_killed_pool_process_job_is_resent_without_the_job_timeout(
    make_settings, database_url, redis_url, redis_prefix, seed_database, start_celery_worker
) -> None:
    """Only the prefork pool process running a job dies (OOM killer); the worker lives on. Celery puts
    the message back, but that message may no longer claim the running row until it is stale (240 s);
    the pool process's own heartbeat expiring makes the server re-send it with the current attempt."""
    from quantops.jobs.celery_liveness import WorkerRegistry

    settings = make_settings(
        database_url,
        job_backend="celery",
        redis_url=redis_url,
        redis_prefix=f"{redis_prefix}:{uuid.uuid4().hex[:6]}",
        job_timeout_seconds=240,
        job_sweep_seconds=0.5,
        job_worker_heartbeat_seconds=2,
    )
    users = await asyncio.to_thread(seed_database, settings, {"alice": ["analyst"]})
    registry = WorkerRegistry.for_settings(settings)
    assert registry is not None
    worker = start_celery_worker(settings)
    container = build_container(settings, extensions=())
    await container.start()
    try:
        alice = await container.users.authenticate(users["alice"].api_key)
        job = (await container.backtests.submit(alice, BacktestCreate(strategy_config=SMA, symbol="AAPL"))).id
        claimer = None
        deadline = time.monotonic() + 60
        while claimer is None and time.monotonic() < deadline:  # the first run compiles: seconds
            holders = registry.holdings([job])[0].holders
            claimer = next((w for w, what in holders.items() if what == "running:1"), None)
            await asyncio.sleep(0.01)
        assert claimer is not None and "/" in claimer, "no pool process claimed the job"
        pool_pid = int(claimer.rsplit("/", 1)[1])
        assert pool_pid != worker.pid
        os.kill(pool_pid, signal.SIGKILL)
        killed = time.monotonic()
        done = await container.backtests.wait(alice, job, timeout=150)
        recovered = time.monotonic() - killed
        print(f"job completed {recovered:.1f} s after its pool process was killed")
        assert done.status == "completed" and done.attempts == 2
        assert recovered < 100  # generous; without recovery ≥ 240 s (the job timeout)
        assert worker.poll() is None  # the worker itself lived on
    finally:
        await container.aclose()
        registry.close()
