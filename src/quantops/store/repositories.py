"""Repositories: every query of the service layer, each method one short transaction.

Ownership is part of every query (``owner_id``): a row of another user is simply not found.
Backtest status changes are conditional UPDATEs so a status only ever moves forward, even when
several processes (server, local workers, Celery workers) race on the same row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from quantops.common import utcnow
from quantops.store.db import Database
from quantops.store.models import (
    ApiKey,
    Backtest,
    BacktestResult,
    ChatSession,
    ChatTurn,
    Strategy,
    User,
)


class DuplicateError(Exception):
    """A unique constraint was violated (e.g. a strategy name used twice by one owner)."""


def hash_api_key(key: str) -> str:
    # Keys are 256-bit random tokens, so an unsalted SHA-256 cannot be brute-forced; it allows a lookup.
    return hashlib.sha256(key.encode()).hexdigest()


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, name: str, roles: Sequence[str]) -> User:
        async with self.db.write_session() as session:
            user = User(name=name, roles=sorted(set(roles)))
            session.add(user)
            try:
                await session.commit()
            except IntegrityError as exc:
                raise DuplicateError(f"user {name!r} exists") from exc
            return user

    async def get(self, user_id: str) -> User | None:
        async with self.db.session() as session:
            return await session.get(User, user_id)

    async def get_by_name(self, name: str) -> User | None:
        async with self.db.session() as session:
            return (await session.execute(select(User).where(User.name == name))).scalar_one_or_none()

    async def list(self) -> list[User]:
        async with self.db.session() as session:
            return list((await session.execute(select(User).order_by(User.created_at))).scalars())

    async def update(self, user_id: str, **values: Any) -> User | None:
        async with self.db.write_session() as session:
            await session.execute(update(User).where(User.id == user_id).values(**values))
            await session.commit()
            return await session.get(User, user_id)

    async def add_api_key(self, user_id: str, key: str, label: str = "") -> ApiKey:
        async with self.db.write_session() as session:
            api_key = ApiKey(user_id=user_id, key_hash=hash_api_key(key), prefix=key[:10], label=label)
            session.add(api_key)
            await session.commit()
            return api_key

    async def user_for_key(self, key: str) -> User | None:
        async with self.db.session() as session:
            stmt = (
                select(User)
                .join(ApiKey, ApiKey.user_id == User.id)
                .where(ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None))
            )
            return (await session.execute(stmt)).scalar_one_or_none()

    async def revoke_keys(self, user_id: str) -> int:
        async with self.db.write_session() as session:
            result = await session.execute(
                update(ApiKey)
                .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            await session.commit()
            return result.rowcount or 0


class StrategyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, owner_id: str, name: str, description: str, config_type: str, config: dict[str, Any]
    ) -> Strategy:
        async with self.db.write_session() as session:
            now = utcnow()
            row = Strategy(
                owner_id=owner_id,
                name=name,
                description=description,
                config_type=config_type,
                config=config,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            try:
                await session.commit()
            except IntegrityError as exc:
                raise DuplicateError(f"strategy name {name!r} is already used") from exc
            return row

    async def get(self, owner_id: str, strategy_id: str) -> Strategy | None:
        async with self.db.session() as session:
            stmt = select(Strategy).where(Strategy.id == strategy_id, Strategy.owner_id == owner_id)
            return (await session.execute(stmt)).scalar_one_or_none()

    async def list(self, owner_id: str) -> list[Strategy]:
        async with self.db.session() as session:
            stmt = (
                select(Strategy)
                .where(Strategy.owner_id == owner_id)
                .order_by(Strategy.created_at.desc(), Strategy.id)
            )
            return list((await session.execute(stmt)).scalars())

    async def update(self, owner_id: str, strategy_id: str, **values: Any) -> Strategy | None:
        async with self.db.write_session() as session:
            stmt = (
                update(Strategy)
                .where(Strategy.id == strategy_id, Strategy.owner_id == owner_id)
                .values(**values, updated_at=utcnow())
            )
            try:
                result = await session.execute(stmt)
                await session.commit()
            except IntegrityError as exc:
                raise DuplicateError(f"strategy name {values.get('name')!r} is already used") from exc
            if not result.rowcount:
                return None
        return await self.get(owner_id, strategy_id)

    async def delete(self, owner_id: str, strategy_id: str) -> bool:
        async with self.db.write_session() as session:
            result = await session.execute(
                delete(Strategy).where(Strategy.id == strategy_id, Strategy.owner_id == owner_id)
            )
            await session.commit()
            return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class RunSample:
    """One measured run, input of the duration model."""

    n_bars: int
    run_seconds: float


class BacktestRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, **values: Any) -> Backtest:
        async with self.db.write_session() as session:
            row = Backtest(**values)
            session.add(row)
            await session.commit()
            return row

    async def get(self, backtest_id: str, owner_id: str | None = None) -> Backtest | None:
        """owner_id=None only for the job machinery, which acts on behalf of the owner."""
        async with self.db.session() as session:
            stmt = select(Backtest).where(Backtest.id == backtest_id)
            if owner_id is not None:
                stmt = stmt.where(Backtest.owner_id == owner_id)
            return (await session.execute(stmt)).scalar_one_or_none()

    async def list(
        self,
        owner_id: str,
        status: str | None = None,
        strategy_id: str | None = None,
        symbol: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[Backtest], int]:
        conditions = [Backtest.owner_id == owner_id]
        if status is not None:
            conditions.append(Backtest.status == status)
        if strategy_id is not None:
            conditions.append(Backtest.strategy_id == strategy_id)
        if symbol is not None:
            conditions.append(Backtest.symbol == symbol)
        async with self.db.session() as session:
            stmt = (
                select(Backtest)
                .where(*conditions)
                .order_by(Backtest.created_at.desc(), Backtest.id.desc())
                .limit(limit)
                .offset(offset)
            )
            rows = list((await session.execute(stmt)).scalars())
            if len(rows) < limit and (rows or offset == 0):
                return rows, offset + len(rows)  # a page that is not full is the end: no count query
            total = (await session.execute(select(func.count()).where(*conditions))).scalar_one()
            return rows, int(total)

    async def unfinished(self) -> list[Backtest]:
        """pending/running rows, oldest first (what recovery looks at on startup)."""
        async with self.db.session() as session:
            stmt = (
                select(Backtest)
                .where(Backtest.status.in_(("pending", "running")))
                .order_by(Backtest.created_at, Backtest.id)
            )
            return list((await session.execute(stmt)).scalars())

    async def count_unfinished(self) -> int:
        async with self.db.session() as session:
            stmt = select(func.count()).where(Backtest.status.in_(("pending", "running")))
            return int((await session.execute(stmt)).scalar_one())

    async def claim(
        self,
        backtest_id: str,
        max_attempts: int,
        expected_attempts: int | None = None,
        stale_before: datetime | None = None,
    ) -> int | None:
        """pending|running → running with attempts+1; returns the attempt number or None if not claimable.

        Claiming a `running` row is how a job whose worker died is run again; the attempt number makes
        the later completion of an older, presumed-dead attempt a no-op. With `expected_attempts` (queue
        messages carry the value they were sent with) a duplicate message cannot claim twice, unless the
        row is `running` since before `stale_before` (its worker is presumed dead).
        """
        conditions = [
            Backtest.id == backtest_id,
            Backtest.status.in_(("pending", "running")),
            Backtest.attempts < max_attempts,
        ]
        if expected_attempts is not None:
            owner = Backtest.attempts == expected_attempts
            if stale_before is not None:
                owner = or_(owner, and_(Backtest.status == "running", Backtest.started_at < stale_before))
            conditions.append(owner)
        async with self.db.write_session() as session:
            result = await session.execute(
                update(Backtest)
                .where(*conditions)
                .values(status="running", attempts=Backtest.attempts + 1, started_at=utcnow())
                .returning(Backtest.attempts)
            )
            attempt = result.scalar_one_or_none()
            await session.commit()
            return attempt

    async def complete(
        self,
        backtest_id: str,
        attempt: int,
        *,
        stats: dict[str, Any],
        equity: dict[str, Any],
        trades: dict[str, Any],
        n_bars: int,
        run_seconds: float,
        report_path: str | None,
    ) -> bool:
        """running(attempt) → completed, storing the result in the same transaction."""
        async with self.db.write_session() as session:
            result = await session.execute(
                update(Backtest)
                .where(Backtest.id == backtest_id, Backtest.status == "running", Backtest.attempts == attempt)
                .values(
                    status="completed",
                    finished_at=utcnow(),
                    stats=stats,
                    n_bars=n_bars,
                    run_seconds=run_seconds,
                    report_path=report_path,
                    error=None,
                )
            )
            if not result.rowcount:
                await session.rollback()
                return False
            await session.execute(delete(BacktestResult).where(BacktestResult.backtest_id == backtest_id))
            session.add(BacktestResult(backtest_id=backtest_id, stats=stats, equity=equity, trades=trades))
            await session.commit()
            return True

    async def fail(self, backtest_id: str, error: str, attempt: int | None = None) -> bool:
        """pending|running → failed. With `attempt`, only if that attempt still owns the row."""
        async with self.db.write_session() as session:
            stmt = update(Backtest).where(
                Backtest.id == backtest_id, Backtest.status.in_(("pending", "running"))
            )
            if attempt is not None:
                stmt = stmt.where(Backtest.attempts == attempt)
            result = await session.execute(stmt.values(status="failed", finished_at=utcnow(), error=error))
            await session.commit()
            return bool(result.rowcount)

    async def cancel(self, backtest_id: str, owner_id: str) -> bool:
        async with self.db.write_session() as session:
            result = await session.execute(
                update(Backtest)
                .where(
                    Backtest.id == backtest_id,
                    Backtest.owner_id == owner_id,
                    Backtest.status.in_(("pending", "running")),
                )
                .values(status="cancelled", finished_at=utcnow(), error="cancelled by user")
            )
            await session.commit()
            return bool(result.rowcount)

    async def set_report_path(self, backtest_id: str, report_path: str) -> None:
        async with self.db.write_session() as session:
            await session.execute(
                update(Backtest).where(Backtest.id == backtest_id).values(report_path=report_path)
            )
            await session.commit()

    async def result(self, backtest_id: str) -> BacktestResult | None:
        async with self.db.session() as session:
            return await session.get(BacktestResult, backtest_id)

    async def recent_runs(self, config_type: str, limit: int = 50) -> list[RunSample]:
        async with self.db.session() as session:
            stmt = (
                select(Backtest.n_bars, Backtest.run_seconds)
                .where(
                    Backtest.config_type == config_type,
                    Backtest.status == "completed",
                    Backtest.run_seconds.is_not(None),
                    Backtest.n_bars.is_not(None),
                )
                .order_by(Backtest.finished_at.desc())
                .limit(limit)
            )
            return [RunSample(int(n), float(s)) for n, s in (await session.execute(stmt)).all()]


class ChatRepository:
    """Chat sessions and turns (used by the ChatOps layer)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_session(
        self,
        owner_id: str,
        title: str = "",
        channel: str = "api",
        state: dict[str, Any] | None = None,
        expires_at: datetime | None = None,
    ) -> ChatSession:
        async with self.db.write_session() as session:
            now = utcnow()
            row = ChatSession(
                owner_id=owner_id,
                title=title,
                channel=channel,
                state=state or {},
                created_at=now,
                updated_at=now,
                expires_at=expires_at,
            )
            session.add(row)
            await session.commit()
            return row

    async def get_session(self, owner_id: str, session_id: str) -> ChatSession | None:
        async with self.db.session() as session:
            stmt = select(ChatSession).where(ChatSession.id == session_id, ChatSession.owner_id == owner_id)
            return (await session.execute(stmt)).scalar_one_or_none()

    async def list_sessions(self, owner_id: str, limit: int = 50) -> list[ChatSession]:
        async with self.db.session() as session:
            stmt = (
                select(ChatSession)
                .where(ChatSession.owner_id == owner_id)
                .order_by(ChatSession.updated_at.desc())
                .limit(limit)
            )
            return list((await session.execute(stmt)).scalars())

    async def update_session(self, owner_id: str, session_id: str, **values: Any) -> bool:
        async with self.db.write_session() as session:
            result = await session.execute(
                update(ChatSession)
                .where(ChatSession.id == session_id, ChatSession.owner_id == owner_id)
                .values(**values, updated_at=utcnow())
            )
            await session.commit()
            return bool(result.rowcount)

    async def delete_session(self, owner_id: str, session_id: str) -> bool:
        async with self.db.write_session() as session:
            result = await session.execute(
                delete(ChatSession).where(ChatSession.id == session_id, ChatSession.owner_id == owner_id)
            )
            await session.commit()
            return bool(result.rowcount)

    async def delete_expired(self, now: datetime | None = None) -> int:
        async with self.db.write_session() as session:
            result = await session.execute(
                delete(ChatSession).where(
                    ChatSession.expires_at.is_not(None), ChatSession.expires_at < (now or utcnow())
                )
            )
            await session.commit()
            return result.rowcount or 0

    async def add_turn(
        self,
        session_id: str,
        role: str,
        content: str,
        tool_calls: list[Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> ChatTurn:
        async with self.db.write_session() as session:
            seq = (
                await session.execute(
                    select(func.coalesce(func.max(ChatTurn.seq), 0)).where(ChatTurn.session_id == session_id)
                )
            ).scalar_one()
            turn = ChatTurn(
                session_id=session_id,
                seq=int(seq) + 1,
                role=role,
                content=content,
                tool_calls=tool_calls,
                meta=meta or {},
            )
            session.add(turn)
            await session.execute(
                update(ChatSession).where(ChatSession.id == session_id).values(updated_at=utcnow())
            )
            await session.commit()
            return turn

    async def turns(self, session_id: str, last: int | None = None) -> list[ChatTurn]:
        """Turns in order; `last` keeps only the most recent N."""
        async with self.db.session() as session:
            stmt = select(ChatTurn).where(ChatTurn.session_id == session_id).order_by(ChatTurn.seq.desc())
            if last is not None:
                stmt = stmt.limit(last)
            return list(reversed(list((await session.execute(stmt)).scalars())))
