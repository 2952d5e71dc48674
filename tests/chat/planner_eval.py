"""Honest scoring of a planner on labelled requests (the regression set here, the blind sets elsewhere).

Item format (one JSON object per line):
    {"id": "...", "lang": "en"|"ko", "text": "...", "context": {...}?,
     "expect": {"intent": "...", "args": {...}, "ask": ["symbol", ...]?}}

A plan passes when
- its intent is the expected one, and
- without ``ask``: it asks nothing (``plan.missing`` empty) and its arguments equal the expected ones
  after normalisation: ``strategy_config``/``config`` and ``settings`` with the model defaults filled in
  (so ``{"config_type": "sma_crossover"}`` equals ``{"config_type": "sma_crossover", "fast": 10,
  "slow": 30}``), dates as ISO strings, symbols upper-case, ``limit``/``last``/``order`` defaults filled,
  ids/names/metrics as sets; ``natural_language_query`` (free text) and ``fallback_symbol`` (not in the
  public interface) are ignored unless the item expects them, and a created strategy's ``name`` and
  ``description`` are compared only when the item gives them;
- with ``ask``: every asked slot is in ``plan.missing`` by suffix ("fast" matches
  "strategy_config.fast"), and every argument the item does give is equal as above.

``score(items, plan_fn)`` returns a report: totals, accuracy overall and per language, intent accuracy,
and each failure with what was expected and what came out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from quantops.backtest import BacktestSettings
from quantops.strategies import parse_strategy_config

PlanFn = Callable[[str, dict[str, Any] | None], Any]
_IGNORED = {"natural_language_query", "fallback_symbol"}
_SETS = {"strategy_ids", "strategy_names", "metrics"}


def load(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _config(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    try:
        return parse_strategy_config(value).model_dump(mode="json")
    except (ValidationError, KeyError, TypeError):
        return {k: _number(v) for k, v in value.items()}


def _settings(value: Any) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        return value
    try:
        return BacktestSettings.model_validate(value).model_dump(mode="json")
    except ValidationError:
        return {k: _number(v) for k, v in value.items()}


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return round(float(value), 9)


def _normalise(key: str, value: Any) -> Any:
    if key in ("strategy_config", "config"):
        config = _config(value)
        return {k: _number(v) for k, v in config.items()} if isinstance(config, dict) else config
    if key == "settings":
        settings = _settings(value)
        return {k: _number(v) for k, v in settings.items()} if isinstance(settings, dict) else settings
    if key in ("start", "end"):
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)[:10] if value is not None else None
    if key in ("symbol", "fallback_symbol") and isinstance(value, str):
        return value.upper()
    if key in _SETS and isinstance(value, list):
        return sorted(str(v).casefold() for v in value)
    if key in ("backtest_id", "strategy_id") and value is not None:
        return str(value).lower()
    if key == "name" and isinstance(value, str):
        return value.strip().casefold()
    return _number(value)


def _defaults(intent: str, args: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in args.items() if v is not None}
    if intent == "run_backtest":
        out.setdefault("settings", {})
    elif intent == "list_backtests":
        out.setdefault("limit", 10)
        if out.get("sort_by"):
            out.setdefault("order", "best")
    elif intent == "market_data":
        out.setdefault("last", 5)
    return out


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def compare_args(intent: str, expected: dict[str, Any], got: dict[str, Any], *, partial: bool) -> list[str]:
    """The argument keys that differ (empty = equal)."""
    exp = _defaults(intent, expected) if not partial else {k: v for k, v in expected.items() if v is not None}
    out = _defaults(intent, got)
    keys = set(exp) if partial else set(exp) | set(out)
    if intent == "create_strategy":
        keys -= {k for k in ("name", "description") if k not in expected}
    keys -= {k for k in _IGNORED if k not in expected}
    return sorted(k for k in keys if not _equal(_normalise(k, exp.get(k)), _normalise(k, out.get(k))))


def _asked(ask: Iterable[str], missing: Iterable[str]) -> list[str]:
    """The asked slots the plan does not ask about (suffix match on arg paths)."""
    missing = list(missing)
    return [a for a in ask if not any(m == a or m.endswith("." + a) or a.endswith("." + m) for m in missing)]


def judge(item: dict[str, Any], plan: Any) -> str | None:
    """None when the plan passes, else the reason."""
    expect = item["expect"]
    if plan.intent != expect["intent"]:
        return f"intent {plan.intent} != {expect['intent']}"
    ask = expect.get("ask")
    args = expect.get("args") or {}
    if ask:
        not_asked = _asked(ask, plan.missing)
        if not_asked:
            return f"did not ask {not_asked} (missing={plan.missing})"
        diff = compare_args(expect["intent"], args, plan.args, partial=True)
        return f"args differ: {diff}" if diff else None
    if plan.missing:
        return f"asked {plan.missing} when nothing was missing"
    diff = compare_args(expect["intent"], args, plan.args, partial=False)
    return f"args differ: {diff}" if diff else None


def score(items: Iterable[dict[str, Any]], plan_fn: PlanFn) -> dict[str, Any]:
    """Score ``plan_fn(text, context) -> Plan`` on ``items``; see the module docstring."""
    total = correct = intent_ok = 0
    langs: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, Any]] = []
    for item in items:
        plan = plan_fn(item["text"], item.get("context"))
        reason = judge(item, plan)
        lang = item.get("lang", "en")
        bucket = langs.setdefault(lang, {"n": 0, "correct": 0})
        total += 1
        bucket["n"] += 1
        intent_ok += plan.intent == item["expect"]["intent"]
        if reason is None:
            correct += 1
            bucket["correct"] += 1
        else:
            failures.append(
                {
                    "id": item.get("id"),
                    "lang": lang,
                    "text": item["text"],
                    "reason": reason,
                    "expected": item["expect"],
                    "got": {"intent": plan.intent, "args": plan.args, "missing": plan.missing},
                }
            )
    for bucket in langs.values():
        bucket["accuracy"] = bucket["correct"] / bucket["n"] if bucket["n"] else 0.0
    return {
        "n": total,
        "correct": correct,
        "accuracy": correct / total if total else 0.0,
        "intent_accuracy": intent_ok / total if total else 0.0,
        "by_language": langs,
        "failures": failures,
    }


def format_report(report: dict[str, Any], *, max_failures: int = 50) -> str:
    lines = [
        f"{report['correct']}/{report['n']} = {report['accuracy']:.1%} intent+args "
        f"(intent {report['intent_accuracy']:.1%}); "
        + ", ".join(
            f"{lang} {b['correct']}/{b['n']} {b['accuracy']:.1%}"
            for lang, b in sorted(report["by_language"].items())
        )
    ]
    for failure in report["failures"][:max_failures]:
        lines.append(f"  MISS [{failure['id']}] {failure['text']!r}: {failure['reason']} -> {failure['got']}")
    return "\n".join(lines)
