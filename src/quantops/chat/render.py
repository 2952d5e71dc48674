"""Replies rendered from real tool results, in the language of the question (English or Korean).

Nothing here invents a number: every figure printed comes from the tool result passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from quantops.backtest import BacktestSettings
from quantops.chat.planner import describe_strategy
from quantops.engine import catalogue
from quantops.language import Language
from quantops.services.backtests import metric_value
from quantops.services.policy import POLICY, roles_allowing
from quantops.strategies import STRATEGY_TYPES

TOOL_LABELS: dict[str, dict[Language, str]] = {
    "run_backtest": {"en": "run a backtest", "ko": "백테스트 실행"},
    "get_backtest": {"en": "show a backtest", "ko": "백테스트 조회"},
    "cancel_backtest": {"en": "cancel a backtest", "ko": "백테스트 취소"},
    "list_backtests": {"en": "list backtests", "ko": "백테스트 목록"},
    "list_strategies": {"en": "list strategies", "ko": "전략 목록"},
    "create_strategy": {"en": "create a strategy", "ko": "전략 생성"},
    "compare_strategies": {"en": "compare strategies", "ko": "전략 비교"},
    "cache_status": {"en": "show the cache status", "ko": "캐시 상태 조회"},
    "market_data": {"en": "show market data", "ko": "시세 조회"},
}

_STATUS_KO = {
    "pending": "대기 중",
    "running": "실행 중",
    "completed": "완료",
    "failed": "실패",
    "cancelled": "취소됨",
}

_SLOT_QUESTIONS: dict[str, dict[Language, str]] = {
    "symbol": {"en": "which symbol (e.g. AAPL)?", "ko": "어떤 종목으로 할까요? (예: AAPL)"},
    "strategy_config": {
        "en": "which strategy (e.g. 'sma 10/50', 'RSI 14 30/70', 'macd', 'buy and hold')?",
        "ko": "어떤 전략으로 할까요? (예: 'sma 10/50', 'RSI 14 30/70', 'macd', '바이앤홀드')",
    },
    "backtest_id": {
        "en": "which backtest? Give its id (see 'list my backtests').",
        "ko": "어떤 백테스트인가요? id를 알려주세요 ('백테스트 목록'으로 확인할 수 있어요).",
    },
    "strategy_ids": {
        "en": "which strategies? Give 2-5 strategy ids (see 'list strategies') or say "
        "'my last 3 strategies'.",
        "ko": "어떤 전략들을 비교할까요? 전략 id를 2~5개 알려주시거나 '최근 전략 3개'처럼 말해 주세요 "
        "('전략 목록'으로 확인).",
    },
    "strategy_names": {
        "en": "which strategies? Name 2-5 of your saved strategies (see 'list strategies').",
        "ko": "어떤 전략들을 비교할까요? 저장된 전략 이름을 2~5개 알려주세요 ('전략 목록'으로 확인).",
    },
    "start": {
        "en": "which period (e.g. '2018-2022', 'since 2020')?",
        "ko": "어떤 기간으로 할까요? (예: '2018-2022', '2020년부터')",
    },
    "intent": {
        "en": "what would you like to do — run a backtest, show a result, list, or compare?",
        "ko": "무엇을 할까요? 백테스트 실행, 결과 조회, 목록, 비교 중에서 알려주세요.",
    },
    "config": {
        "en": "which strategy config (e.g. 'sma 10/50')?",
        "ko": "어떤 전략 설정으로 만들까요? (예: 'sma 10/50')",
    },
}


def help_text(language: Language, allowed: frozenset[str] | None = None) -> str:
    if language == "ko":
        lines = [
            "이런 것을 할 수 있어요:",
            "- 백테스트 실행: 'AAPL에 RSI 14 30/70 전략으로 2020년부터 백테스트 해줘'",
            "- 결과 조회: '백테스트 <id> 결과 보여줘', '그 결과 보여줘'",
            "- 목록: '최근 실패한 백테스트 목록', '내 전략 목록'",
            "- 전략 저장: 'sma 10/50 전략을 이름 추세로 저장해줘'",
            "- 전략 비교: '전략 <id>와 <id>를 샤프 기준으로 비교해줘', "
            "'최근 전략 3개 중 어떤 게 가장 안정적이야?'",
            "- 데이터: '캐시 상태는?', 'AAPL 시세 보여줘'",
        ]
    else:
        lines = [
            "Here is what I can do:",
            "- run a backtest: 'backtest sma 10/50 on MSFT 2018-2022'",
            "- show results: 'show backtest <id>', 'show me the result'",
            "- list: 'list my failed backtests', 'list strategies'",
            "- save a strategy: 'create strategy rsi 14 30/70 named MeanRev'",
            "- compare: 'compare strategies <id> and <id> by sharpe', "
            "'compare my last 3 strategies — which is most stable?'",
            "- data: 'cache status', 'AAPL price'",
        ]
    if allowed is not None:
        labels = ", ".join(TOOL_LABELS[name][language] for name in TOOL_LABELS if name in allowed)
        lines.append(("허용된 기능: " if language == "ko" else "Allowed for your roles: ") + labels)
    return "\n".join(lines)


def _slot_question(slot: str, language: Language) -> str:
    if slot in _SLOT_QUESTIONS:
        return _SLOT_QUESTIONS[slot][language]
    name = slot.rsplit(".", 1)[-1]  # "strategy_config.fast" → "fast"
    return f"'{name}' 값을 알려주세요." if language == "ko" else f"what value for {name}?"


def ask_for(missing: list[str], language: Language) -> str:
    questions = [_slot_question(slot, language) for slot in missing]
    prefix = "조금 더 알려주세요 — " if language == "ko" else "I need a bit more: "
    return prefix + " ".join(questions)


def ask_about(missing: list[str], problems: list[Any], language: Language) -> str:
    """The planner's own questions (PlanProblem.message_en/message_ko) for the missing slots, in the
    turn's language; a slot without one gets the generic question of ``ask_for``."""
    key = "message_ko" if language == "ko" else "message_en"
    questions: list[str] = []
    covered: set[str] = set()
    for problem in problems:
        message = getattr(problem, key, None) or (problem.get(key) if isinstance(problem, dict) else None)
        slot = getattr(problem, "field", None) or (
            problem.get("field") if isinstance(problem, dict) else None
        )
        if message and message not in questions:
            questions.append(str(message))
            covered.add(str(slot))
    rest = [slot for slot in missing if slot not in covered]
    if not questions:
        return ask_for(rest, language)
    return " ".join([*questions, *(_slot_question(slot, language) for slot in rest)])


