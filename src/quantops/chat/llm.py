"""Tool-calling LLM agent over the official ``openai`` SDK (``AsyncOpenAI``).

Any OpenAI-compatible server works (OpenAI, vLLM, Ollama, llama.cpp): base URL, model, temperature,
max_tokens and timeout come from settings. Completions are streamed so the first words reach the
WebSocket/SSE client early. Every failure the caller should survive — 401, 429, 5xx, timeouts,
connection errors, malformed output, too many tool steps, the turn's deadline — raises
:class:`LLMUnavailable` with a short reason; the chat service then answers with the offline planner.

Two guards bound what a bad endpoint can cost a chat:

- a **deadline per turn** (``llm_turn_deadline_seconds``): the SDK timeout is per read, so an endpoint
  that keeps the connection busy (SSE keep-alive comments, a slow token trickle) would otherwise hold a
  turn for minutes. The deadline is wall-clock from the start of the turn; a tool call in progress is
  never cancelled (that could repeat its side effects), the next completion is simply not awaited.
- a **circuit breaker** (:class:`CircuitBreaker`): after ``llm_breaker_failures`` consecutive failed
  turns the LLM is skipped for ``llm_breaker_cooldown_seconds`` (reason ``circuit_open``), then one
  turn probes it (half-open): success closes the breaker, failure opens it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import openai

from quantops.chat.cache import JsonCache, cache_key
from quantops.common import utcnow
from quantops.config import Settings
from quantops.llm_client import make_llm_client

log = logging.getLogger(__name__)

ChunkSink = Callable[[str], Awaitable[None]]
# name, arguments -> JSON-safe result given back to the model
ToolExecutor = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]

SYSTEM_PROMPT = (
    "You are quantops, an assistant for a quant backtesting platform. Use the tools to act; every "
    "number you state must come from a tool result in this conversation, never from memory. "
    "The tools only reach the current user's own strategies and backtests; if asked about other "
    "users' data, say you cannot access it. Reply in the language of the user's last message "
    "(Korean or English), briefly. Tools you may use now: {tools}."
)


class LLMUnavailable(Exception):
    """The LLM could not produce an answer; ``reason`` is short and safe to show in metadata."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Consecutive-failure breaker: closed → (``threshold`` failures) open → (cool-down) half_open.

    In half_open exactly one caller (the probe) is let through; the others are refused until it ends:
    success closes the breaker, failure opens it again for another cool-down. A call that ends without
    a verdict (cancelled: the client went away) frees the probe slot and counts neither way.
    Single event loop, no awaits inside: no lock needed. (The libraries looked at do not fit: in
    ``circuitbreaker`` half-open admits every concurrent call and a cancelled call resets the count;
    ``purgatory`` counts cancellation as a failure and brings a message bus for one counter.)
    """

    def __init__(
        self, threshold: int, cooldown_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = max(1, threshold)
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self.failures = 0  # consecutive
        self._opened_mono: float | None = None
        self.opened_at: datetime | None = None
        self._probing = False
        self.rejected = 0  # calls refused while open (counter for /metrics)

    @property
    def state(self) -> BreakerState:
        if self._opened_mono is None:
            return "closed"
        if self._probing or self._clock() - self._opened_mono >= self.cooldown_seconds:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """May a call go through now? In half_open the caller that gets True is the probe."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._probing = True
            return True
        self.rejected += 1
        return False

    def record_success(self) -> None:
        if self._opened_mono is not None:
            log.info("LLM circuit breaker closed (probe succeeded)")
        self.failures = 0
        self._opened_mono = self.opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.threshold:
            log.warning("LLM circuit breaker open after %d consecutive failure(s)", self.failures)
            self._opened_mono = self._clock()
            self.opened_at = utcnow()
        self._probing = False

    def release(self) -> None:
        """The call ended without success or failure (cancelled): let another caller probe."""
        self._probing = False

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "failures": self.failures,
            "threshold": self.threshold,
            "cooldown_seconds": self.cooldown_seconds,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "rejected": self.rejected,
        }


@dataclass(slots=True)
class AgentAnswer:
    content: str
    steps: int
    cached_completions: int = 0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error"
    if isinstance(exc, openai.AuthenticationError):
        return "unauthorized (401)"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited (429)"
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    if isinstance(
        exc, openai.APIResponseValidationError | json.JSONDecodeError | KeyError | TypeError | ValueError
    ):
        return f"malformed_output: {type(exc).__name__}"
    return f"error: {type(exc).__name__}"


