"""Celery worker entry point: ``celery -A quantops.worker worker`` or ``quantops worker``.

Each worker process builds its own container once (database, events, reports; no DuckDB) and keeps
one event loop for it, so DB connections are reused across tasks.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from quantops.config import Settings, get_settings
from quantops.jobs.celery_backend import TASK_NAME, make_celery
from quantops.jobs.payload import JobPayload
from quantops.jobs.runner import run_payload
from quantops.services.container import build_container

log = logging.getLogger(__name__)


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
            return {"backtest_id": payload.backtest_id, "status": "skipped"}
        payload.attempt = attempt
        try:
            outcome = run_payload(payload)
        except Exception as exc:
            await handler.fail(payload.backtest_id, f"{type(exc).__name__}: {exc}", attempt)
            await self.container.events.drain()
            return {"backtest_id": payload.backtest_id, "status": "failed"}
        stored = await handler.finish(payload, outcome)
        await self.container.events.drain()
        return {"backtest_id": payload.backtest_id, "status": "completed" if stored else "dropped"}


settings = get_settings()
app = make_celery(settings)
_runtime: WorkerRuntime | None = None


def runtime() -> WorkerRuntime:
    global _runtime  # one per worker process, built on its first task (after the prefork fork)
    if _runtime is None:
        _runtime = WorkerRuntime(settings)
    return _runtime


@app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
def run_backtest(message: dict[str, Any]) -> dict[str, Any]:
    return runtime().run(message)
