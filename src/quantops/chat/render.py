"""Replies rendered from real tool results, in the language of the question (English or Korean).

Nothing here invents a number: every figure printed comes from the tool result passed in.
"""

from __future__ import annotations

from typing import Any

from quantops.chat.planner import describe_strategy
from quantops.engine import catalogue
from quantops.language import Language
from quantops.services.policy import POLICY, roles_allowing

TOOL_LABELS: dict[str, dict[Language, str]] = {
    "run_backtest": {"en": "run a backtest", "ko": "백테스트 실행"},
    "get_backtest": {"en": "show a backtest", "ko": "백테스트 조회"},
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


def ask_for(missing: list[str], language: Language) -> str:
    questions = [_SLOT_QUESTIONS.get(slot, {"en": slot, "ko": slot})[language] for slot in missing]
    prefix = "조금 더 알려주세요 — " if language == "ko" else "I need a bit more: "
    return prefix + " ".join(questions)


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


def error_text(tool: str, error: str, language: Language) -> str:
    label = TOOL_LABELS.get(tool, {"en": tool, "ko": tool})[language]
    if language == "ko":
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
def render_backtest(item: dict[str, Any], language: Language, just_started: bool = False) -> str:
    head_parts = [item.get("symbol") or "", _strategy_label(item), _period(item)]
    head = ", ".join(part for part in head_parts if part)
    status = item.get("status", "?")
    ident = item.get("id")
    if status == "completed":
        numbers = stats_line(item.get("stats"), language)
        if language == "ko":
            text = f"백테스트 {ident} ({head}) 완료: {numbers}."
        else:
            text = f"Backtest {ident} ({head}) completed: {numbers}."
        if item.get("report_url"):
            text += (" 리포트: " if language == "ko" else " Report: ") + str(item["report_url"])
        return text
    if status == "failed":
        if language == "ko":
            return f"백테스트 {ident} ({head}) 실패: {item.get('error') or '원인 불명'}"
        return f"Backtest {ident} ({head}) failed: {item.get('error') or 'unknown error'}"
    eta = item.get("estimated_duration_seconds")
    if language == "ko":
        text = f"백테스트 {ident} ({head}) 상태: {_STATUS_KO.get(status, status)}."
        if just_started and eta is not None:
            text += f" 예상 소요 시간 {float(eta):.1f}초. 나중에 '그 결과 보여줘'라고 물어보세요."
        return text
    text = f"Backtest {ident} ({head}) is {status}."
    if just_started and eta is not None:
        text += f" Estimated {float(eta):.1f} s; ask 'show me the result' later."
    return text


def render_backtest_list(result: dict[str, Any], language: Language) -> str:
    items = result.get("items", [])
    status = result.get("status")
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
    for key in ("summary", "recommendation"):
        if result.get(key):
            lines.append(str(result[key]))
    if result.get("report_url"):
        lines.append(("리포트: " if ko else "Report: ") + str(result["report_url"]))
    return "\n".join(lines) or ("비교 결과가 비어 있어요." if ko else "The comparison came back empty.")


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
