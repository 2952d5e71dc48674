"""Verified API keys are remembered for `auth_cache_ttl_seconds` (a query saved per request), never
unknown keys; revocation takes effect within the TTL, at once with the cache off (both databases)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from quantops.services.container import build_container


async def _container(make_settings: Callable[..., Any], database_url: str, ttl: float) -> Any:
    container = build_container(
        make_settings(database_url, auth_cache_ttl_seconds=ttl), with_market_data=False, extensions=()
    )
    await container.db.upgrade()
    return container


async def test_verified_key_is_remembered_until_the_ttl(
    make_settings: Callable[..., Any], database_url: str
) -> None:
    container = await _container(make_settings, database_url, ttl=0.5)
    try:
        created = await container.users.create("alice", ["analyst"])
        statements: list[str] = []
        event.listen(
            container.db.engine.sync_engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *rest: statements.append(statement),
        )
        first = await container.users.authenticate(created.api_key)
        assert first is not None and first.name == "alice" and first.roles == frozenset({"analyst"})
        queries = len(statements)
        assert queries == 1
        assert await container.users.authenticate(created.api_key) == first
        assert len(statements) == queries  # answered from memory

        for _ in range(2):  # an unknown key is looked up every time (not remembered as "nobody")
            assert await container.users.authenticate("qo_not-a-key") is None
        assert len(statements) == queries + 2

        assert await container.users.repo.revoke_keys(first.id) == 1
        assert await container.users.authenticate(created.api_key) == first  # within the TTL
        await asyncio.sleep(0.6)
        assert await container.users.authenticate(created.api_key) is None
    finally:
        await container.db.dispose()


async def test_cache_off_checks_the_database_every_time(
    make_settings: Callable[..., Any], database_url: str
) -> None:
    container = await _container(make_settings, database_url, ttl=0)
    try:
        created = await container.users.create("bob", ["viewer"])
        assert await container.users.authenticate(created.api_key) is not None
        await container.users.repo.revoke_keys(created.id)
        assert await container.users.authenticate(created.api_key) is None
    finally:
        await container.db.dispose()