def listed_ids(ids: list[str], language: Language, shown: int = 5) -> str:
    """The ids the last list showed, to pick from."""
    more = len(ids) - shown
    names = ", ".join(ids[:shown]) + (f" (+{more})" if more > 0 else "")
    if language == "ko":
        return f"방금 목록의 백테스트: {names}. id를 알려주세요."
    return f"The list showed: {names}. Give the id."


def ask_strategy_name(problem: dict[str, Any], language: Language) -> str:
    """A strategy named in a comparison matches none or several of the user's strategies."""
    name = problem.get("value") or "?"
    candidates = [str(c) for c in problem.get("candidates") or []]
    listed = ", ".join(f"'{c}'" for c in candidates)
    if problem.get("kind") == "ambiguous":
        if language == "ko":
            return f"'{name}'와(과) 이름이 같은 전략이 여러 개예요: {listed}. 어느 것을 비교할까요?"
        return f"Several of your strategies are called '{name}': {listed}. Which one do you mean?"
    if language == "ko":
        hint = f" 혹시 {listed} 중 하나인가요?" if candidates else " '전략 목록'으로 이름을 확인해 주세요."
        return f"'{name}'이라는 이름의 저장된 전략이 없어요.{hint} 어떤 전략을 비교할까요?"
    hint = (
        f" Did you mean {' or '.join(repr(c) for c in candidates)}?"
        if candidates
        else (" See 'list strategies' for their names.")
    )
    return f"You have no saved strategy named '{name}'.{hint} Which strategy should I compare?"


def period_outside_data(args: dict[str, Any], data: DataInfo | None, language: Language) -> str | None:
    """A question when the requested period has no stored bars at all (e.g. "last 3 years" of a symbol
    whose data ends in 2013): never an empty or silently shifted run."""
    if data is None:
        return None
    start, end = _day(args.get("start")), _day(args.get("end"))
    if not ((start and start > data.last) or (end and end < data.first)):
        return None
    asked = f"{start or '…'} → {end or '…'}"
    symbol = args.get("symbol")
    if language == "ko":
        return (
            f"{symbol} 데이터는 {data.first} → {data.last} 기간만 있어서 요청하신 기간({asked})에는 데이터가 "
            "없어요. 어떤 기간으로 할까요? (예: '2010-2012')"
        )
    return (
        f"{symbol} data covers only {data.first} → {data.last}, so the period you asked for ({asked}) has no "
        f"bars. Which period should I use (e.g. '{data.first[:4]}-{data.last[:4]}')?"
    )


