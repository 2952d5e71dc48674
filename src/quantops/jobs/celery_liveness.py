"""Which Celery worker holds which job, and whether that worker is still alive (Redis keys with TTLs).

A message a worker has taken from Redis (prefetched or running) is invisible to everyone else until the
broker's visibility timeout (job timeout + 60 s) — if the worker is SIGKILLed, its jobs would wait that
long. So each worker process keeps a heartbeat key alive and records the jobs it took:

- ``<prefix>:jobs:worker:<worker id>`` — set with a TTL of ``job_worker_heartbeat_seconds``, refreshed
  every third of it by a thread of the worker's main process; deleted on a clean shutdown.
- ``<prefix>:jobs:held:<backtest id>`` — a hash ``worker id → "received" | "running:<attempt>"``: written
  when the worker receives the message (``task_received``, main process) and when its pool process
  claims the row; the field is removed when that worker skips the message, the key when the job ends.

The API server's sweep (``CeleryJobBackend``) re-sends a job whose holders are all dead (pending or
running), or a running job whose current attempt was claimed by a dead worker. Queue
messages are idempotent by (backtest id, attempt), so a late redelivery of the original message is a
no-op. Dead workers are found within ``job_worker_heartbeat_seconds`` + ``job_sweep_seconds``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass

import redis

from quantops.config import Settings

log = logging.getLogger(__name__)

RECEIVED = "received"


def registry_url(settings: Settings) -> str | None:
    """The Redis of the registry: QUANTOPS_REDIS_URL, else a Redis broker; None = no registry."""
    if settings.redis_url:
        return settings.redis_url
    broker = settings.celery_broker_url or ""
    return broker if broker.startswith(("redis://", "rediss://", "unix://")) else None


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class Holding:
    """One unfinished job's holders as the sweep sees them."""

    backtest_id: str
    holders: dict[str, str]  # worker id -> "received" | "running:<attempt>"
    alive: frozenset[str]

    def orphaned(self, status: str, attempts: int) -> bool:
        """True when the job was taken and nobody alive is on it: every worker that took it is dead,
        or (running) the worker that claimed the current attempt is."""
        if not self.holders:
            return False  # still in the queue, or taken before this registry existed
        if not set(self.holders) & self.alive:
            return True
        owners = {w for w, what in self.holders.items() if what == f"running:{attempts}"}
        return status == "running" and bool(owners) and not owners & self.alive

    @property
    def dead(self) -> list[str]:
        return [w for w in self.holders if w not in self.alive]


class WorkerRegistry:
    """Both sides of the registry (sync redis-py; the API server calls it from a thread)."""

    def __init__(self, url: str, prefix: str, heartbeat_seconds: float, hold_ttl_seconds: float) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = f"{prefix}:jobs"
        self.heartbeat_seconds = heartbeat_seconds
        self.hold_ttl = max(1, int(hold_ttl_seconds))

    @classmethod
    def for_settings(cls, settings: Settings) -> WorkerRegistry | None:
        url = registry_url(settings)
        if url is None:
            return None
        # A holding lives as long as the broker could keep the message invisible, and then some.
        hold_ttl = 2 * (settings.job_timeout_seconds + 60)
        return cls(url, settings.redis_prefix, settings.job_worker_heartbeat_seconds, hold_ttl)

    def _worker_key(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}"

    def _held_key(self, backtest_id: str) -> str:
        return f"{self.prefix}:held:{backtest_id}"

    # ---- worker side ----------------------------------------------------------------------------------
    def beat(self, worker_id: str) -> None:
        self.client.set(self._worker_key(worker_id), "1", px=int(self.heartbeat_seconds * 1000))

    def retire(self, worker_id: str) -> None:
        self.client.delete(self._worker_key(worker_id))

    def hold(self, backtest_id: str, worker_id: str, what: str) -> None:
        key = self._held_key(backtest_id)
        pipe = self.client.pipeline()
        pipe.hset(key, worker_id, what)
        pipe.expire(key, self.hold_ttl)
        pipe.execute()

    def let_go(self, backtest_id: str, worker_id: str) -> None:
        """This worker skipped the message (a duplicate): it no longer holds the job; others may."""
        self.client.hdel(self._held_key(backtest_id), worker_id)

    def finished(self, backtest_id: str) -> None:
        self.client.delete(self._held_key(backtest_id))

    # ---- sweep side -----------------------------------------------------------------------------------
    def holdings(self, backtest_ids: list[str]) -> list[Holding]:
        if not backtest_ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for backtest_id in backtest_ids:
            pipe.hgetall(self._held_key(backtest_id))
        raw = pipe.execute()
        holders = [{k.decode(): v.decode() for k, v in entry.items()} for entry in raw]
        workers = sorted({w for entry in holders for w in entry})
        alive: set[str] = set()
        if workers:
            pipe = self.client.pipeline(transaction=False)
            for worker_id in workers:
                pipe.exists(self._worker_key(worker_id))
            alive = {w for w, exists in zip(workers, pipe.execute(), strict=True) if exists}
        frozen = frozenset(alive)
        return [Holding(b, h, frozen) for b, h in zip(backtest_ids, holders, strict=True)]

    def forget_workers(self, backtest_id: str, worker_ids: list[str]) -> None:
        if worker_ids:
            self.client.hdel(self._held_key(backtest_id), *worker_ids)

    def close(self) -> None:
        self.client.close()


class Heartbeat:
    """A daemon thread refreshing this worker's key every third of its TTL until ``stop()``."""

    def __init__(self, registry: WorkerRegistry, worker_id: str) -> None:
        self.registry = registry
        self.worker_id = worker_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quantops-heartbeat", daemon=True)

    def start(self) -> None:
        self.registry.beat(self.worker_id)  # alive before the first task can be received
        self._thread.start()

    def _run(self) -> None:
        interval = self.registry.heartbeat_seconds / 3
        while not self._stop.wait(interval):
            try:
                self.registry.beat(self.worker_id)
            except redis.RedisError as exc:  # the next beat may get through before the key expires
                log.warning("worker heartbeat failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.registry.retire(self.worker_id)
        except redis.RedisError as exc:
            log.warning("could not retire worker heartbeat: %s", exc)
