"""The one factory of the OpenAI-compatible client (official ``openai`` SDK) used by the chat agent and
the comparison narrator: key, base URL and per-read timeout from settings, and no SDK retries — a 429/5xx
or a timeout must fall back (offline planner, deterministic writer) at once, not stall the caller."""

from __future__ import annotations

from openai import AsyncOpenAI

from quantops.config import Settings


def make_llm_client(settings: Settings) -> AsyncOpenAI:
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return AsyncOpenAI(
        api_key=api_key,
        base_url=settings.llm_base_url or None,
        timeout=settings.llm_timeout_seconds,
        max_retries=0,
    )
