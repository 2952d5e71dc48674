"""Session expiry wins over the session cache: a chat turn never revives an expired session (#10)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from quantops.services.errors import NotFoundError

pytestmark = pytest.mark.timeout(120)
TTL_SECONDS = 1.0


@pytest.fixture
async def chat_container(make_settings: Callable[..., Any], database_url: str) -> AsyncIterator[Any]:
    from quantops.services.container import build_container

    settings = make_settings(
        database_url,
        session_ttl_hours=TTL_SECONDS / 3600,  # sessions live one second …
        session_cache_ttl_seconds=300,  # … their cache entries five minutes
    )
    container = build_container(settings, extensions=("quantops.chat.service:install",))
    await container.start()
    try:
        yield container
    finally:
        await container.aclose()


async def _expired_session(container: Any) -> tuple[Any, str]:
    created = await container.users.create("carol", ["analyst"])
    user = await container.users.authenticate(created.api_key)
    session = await container.chat.create_session(user)
    reply = await container.chat.chat(user, session.session_id, "help")  # live: the turn works, is cached
    assert reply.conversation_turn == 1
    await asyncio.sleep(TTL_SECONDS * 1.5)
    return user, session.session_id


async def test_a_chat_turn_does_not_revive_an_expired_session(chat_container: Any) -> None:
    user, session_id = await _expired_session(chat_container)
    assert await chat_container.chat.session_cache.get(session_id) is not None  # the entry still lives
    with pytest.raises(NotFoundError):
        await chat_container.chat.chat(user, session_id, "help")
    with pytest.raises(NotFoundError):  # still gone: the failed turn extended nothing
        await chat_container.chat.get_session(user, session_id)
    row = await chat_container.chat.repo.get_session(user.id, session_id)
    assert row is not None and len(await chat_container.chat.repo.turns(session_id)) == 2


async def test_the_store_refuses_turns_for_an_expired_session(chat_container: Any) -> None:
    """Another process may hold a stale cache entry: the write itself checks the expiry."""
    user, session_id = await _expired_session(chat_container)
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    with pytest.raises(NotFoundError):
        await chat_container.chat.repo.record_turns(user.id, session_id, turns, None, state={})
    assert len(await chat_container.chat.repo.turns(session_id)) == 2
