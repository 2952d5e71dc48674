"""Offline planner: deterministic intent + argument extraction for English and Korean.

Pure functions, no I/O: ``plan(text, context, today, known_symbols=...)`` maps an utterance (plus what
earlier turns left in the session ``context``) to a :class:`Plan` whose ``args`` are exactly the
arguments of the tool of the same name (see docs/chat.md and the chat contract). It is the default
brain when no LLM is configured and the fallback when the LLM fails, so it never guesses: every number
and setting the user typed lands in an argument (``stated`` says which) or in ``problems``/``missing``.

Layout: ``lexicon`` (vocabulary built from the strategy registry, ``BacktestSettings`` and the metric
table), ``text`` (normalisation, number tokens, span claims), ``periods``, ``reading`` (the
recognisers), ``core`` (intent scoring, argument assembly, pending requests, ``context_after``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from quantops.chat.planner import lexicon as _lx
from quantops.chat.planner.core import INTENTS, Plan, PlanProblem, context_after, plan
from quantops.chat.planner.periods import read_period
from quantops.chat.planner.reading import PROFIT_METRICS, STABILITY_METRICS, read
from quantops.chat.planner.text import Claims, normalise
from quantops.language import detect_language

__all__ = [
    "INTENTS",
    "PROFIT_METRICS",
    "STABILITY_METRICS",
    "Plan",
    "PlanProblem",
    "context_after",
    "describe_strategy",
    "detect_language",
    "parse_period",
    "parse_strategy",
    "plan",
]


def parse_strategy(text: str) -> dict[str, Any] | None:
    """The strategy named in ``text`` as a config dict, only with the parameters actually stated."""
    reading = read(text, date.today(), known_symbols=None, context_type=None)
    if reading.strategy is None:
        return None
    return {"config_type": reading.strategy.config_type, **reading.strategy.config}


def parse_period(text: str, today: date) -> tuple[date | None, date | None]:
    """(start, end) stated in the text."""
    period = read_period(normalise(text).lower(), today, Claims())
    return period.start, period.end


def describe_strategy(config: dict[str, Any]) -> str:
    """Short human label such as ``SMA 10/50`` or ``RSI 14 30/70`` (used for names and replies)."""
    kind = config.get("config_type", "?")
    words = _lx.STRATEGIES.get(kind)
    label = words.chat.label if words else str(kind)
    if words is None:
        return label
    if kind in ("sma_crossover", "ema_crossover") and "fast" in config and "slow" in config:
        return f"{label} {config['fast']}/{config['slow']}"
    if kind == "rsi_mean_reversion":
        parts = [label]
        if "rsi_period" in config:
            parts.append(str(config["rsi_period"]))
        if "oversold" in config and "overbought" in config:
            parts.append(f"{config['oversold']}/{config['overbought']}")
        return " ".join(parts)
    values = [str(config[name]) for name in words.fields if name in config]
    return " ".join([label, *values])