def ask_compare_symbol(
    strategies: list[str], language: Language, latest_n: int | None = None, ids: list[str] | None = None
) -> str:
    """The comparison needs backtests that do not exist yet: ask on which symbol to run them, with an
    example the planner understands (the same strategies, plus a symbol)."""
    names = ", ".join(f"'{name}'" for name in strategies)
    if language == "ko":
        target = f"최근 전략 {latest_n}개를" if latest_n else f"전략 {', '.join(ids or ['<id>', '<id>'])}를"
        return (
            f"비교하려면 백테스트가 필요한데, {names} 전략에는 완료된 백테스트가 아직 없어요. "
            f"어떤 종목으로 백테스트해서 비교할까요? 예: '{target} AAPL로 비교해줘' "
            "(기간도 붙일 수 있어요: 'AAPL 2018-2022')."
        )
    target = (
        f"my last {latest_n} strategies"
        if latest_n
        else f"strategies {' and '.join(ids or ['<id>', '<id>'])}"
    )
    return (
        f"To compare them I need backtests, and {names} "
        f"{'has' if len(strategies) == 1 else 'have'} no completed backtest yet. Which symbol should I "
        f"run them on? For example: 'compare {target} on AAPL' (a period works too: 'on AAPL 2018-2022')."
    )


def needs_tool_text(tool: str, reason: str, roles: frozenset[str], language: Language) -> str:
    """A tool call refused because it would need ``tool``, which the roles do not allow."""
    base = denied_text([tool], roles, language)
    if language == "ko":
        return f"{base} 비교하려면 새 백테스트를 실행해야 해요 ({reason})."
    return f"{base} The comparison would have to run new backtests ({reason})."


def _role_choice(roles: list[str], language: Language) -> str:
    if len(roles) == 1:
        return roles[0]
    return ", ".join(roles[:-1]) + (" 또는 " if language == "ko" else " or ") + roles[-1]


def denied_text(tools: list[str], roles: frozenset[str], language: Language) -> str:
    """The refusal, naming the roles that would allow each refused tool (services.policy)."""
    names = ", ".join(TOOL_LABELS.get(t, {"en": t, "ko": t})[language] for t in tools)
    role_list = ", ".join(sorted(roles))
    needs = [(t, roles_allowing(t)) for t in dict.fromkeys(tools) if t in POLICY]
    if language == "ko":
        hint = " ".join(
            f"'{TOOL_LABELS.get(t, {'ko': t})['ko']}'에는 {_role_choice(allowed, language)} 역할이 필요해요."
            for t, allowed in needs
        )
        return f"죄송합니다. 현재 역할({role_list})로는 '{names}' 기능을 사용할 수 없어요. {hint}".rstrip()
    hint = " ".join(
        f"To {TOOL_LABELS.get(t, {'en': t.replace('_', ' ')})['en']} you need the role "
        f"{_role_choice(allowed, language)}."
        for t, allowed in needs
    )
    return f"Sorry — your roles ({role_list}) don't allow me to {names}. {hint}".rstrip()


_RESOURCES_KO = {"backtest": "백테스트", "strategy": "전략", "symbol": "종목", "chat session": "대화 세션"}


def error_text(tool: str, error: str, language: Language, problem: dict[str, Any] | None = None) -> str:
    label = TOOL_LABELS.get(tool, {"en": tool, "ko": tool})[language]
    if language == "ko":
        if problem and problem.get("kind") == "not_found":
            resource = str(problem.get("resource") or "")
            error = f"{_RESOURCES_KO.get(resource, resource)} '{problem.get('value')}'을(를) 찾을 수 없어요"
        return f"{label} 요청을 처리하지 못했어요: {error}"
    return f"I couldn't {label}: {error}"


# ---- numbers -------------------------------------------------------------------------------------------
def _pct(value: Any) -> str:
    return f"{float(value):.2f}%"


def _ratio(value: Any) -> str:
    return f"{float(value):.2f}"


def _money(value: Any) -> str:
    return f"{float(value):,.2f}"


# Figures in a backtest's stats line, in this order; labels and units from the metric catalogue.
_STAT_KEYS = (
    "total_return", "cagr", "sharpe_ratio", "max_drawdown", "win_rate", "num_trades", "final_equity",
)  # fmt: skip


def format_value(key: str, value: Any) -> str:
    """A figure in its catalogue unit: ``12.34%``, ``0.85``, ``12`` (count) or ``10,123.45`` (cash)."""
    entry = catalogue.lookup(key)
    unit = entry.unit if entry else "ratio"
    if unit == "%":
        return _pct(value)
    if unit in ("count", "bars"):
        return str(int(value))
    if unit == "currency":
        return _money(value)
    return _ratio(value)


def stats_line(stats: dict[str, Any] | None, language: Language) -> str:
    if not stats:
        return ""
    parts = []
    for key in _STAT_KEYS:
        value = stats.get(key)
        if isinstance(value, int | float):
            parts.append(f"{catalogue.label(key, language)} {format_value(key, value)}")
    return ", ".join(parts)


def _period(item: dict[str, Any]) -> str:
    start, end = item.get("start"), item.get("end")
    if not start and not end:
        return ""
    return f"{start or '…'} ~ {end or '…'}"


