"""Chat sessions and turns: one service behind REST, WebSocket/SSE, the CLI and (later) Slack.

Every turn is persisted (user and assistant, with metadata) through the service-core
``ChatRepository`` before the answer is returned, so a restart loses nothing. The brain is the
LLM agent when one is configured and the offline planner otherwise — and whenever the LLM fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from quantops.chat import render
from quantops.chat.cache import JsonCache, make_cache
from quantops.chat.events import ChatEvent, ChunkEvent, DoneEvent, ErrorEvent, EventSink, ProgressEvent
from quantops.chat.llm import LLMAgent, LLMUnavailable
from quantops.chat.planner import context_after, plan
from quantops.chat.schemas import (
    AutoBacktestRequest,
    AutoBacktestResponse,
    ChatMessage,
    ChatResponse,
    ChatSessionOut,
    ChatSessionSummary,
    SessionCreated,
)
from quantops.chat.store import ChatStore
from quantops.chat.tools import (
    ToolContext,
    ToolOutcome,
    ToolRegistry,
    allowed_tools,
    build_registry,
)
from quantops.chat.trigger import trigger_backtest
from quantops.common import utcnow
from quantops.config import Settings
from quantops.language import Language, detect_language
from quantops.services.errors import NotFoundError, ServiceError, ValidationFailed
from quantops.services.inputs import NUL, NUL_ERROR_TYPE, NUL_MESSAGE
from quantops.services.policy import effective_roles
from quantops.services.schemas import UserContext

log = logging.getLogger(__name__)

# How an offline answer is split into stream chunks (words), so WS/SSE clients see progress.
_OFFLINE_CHUNK_CHARS = 80


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(slots=True)
class _SessionState:
    """What a chat turn needs from a session; cached (TTL) so a turn costs no extra DB read."""

    session_id: str
    owner_id: str
    context: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)  # last N turns {role, content}
    turn_count: int = 0
    expires_at: str | None = None  # ISO time: a cached state never outlives its session

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "owner_id": self.owner_id,
            "context": self.context,
            "history": self.history,
            "turn_count": self.turn_count,
            "expires_at": self.expires_at,
        }


class _Emitter:
    """The turn's view of the caller's sink: a sink that fails (client gone) is dropped, never the turn."""

    __slots__ = ("sink",)

    def __init__(self, sink: EventSink | None) -> None:
        self.sink = sink

    @property
    def active(self) -> bool:
        return self.sink is not None

    async def __call__(self, event: ChatEvent) -> None:
        if self.sink is None:
            return
        try:
            await self.sink(event)
        except Exception:
            # The turn still finishes and is stored; the adapter just stops hearing about it.
            log.warning("chat event sink failed; dropping further events of this turn", exc_info=True)
            self.sink = None

    async def progress(self, message: str) -> None:
        await self(ProgressEvent(message))

    async def text(self, answer: str) -> None:
        """A whole answer as chunk events of about _OFFLINE_CHUNK_CHARS (no text lost)."""
        if self.sink is not None:
            for piece in _chunks(answer):
                await self(ChunkEvent(piece))


class ChatService:
    def __init__(
        self,
        settings: Settings,
        repo: ChatStore,
        container: Any,
        registry: ToolRegistry | None = None,
        llm: LLMAgent | None = None,
        session_cache: JsonCache | None = None,
        llm_cache: JsonCache | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.container = container
        self.registry = registry or build_registry()
        self.llm = llm
        self.session_cache = session_cache or make_cache("session", settings.session_cache_ttl_seconds, None)
        self.llm_cache = llm_cache
        self.session_ttl = timedelta(hours=settings.session_ttl_hours)
        self.history_turns = settings.chat_history_turns
        self._locks: dict[str, asyncio.Lock] = {}
        self._purge_task: asyncio.Task[None] | None = None
        self.turns_total = {"llm": 0, "offline": 0, "fallback": 0}
        # "Today" of relative periods ("last 3 years"); replaceable in tests.
        self.today: Callable[[], date] = date.today

    # ---- what the market-data store holds (cached by the store's version: no query per turn) ---------
    def _catalogue(self) -> dict[str, Any]:
        market = getattr(self.container, "market_data", None)
        catalogue = getattr(market, "catalogue", None)
        return catalogue() if callable(catalogue) else {}

    def _fetches_on_demand(self) -> bool:
        return bool(getattr(getattr(self.container, "market_data", None), "fetches_on_demand", False))

    def _data_info(self, symbol: Any) -> render.DataInfo | None:
        info = self._catalogue().get(str(symbol or "").upper())
        if info is None:
            return None
        return render.DataInfo(info.first[:10], info.last[:10], bool(info.synthetic))

    def _interpretation(
        self, result: dict[str, Any], language: Language, prov: render.Provenance | None
    ) -> str:
        return render.interpretation_line(
            result, language, prov, self._data_info(result.get("symbol")), self.today()
        )

    def _render(
        self, tool: str, result: dict[str, Any], language: Language, prov: render.Provenance | None = None
    ) -> str:
        """A tool result as an answer; a run also states its full interpretation (issue #9's rule)."""
        if tool == "run_backtest":
            return render.render_backtest(
                result, language, just_started=True, interp=self._interpretation(result, language, prov)
            )
        if tool == "get_backtest" and result.get("config"):  # what that run was, defaults marked
            return render.render_backtest(
                result, language, interp=self._interpretation(result, language, None)
            )
        return render.render_result(tool, result, language)

    # ---- sessions --------------------------------------------------------------------------------------
    async def create_session(
        self, user: UserContext, channel: str = "api", title: str = ""
    ) -> SessionCreated:
        expires = utcnow() + self.session_ttl
        row = await self.repo.create_session(
            user.id, title=title, channel=channel, state={}, expires_at=expires
        )
        state = _SessionState(row.id, user.id, {}, expires_at=expires.isoformat())
        await self.session_cache.set(row.id, state.to_json())
        return SessionCreated(
            session_id=row.id, user_id=user.id, created_at=_aware(row.created_at), expires_at=expires
        )

    def _active(self, expires_at: datetime | None) -> bool:
        expires = _aware(expires_at)
        return expires is None or expires > utcnow()

    async def _session_row(self, user: UserContext, session_id: str) -> Any:
        row = await self.repo.get_session(user.id, session_id)
        # An expired session is gone for its owner even before the purge task deletes it.
        if row is None or not self._active(row.expires_at):
            raise NotFoundError("chat session", session_id)
        return row

    async def _state(self, user: UserContext, session_id: str) -> _SessionState:
        cached = await self.session_cache.get(session_id)
        if cached is not None and cached.get("owner_id") == user.id:
            expires = cached.get("expires_at")
            if self._active(datetime.fromisoformat(expires) if expires else None):
                return _SessionState(**cached)
            await self.session_cache.delete(session_id)  # expiry wins over the cache entry
        row = await self._session_row(user, session_id)
        turns = await self.repo.turns(session_id, last=self.history_turns)
        history = [{"role": t.role, "content": t.content} for t in turns if t.role in ("user", "assistant")]
        count = turns[-1].seq if turns else 0
        expires_at = _aware(row.expires_at)
        state = _SessionState(
            session_id,
            user.id,
            dict(row.state or {}),
            history,
            count,
            expires_at.isoformat() if expires_at else None,
        )
        await self.session_cache.set(session_id, state.to_json())
        return state

    async def check_session(self, user: UserContext, session_id: str) -> None:
        """NotFoundError unless the caller's live session: what a stream checks before it starts. From
        the session cache when warm (and warms it for the turn) — not the whole transcript."""
        await self._state(user, session_id)

    async def get_session(self, user: UserContext, session_id: str) -> ChatSessionOut:
        row = await self._session_row(user, session_id)
        turns = await self.repo.turns(session_id)
        return ChatSessionOut(
            session_id=row.id,
            user_id=row.owner_id,
            conversation_history=[
                ChatMessage(
                    role=t.role,
                    content=t.content,
                    timestamp=_aware(t.created_at),
                    metadata={**(t.meta or {}), **({"tool_calls": t.tool_calls} if t.tool_calls else {})},
                )
                for t in turns
            ],
            context=dict(row.state or {}),
            created_at=_aware(row.created_at),
            updated_at=_aware(row.updated_at),
            is_active=self._active(row.expires_at),
            expires_at=_aware(row.expires_at),
        )

    async def list_sessions(self, user: UserContext, limit: int = 50) -> list[ChatSessionSummary]:
        rows = await self.repo.list_sessions(user.id, limit=limit)
        return [
            ChatSessionSummary(
                session_id=r.id,
                title=r.title,
                created_at=_aware(r.created_at),
                updated_at=_aware(r.updated_at),
                is_active=self._active(r.expires_at),
            )
            for r in rows
            if self._active(r.expires_at)
        ]

    async def delete_session(self, user: UserContext, session_id: str) -> None:
        if not await self.repo.delete_session(user.id, session_id):
            raise NotFoundError("chat session", session_id)
        await self.session_cache.delete(session_id)

    async def export(self, user: UserContext, session_id: str, fmt: str) -> tuple[str, str, str]:
        """(filename, media type, body) of a session transcript."""
        session = await self.get_session(user, session_id)
        if fmt == "json":
            return f"chat-{session_id}.json", "application/json", session.model_dump_json(indent=2)
        if fmt != "markdown":
            raise ValidationFailed("format", "enum", "format must be 'json' or 'markdown'")
        lines = [
            f"# Chat session {session.session_id}",
            "",
            f"- created: {session.created_at.isoformat()}",
            f"- updated: {session.updated_at.isoformat()}",
            "",
        ]
        for message in session.conversation_history:
            who = {"user": "You", "assistant": "quantops"}.get(message.role, message.role)
            lines.append(f"### {who} · {message.timestamp.isoformat(timespec='seconds')}")
            lines.append("")
            lines.append(message.content)
            engine = message.metadata.get("engine")
            if engine:
                lines.append("")
                lines.append(f"_engine: {engine}_")
            lines.append("")
        return f"chat-{session_id}.md", "text/markdown; charset=utf-8", "\n".join(lines)

    async def purge_expired(self) -> int:
        return await self.repo.delete_expired(utcnow())

    async def _purge_loop(self, interval_seconds: float) -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                purged = await self.purge_expired()
                if purged:
                    log.info("purged %d expired chat sessions", purged)
            except Exception:
                log.exception("chat session purge failed")

    async def start(self, purge_interval_seconds: float = 600.0) -> None:
        if self._purge_task is None:
            await self.purge_expired()
            self._purge_task = asyncio.create_task(
                self._purge_loop(purge_interval_seconds), name="chat-purge"
            )

    async def aclose(self) -> None:
        if self._purge_task is not None:
            self._purge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purge_task
            self._purge_task = None
        if self.llm is not None:
            await self.llm.close()
        await self.session_cache.close()
        if self.llm_cache is not None:
            await self.llm_cache.close()

    # ---- a chat turn -----------------------------------------------------------------------------------
    async def chat(
        self,
        user: UserContext,
        session_id: str,
        question: str,
        user_roles: list[str] | None = None,
        include_history: bool = True,
        sink: EventSink | None = None,
    ) -> ChatResponse:
        """One turn. With ``sink``, its events (progress…, chunk…, then done — or error) go there too.

        Errors still raise (REST maps them to a status); the sink has seen the matching ``ErrorEvent``."""
        emit = _Emitter(sink)
        try:
            question = question.strip()
            if not question or len(question) > 5000:
                raise ValidationFailed("question", "length", "question must be 1-5000 characters")
            if NUL in question:  # as at the API edge, for every adapter (PostgreSQL cannot store it)
                raise ValidationFailed("question", NUL_ERROR_TYPE, f"question {NUL_MESSAGE}")
            lock = self._locks.setdefault(session_id, asyncio.Lock())
            async with lock:  # turns of one session are sequential (seq numbers, context updates)
                state = await self._state(user, session_id)
                response = await self._turn(user, state, question, user_roles or [], include_history, emit)
        except Exception as exc:
            if not isinstance(exc, ServiceError):
                log.exception("chat turn failed")
            await emit(ErrorEvent.from_exception(exc))
            raise
        await emit(DoneEvent(response))
        return response

    async def _turn(
        self,
        user: UserContext,
        state: _SessionState,
        question: str,
        requested_roles: list[str],
        include_history: bool,
        emit: _Emitter,
    ) -> ChatResponse:
        language = detect_language(question)
        roles = effective_roles(requested_roles, user.roles)
        allowed = allowed_tools(roles)
        # Tools run with the effective roles, so the services' own checks agree with the chat's table.
        acting = UserContext(id=user.id, name=user.name, roles=roles)
        ctx = ToolContext(acting, self.container, emit.progress if emit.active else None, language)
        outcomes: list[ToolOutcome] = []
        metadata: dict[str, Any] = {}
        history = state.history[-self.history_turns :] if include_history else []

        user_turn = {"role": "user", "content": question, "meta": {"roles": sorted(roles)}}
        pending = [user_turn]
        if self.llm is not None:
            # An LLM turn takes seconds and may start backtests: keep the question even if we die meanwhile.
            await self.repo.add_turn(state.session_id, "user", question, meta=user_turn["meta"])
            pending = []

        answer: str | None = None
        engine = "offline"
        if self.llm is not None:
            streamed: list[str] = []

            async def forward(text: str) -> None:
                streamed.append(text)
                await emit(ChunkEvent(text))

            async def execute(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
                outcome = await self.registry.call(name, arguments, ctx, allowed)
                outcomes.append(outcome)
                if outcome.ok:
                    state.context.update(context_after(name, outcome.args, outcome.result))
                    if name == "run_backtest" and outcome.result is not None:
                        # The model is handed the reading of the run, to say it (or we add it after).
                        outcome.result["interpretation"] = self._interpretation(
                            outcome.result, language, None
                        )
                return outcome.result if outcome.ok else {"error": outcome.error, "denied": outcome.denied}

            try:
                result = await self.llm.answer(
                    history, question, self.registry.openai_tools(allowed), execute, forward
                )
                answer, engine = result.content, "llm"
                missing_lines = [
                    str(o.result["interpretation"])
                    for o in outcomes
                    if o.ok
                    and o.name == "run_backtest"
                    and o.result
                    and o.result.get("interpretation")
                    and not _states(answer, str(o.result["interpretation"]))
                ]
                if missing_lines:  # the model did not state what ran: the rule says every answer does
                    extra = "\n\n" + "\n".join(missing_lines)
                    answer += extra
                    await emit(ChunkEvent(extra))
                metadata.update(
                    model=self.llm.model,
                    llm_steps=result.steps,
                    llm_cached_completions=result.cached_completions,
                )
            except LLMUnavailable as exc:
                metadata.update(fallback=True, fallback_reason=exc.reason, model=self.llm.model)
                self.turns_total["fallback"] += 1
                if streamed:
                    await emit(ChunkEvent("\n\n"))
                done = [o for o in outcomes if o.ok and o.result is not None]
                if done:
                    # Tools already ran (maybe a backtest started): report them rather than re-plan and
                    # repeat side effects.
                    answer = "\n".join(self._render(o.name, o.result or {}, language) for o in done)
                    await emit.text(answer)

        if answer is None:
            answer = await self._offline(question, state, ctx, allowed, roles, language, outcomes, metadata)
            await emit.text(answer)

        self.turns_total[engine] += 1
        denied = sorted(
            {o.name for o in outcomes if o.denied} | {tool for o in outcomes for tool in o.denied_tools}
        )
        if denied and engine == "llm":  # the model may not say it: the refusal is always spelled out
            refusal = f"\n\n{render.denied_text(denied, roles, language)}"
            answer += refusal
            await emit(ChunkEvent(refusal))  # streamed too: the chunks of a turn join to its answer
        backtest_ids = [
            str(o.result["id"])
            for o in outcomes
            if o.ok and o.name == "run_backtest" and o.result and "id" in o.result
        ]
        tool_calls = [o.to_json() for o in outcomes]
        assistant_meta = {
            "engine": engine,
            "language": language,
            "denied_tools": denied,
            "backtest_ids": backtest_ids,
            "roles": sorted(roles),
            **metadata,
        }
        pending.append(
            {"role": "assistant", "content": answer, "tool_calls": tool_calls or None, "meta": assistant_meta}
        )
        new_expiry = utcnow() + self.session_ttl
        session_values: dict[str, Any] = {"state": state.context, "expires_at": new_expiry}
        if state.turn_count == 0:
            session_values["title"] = question[:200]
        # One transaction: the turn's messages, the context its references need, the new expiry.
        # The cached seq is exact unless another process wrote this session (then the insert retries).
        hint = state.turn_count if len(pending) == 2 else None
        rows = await self.repo.record_turns(user.id, state.session_id, pending, hint, **session_values)
        turn = rows[-1]
        state.history = [
            *state.history,
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ][-self.history_turns :]
        state.turn_count = turn.seq
        state.expires_at = new_expiry.isoformat()
        await self.session_cache.set(state.session_id, state.to_json())
        return ChatResponse(
            session_id=state.session_id,
            query=question,
            answer=answer,
            conversation_turn=(turn.seq + 1) // 2,
            engine=engine,  # type: ignore[arg-type]
            language=language,
            tool_calls=tool_calls,
            backtest_ids=backtest_ids,
            denied_tools=denied,
            effective_roles=sorted(roles),
            metadata=metadata,
            timestamp=_aware(turn.created_at) or utcnow(),
        )

    async def _offline(
        self,
        question: str,
        state: _SessionState,
        ctx: ToolContext,
        allowed: frozenset[str],
        roles: frozenset[str],
        language: Language,
        outcomes: list[ToolOutcome],
        metadata: dict[str, Any],
    ) -> str:
        context = state.context
        context.pop("pending_compare", None)  # subsumed by context["pending"] (CHAT_CONTRACT.md)
        catalogue = self._catalogue()
        today = self.today()
        # With a read-through provider any plausible ticker can be fetched: the planner checks only form.
        on_demand = self._fetches_on_demand()
        planned = plan(question, context, today, known_symbols=None if on_demand else frozenset(catalogue))
        stated: dict[str, str] = dict(planned.stated)
        metadata.update(intent=planned.intent, slots_from_context=planned.from_context)
        if planned.intent == "help":  # not a request: a pending question stays open
            return render.help_text(language, allowed)
        if planned.intent not in allowed:
            context.pop("pending", None)
            outcomes.append(
                ToolOutcome(planned.intent, planned.args, ok=False, denied=True, error="not allowed")
            )
            return render.denied_text([planned.intent], roles, language)
        if planned.missing:
            return self._ask(
                context,
                planned.intent,
                planned.args,
                planned.missing,
                stated,
                language,
                metadata,
                problems=planned.problems,
            )
        args = dict(planned.args)
        if planned.intent == "run_backtest":
            args.setdefault("generate_report", True)  # the answer links the tear sheet (equity, drawdown)
            data = None if on_demand else self._data_info(args.get("symbol"))  # a provider may fetch more
            outside = render.period_outside_data(args, data, language)
            if outside is not None:  # nothing to run: ask for a period the data has, keep the request
                keep = {k: v for k, v in planned.args.items() if k not in ("start", "end")}
                return self._ask(
                    context,
                    "run_backtest",
                    keep,
                    ["start"],
                    stated,
                    language,
                    metadata,
                    question_text=outside,
                )
        context.pop("pending", None)  # this turn runs a request: whatever waited is done or replaced
        outcome = await self.registry.call(planned.intent, args, ctx, allowed)
        outcomes.append(outcome)
        if not outcome.ok and outcome.missing and planned.intent == "compare_strategies":
            keep = {k: v for k, v in planned.args.items() if k != "fallback_symbol"}
            if outcome.missing == "symbol":
                question_text = render.ask_compare_symbol(
                    outcome.missing_details, language, args.get("latest_n"), args.get("strategy_ids")
                )
            else:  # the reply names the strategy meant: it takes the unresolved name's place
                question_text = render.ask_strategy_name(outcome.problem, language)
                bad = outcome.problem.get("value")
                keep["strategy_names"] = [n for n in keep.get("strategy_names") or [] if n != bad]
            return self._ask(
                context,
                planned.intent,
                keep,
                [outcome.missing],
                stated,
                language,
                metadata,
                question_text=question_text,
            )
        if not outcome.ok and outcome.denied_tools:
            return render.needs_tool_text(outcome.denied_tools[0], outcome.error or "", roles, language)
        if not outcome.ok and outcome.problem.get("kind") == "finished":
            return render.cancel_refused(outcome.problem, language)
        if not outcome.ok:
            return render.error_text(planned.intent, outcome.error or "error", language, outcome.problem)
        assert outcome.result is not None
        context.update(context_after(planned.intent, planned.args, outcome.result))
        prov = render.Provenance(
            stated,
            frozenset(planned.from_context),
            planned.period_relative,
            args.get("start"),
            args.get("end"),
        )
        return self._render(planned.intent, outcome.result, language, prov)

    def _ask(
        self,
        context: dict[str, Any],
        intent: str,
        args: dict[str, Any],
        missing: list[str],
        stated: dict[str, str],
        language: Language,
        metadata: dict[str, Any],
        *,
        problems: list[Any] | None = None,
        question_text: str | None = None,
    ) -> str:
        """Ask about the missing/invalid slots and keep the request pending: the next reply completes it."""
        metadata["missing_slots"] = list(missing)
        context["pending"] = {"intent": intent, "args": args, "missing": list(missing), "stated": stated}
        if question_text is not None:
            return question_text
        question = render.ask_about(missing, problems or [], language)
        listed = [str(i) for i in context.get("last_list_ids") or []]
        if "backtest_id" in missing and len(listed) > 1:  # "show that result" after a list of several
            question += " " + render.listed_ids(listed, language)
        return question

    # ---- auto backtest (original /backtest/trigger) -----------------------------------------------------
    async def trigger_backtest(self, user: UserContext, request: AutoBacktestRequest) -> AutoBacktestResponse:
        return await trigger_backtest(self.container, self.settings.default_symbol, user, request)

    # ---- metrics ---------------------------------------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        caches = {"session": self.session_cache}
        if self.llm_cache is not None:
            caches["llm"] = self.llm_cache
        return {
            "llm_enabled": self.llm is not None,
            "model": self.llm.model if self.llm else None,
            "turns": dict(self.turns_total),
            "llm_breaker": self.llm.breaker.snapshot() if self.llm else None,
            "caches": {name: {"backend": c.backend, **c.counters.as_dict()} for name, c in caches.items()},
        }


def _states(answer: str, interpretation: str) -> bool:
    """Whether an LLM answer already states the interpretation (we gave it the line to quote)."""
    body = interpretation.split(": ", 1)[-1].rstrip(".")
    return body in answer


def _chunks(text: str) -> list[str]:
    """Split an answer into pieces of about _OFFLINE_CHUNK_CHARS at spaces/newlines (no text lost)."""
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if len(candidate) > _OFFLINE_CHUNK_CHARS and current:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def build_chat_service(container: Any) -> ChatService:
    settings: Settings = container.settings
    redis_url = settings.redis_url
    prefix = f"{settings.redis_prefix}:chat:"
    session_cache = make_cache("session", settings.session_cache_ttl_seconds, redis_url, prefix)
    llm_cache = None
    llm = None
    if settings.llm_enabled:
        llm_cache = make_cache("llm", settings.llm_cache_ttl_seconds, redis_url, prefix)
        llm = LLMAgent(settings, llm_cache)
    return ChatService(
        settings,
        ChatStore(container.db),
        container,
        build_registry(),
        llm,
        session_cache=session_cache,
        llm_cache=llm_cache,
    )


def install(container: Any) -> None:
    """Container extension hook (services.container.CONTAINER_EXTENSIONS)."""
    service = build_chat_service(container)
    container.chat = service
    container.on_start.append(service.start)
    container.on_close.append(service.aclose)
