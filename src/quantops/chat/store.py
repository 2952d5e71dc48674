"""Chat persistence on the service-core ``ChatRepository`` (same models and tables), plus one
write path the chat needs to be fast: a turn's messages and the session update in one transaction.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Update, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_incrementing,
    wait_random,
)

from quantops.common import utcnow
from quantops.services.errors import NotFoundError
from quantops.services.inputs import without_nul
from quantops.store.models import ChatSession, ChatTurn
from quantops.store.repositories import ChatRepository

_ATTEMPTS = 10
# Statements of the per-turn write, built once: constructing and cache-keying them per turn was a tenth of
# the turn's CPU. Bound values are named b_<column> (a bind may not share a column's name).
_INSERT_TURNS = insert(ChatTurn)


@functools.cache
def _session_update(columns: frozenset[str]) -> Update:
    """UPDATE of a live session's ``columns`` (+ updated_at) for owner and id given as b_* binds."""
    return (
        update(ChatSession)
        .where(
            ChatSession.id == bindparam("b_session_id"),
            ChatSession.owner_id == bindparam("b_owner_id"),
            or_(ChatSession.expires_at.is_(None), ChatSession.expires_at > bindparam("b_now")),
        )
        .values(
            {
                **{column: bindparam(f"b_{column}") for column in sorted(columns)},
                "updated_at": bindparam("b_now"),
            }
        )
    )


@dataclass(frozen=True, slots=True)
class RecordedTurn:
    seq: int
    created_at: datetime


class ChatStore(ChatRepository):
    async def record_turns(
        self,
        owner_id: str,
        session_id: str,
        turns: list[dict[str, Any]],
        last_seq_hint: int | None = None,
        **session_values: Any,
    ) -> list[RecordedTurn]:
        """``last_seq_hint``: the last seq this process knows (saves a query); wrong hints are retried.

        Turns of one session are serialized per process; another process writing the same session at
        the same moment makes the (session, seq) constraint fire: take the next numbers and retry."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(IntegrityError),
            stop=stop_after_attempt(_ATTEMPTS),
            # a short random pause that grows per attempt, so two writers stop colliding
            wait=wait_random(0.001, 0.01) + wait_incrementing(start=0.0, increment=0.005),
            reraise=True,
        ):
            with attempt:
                hint = last_seq_hint if attempt.retry_state.attempt_number == 1 else None
                # LLM output may contain NUL, which PostgreSQL cannot store: replaced, on both databases.
                clean_turns, clean_values = without_nul(turns), without_nul(session_values)
                return await self._record_turns(owner_id, session_id, clean_turns, hint, **clean_values)
        raise AssertionError("unreachable")

    async def _record_turns(
        self,
        owner_id: str,
        session_id: str,
        turns: list[dict[str, Any]],
        last_seq_hint: int | None,
        **session_values: Any,
    ) -> list[RecordedTurn]:
        """Append ``turns`` ({role, content, tool_calls?, meta?}) and update the session, atomically.

        Sequence numbers come from the table inside the transaction (the unique (session, seq)
        constraint guards against a concurrent writer in another process)."""
        # A Core connection, not an ORM session: no unit of work, identity map or session object on the
        # hot path of every chat turn. SQLite writers of this process queue on the store's writer lock
        # (no busy-handler sleeps of up to 100 ms when 50 sessions write at once).
        async with self.db.write_connection() as conn:
            last = last_seq_hint
            if last is None:
                last = (
                    await conn.execute(
                        select(func.coalesce(func.max(ChatTurn.seq), 0)).where(
                            ChatTurn.session_id == session_id
                        )
                    )
                ).scalar_one()
            now = utcnow()
            # The session must still be live: a turn never revives an expired (not yet purged) session.
            bound = {f"b_{key}": value for key, value in session_values.items()}
            updated = await conn.execute(
                _session_update(frozenset(session_values)),
                {"b_session_id": session_id, "b_owner_id": owner_id, "b_now": now, **bound},
            )
            if updated.rowcount == 0:  # the transaction rolls back as the error leaves it
                raise NotFoundError("chat session", session_id)
            values = [
                {
                    "session_id": session_id,
                    "seq": int(last) + offset,
                    "role": turn["role"],
                    "content": turn["content"],
                    "tool_calls": turn.get("tool_calls"),
                    "meta": turn.get("meta") or {},
                    "created_at": now,
                }
                for offset, turn in enumerate(turns, start=1)
            ]
            await conn.execute(_INSERT_TURNS, values)
        return [RecordedTurn(v["seq"], v["created_at"]) for v in values]
