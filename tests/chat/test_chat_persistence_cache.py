"""Durability (restart, TTL purge) and the caches (real Redis on 127.0.0.1:6379, in-process fallback)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis_asyncio

from quantops.chat.cache import MemoryCache, RedisCache, cache_key
from quantops.chat.llm import LLMAgent
from quantops.config import get_settings
from quantops.services.container import build_container
from quantops.services.errors import NotFoundError

from .conftest import CHAT_EXTENSIONS, FakeLLM, start_chat_server

pytestmark = pytest.mark.timeout(180)
REDIS_URL = "redis://127.0.0.1:6379/0"


def test_restart_loses_nothing(tmp_path: Path) -> None:
    server, info = start_chat_server(tmp_path)
    with server, httpx.Client(timeout=60) as client:
        api = server.url + "/api/v1/chatops-advanced"
        sid = client.post(f"{api}/session/create", headers=info.headers()).json()["session_id"]
        first = client.post(
            f"{api}/session/{sid}/chat",
            headers=info.headers(),
            json={"question": "backtest sma 10/50 on MSFT 2016-2020", "user_roles": ["analyst"]},
        )
        backtest_id = first.json()["backtest_ids"][0]
    # a new process-level server on the same database and DuckDB file
    again, info2 = start_chat_server(tmp_path, keys=(info.keys, info.user_ids))
    with again, httpx.Client(timeout=60) as client:
        api = again.url + "/api/v1/chatops-advanced"
        session = client.get(f"{api}/session/{sid}", headers=info2.headers()).json()
        assert [m["role"] for m in session["conversation_history"]] == ["user", "assistant"]
        assert session["context"]["last_backtest_id"] == backtest_id
        reply = client.post(
            f"{api}/session/{sid}/chat",
            headers=info2.headers(),
            json={"question": "그 결과 보여줘", "user_roles": ["analyst"]},
        ).json()
        assert reply["conversation_turn"] == 2
        assert reply["tool_calls"][0]["arguments"] == {"backtest_id": backtest_id}
        assert reply["tool_calls"][0]["result"]["status"] == "completed"


async def test_sessions_expire_and_are_purged(tmp_path: Path, database_url: str) -> None:
    """SQLite and PostgreSQL (shared `database_url` fixture)."""
    settings = get_settings(
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=None,
        llm_api_key=None,
        llm_base_url=None,
        session_ttl_hours=1.0 / 3600,
    )  # 1 s
    container = build_container(settings, with_market_data=False, extensions=CHAT_EXTENSIONS)
    try:
        await container.db.upgrade()
        created = await container.users.create("tess", ["analyst"])
        user = await container.users.authenticate(created.api_key)
        assert user is not None
        chat = container.chat
        keep = (await chat.create_session(user)).session_id
        drop = (await chat.create_session(user)).session_id
        await asyncio.sleep(0.6)
        await chat.chat(user, keep, "help", ["analyst"])  # activity pushes expiry forward
        await asyncio.sleep(0.6)
        with pytest.raises(NotFoundError):
            await chat.get_session(user, drop)  # expired: gone for its owner even before the purge
        assert (await chat.get_session(user, keep)).is_active
        assert await chat.purge_expired() == 1
        assert await container.chat_repository.get_session(user.id, drop) is None
        assert await container.chat_repository.get_session(user.id, keep) is not None
    finally:
        await container.chat.aclose()
        await container.db.dispose()


@pytest.fixture
async def redis_prefix() -> str:
    prefix = f"quantops-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis_asyncio.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.mark.redis
async def test_redis_cache_roundtrip_ttl_and_counters(redis_prefix: str) -> None:
    cache = RedisCache("session", 300, REDIS_URL, prefix=redis_prefix)
    try:
        assert await cache.get("k1") is None
        await cache.set("k1", {"context": {"last_symbol": "AAPL"}, "n": [1, 2]})
        assert await cache.get("k1") == {"context": {"last_symbol": "AAPL"}, "n": [1, 2]}
        assert 290 <= await cache.ttl("k1") <= 300
        await cache.delete("k1")
        assert await cache.get("k1") is None
        assert cache.counters.as_dict() == {
            "hits": 1,
            "misses": 2,
            "sets": 1,
            "errors": 0,
            "hit_ratio": 0.3333,
        }
    finally:
        await cache.close()


async def test_cache_outage_and_memory_ttl() -> None:
    down = RedisCache("llm", 60, "redis://127.0.0.1:1/0")
    await down.set("x", 1)
    assert await down.get("x") is None and down.counters.errors == 2
    await down.close()
    memory = MemoryCache("session", ttl_seconds=0.2)
    await memory.set("x", {"a": 1})
    assert await memory.get("x") == {"a": 1}
    await asyncio.sleep(0.3)
    assert await memory.get("x") is None
    assert cache_key("m", [{"role": "user", "content": "a"}]) != cache_key(
        "m", [{"role": "user", "content": "b"}]
    )


@pytest.mark.redis
async def test_llm_response_cache_on_redis(redis_prefix: str, fake_llm: FakeLLM) -> None:
    settings = get_settings(llm_base_url=fake_llm.url, llm_api_key="sk-x", llm_model="test-model")
    cache = RedisCache("llm", settings.llm_cache_ttl_seconds, REDIS_URL, prefix=redis_prefix)
    agent = LLMAgent(settings, cache)

    async def no_tools(name: str, arguments: dict) -> dict:
        raise AssertionError("no tool expected")

    try:
        fake_llm.script({"text": "cached answer"}, {"text": "second call must not happen"})
        question = f"hello {redis_prefix}"
        first = await agent.answer([], question, [], no_tools)
        chunks: list[str] = []

        async def sink(text: str) -> None:
            chunks.append(text)

        second = await agent.answer([], question, [], no_tools, sink)
        assert first.content == second.content == "cached answer"
        assert (first.cached_completions, second.cached_completions) == (0, 1)
        assert len(fake_llm.requests) == 1 and chunks == ["cached answer"]
        assert cache.counters.hits == 1 and cache.counters.misses == 1
        assert (
            3590
            <= await cache.ttl(
                cache_key(
                    "test-model",
                    0.7,
                    1000,
                    [
                        {"role": "system", "content": agent_prompt(agent)},
                        {"role": "user", "content": question},
                    ],
                    [],
                )
            )
            <= 3600
        )
    finally:
        await agent.close()
        await cache.close()


def agent_prompt(agent: LLMAgent) -> str:
    from quantops.chat.llm import SYSTEM_PROMPT

    return SYSTEM_PROMPT.format(tools="none")


@pytest.mark.redis
async def test_session_cache_on_redis_when_configured(tmp_path: Path) -> None:
    prefix = f"quantops-test-{uuid.uuid4().hex[:10]}"
    settings = get_settings(
        data_dir=tmp_path,
        database_url=None,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        llm_api_key=None,
        llm_base_url=None,
    )
    container = build_container(settings, with_market_data=False, extensions=CHAT_EXTENSIONS)
    client = redis_asyncio.from_url(REDIS_URL)
    try:
        await container.db.upgrade()
        created = await container.users.create("rita", ["analyst"])
        user = await container.users.authenticate(created.api_key)
        assert user is not None
        chat = container.chat
        sid = (await chat.create_session(user)).session_id
        await chat.chat(user, sid, "help", ["analyst"])
        await chat.chat(user, sid, "도움말", ["analyst"])
        metrics = chat.metrics()["caches"]["session"]
        assert metrics["backend"] == "redis" and metrics["hits"] == 2 and metrics["errors"] == 0
        stored = json.loads(await client.get(f"{prefix}:chat:session:{sid}"))
        assert stored["owner_id"] == user.id and len(stored["history"]) == 4
        assert 0 < await client.ttl(f"{prefix}:chat:session:{sid}") <= settings.session_cache_ttl_seconds
        # another user cannot use the cached state of this session
        other = await container.users.create("otto", ["analyst"])
        intruder = await container.users.authenticate(other.api_key)
        assert intruder is not None
        with pytest.raises(NotFoundError):
            await chat.chat(intruder, sid, "help", ["analyst"])
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        await container.chat.aclose()
        await container.db.dispose()


async def test_concurrent_writers_never_lose_or_clash_turns(tmp_path: Path, database_url: str) -> None:
    """Two stores (as two API processes would) appending to one session at once: all turns kept, in order."""
    from quantops.chat.store import ChatStore

    settings = get_settings(
        data_dir=tmp_path, database_url=database_url, redis_url=None, llm_api_key=None, llm_base_url=None
    )
    container = build_container(settings, with_market_data=False, extensions=())
    try:
        await container.db.upgrade()
        owner = await container.users.create("cora", ["analyst"])
        first, second = ChatStore(container.db), ChatStore(container.db)
        session = await first.create_session(owner.id)
        await asyncio.gather(
            *[
                (first if i % 2 else second).record_turns(
                    owner.id,
                    session.id,
                    [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}],
                )
                for i in range(12)
            ]
        )
        turns = await first.turns(session.id)
        assert [t.seq for t in turns] == list(range(1, 25))
        # each question is directly followed by its own answer
        assert all(turns[k + 1].content == "a" + turns[k].content[1:] for k in range(0, 24, 2))
        # a stale seq hint (another process wrote meanwhile) is retried with the real numbers
        stale = await first.record_turns(owner.id, session.id, [{"role": "user", "content": "late"}], 3)
        assert [t.seq for t in stale] == [25]
    finally:
        await container.db.dispose()