def _strategy_label(item: dict[str, Any]) -> str:
    config = item.get("config") or {}
    return describe_strategy(config) if config else str(item.get("strategy_id") or "?")


# ---- per tool --------------------------------------------------------------------------------------------
def render_backtest(
    item: dict[str, Any], language: Language, just_started: bool = False, interp: str | None = None
) -> str:
    """One backtest; with ``interp`` (the interpretation line) the head names only the id and the
    interpretation follows on its own line (it already says symbol, strategy and period)."""
    head_parts = [item.get("symbol") or "", _strategy_label(item), _period(item)]
    head = "" if interp else " (" + ", ".join(part for part in head_parts if part) + ")"
    status = item.get("status", "?")
    ident = item.get("id")
    report = ""
    if status == "completed" and item.get("report_url"):
        report = (" 리포트: " if language == "ko" else " Report: ") + str(item["report_url"])
    if status == "completed":
        numbers = stats_line(item.get("stats"), language)
        if language == "ko":
            text = f"백테스트 {ident}{head} 완료: {numbers}."
        else:
            text = f"Backtest {ident}{head} completed: {numbers}."
    elif status == "failed":
        if language == "ko":
            text = f"백테스트 {ident}{head} 실패: {item.get('error') or '원인 불명'}"
        else:
            text = f"Backtest {ident}{head} failed: {item.get('error') or 'unknown error'}"
    else:
        eta = item.get("estimated_duration_seconds")
        if language == "ko":
            text = f"백테스트 {ident}{head} 상태: {_STATUS_KO.get(status, status)}."
            if just_started and eta is not None:
                text += f" 예상 소요 시간 {float(eta):.1f}초. 나중에 '그 결과 보여줘'라고 물어보세요."
        else:
            text = f"Backtest {ident}{head} is {status}."
            if just_started and eta is not None:
                text += f" Estimated {float(eta):.1f} s; ask 'show me the result' later."
    if interp:
        return f"{text}\n{interp}" + (f"\n{report.strip()}" if report else "")
    return text + report


def render_cancelled(item: dict[str, Any], language: Language) -> str:
    label = ", ".join(p for p in (item.get("symbol") or "", _strategy_label(item)) if p)
    if language == "ko":
        status = _STATUS_KO.get(item.get("status", ""), "")
        return f"백테스트 {item.get('id')} ({label})를 취소했어요 (상태: {status})."
    return f"Cancelled backtest {item.get('id')} ({label}); it is now {item.get('status')}."


def cancel_refused(problem: dict[str, Any], language: Language) -> str:
    """A cancel of a backtest that already finished."""
    ident, status = problem.get("value"), str(problem.get("status") or "")
    if language == "ko":
        return f"백테스트 {ident}는 이미 {_STATUS_KO.get(status, status)} 상태라 취소할 것이 없어요."
    return f"Backtest {ident} is already {status}; there is nothing to cancel."


def render_backtest_list(result: dict[str, Any], language: Language) -> str:
    items = result.get("items", [])
    status = result.get("status")
    if result.get("sort_by"):
        return render_ranked_backtests(result, language)
    if not items:
        if language == "ko":
            return f"{_STATUS_KO.get(status, '') + ' ' if status else ''}백테스트가 없어요."
        return f"No {status + ' ' if status else ''}backtests."
    total = result.get("total", len(items))
    if language == "ko":
        lines = [f"백테스트 {len(items)}개 (전체 {total}개, 최신순):"]
    else:
        lines = [f"{len(items)} of {total} {status + ' ' if status else ''}backtests, newest first:"]
    for item in items:
        line = f"- {item.get('id')} · {_strategy_label(item)} · {item.get('symbol')} · "
        line += (
            _STATUS_KO.get(item.get("status", ""), item.get("status", ""))
            if language == "ko"
            else item.get("status", "")
        )
        stats = item.get("stats") or {}
        if isinstance(stats.get("total_return"), int | float):
            line += (" · 수익률 " if language == "ko" else " · return ") + _pct(stats["total_return"])
        if item.get("status") == "failed" and item.get("error"):
            line += f" · {item['error'][:80]}"
        lines.append(line)
    return "\n".join(lines)


