"""Per-user event channel: WebSocket subscribers + the user's webhook.

Without Redis, events are delivered to subscribers of this process. With ``redis_url`` set, publish
goes through Redis pub/sub (channel ``{prefix}:events:{user_id}``) and every API process relays to
its own WebSocket subscribers — so an event published by a Celery worker reaches the browser too.
The webhook is POSTed once, by the publishing process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from quantops.common import utcnow
from quantops.services.webhooks import WebhookPolicy, WebhookRefused

log = logging.getLogger(__name__)

QUEUE_SIZE = 100


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class EventBus:
    def __init__(
        self,
        webhook_for_user: Callable[[str], Awaitable[str | None]],
        redis_url: str | None = None,
        redis_prefix: str = "quantops",
        webhook_timeout_seconds: float = 5.0,
        webhook_attempts: int = 3,
        webhook_policy: WebhookPolicy | None = None,
    ) -> None:
        self._webhook_for_user = webhook_for_user
        self._webhook_policy = webhook_policy or WebhookPolicy()
        self._redis_url = redis_url
        self._channel_prefix = f"{redis_prefix}:events:"
        self._webhook_timeout = webhook_timeout_seconds
        self._webhook_attempts = webhook_attempts
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._redis: Any = None
        self._relay_task: asyncio.Task[None] | None = None
        self._relay_ready = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._status_channel = f"{redis_prefix}:status"
        # Called with a backtest id when any process reports it terminal (wakes `backtests.wait`).
        self.on_status: list[Callable[[str], None]] = []

    async def start(self, relay: bool = True) -> None:
        """Connect to Redis (if configured); `relay=True` in API processes that serve WebSockets."""
        if self._redis_url and self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(self._redis_url)
            if relay:
                self._relay_task = asyncio.create_task(self._relay(), name="events-relay")
                await asyncio.wait_for(self._relay_ready.wait(), 10)

    async def _relay(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.psubscribe(self._channel_prefix + "*")
        await pubsub.subscribe(self._status_channel)
        self._relay_ready.set()
        try:
            async for message in pubsub.listen():
                kind = message.get("type")
                channel = _text(message.get("channel"))
                if kind == "message" and channel == self._status_channel:
                    self._status_changed(_text(message["data"]))
                elif kind == "pmessage":
                    user_id = channel[len(self._channel_prefix) :]
                    try:
                        self._deliver_local(user_id, json.loads(message["data"]))
                    except (ValueError, TypeError):
                        log.warning("dropped a malformed event on %s", channel)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def publish(self, user_id: str, event: dict[str, Any]) -> None:
        """Send to the user's WebSocket subscribers and (in the background) to their webhook."""
        event = {"ts": utcnow().isoformat(), **event}
        if self._redis is not None:
            await self._redis.publish(self._channel_prefix + user_id, json.dumps(event, default=str))
        else:
            self._deliver_local(user_id, event)
        task = asyncio.create_task(self._post_webhook(user_id, event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def publish_status(self, backtest_id: str) -> None:
        """Internal: a backtest became terminal (lets API processes wake waiters without polling)."""
        if self._redis is not None:
            await self._redis.publish(self._status_channel, backtest_id)
        else:
            self._status_changed(backtest_id)

    def _status_changed(self, backtest_id: str) -> None:
        for callback in self.on_status:
            callback(backtest_id)

    def _deliver_local(self, user_id: str, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(user_id, ())):
            if queue.full():  # a stuck client loses its oldest event, never blocks the publisher
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[user_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[user_id].discard(queue)
            if not self._subscribers[user_id]:
                del self._subscribers[user_id]

    async def _post_webhook(self, user_id: str, event: dict[str, Any]) -> None:
        url = await self._webhook_for_user(user_id)
        if not url:
            return
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._webhook_timeout, follow_redirects=False)
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._webhook_attempts),
                wait=wait_exponential(multiplier=0.2, max=2.0),
                retry=retry_if_exception_type(httpx.HTTPError),
                reraise=True,
            ):
                with attempt:
                    # Checked again at every send, and sent to an address checked (SSRF, DNS rebinding).
                    response = await self._send_pinned(url, event)
                    response.raise_for_status()
        except WebhookRefused as exc:
            log.warning("webhook to %s refused: %s", httpx.URL(url).host, exc.message)
        except httpx.HTTPError as exc:
            # The URL may carry a token: log only the host.
            log.warning("webhook to %s failed: %s", httpx.URL(url).host, type(exc).__name__)

    async def _send_pinned(self, url: str, event: dict[str, Any]) -> httpx.Response:
        assert self._http is not None
        targets = await self._webhook_policy.pin(url)
        for index, target in enumerate(targets):
            try:
                return await self._http.post(
                    target.url, json=event, headers=target.headers, extensions=target.extensions
                )
            except httpx.ConnectError:
                if index == len(targets) - 1:
                    raise
        raise AssertionError("pin() returns at least one target")

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for in-flight webhook deliveries (workers call this before finishing a task)."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=timeout)

    async def stop(self) -> None:
        await self.drain()
        if self._relay_task is not None:
            self._relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._relay_task
            self._relay_task = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