class LLMAgent:
    def __init__(self, settings: Settings, cache: JsonCache | None = None) -> None:
        self.model = settings.llm_model
        self.temperature = settings.llm_temperature
        self.max_tokens = settings.llm_max_tokens
        self.max_steps = max(1, settings.llm_max_tool_steps)
        self.turn_deadline = settings.llm_turn_deadline_seconds
        self.breaker = CircuitBreaker(settings.llm_breaker_failures, settings.llm_breaker_cooldown_seconds)
        self.cache = cache
        self.client = make_llm_client(settings)  # no SDK retries: a 429/5xx falls back to the planner at once

    async def close(self) -> None:
        await self.client.close()

    async def answer(
        self,
        history: list[dict[str, Any]],
        question: str,
        tools: list[dict[str, Any]],
        execute: ToolExecutor,
        on_chunk: ChunkSink | None = None,
    ) -> AgentAnswer:
        """One turn; raises LLMUnavailable (``circuit_open`` without calling the endpoint when the breaker
        refuses). Every other LLMUnavailable counts as a failure for the breaker, a finished turn as a
        success; anything else (a bug, a cancelled request) leaves the count as it was."""
        if not self.breaker.allow():
            raise LLMUnavailable("circuit_open")
        try:
            answer = await self._answer(history, question, tools, execute, on_chunk)
        except LLMUnavailable:
            self.breaker.record_failure()
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()
        return answer

    async def _answer(
        self,
        history: list[dict[str, Any]],
        question: str,
        tools: list[dict[str, Any]],
        execute: ToolExecutor,
        on_chunk: ChunkSink | None,
    ) -> AgentAnswer:
        deadline = asyncio.get_running_loop().time() + self.turn_deadline
        names = ", ".join(t["function"]["name"] for t in tools) or "none"
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT.format(tools=names)},
            *history,
            {"role": "user", "content": question},
        ]
        cached = 0
        calls_made: list[dict[str, Any]] = []
        for step in range(1, self.max_steps + 1):
            message, from_cache = await self._complete(messages, tools, on_chunk, deadline)
            cached += int(from_cache)
            tool_calls = message.get("tool_calls") or []
            if not tool_calls:
                content = (message.get("content") or "").strip()
                if not content:
                    raise LLMUnavailable("malformed_output: empty answer")
                return AgentAnswer(content, step, cached, calls_made)
            messages.append(
                {"role": "assistant", "content": message.get("content") or None, "tool_calls": tool_calls}
            )
            for call in tool_calls:
                name = call["function"]["name"]
                try:
                    arguments = json.loads(call["function"]["arguments"] or "{}")
                except json.JSONDecodeError as exc:
                    raise LLMUnavailable("malformed_output: tool arguments are not JSON") from exc
                if not isinstance(arguments, dict):
                    raise LLMUnavailable("malformed_output: tool arguments are not an object")
                result = await execute(name, arguments)
                calls_made.append({"name": name, "arguments": arguments})
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call["id"],
                        "content": json.dumps(result, ensure_ascii=False, default=str),
                    }
                )
        raise LLMUnavailable(f"too_many_tool_steps (> {self.max_steps})")

    async def _complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_chunk: ChunkSink | None,
        deadline: float,
    ) -> tuple[dict[str, Any], bool]:
        """One streamed completion → {"content", "tool_calls"}, abandoned at the turn's ``deadline``
        (event-loop time)."""
        if asyncio.get_running_loop().time() >= deadline:  # e.g. a slow tool call used it up
            raise LLMUnavailable("deadline")
        try:
            async with asyncio.timeout_at(deadline):
                return await self._complete_cached(messages, tools, on_chunk)
        except TimeoutError as exc:
            log.warning("LLM turn deadline (%g s) reached", self.turn_deadline)
            raise LLMUnavailable("deadline") from exc

    async def _complete_cached(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_chunk: ChunkSink | None
    ) -> tuple[dict[str, Any], bool]:
        """One streamed completion; served from the cache when possible."""
        key = cache_key(self.model, self.temperature, self.max_tokens, messages, tools)
        if self.cache is not None:
            hit = await self.cache.get(key)
            if hit is not None:
                if on_chunk and hit.get("content") and not hit.get("tool_calls"):
                    await on_chunk(hit["content"])
                return hit, True
        try:
            message = await self._stream(messages, tools, on_chunk)
        except LLMUnavailable:
            raise
        except (
            openai.OpenAIError,
            json.JSONDecodeError,
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
        ) as exc:
            reason = _failure_reason(exc)
            log.warning("LLM call failed: %s", reason)
            raise LLMUnavailable(reason) from exc
        if self.cache is not None:
            await self.cache.set(key, message)
        return message, False

    async def _stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_chunk: ChunkSink | None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": True,
        }
        if tools:
            kwargs["tools"] = tools
        stream = await self.client.chat.completions.create(**kwargs)
        content_parts: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        saw_choice = False
        try:
            # Text is forwarded only while no tool call has started: text beside tool calls is a preamble.
            async for chunk in stream:
                if not chunk.choices:
                    continue
                saw_choice = True
                delta = chunk.choices[0].delta
                if delta is None:
                    continue
                for tool_delta in delta.tool_calls or []:
                    entry = calls.setdefault(
                        tool_delta.index,
                        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                    )
                    if tool_delta.id:
                        entry["id"] = tool_delta.id
                    if tool_delta.function is not None:
                        entry["function"]["name"] += tool_delta.function.name or ""
                        entry["function"]["arguments"] += tool_delta.function.arguments or ""
                if delta.content:
                    content_parts.append(delta.content)
                    if on_chunk is not None and not calls:
                        await on_chunk(delta.content)
        finally:
            await stream.close()  # also when abandoned at the deadline: the connection is not left open
        if not saw_choice:
            raise LLMUnavailable("malformed_output: no choices")
        tool_calls = [calls[i] for i in sorted(calls)]
        for position, call in enumerate(tool_calls):
            if not call["function"]["name"]:
                raise LLMUnavailable("malformed_output: tool call without a name")
            call["id"] = call["id"] or f"call_{position}"
        return {"content": "".join(content_parts), "tool_calls": tool_calls}