def render_ranked_backtests(result: dict[str, Any], language: Language) -> str:
    """'Which was best?': the user's backtests ranked by a metric, the metric's value on every line."""
    items = result.get("items", [])
    metric, order = str(result["sort_by"]), result.get("order") or "best"
    label = catalogue.label(metric, language)
    symbol = result.get("symbol")
    if not items:
        if language == "ko":
            return f"{symbol + ' ' if symbol else ''}{label} 값이 있는 완료된 백테스트가 없어요."
        return f"No completed {symbol + ' ' if symbol else ''}backtests with a {label} to rank."
    total = result.get("total", len(items))
    where = f" ({symbol})" if symbol else ""
    if language == "ko":
        best = "좋은" if order == "best" else "나쁜"
        head = f"{label} 기준 가장 {best} 백테스트{where} ({len(items)}개 / 순위 대상 {total}개):"
    else:
        head = (
            f"Your {'best' if order == 'best' else 'worst'} backtest{'s' if len(items) != 1 else ''}{where} "
            f"by {label} ({len(items)} of {total} ranked):"
        )
    lines = [head]
    for rank, item in enumerate(items, start=1):
        figure = format_metric(metric, metric_value(item.get("stats"), metric), language)
        period = _period({"start": _day(item.get("data_start")) or item.get("start"),
                          "end": _day(item.get("data_end")) or item.get("end")})  # fmt: skip
        lines.append(
            f"{rank}. {item.get('id')} · {_strategy_label(item)} · {item.get('symbol')}"
            + (f" · {period}" if period else "")
            + f" · {figure}"
        )
    return "\n".join(lines)


def render_strategies(result: dict[str, Any], language: Language) -> str:
    items = result.get("items", [])
    if not items:
        return "저장된 전략이 없어요." if language == "ko" else "You have no saved strategies yet."
    head = f"전략 {len(items)}개:" if language == "ko" else f"{len(items)} strategies:"
    lines = [head]
    for item in items:
        lines.append(
            f"- {item.get('id')} · {item.get('name')} · {describe_strategy(item.get('config') or {})}"
        )
    return "\n".join(lines)


def render_created(result: dict[str, Any], language: Language) -> str:
    label = describe_strategy(result.get("config") or {})
    if language == "ko":
        return f"전략 '{result.get('name')}'을(를) 저장했어요 (id {result.get('id')}, {label})."
    return f"Saved strategy '{result.get('name')}' (id {result.get('id')}, {label})."


def format_metric(name: str, value: Any, language: Language) -> str:
    """``Sharpe 0.85`` / ``변동성 12.34%``; an undefined figure is said to be undefined, never made up."""
    label = catalogue.label(name, language)
    if not isinstance(value, int | float):
        return f"{label} {'없음' if language == 'ko' else 'n/a'}"
    return f"{label} {format_value(name, value)}"


def render_comparison(result: dict[str, Any], language: Language) -> str:
    ko = language == "ko"
    ranking = [entry for entry in result.get("ranking_details") or [] if isinstance(entry, dict)]
    compared = {s.get("strategy_id"): s for s in result.get("strategies") or [] if isinstance(s, dict)}
    lines: list[str] = []
    if ranking:
        metric_names = list(ranking[0].get("metric_ranks") or {})
        by = ", ".join(catalogue.label(m, language) for m in metric_names)
        # The common symbol: the requested one, else the one all picked backtests share (if any).
        symbols = {s.get("symbol") for s in compared.values()}
        symbol = result.get("symbol") or (next(iter(symbols)) if len(symbols) == 1 else None)
        where = f" ({symbol})" if symbol else ""
        if ko:
            lines.append(f"전략 {len(ranking)}개 비교{where} — 순위 기준: {by} (1위가 가장 좋음):")
        else:
            lines.append(f"Compared {len(ranking)} strategies{where} by {by} (1 = best):")
        for entry in ranking:
            strategy_id = entry.get("strategy_id")
            item = compared.get(strategy_id, {})
            values = item.get("metrics") or {}
            numbers = ", ".join(format_metric(m, values.get(m), language) for m in metric_names)
            score = entry.get("composite_score")
            score_text = f"{float(score):.2f}" if isinstance(score, int | float) else "?"
            composite = f"종합 점수 {score_text}" if ko else f"composite {score_text}"
            lines.append(f"{entry.get('rank')}. {entry.get('name')} ({strategy_id}): {numbers}; {composite}")
    ran = result.get("ran_backtests") or []
    if ran:
        symbol = result.get("symbol") or ""
        if ko:
            lines.append(f"완료된 백테스트가 없던 전략은 {symbol}에서 새로 백테스트했어요 ({len(ran)}개).")
        else:
            lines.append(f"Ran {len(ran)} new backtest{'s' if len(ran) != 1 else ''} on {symbol} first.")
    basis = _comparison_basis(result, language)
    if basis:
        lines.append(basis)
    for key in ("summary", "recommendation"):
        if result.get(key):
            lines.append(str(result[key]))
    if result.get("report_url"):
        lines.append(("리포트: " if ko else "Report: ") + str(result["report_url"]))
    return "\n".join(lines) or ("비교 결과가 비어 있어요." if ko else "The comparison came back empty.")


