"""Celery worker entry point: ``celery -A quantops.worker worker`` or ``quantops worker``.

Each worker process builds its own container once (database, events, reports; no DuckDB) and keeps
one event loop for it, so DB connections are reused across tasks. The worker's main process keeps a
heartbeat key alive and notes every job it receives; each pool process has a heartbeat of its own and
notes the attempt it claims (``jobs.celery_liveness``), so the API server re-sends the jobs of a worker
(or of a pool process) that died at once instead of after the visibility timeout / job timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

import redis
from celery.signals import (
    task_received,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from quantops.config import Settings, get_settings
from quantops.jobs.celery_backend import TASK_NAME, make_celery
from quantops.jobs.celery_liveness import RECEIVED, Heartbeat, WorkerRegistry, new_worker_id
from quantops.jobs.payload import JobPayload
from quantops.jobs.runner import run_payload
from quantops.services.container import build_container

log = logging.getLogger(__name__)


def _note(method: str, *args: Any) -> None:
    """A registry write (``WorkerRegistry.<method>``), best effort: without it recovery falls back to
    the job timeout."""
    if registry is None:
        return
    try:
        getattr(registry, method)(*args)
    except redis.RedisError as exc:
        log.warning("worker registry: %s", exc)


class WorkerRuntime:
    def __init__(self, settings: Settings) -> None:
        self.runner = asyncio.Runner()
        self.container = build_container(settings, with_market_data=False)
        self.runner.run(self.container.start(jobs=False, recover=False, relay=False))

    def run(self, message: dict[str, Any]) -> dict[str, Any]:
        return self.runner.run(self._run(message))

    async def _run(self, message: dict[str, Any]) -> dict[str, Any]:
        handler = self.container.job_handler
        payload = JobPayload.from_message(message)
        attempt = await handler.claim(payload.backtest_id, expected_attempts=payload.attempt)
        if attempt is None:
            # Terminal, cancelled, or another delivery owns it: idempotent no-op.
            _note("let_go", payload.backtest_id, WORKER_ID)
            return {"backtest_id": payload.backtest_id, "status": "skipped"}
        _note("hold", payload.backtest_id, _claimer_id(), f"running:{attempt}")
        payload.attempt = attempt
        try:
            outcome = run_payload(payload)
        except Exception as exc:
            await handler.fail(payload.backtest_id, f"{type(exc).__name__}: {exc}", attempt)
            await self.container.events.drain()
            _note("finished", payload.backtest_id)
            return {"backtest_id": payload.backtest_id, "status": "failed"}
        stored = await handler.finish(payload, outcome)
        await self.container.events.drain()
        if stored:
            _note("finished", payload.backtest_id)
        return {"backtest_id": payload.backtest_id, "status": "completed" if stored else "dropped"}


settings = get_settings()
app = make_celery(settings)
_runtime: WorkerRuntime | None = None
# One id per worker (main) process, inherited by its forked pool processes; a restarted worker is new.
WORKER_ID = new_worker_id()
registry = WorkerRegistry.for_settings(settings)
_heartbeat: Heartbeat | None = None
_heartbeat_lock = threading.Lock()
# In a prefork pool process: its own heartbeat, so a pool process killed alone is noticed too.
_process_heartbeat: Heartbeat | None = None


def _claimer_id() -> str:
    """Who claims a job: this pool process (prefork) or the worker itself (solo/threads pools)."""
    return _process_heartbeat.worker_id if _process_heartbeat is not None else WORKER_ID


def _start_heartbeat(registry: WorkerRegistry, holder: str, what: str) -> Heartbeat | None:
    """A started heartbeat for ``holder``, or None (logged) when Redis refuses: the worker still runs."""
    heartbeat = Heartbeat(registry, holder)
    try:
        heartbeat.start()
    except redis.RedisError as exc:
        log.warning("%s heartbeat could not start: %s", what, exc)
        return None
    return heartbeat


def _ensure_heartbeat() -> None:
    global _heartbeat
    with _heartbeat_lock:
        if _heartbeat is None and registry is not None:
            _heartbeat = _start_heartbeat(registry, WORKER_ID, "worker")
            if _heartbeat is not None:
                log.info("worker %s: heartbeat every %.1f s", WORKER_ID, registry.heartbeat_seconds / 3)


@worker_ready.connect
def _on_worker_ready(**_: Any) -> None:
    _ensure_heartbeat()


@worker_shutdown.connect
def _on_worker_shutdown(**_: Any) -> None:
    global _heartbeat
    with _heartbeat_lock:
        if _heartbeat is not None:
            _heartbeat.stop()
            _heartbeat = None


@worker_process_init.connect
def _on_pool_process_init(**_: Any) -> None:
    global _process_heartbeat, registry
    if registry is None:
        return
    registry = WorkerRegistry.for_settings(settings)  # own connections, none shared across the fork
    assert registry is not None
    _process_heartbeat = _start_heartbeat(registry, f"{WORKER_ID}/{os.getpid()}", "pool process")


@worker_process_shutdown.connect
def _on_pool_process_shutdown(**_: Any) -> None:
    global _process_heartbeat
    if _process_heartbeat is not None:
        _process_heartbeat.stop()
        _process_heartbeat = None


@task_received.connect
def _on_task_received(request: Any = None, **_: Any) -> None:
    """Main process, as the message arrives (prefetched or about to run): note who holds the job."""
    if registry is None or request is None or request.name != TASK_NAME:
        return
    _ensure_heartbeat()
    try:
        backtest_id = str(request.args[0]["backtest_id"])
    except (IndexError, KeyError, TypeError):
        return
    _note("hold", backtest_id, WORKER_ID, RECEIVED)


def runtime() -> WorkerRuntime:
    global _runtime  # one per worker process, built on its first task (after the prefork fork)
    if _runtime is None:
        _runtime = WorkerRuntime(settings)
    return _runtime


@app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
def run_backtest(message: dict[str, Any]) -> dict[str, Any]:
    return runtime().run(message)
