"""Repositories and migrations on SQLite and PostgreSQL: ownership, forward-only status, chat storage."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from quantops.store.db import Database, head_revision
from quantops.store.models import Base, utcnow
from quantops.store.repositories import (
    BacktestRepository,
    ChatRepository,
    DuplicateError,
    StrategyRepository,
    UserRepository,
    hash_api_key,
)


@pytest.fixture
async def db(database_url: str):
    database = Database(database_url)
    yield database
    await database.dispose()


def _diff(connection):
    return compare_metadata(MigrationContext.configure(connection), Base.metadata)


async def test_migrations_reach_head_and_match_models(db: Database) -> None:
    assert await db.current_revision() == head_revision()
    async with db.engine.connect() as conn:
        differences = await conn.run_sync(_diff)
    assert differences == [], differences
    await db.upgrade()  # idempotent
    assert await db.current_revision() == head_revision()


async def _user(db: Database, name: str) -> str:
    return (await UserRepository(db).create(name, ["analyst"])).id


async def test_api_keys_are_stored_hashed_and_revocable(db: Database) -> None:
    users = UserRepository(db)
    user = await users.create("kim", ["analyst", "viewer", "analyst"])
    assert user.roles == ["analyst", "viewer"]
    key = "qo_secret-token-value"
    stored = await users.add_api_key(user.id, key)
    assert stored.key_hash == hash_api_key(key) and key not in stored.key_hash
    assert (await users.user_for_key(key)).id == user.id
    assert await users.user_for_key(key + "x") is None
    assert await users.revoke_keys(user.id) == 1
    assert await users.user_for_key(key) is None
    with pytest.raises(DuplicateError):
        await users.create("kim", ["viewer"])


async def test_strategies_are_owned(db: Database) -> None:
    alice, bob = await _user(db, "alice"), await _user(db, "bob")
    repo = StrategyRepository(db)
    config = {"config_type": "sma_crossover", "fast": 10, "slow": 20}
    mine = await repo.create(alice, "s1", "", "sma_crossover", config)
    with pytest.raises(DuplicateError):
        await repo.create(alice, "s1", "", "sma_crossover", config)
    await repo.create(bob, "s1", "", "sma_crossover", config)  # same name, other owner: fine
    assert await repo.get(bob, mine.id) is None
    assert await repo.update(bob, mine.id, name="stolen") is None
    assert not await repo.delete(bob, mine.id)
    updated = await repo.update(alice, mine.id, name="renamed")
    assert updated is not None and updated.name == "renamed" and updated.updated_at >= mine.updated_at
    assert [s.name for s in await repo.list(alice)] == ["renamed"]


async def _backtest(db: Database, owner: str, **values):
    return await BacktestRepository(db).create(
        owner_id=owner,
        config_type="sma_crossover",
        config={"config_type": "sma_crossover", "fast": 10, "slow": 20},
        settings={},
        symbol=values.pop("symbol", "GOOG"),
        **values,
    )


async def test_status_only_moves_forward(db: Database) -> None:
    owner = await _user(db, "alice")
    repo = BacktestRepository(db)
    row = await _backtest(db, owner)
    assert row.status == "pending" and row.attempts == 0
    result = {"stats": {"x": 1}, "equity": {"t": [1], "v": [1.0]}, "trades": {}}

    attempt = await repo.claim(row.id, max_attempts=3)
    assert attempt == 1
    # A duplicate queue message (sent with attempts=0) cannot claim the running row again.
    assert await repo.claim(row.id, max_attempts=3, expected_attempts=0) is None
    assert await repo.complete(row.id, attempt, n_bars=1, run_seconds=0.1, report_path=None, **result)
    done = await repo.get(row.id)
    assert done.status == "completed" and done.finished_at is not None and done.stats == {"x": 1}
    # Nothing moves a completed row: no claim, no fail, no cancel, no second completion.
    assert await repo.claim(row.id, max_attempts=3) is None
    assert not await repo.fail(row.id, "late failure")
    assert not await repo.cancel(row.id, owner)
    assert not await repo.complete(row.id, attempt, n_bars=1, run_seconds=0.1, report_path=None, **result)
    assert (await repo.get(row.id)).status == "completed"


async def test_cancelled_run_drops_its_result_and_stale_attempts_lose(db: Database) -> None:
    owner = await _user(db, "alice")
    repo = BacktestRepository(db)
    result = {"stats": {}, "equity": {"t": [], "v": []}, "trades": {}}

    cancelled = await _backtest(db, owner)
    attempt = await repo.claim(cancelled.id, max_attempts=3)
    assert await repo.cancel(cancelled.id, owner)
    assert not await repo.complete(cancelled.id, attempt, n_bars=0, run_seconds=0, report_path=None, **result)
    assert (await repo.get(cancelled.id)).status == "cancelled"
    assert await repo.result(cancelled.id) is None

    rerun = await _backtest(db, owner)
    first = await repo.claim(rerun.id, max_attempts=3)
    second = await repo.claim(rerun.id, max_attempts=3)  # recovery re-ran it: attempt 2 owns the row
    assert (first, second) == (1, 2)
    assert not await repo.fail(rerun.id, "old attempt died", attempt=first)
    assert await repo.complete(rerun.id, second, n_bars=0, run_seconds=0, report_path=None, **result)

    exhausted = await _backtest(db, owner)
    for _ in range(2):
        await repo.claim(exhausted.id, max_attempts=2)
    assert await repo.claim(exhausted.id, max_attempts=2) is None


async def test_stale_running_row_can_be_reclaimed_by_a_redelivered_message(db: Database) -> None:
    owner = await _user(db, "alice")
    repo = BacktestRepository(db)
    row = await _backtest(db, owner)
    assert await repo.claim(row.id, 3, expected_attempts=0) == 1
    fresh_cutoff = utcnow() - timedelta(hours=1)
    assert await repo.claim(row.id, 3, expected_attempts=0, stale_before=fresh_cutoff) is None
    future_cutoff = utcnow() + timedelta(seconds=1)  # "started before now+1s" = stale
    assert await repo.claim(row.id, 3, expected_attempts=0, stale_before=future_cutoff) == 2


async def test_concurrent_claims_have_one_winner(db: Database) -> None:
    owner = await _user(db, "alice")
    repo = BacktestRepository(db)
    row = await _backtest(db, owner)
    results = await asyncio.gather(*(repo.claim(row.id, 5, expected_attempts=0) for _ in range(8)))
    assert sorted(r for r in results if r is not None) == [1]


async def test_list_filters_paginates_newest_first(db: Database) -> None:
    alice, bob = await _user(db, "alice"), await _user(db, "bob")
    repo = BacktestRepository(db)
    ids = []
    for i in range(5):
        row = await _backtest(db, alice, symbol="AAPL" if i % 2 else "GOOG", created_at=utcnow())
        ids.append(row.id)
    await _backtest(db, bob)
    rows, total = await repo.list(alice, limit=2, offset=0)
    assert total == 5 and [r.id for r in rows] == ids[::-1][:2]
    rows, total = await repo.list(alice, symbol="AAPL")
    assert total == 2 and {r.id for r in rows} == {ids[1], ids[3]}
    await repo.claim(ids[0], 3)
    rows, total = await repo.list(alice, status="running")
    assert total == 1 and rows[0].id == ids[0]
    assert (await repo.list(bob))[1] == 1
    assert await repo.get(ids[0], owner_id=bob) is None


async def test_chat_sessions_and_turns(db: Database) -> None:
    alice, bob = await _user(db, "alice"), await _user(db, "bob")
    chats = ChatRepository(db)
    session = await chats.create_session(alice, title="t", state={"last": None})
    for i in range(4):
        await chats.add_turn(session.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    turns = await chats.turns(session.id)
    assert [t.seq for t in turns] == [1, 2, 3, 4] and turns[0].content == "m0"
    assert [t.content for t in await chats.turns(session.id, last=2)] == ["m2", "m3"]
    assert await chats.get_session(bob, session.id) is None
    assert await chats.update_session(alice, session.id, state={"last": "x"})
    assert (await chats.get_session(alice, session.id)).state == {"last": "x"}
    expired = await chats.create_session(alice, expires_at=utcnow() - timedelta(minutes=1))
    assert await chats.delete_expired() == 1
    assert await chats.get_session(alice, expired.id) is None
    assert await chats.delete_session(alice, session.id)
    assert await chats.turns(session.id) == []  # cascade


async def test_backtest_page_total_without_a_count_query_unless_the_page_is_full(db: Database) -> None:
    """A page that is not full ends the list, so its total needs no count query; a full page (or one
    past the end) still counts — the totals are the same either way."""
    from sqlalchemy import event

    owner = await _user(db, "pager")
    repo = BacktestRepository(db)
    ids = [(await _backtest(db, owner)).id for _ in range(3)]
    counts: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: counts.append(statement) if "count(" in statement else None,
    )
    cases = [  # (limit, offset) → rows, total, count query needed
        ((5, 0), 3, False),
        ((3, 0), 3, True),
        ((2, 0), 2, True),
        ((2, 2), 1, False),
        ((2, 5), 0, True),
    ]
    for (limit, offset), shown, counted in cases:
        before = len(counts)
        rows, total = await repo.list(owner, limit=limit, offset=offset)
        assert (len(rows), total) == (shown, 3), (limit, offset)
        assert (len(counts) > before) is counted, (limit, offset)
    rows, total = await repo.list(owner, status="completed")
    assert (rows, total) == ([], 0)
    assert {r.id for r in (await repo.list(owner))[0]} == set(ids)