def _comparison_basis(result: dict[str, Any], language: Language) -> str:
    """What a comparison actually compared: the common dates its numbers cover and each strategy's
    backtest (id, symbol) — the interpretation of a comparison."""
    common = (result.get("analysis") or {}).get("common_dates") or {}
    runs = [
        f"{s.get('label') or s.get('name')} {s.get('backtest_id')} ({s.get('symbol')})"
        for s in result.get("strategies") or []
        if isinstance(s, dict) and s.get("backtest_id")
    ]
    if not common.get("start") and not runs:
        return ""
    period = f"{_day(common.get('start'))} → {_day(common.get('end'))}" if common.get("start") else ""
    if language == "ko":
        head = f"공통 기간 {period} ({common.get('count')}일) 기준" if period else "비교 기준"
        return f"해석: {head}; 백테스트: {', '.join(runs)}."
    head = f"on their common dates {period} ({common.get('count')} days)" if period else "compared"
    return f"Interpretation: {head}; backtests: {', '.join(runs)}."


def render_cache(result: dict[str, Any], language: Language) -> str:
    symbols = result.get("symbols")
    lines = ["캐시 상태:" if language == "ko" else "Cache status:"]
    for key, value in result.items():
        if key == "symbols":
            continue
        if isinstance(value, str | int | float | bool) or value is None:
            lines.append(f"- {key}: {value}")
    if isinstance(symbols, list):
        lines.append(("- 종목 " if language == "ko" else "- symbols ") + f"({len(symbols)}):")
        for entry in symbols[:20]:
            if isinstance(entry, dict):
                details = ", ".join(f"{k} {v}" for k, v in entry.items() if k != "symbol")
                lines.append(f"  - {entry.get('symbol')}: {details}")
            else:
                lines.append(f"  - {entry}")
    return "\n".join(lines)


def render_market(result: dict[str, Any], language: Language) -> str:
    symbol = result.get("symbol")
    bars = result.get("bars") or []
    if not bars:
        return f"{symbol}: 데이터가 없어요." if language == "ko" else f"{symbol}: no data."
    last = bars[-1]
    day = str(last.get("timestamp", ""))[:10]
    first_day, last_day = str(result.get("first", ""))[:10], str(result.get("last", ""))[:10]
    close, high, low = _money(last["close"]), _money(last["high"]), _money(last["low"])
    if language == "ko":
        return (
            f"{symbol}: 일봉 {result.get('count')}개 ({first_day} ~ {last_day}). "
            f"최근 종가 {close} ({day}), 고가 {high}, 저가 {low}."
        )
    return (
        f"{symbol}: {result.get('count')} daily bars ({first_day} to {last_day}). "
        f"Last close {close} on {day} (high {high}, low {low})."
    )


def render_result(tool: str, result: dict[str, Any], language: Language) -> str:
    if tool == "run_backtest":
        return render_backtest(result, language, just_started=True)
    if tool == "get_backtest":
        return render_backtest(result, language)
    if tool == "cancel_backtest":
        return render_cancelled(result, language)
    if tool == "list_backtests":
        return render_backtest_list(result, language)
    if tool == "list_strategies":
        return render_strategies(result, language)
    if tool == "create_strategy":
        return render_created(result, language)
    if tool == "compare_strategies":
        return render_comparison(result, language)
    if tool == "cache_status":
        return render_cache(result, language)
    if tool == "market_data":
        return render_market(result, language)
    return str(result)


# ---- the interpretation of a run (the rule of issue #9: never a silent default) ------------------------
@dataclass(frozen=True, slots=True)
class Provenance:
    """Where each argument of a run came from: what the user typed (arg path → text), what the session
    context filled, and whether the period was relative ("last 3 years"). ``None`` stands for a brain
    that does not say (the LLM): then only values equal to the defaults are marked, as defaults."""

    stated: Mapping[str, str] = field(default_factory=dict)
    from_context: frozenset[str] = frozenset()
    period_relative: bool = False
    requested_start: str | None = None  # the period as planned (before the data clipped it)
    requested_end: str | None = None


@dataclass(frozen=True, slots=True)
class DataInfo:
    """What the store holds for a symbol (from the market-data catalogue)."""

    first: str  # ISO date of the first stored bar
    last: str
    synthetic: bool


