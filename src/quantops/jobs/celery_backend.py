"""`celery` backend: Redis broker + result store, `acks_late`, tasks idempotent by backtest id.

The API server loads the bars (it owns DuckDB) and sends them in the message. A worker claims the row
with the attempt count the message was sent with, so a duplicate message never runs a job twice; a
message whose worker died is redelivered (acks_late + reject_on_worker_lost) and may claim the row
once it is stale (running for longer than the job timeout). The server re-sends pending rows on
startup and sweeps periodically: jobs held only by workers whose heartbeat expired (prefetched or
running, see ``jobs.celery_liveness``) are re-sent at once, stale running rows after the job timeout,
so no job is lost, stuck in `running`, or left waiting for the broker's visibility timeout.

Worker: ``quantops worker`` (or ``celery -A quantops.worker worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import anyio.to_thread
import redis
from celery import Celery

from quantops.common import utcnow
from quantops.config import Settings
from quantops.jobs.base import JobBackend, JobHandler
from quantops.jobs.celery_liveness import Holding, WorkerRegistry

log = logging.getLogger(__name__)

TASK_NAME = "quantops.run_backtest"


def queue_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}.backtests"


def make_celery(settings: Settings) -> Celery:
    broker = settings.celery_broker_url or settings.redis_url
    backend = settings.celery_result_backend or settings.redis_url
    if not broker:
        raise ValueError("job_backend=celery needs QUANTOPS_REDIS_URL or QUANTOPS_CELERY_BROKER_URL")
    app = Celery("quantops", broker=broker, backend=backend)
    prefix = f"{settings.redis_prefix}:"
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=queue_name(settings),
        task_track_started=False,
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        # Unacked messages come back after this; longer than any job, or a slow job would run twice.
        broker_transport_options={
            "global_keyprefix": prefix,
            "visibility_timeout": int(settings.job_timeout_seconds) + 60,
        },
        result_backend_transport_options={"global_keyprefix": prefix},
        worker_hijack_root_logger=False,
    )
    return app


class CeleryJobBackend(JobBackend):
    name = "celery"

    def __init__(self, handler: JobHandler, settings: Settings) -> None:
        self.handler = handler
        self.settings = settings
        self.workers = max(1, settings.job_workers)
        self.app = make_celery(settings)
        self._sweep_interval = settings.job_sweep_seconds
        self._sweeper: asyncio.Task[None] | None = None
        self.registry = WorkerRegistry.for_settings(settings)

    async def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="celery-stale-sweep")

    async def enqueue(self, backtest_id: str) -> None:
        payload = await self.handler.load_payload(backtest_id)
        if payload is None:
            return
        await anyio.to_thread.run_sync(self._send, payload.to_message())

    def _send(self, message: dict[str, Any]) -> None:
        self.app.send_task(TASK_NAME, args=[message], queue=queue_name(self.settings))

    async def recover(self) -> dict[str, int]:
        return await self._sweep(include_pending=True)

    async def _holdings(self, backtest_ids: list[str]) -> dict[str, Holding]:
        if self.registry is None or not backtest_ids:
            return {}
        try:
            found = await anyio.to_thread.run_sync(self.registry.holdings, backtest_ids)
        except redis.RedisError as exc:  # no liveness this round: the job-timeout rule still applies
            log.warning("celery job sweep: worker registry unavailable: %s", exc)
            return {}
        return {holding.backtest_id: holding for holding in found}

    async def _sweep(self, include_pending: bool) -> dict[str, int]:
        requeued = failed = orphans = 0
        stale_before = utcnow() - timedelta(seconds=self.settings.job_timeout_seconds)
        rows = await self.handler.unfinished_started()
        holdings = await self._holdings([row[0] for row in rows])
        for backtest_id, status, attempts, started_at in rows:
            holding = holdings.get(backtest_id)
            # Taken by a worker that is gone (SIGKILL, lost host): re-send now, not after the timeouts.
            orphaned = holding is not None and holding.orphaned(status, attempts)
            orphans += orphaned
            if status == "pending":
                if include_pending or orphaned:
                    await self._requeue(backtest_id, attempts)
                    requeued += 1
            elif not orphaned and started_at is not None and started_at >= stale_before:
                continue  # a worker is (presumably) on it
            elif attempts >= self.settings.job_max_attempts:
                why = (
                    "its worker died"
                    if orphaned
                    else f"no worker finished it within {self.settings.job_timeout_seconds:g} s"
                )
                failed += await self.handler.fail(
                    backtest_id, f"interrupted: {why}; gave up after {attempts} attempt(s)"
                )
            else:
                await self._requeue(backtest_id, attempts)
                requeued += 1
            if orphaned and holding is not None:
                # The dead holders are done with: the next sweep must not re-send it again.
                await anyio.to_thread.run_sync(self.registry.forget_workers, backtest_id, holding.dead)
        if requeued or failed:
            log.warning(
                "celery job sweep: re-sent %d, failed %d (%d held by dead workers)", requeued, failed, orphans
            )
        return {"requeued": requeued, "failed": failed, "orphaned": orphans}

    async def _requeue(self, backtest_id: str, attempts: int) -> None:
        payload = await self.handler.load_payload(backtest_id, attempts)
        if payload is not None:
            await anyio.to_thread.run_sync(self._send, payload.to_message())

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            try:
                await self._sweep(include_pending=False)
            except Exception:
                log.exception("celery job sweep failed")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self.registry is not None:
            self.registry.close()
