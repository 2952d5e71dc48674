"""TTL caches for the chat layer: Redis when ``QUANTOPS_REDIS_URL`` is set, in-process otherwise.

Two instances are used: the LLM response cache (TTL 1 h, keyed by model + messages + tools) and the
session cache (TTL 300 s). Values are JSON. Hit/miss counters are exposed through the metrics endpoint.
A Redis outage degrades to a miss (logged), never to a failed chat turn.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from cachetools import TTLCache

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CacheCounters:
    hits: int = 0
    misses: int = 0
    sets: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int | float]:
        lookups = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.misses,
            "sets": self.sets,
            "errors": self.errors,
            "hit_ratio": round(self.hits / lookups, 4) if lookups else 0.0,
        }


class JsonCache(Protocol):
    name: str
    backend: str
    counters: CacheCounters

    async def get(self, key: str) -> Any | None: ...
    async def set(self, key: str, value: Any) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def close(self) -> None: ...


def cache_key(*parts: Any) -> str:
    """Stable digest of JSON-able parts (model, messages, tools...)."""
    raw = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


class MemoryCache:
    backend = "memory"

    def __init__(self, name: str, ttl_seconds: float, maxsize: int = 10_000) -> None:
        self.name = name
        self.counters = CacheCounters()
        self._data: TTLCache[str, str] = TTLCache(maxsize=maxsize, ttl=ttl_seconds)
        self._lock = threading.Lock()  # TTLCache is not thread-safe; the CLI may share it across threads

    async def get(self, key: str) -> Any | None:
        with self._lock:
            raw = self._data.get(key)
        if raw is None:
            self.counters.misses += 1
            return None
        self.counters.hits += 1
        return json.loads(raw)

    async def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = json.dumps(value, default=str)
        self.counters.sets += 1

    async def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    async def close(self) -> None:
        with self._lock:
            self._data.clear()


class RedisCache:
    backend = "redis"

    def __init__(self, name: str, ttl_seconds: float, url: str, prefix: str = "quantops:chat:") -> None:
        import redis.asyncio as redis_asyncio

        self.name = name
        self.counters = CacheCounters()
        self._ttl = max(1, int(ttl_seconds))
        self._prefix = f"{prefix}{name}:"
        self._client = redis_asyncio.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> Any | None:
        try:
            raw = await self._client.get(self._key(key))
        except Exception as exc:  # Redis down → behave as a miss
            self.counters.errors += 1
            self.counters.misses += 1
            log.warning("redis cache %s get failed: %s", self.name, type(exc).__name__)
            return None
        if raw is None:
            self.counters.misses += 1
            return None
        self.counters.hits += 1
        return json.loads(raw)

    async def set(self, key: str, value: Any) -> None:
        try:
            await self._client.set(self._key(key), json.dumps(value, default=str), ex=self._ttl)
            self.counters.sets += 1
        except Exception as exc:
            self.counters.errors += 1
            log.warning("redis cache %s set failed: %s", self.name, type(exc).__name__)

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete(self._key(key))
        except Exception as exc:
            self.counters.errors += 1
            log.warning("redis cache %s delete failed: %s", self.name, type(exc).__name__)

    async def ttl(self, key: str) -> int:
        return int(await self._client.ttl(self._key(key)))

    async def close(self) -> None:
        await self._client.aclose()


def make_cache(
    name: str, ttl_seconds: float, redis_url: str | None, prefix: str = "quantops:chat:"
) -> JsonCache:
    if redis_url:
        return RedisCache(name, ttl_seconds, redis_url, prefix)
    return MemoryCache(name, ttl_seconds)