_WORDS: dict[str, dict[Language, str]] = {
    "you_said": {"en": "you said {}", "ko": "입력: {}"},
    "default": {"en": "default", "ko": "기본값"},
    "defaults": {"en": "all parameters default", "ko": "모든 파라미터 기본값"},
    "default_of": {"en": "{} default", "ko": "{} 기본값"},
    "context": {"en": "from the previous request", "ko": "이전 요청에서"},
    "whole": {"en": "all stored data", "ko": "저장된 전체 기간"},
    "commission": {"en": "commission", "ko": "수수료"},
    "commission_fixed": {"en": "fixed fee per order", "ko": "주문당 고정 수수료"},
    "slippage_bps": {"en": "slippage", "ko": "슬리피지"},
    "initial_cash": {"en": "cash", "ko": "초기 자금"},
    "fill": {"en": "fills at", "ko": "체결"},
    "direction": {"en": "direction", "ko": "방향"},
    "size": {"en": "position size", "ko": "포지션 크기"},
    "fractional": {"en": "fractional units", "ko": "소수 단위 수량"},
    "stop_loss_pct": {"en": "stop loss", "ko": "손절"},
    "take_profit_pct": {"en": "take profit", "ko": "익절"},
    "risk_free_rate": {"en": "risk-free rate", "ko": "무위험 이자율"},
    "synthetic": {"en": "synthetic demo data (not real prices)", "ko": "합성 데모 데이터(실제 가격 아님)"},
    "saved": {"en": "saved strategy {}", "ko": "저장된 전략 {}"},
    "label": {"en": "Interpretation: ", "ko": "해석: "},
}
_SETTING_DEFAULTS: dict[str, Any] = BacktestSettings().model_dump(mode="json")
_SETTINGS_ALWAYS = ("commission", "slippage_bps", "initial_cash")  # costs and cash: said every time


def _w(key: str, language: Language) -> str:
    return _WORDS[key][language]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _mark(path: str, value: Any, default: Any, prov: Provenance | None, language: Language) -> str:
    """ " (you said 0.2%)" / " (default)" / " (from the previous request)" / "" for one argument."""
    if prov is not None:
        if path in prov.stated:
            return f" ({_w('you_said', language).format(prov.stated[path])})"
        if path in prov.from_context or path.split(".")[0] in prov.from_context:
            return f" ({_w('context', language)})"
    return f" ({_w('default', language)})" if value == default else ""


def _setting_text(name: str, value: Any, language: Language) -> str:
    if name == "commission":
        return f"{float(value) * 100:g}%"
    if name == "slippage_bps":
        return f"{float(value):g} bps"
    if name in ("initial_cash", "commission_fixed"):
        return f"{float(value):,.0f}" if float(value).is_integer() else f"{float(value):,.2f}"
    if name in ("stop_loss_pct", "take_profit_pct"):
        return f"{float(value):g}%"
    if name == "risk_free_rate":
        return f"{float(value) * 100:g}%"
    return _value(value)


def _strategy_part(item: dict[str, Any], prov: Provenance | None, language: Language) -> str:
    config = dict(item.get("config") or {})
    config_type = str(config.get("config_type", "?"))
    spec = STRATEGY_TYPES.get(config_type)
    title = spec.title if spec is not None else config_type
    fields = [n for n in spec.model.model_fields if n != "config_type"] if spec is not None else []
    defaults = {n: spec.model.model_fields[n].default for n in fields} if spec is not None else {}
    params = " ".join(f"{name}={_value(config[name])}" for name in fields if name in config)
    head = f"{title} {params}".strip()
    if item.get("strategy_id"):  # its values are the saved strategy's, not defaults nor typed here
        return f"{_w('saved', language).format(item['strategy_id'])}: {head}"
    prefix = "strategy_config"
    if prov is not None and (prefix in prov.from_context or "strategy_id" in prov.from_context):
        return f"{head} ({_w('context', language)})"
    said: dict[str, str] = {}  # field -> the text the user typed for it
    defaulted: list[str] = []
    for name in fields:
        path = f"{prefix}.{name}"
        if prov is not None and path in prov.stated:
            said[name] = prov.stated[path]
        elif prov is not None and path in prov.from_context:
            continue
        elif name in config and config[name] == defaults.get(name):
            defaulted.append(name)
    notes: list[str] = []
    if said:
        notes.append(_w("you_said", language).format(_said_params(said, spec)))
    elif prov is not None and prefix in prov.stated and fields:
        notes.append(_w("you_said", language).format(prov.stated[prefix]))
    if defaulted and len(defaulted) == len(fields):
        notes.append(_w("defaults", language))
    elif defaulted:
        notes.append(_w("default_of", language).format(", ".join(defaulted)))
    return f"{head} ({'; '.join(notes)})" if notes else head


