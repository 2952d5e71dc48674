"""Chat persistence on the service-core ``ChatRepository`` (same models and tables), plus one
write path the chat needs to be fast: a turn's messages and the session update in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from quantops.store.models import ChatSession, ChatTurn, utcnow
from quantops.store.repositories import ChatRepository


class ChatStore(ChatRepository):
    async def record_turns(
        self, owner_id: str, session_id: str, turns: list[dict[str, Any]], **session_values: Any
    ) -> list[ChatTurn]:
        """Append ``turns`` ({role, content, tool_calls?, meta?}) and update the session, atomically.

        Sequence numbers come from the table inside the transaction (the unique (session, seq)
        constraint guards against a concurrent writer in another process)."""
        async with self.db.session() as session:
            last = (
                await session.execute(
                    select(func.coalesce(func.max(ChatTurn.seq), 0)).where(ChatTurn.session_id == session_id)
                )
            ).scalar_one()
            now = utcnow()
            rows = [
                ChatTurn(
                    session_id=session_id,
                    seq=int(last) + offset,
                    role=turn["role"],
                    content=turn["content"],
                    tool_calls=turn.get("tool_calls"),
                    meta=turn.get("meta") or {},
                    created_at=now,
                )
                for offset, turn in enumerate(turns, start=1)
            ]
            session.add_all(rows)
            await session.execute(
                update(ChatSession)
                .where(ChatSession.id == session_id, ChatSession.owner_id == owner_id)
                .values(**session_values, updated_at=now)
            )
            await session.commit()
            return rows