def _said_params(said: dict[str, str], spec: Any) -> str:
    """ "20/100" for a pair users type with a slash (fast/slow, RSI's oversold/overbought), else each
    parameter with what was typed for it ("period 30, num_std 2")."""
    pairs = {("fast", "slow")}
    slash_pair = getattr(getattr(spec, "chat", None), "slash_pair", None)
    if slash_pair:
        pairs.add(tuple(slash_pair))
    texts = list(dict.fromkeys(said.values()))
    if tuple(said) in pairs or len(texts) == 1:
        return "/".join(texts)
    return ", ".join(f"{name} {text}" for name, text in said.items())


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _period_part(
    item: dict[str, Any],
    prov: Provenance | None,
    data: DataInfo | None,
    today: date | None,
    language: Language,
) -> tuple[str, str | None]:
    """("2015-01-02 → 2019-12-31 (you said 2015-2019)", note about a period the data cut short)."""
    first, last = _day(item.get("data_start")), _day(item.get("data_end"))
    asked_start = _day(prov.requested_start if prov else None) or _day(item.get("start"))
    asked_end = _day(prov.requested_end if prov else None) or _day(item.get("end"))
    if not first and data is not None:  # not run yet: the stored range clipped to the request
        first = max(asked_start or data.first[:10], data.first[:10])
        last = min(asked_end or data.last[:10], data.last[:10])
    text = f"{first or asked_start or '…'} → {last or asked_end or '…'}"
    marks: list[str] = []
    if prov is not None:
        said = list(dict.fromkeys(prov.stated[path] for path in ("start", "end") if path in prov.stated))
        if said:
            marks.append(_w("you_said", language).format(", ".join(said)))
        if not marks and ({"start", "end"} & set(prov.from_context)):
            marks.append(_w("context", language))
    if not marks and not asked_start and not asked_end:
        marks.append(_w("whole", language))
    if marks:
        text += f" ({'; '.join(marks)})"
    note = None
    if first and last and (asked_start or asked_end):
        wanted_end = asked_end or (today.isoformat() if today and prov and prov.period_relative else None)
        short_start = asked_start is not None and asked_start < first and _days(asked_start, first) > 7
        short_end = wanted_end is not None and wanted_end > last and _days(last, wanted_end) > 7
        if short_start or short_end:
            asked = f"{asked_start or '…'} → {wanted_end or '…'}"
            if language == "ko":
                note = f"요청하신 기간은 {asked}이지만 데이터는 {first} → {last}만 있어 그 기간만 계산했어요"
            else:
                note = (
                    f"you asked for {asked}, but the data covers only {first} → {last}, so that is what ran"
                )
    return text, note


def _days(earlier: str, later: str) -> int:
    return (date.fromisoformat(later[:10]) - date.fromisoformat(earlier[:10])).days


def _settings_part(item: dict[str, Any], prov: Provenance | None, language: Language) -> str:
    settings = {**_SETTING_DEFAULTS, **(item.get("settings") or {})}
    parts: list[str] = []
    for name in ("commission", "commission_fixed", "slippage_bps", "initial_cash", "fill", "direction",
                 "size", "fractional", "stop_loss_pct", "take_profit_pct", "risk_free_rate"):  # fmt: skip
        value, default = settings.get(name), _SETTING_DEFAULTS.get(name)
        path = f"settings.{name}"
        told = prov is not None and (path in prov.stated or path in prov.from_context)
        if name == "size":
            told = told or (prov is not None and "settings.size_type" in prov.stated)
            if not told and value == default and settings.get("size_type") == _SETTING_DEFAULTS["size_type"]:
                continue
            kind = settings.get("size_type")
            shown = f"{float(value) * 100:g}% of equity" if kind == "percent" else f"{_value(value)} {kind}"
            parts.append(f"{_w('size', language)} {shown}{_mark(path, value, default, prov, language)}")
            continue
        if name not in _SETTINGS_ALWAYS and not told and value == default:
            continue
        shown = _setting_text(name, value, language) if value is not None else "-"
        parts.append(f"{_w(name, language)} {shown}{_mark(path, value, default, prov, language)}")
    return ", ".join(parts)


def interpretation(
    item: dict[str, Any],
    language: Language,
    prov: Provenance | None = None,
    data: DataInfo | None = None,
    today: date | None = None,
) -> str:
    """The full reading of a backtest request, from the run itself (``item``: the run_backtest/get_backtest
    result: config, settings, symbol, data_start/data_end): strategy with every parameter, symbol, the
    period the data actually covered, costs and cash, which values were defaults, synthetic data."""
    symbol = str(item.get("symbol") or "?")
    if prov is not None and "symbol" in prov.from_context:
        symbol += f" ({_w('context', language)})"
    period, note = _period_part(item, prov, data, today, language)
    strategy, settings = _strategy_part(item, prov, language), _settings_part(item, prov, language)
    if language == "ko":
        text = f"{strategy}, {symbol} {period}, {settings}"
    else:
        text = f"{strategy} on {symbol} {period}, {settings}"
    if data is not None and data.synthetic:
        text += f"; {_w('synthetic', language)}"
    if note:
        text += f". {note[0].upper()}{note[1:]}" if language == "en" else f". {note}"
    return text + "."


def interpretation_line(
    item: dict[str, Any],
    language: Language,
    prov: Provenance | None = None,
    data: DataInfo | None = None,
    today: date | None = None,
) -> str:
    return _w("label", language) + interpretation(item, language, prov, data, today)
