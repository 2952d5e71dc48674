"""Offline planner: deterministic intent + slot extraction for English and Korean.

Pure functions, no I/O: ``plan(text, context, today)`` maps an utterance (plus what earlier turns
left in the session ``context``) to a :class:`Plan` whose ``args`` are exactly the arguments of the
tool of the same name in :mod:`quantops.chat.tools`. It is the default brain when no LLM is
configured and the fallback when the LLM fails, so it must never guess numbers: anything it cannot
read from the text or the context is reported in ``missing``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from quantops.language import Language, detect_language

INTENTS: tuple[str, ...] = (
    "run_backtest",
    "get_backtest",
    "list_backtests",
    "list_strategies",
    "create_strategy",
    "compare_strategies",
    "cache_status",
    "market_data",
    "help",
)


@dataclass(slots=True)
class Plan:
    """What the planner understood: the tool to call (``intent``) and its arguments."""

    intent: str
    args: dict[str, Any] = field(default_factory=dict)
    language: Language = "en"
    missing: list[str] = field(default_factory=list)
    # Which slots came from earlier turns rather than from this utterance (shown in metadata).
    from_context: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Strategy phrases -> engine config dicts (field names of quantops.strategies configs)
# --------------------------------------------------------------------------------------------
_NUM = r"(\d+(?:\.\d+)?)"
_SEP = r"\s*(?:/|,|-|~|\s)\s*"


def _num(value: str) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() and "." not in value else number


def _numbers_after(text: str, start: int, count: int) -> list[int | float]:
    """Up to ``count`` numbers immediately following position ``start`` (separated by / , - ~ or spaces)."""
    numbers: list[int | float] = []
    pattern = re.compile(r"\s*(?:\(|/|,|-|~|:|=|\s)?\s*" + _NUM + r"(?![\d년월일%])")
    pos = start
    while len(numbers) < count:
        match = pattern.match(text, pos)
        # A year or a date ("2019-01-01") is never a strategy parameter.
        if not match or re.fullmatch(r"(?:19|20)\d{2}", match.group(1)):
            break
        numbers.append(_num(match.group(1)))
        pos = match.end()
        closing = re.match(r"\s*\)", text[pos:])
        if closing:
            pos += closing.end()
    return numbers


_STRATEGY_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "buy_and_hold",
        re.compile(r"buy[\s\-_]*(?:and|&|n)[\s\-_]*hold|바이\s*앤\s*홀드|매수\s*후\s*보유|보유\s*전략", re.I),
    ),
    ("rsi_mean_reversion", re.compile(r"\brsi\b|상대\s*강도", re.I)),
    ("macd_crossover", re.compile(r"\bmacd\b", re.I)),
    ("bollinger_reversion", re.compile(r"\bbollinger(?:\s*bands?)?\b|볼린저(?:\s*밴드)?|\bbb\b", re.I)),
    ("ema_crossover", re.compile(r"\bema\b|지수\s*이동\s*평균", re.I)),
    (
        "sma_crossover",
        re.compile(r"\bsma\b|\bmoving\s*averages?\b|이동\s*평균(?:선)?|골든\s*크로스|golden\s*cross", re.I),
    ),
    ("breakout", re.compile(r"\bbreakout\b|\bdonchian\b|돌파|채널", re.I)),
    ("momentum", re.compile(r"\bmomentum\b|모멘텀", re.I)),
]

_PARAMS: dict[str, tuple[str, ...]] = {
    "rsi_mean_reversion": ("rsi_period", "oversold", "overbought"),
    "macd_crossover": ("fast", "slow", "signal"),
    "bollinger_reversion": ("period", "num_std"),
    "ema_crossover": ("fast", "slow"),
    "sma_crossover": ("fast", "slow"),
    "breakout": ("lookback",),
    "momentum": ("momentum_period",),
    "buy_and_hold": (),
}


def parse_strategy(text: str) -> dict[str, Any] | None:
    """First strategy phrase in ``text`` as a config dict, only with the parameters actually stated."""
    best: tuple[int, str, re.Match[str]] | None = None
    for config_type, pattern in _STRATEGY_PATTERNS:
        match = pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), config_type, match)
    if best is None:
        return None
    _, config_type, match = best
    config: dict[str, Any] = {"config_type": config_type}
    if re.search(r"골든\s*크로스|golden\s*cross", match.group(0), re.I):
        config.update(fast=50, slow=200)
        return config
    names = _PARAMS[config_type]
    after = match.end()
    # Skip words such as "crossover", "크로스", "(" between the name and its numbers.
    filler = re.match(
        r"(?:\s*(?:crossover|cross|strategy|전략|크로스오버|크로스|reversion|mean\s*reversion))*",
        text[after:],
        re.I,
    )
    if filler:
        after += filler.end()
    values = _numbers_after(text, after, len(names))
    for name, value in zip(names, values, strict=False):
        config[name] = value
    if config_type == "bollinger_reversion" and "num_std" in config:
        config["num_std"] = float(config["num_std"])
    return config


def describe_strategy(config: dict[str, Any]) -> str:
    """Short human label such as ``SMA 10/50`` or ``RSI 14 30/70`` (used for names and replies)."""
    kind = config.get("config_type", "?")
    labels = {
        "sma_crossover": "SMA",
        "ema_crossover": "EMA",
        "rsi_mean_reversion": "RSI",
        "macd_crossover": "MACD",
        "bollinger_reversion": "Bollinger",
        "breakout": "Breakout",
        "momentum": "Momentum",
        "buy_and_hold": "Buy & Hold",
    }
    label = labels.get(kind, str(kind))
    if kind in ("sma_crossover", "ema_crossover") and "fast" in config and "slow" in config:
        return f"{label} {config['fast']}/{config['slow']}"
    if kind == "rsi_mean_reversion":
        parts = [label]
        if "rsi_period" in config:
            parts.append(str(config["rsi_period"]))
        if "oversold" in config and "overbought" in config:
            parts.append(f"{config['oversold']}/{config['overbought']}")
        return " ".join(parts)
    values = [str(config[name]) for name in _PARAMS.get(kind, ()) if name in config]
    return " ".join([label, *values])


# --------------------------------------------------------------------------------------------
# Symbols, dates, ids
# --------------------------------------------------------------------------------------------
# Upper-case words that look like tickers but are not.
_NOT_SYMBOLS = {
    "RSI", "SMA", "EMA", "MACD", "BB", "ID", "API", "AND", "OR", "ON", "FOR", "THE", "VS", "BY",
    "TO", "OF", "IN", "A", "I", "IT", "MY", "ME", "MDD", "CAGR", "VAR", "CVAR", "JSON", "KST", "UTC",
    "LLM", "OK", "PM", "AM", "ETF", "USD", "KRW", "AI", "HI", "RUN", "SHOW", "LIST", "TOP", "FROM",
    "NEW", "ALL", "DATA", "BUY", "HOLD", "SELL", "YTD", "CSV", "HTML", "URL", "N", "NOW",
}  # fmt: skip
_SYMBOL = re.compile(
    r"(?<![A-Za-z0-9])(\d{4,6}\.[A-Z]{1,3}|[A-Z]{1,5}(?:[.\-][A-Z]{1,4})?|\^[A-Z]{2,5})(?![A-Za-z0-9])"
)
# A lower-case ticker is accepted only right after "on"/"for" ("run it again on nvda").
_LOWER_SYMBOL = re.compile(r"\b(?:on|for|of)\s+([a-z]{1,5}(?:[.\-][a-z]{1,4})?)\b")
_LOWER_STOP = {
    "it", "the", "my", "me", "a", "all", "sma", "ema", "rsi", "macd", "that", "this", "same", "them",
    "data", "price", "bars", "us", "each", "both", "those", "these", "one", "two", "three", "sharp",
    "mine", "four", "five",
}  # fmt: skip


def parse_symbol(text: str) -> str | None:
    for match in _SYMBOL.finditer(text):
        candidate = match.group(1)
        if candidate not in _NOT_SYMBOLS:
            return candidate
    for match in _LOWER_SYMBOL.finditer(text):
        if match.group(1) not in _LOWER_STOP:
            return match.group(1).upper()
    return None


_FULL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_KO_DATE = re.compile(r"((?:19|20)\d{2})\s*년(?:\s*(\d{1,2})\s*월)?(?:\s*(\d{1,2})\s*일)?")
_YEAR_MONTH = re.compile(r"(?<!\d)((?:19|20)\d{2})[-/.](\d{1,2})(?![\d\-/.])")
_YEAR = re.compile(r"(?<![\d#])((?:19|20)\d{2})(?![\d])")
_END_MARKER = re.compile(r"^\s*(?:년)?\s*(?:까지|이전)|^\s*(?:\)|\])", re.I)
_END_PREFIX = re.compile(r"(?:\buntil|\btill|\bthrough|\bto|\bthru|\bbefore|\bend(?:ing)?)\s*$", re.I)
_RELATIVE_YEARS = re.compile(r"(?:last|past)\s+(\d+)\s+years?|최근\s*(\d+)\s*년(?!\s*(?:부터|까지))", re.I)


@dataclass(slots=True)
class _DateMention:
    position: int
    start_value: date
    end_value: date
    end_pos: int


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date.fromordinal(date(year, month + 1, 1).toordinal() - 1)


def _date_mentions(text: str) -> list[_DateMention]:
    mentions: list[_DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    for match in _FULL_DATE.finditer(text):
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            continue
        mentions.append(_DateMention(match.start(), day, day, match.end()))
        taken.append(match.span())
    for match in _KO_DATE.finditer(text):
        if not free(match.span()):
            continue
        year = int(match.group(1))
        try:
            if match.group(3) and match.group(2):
                first = last = date(year, int(match.group(2)), int(match.group(3)))
            elif match.group(2):
                first, last = date(year, int(match.group(2)), 1), _month_end(year, int(match.group(2)))
            else:
                first, last = date(year, 1, 1), date(year, 12, 31)
        except ValueError:
            continue
        mentions.append(_DateMention(match.start(), first, last, match.end()))
        taken.append(match.span())
    for match in _YEAR_MONTH.finditer(text):
        if not free(match.span()) or not 1 <= int(match.group(2)) <= 12:
            continue
        year, month = int(match.group(1)), int(match.group(2))
        mentions.append(
            _DateMention(match.start(), date(year, month, 1), _month_end(year, month), match.end())
        )
        taken.append(match.span())
    for match in _YEAR.finditer(text):
        if not free(match.span()):
            continue
        year = int(match.group(1))
        mentions.append(_DateMention(match.start(), date(year, 1, 1), date(year, 12, 31), match.end()))
        taken.append(match.span())
    mentions.sort(key=lambda m: m.position)
    return mentions


def parse_period(text: str, today: date) -> tuple[date | None, date | None]:
    """(start, end) stated in the text; a year means its first day as a start, last day as an end."""
    relative = _RELATIVE_YEARS.search(text)
    mentions = _date_mentions(text)
    if not mentions and relative:
        years = int(relative.group(1) or relative.group(2))
        try:
            start = today.replace(year=today.year - years)
        except ValueError:  # 29 February
            start = today.replace(year=today.year - years, day=28)
        return start, None
    if len(mentions) >= 2:
        first, second = mentions[0], mentions[1]
        return first.start_value, second.end_value
    if len(mentions) == 1:
        only = mentions[0]
        before, after = text[: only.position], text[only.end_pos :]
        if _END_MARKER.match(after) or _END_PREFIX.search(before):
            return None, only.end_value
        # "in 2020" / "2020년 한 해" means that whole year; otherwise a bare year is a start.
        if re.search(r"\b(?:in|during)\s*$", before, re.I) or re.match(
            r"\s*(?:년)?\s*(?:한\s*해|동안|에만)", after
        ):
            return only.start_value, only.end_value
        return only.start_value, None
    return None, None


# Resource ids are uuid hex strings (store.models.new_id); short numeric ids are accepted as typed.
_ID = r"((?=[a-f]*\d)[0-9a-f]{8,32}(?![0-9a-z])|\d{1,7}(?![\d/.년개%]))"
_BACKTEST_ID = re.compile(
    r"(?:backtest|back-test|백테스트|run|job|result|결과)\s*(?:id\s*)?(?:#|no\.?\s*|number\s*)?"
    + _ID
    + r"|#\s*"
    + _ID
    + r"|\bid\s*[:=]?\s*"
    + _ID
    + r"|(?<!전략)(?<!전략\s)(\d+)\s*번"
    + r"|(?<![0-9a-z])((?=[a-f]*\d)[0-9a-f]{32})(?![0-9a-z])",
    re.I,
)
_STRATEGY_ID = re.compile(r"(?:strategy|전략)\s*(?:#|id\s*)?" + _ID + r"(?:\s*번)?", re.I)


def _is_year(value: str) -> bool:
    return re.fullmatch(r"(?:19|20)\d{2}", value) is not None


def parse_backtest_id(text: str) -> str | None:
    # "strategy 7" / "전략 7번" names a strategy, not a backtest.
    text = _STRATEGY_ID.sub(" ", text)
    for match in _BACKTEST_ID.finditer(text):
        value = next(group for group in match.groups() if group)
        if not _is_year(value):  # "backtest 2020" is a period, not an id
            return value.lower()
    return None


_ID_LIST_SEP = r"\s*(?:번|#)?\s*(?:,|and|&|과|와|하고|이랑|랑|및|vs\.?|,?\s)\s*#?"
_STRATEGY_IDS = re.compile(
    r"(?:strateg(?:y|ies)|전략)\s*(?:#|ids?\s*)?((?:[0-9a-f]+" + _ID_LIST_SEP + r")*[0-9a-f]+)", re.I
)


def _id_tokens(fragment: str) -> list[str]:
    tokens = re.findall(r"(?<![0-9a-z])((?=[a-f]*\d)[0-9a-f]{8,32}|\d{1,7})(?![0-9a-z])", fragment, re.I)
    return [token.lower() for token in tokens if not _is_year(token)]


def parse_strategy_ids(text: str) -> list[str]:
    """Ids of strategies mentioned: "strategies 3 and 5", "전략 3번과 5번", "#3 vs #5"."""
    ids: list[str] = []
    match = _STRATEGY_IDS.search(text)
    if match:
        ids = _id_tokens(match.group(1))
    if len(ids) < 2:
        marked = [a or b for a, b in re.findall(r"#\s*([0-9a-f]+)|([0-9a-f]+)\s*번", text, re.I)]
        for value in _id_tokens(" ".join(marked)):
            if value not in ids:
                ids.append(value)
    if len(ids) < 2:
        for value in _id_tokens(re.sub(r"\d+(?:\.\d+)?\s*[%/]|\d+(?:\.\d+)?(?=\s*[%/]|년)", " ", text)):
            if value not in ids:
                ids.append(value)
    return ids


_METRICS: list[tuple[str, re.Pattern[str]]] = [
    ("sharpe_ratio", re.compile(r"sharpe|샤프", re.I)),
    ("sortino_ratio", re.compile(r"sortino|소르티노", re.I)),
    ("calmar_ratio", re.compile(r"calmar|칼마", re.I)),
    ("max_drawdown", re.compile(r"drawdown|\bmdd(?![a-z])|낙폭|드로다운", re.I)),
    ("win_rate", re.compile(r"win\s*rate|승률", re.I)),
    ("volatility", re.compile(r"volatility|변동성", re.I)),
    ("cagr", re.compile(r"\bcagr\b|연평균|annual(?:ized)?\s*return|연\s*수익률", re.I)),
    ("total_return", re.compile(r"total\s*return|\breturns?\b|수익률|수익", re.I)),
]


# "which is most stable?" / "가장 안정적" → rank on risk; "most profitable" / "가장 수익" → on returns.
STABILITY_METRICS: tuple[str, ...] = ("volatility", "max_drawdown", "sharpe_ratio")
PROFIT_METRICS: tuple[str, ...] = ("total_return", "cagr")
_STABILITY = re.compile(
    r"\bstab(?:le|ility)\b|\bstead(?:y|iest|ier)\b|\bsafe(?:st|r)?\b|\bleast\s+risky\b|\blowest\s+risk\b"
    r"|안정|안전|위험(?:이|도가)?\s*(?:가장\s*)?(?:적|낮)",
    re.I,
)
_PROFIT = re.compile(
    r"\bmost\s+profitable\b|\bprofitab(?:le|ility)\b|\b(?:best|highest)\s+returns?\b"
    r"|\b(?:earn(?:s|ed)?|makes?|made)\s+(?:the\s+)?most(?:\s+money)?\b"
    r"|수익성|가장\s*수익|제일\s*수익|수익이?\s*(?:가장|제일)|(?:가장|제일)\s*많이\s*벌",
    re.I,
)


def parse_metric_focus(text: str) -> list[str]:
    """Ranking metrics implied by the question's focus (stability or profit), empty when none."""
    if _STABILITY.search(text):
        return list(STABILITY_METRICS)
    if _PROFIT.search(text):
        return list(PROFIT_METRICS)
    return []


_COUNT_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "한": 1, "하나": 1, "두": 2, "둘": 2,
    "세": 3, "셋": 3, "네": 4, "넷": 4, "다섯": 5,
}  # fmt: skip
_COUNT = r"(\d{1,2}|one|two|three|four|five|다섯|하나|한|두|둘|세|셋|네|넷)"
_LATEST_STRATEGIES = [
    # "my last three strategies", "the latest 2 strategies", "last 3 saved strategies"
    re.compile(
        r"\b(?:last|latest|newest|most\s+recent|recent)\s+" + _COUNT
        + r"\s+(?:(?:saved|created|new)\s+)?strateg(?:y|ies)\b",
        re.I,
    ),
    # "the three most recent strategies", "3 newest strategies"
    re.compile(
        r"\b" + _COUNT + r"\s+(?:most\s+recent|latest|newest|last|recent)\s+(?:(?:saved|created)\s+)?strateg",
        re.I,
    ),
    # "최근 3개 전략", "마지막 두 전략", "최근에 만든 세 개의 전략"
    re.compile(
        r"(?:최근|마지막|최신)(?:에|으로)?\s*(?:(?:만든|저장한|생성한|등록한)\s*)?" + _COUNT
        + r"\s*(?:개\s*)?(?:의\s*)?전략"
    ),
    # "최근 전략 3개", "최근 만든 전략 두 개", "마지막 전략 2개"
    re.compile(
        r"(?:최근|마지막|최신)(?:에|으로)?\s*(?:(?:만든|저장한|생성한|등록한)\s*)?전략(?:들)?\s*" + _COUNT
        + r"\s*(?:개|가지)"
    ),
]  # fmt: skip


def parse_latest_count(text: str) -> int | None:
    """N of "my last N strategies" / "최근 전략 N개" (digits or number words), None when not said."""
    for pattern in _LATEST_STRATEGIES:
        match = pattern.search(text)
        if match:
            word = match.group(1).lower()
            return int(word) if word.isdigit() else _COUNT_WORDS[word]
    return None


def parse_metrics(text: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for name, pattern in _METRICS:
        match = pattern.search(text)
        if match and all(name != other for _, other in found):
            # "annual return" is CAGR, not also total_return.
            if name == "total_return" and any(other == "cagr" for _, other in found):
                continue
            found.append((match.start(), name))
    return [name for _, name in sorted(found)]


_STATUSES: list[tuple[str, re.Pattern[str]]] = [
    ("running", re.compile(r"\brunning\b|in\s*progress|실행\s*중|진행\s*중|돌아가(?:는|고)", re.I)),
    ("failed", re.compile(r"\bfail(?:ed|ures?)?\b|\berrored\b|실패|에러|오류", re.I)),
    (
        "completed",
        re.compile(r"\bcompleted?\b|\bfinished\b|\bsucceeded\b|\bsuccessful\b|\bdone\b|완료|성공|끝난", re.I),
    ),
    ("pending", re.compile(r"\bpending\b|\bqueued\b|대기", re.I)),
    ("cancelled", re.compile(r"\bcancel(?:l)?ed\b|취소", re.I)),
]


def parse_status(text: str) -> str | None:
    for status, pattern in _STATUSES:
        if pattern.search(text):
            return status
    return None


def parse_limit(text: str) -> int | None:
    match = re.search(
        r"(?:last|latest|recent|top|first)\s+(\d{1,3})\b|(\d{1,3})\s*(?:backtests|runs|results)\b|(\d{1,3})\s*개",
        text,
        re.I,
    )
    if not match:
        return None
    return int(next(group for group in match.groups() if group))


def parse_strategy_name(text: str) -> str | None:
    quoted = re.search(r"[\"'“‘「]([^\"'”’」]{1,100})[\"'”’」]", text)
    if quoted:
        return quoted.group(1).strip()
    named = re.search(
        r"\b(?:named|called|name\s*(?:it|:|=))\s+([\w\- ]{1,60}?)(?:\s+(?:with|using|on)\b|[.,!?]|$)",
        text,
        re.I,
    )
    if named:
        return named.group(1).strip()
    korean = re.search(
        r"이름(?:은|을|:)?\s*([\w\-]{1,60}?)(?:\s*(?:으로|로|이라고|라고))?(?:\s|$|[.,!?])", text
    )
    if korean:
        return korean.group(1).strip()
    korean_suffix = re.search(r"([\w\-]{1,60}?)(?:이라는|라는)\s*이름", text)
    if korean_suffix:
        return korean_suffix.group(1).strip()
    return None


# --------------------------------------------------------------------------------------------
# Intent decision
# --------------------------------------------------------------------------------------------
def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.I) is not None


_HELP = "|".join(
    [
        r"\bhelp\b",
        "what can you do",
        r"\bcommands?\b",
        "도움말",
        "도와줘",
        r"뭘?\s*할\s*수",
        r"무엇을\s*할\s*수",
        "사용법",
        "기능",
    ]
)
_COMPARE = r"\bcompare\b|\bcomparison\b|\bversus\b|\bvs\.?\b|\brank\b|비교|순위를?\s*매겨"
_CACHE = r"\bcache\b|캐시"
_LIST = "|".join(
    [
        r"\blist\b",
        r"\bshow\s+(?:me\s+)?(?:all|my)\b",
        r"\bwhat\b.*\b(?:do i have|are there)\b",
        r"\bmy\b",
        "목록",
        "리스트",
        "전부",
        "모든",
        "어떤",
        r"뭐\s*있",
        r"내\s",
        "보유한",
        "최근",
        r"\brecent\b",
        r"\blatest\b",
        r"\blast\s+\d+",
    ]
)
_STRATEGY_WORD = r"\bstrateg(?:y|ies)\b|전략"
_STRATEGIES_PLURAL = r"\bstrategies\b|전략들|전략\s*목록|전략\s*리스트"
_CREATE = r"\bcreate\b|\bsave\b|\bmake\b|\bnew\b|\bdefine\b|\badd\b|만들|저장(?!된)|생성|등록|추가"
_BACKTEST_WORD = r"back-?tests?|\bruns\b|백테스트|백테스팅"
_BACKTESTS_PLURAL = r"back-?tests\b|\bruns\b|백테스트들|백테스트\s*목록|백테스트\s*리스트"
_RESULT = "|".join(
    [
        r"\bresults?\b",
        r"\bstats\b",
        r"\bperformance\b",
        r"\bhow did\b",
        r"\bwhat happened\b",
        r"\bstatus\b",
        "결과",
        "성과",
        "성적",
        "상태",
        r"어떻게\s*됐",
        "어땠",
    ]
)
_REFERENCE = "|".join(
    [
        r"\bit\b",
        r"\bthat\b",
        r"\bsame\b",
        r"\bagain\b",
        r"\bthis\b",
        r"\blast one\b",
        r"그\s",
        "그거",
        "그것",
        "이전",
        "방금",
        "아까",
        "다시",
        "같은",
        "똑같",
        "이번에는",
        "이번엔",
    ]
)
_AGAIN = "|".join(
    [
        r"\bagain\b",
        r"\bsame\b",
        r"\bre-?run\b",
        r"\binstead\b",
        r"\bnow\b",
        r"\bone more\b",
        "다시",
        "같은",
        "똑같",
        "이번에는",
        "이번엔",
        "대신",
        r"한\s*번\s*더",
    ]
)
_RUN = r"\brun\b|\btest\b|\bsimulate\b|\btry\b|돌려|실행|(?<!백)테스트|시뮬|해\s*봐|해봐|해\s*줘|해줘"
_MARKET = "|".join(
    [
        r"\bprices?\b",
        r"\bquotes?\b",
        r"\bbars\b",
        r"\bmarket\s*data\b",
        r"\bdata\b",
        r"\bohlc\b",
        r"\bchart\b",
        r"\bclose\b",
        "시세",
        "가격",
        "주가",
        "데이터",
        "차트",
        "종가",
    ]
)


def plan(text: str, context: dict[str, Any] | None = None, today: date | None = None) -> Plan:
    """Map one utterance to a tool call; ``context`` carries ``last_*`` slots from earlier turns."""
    context = context or {}
    today = today or date.today()
    language = detect_language(text)
    strategy = parse_strategy(text)
    symbol = parse_symbol(text)
    lowered = text.lower()

    def build(
        intent: str, args: dict[str, Any], missing: list[str] | None = None, used: list[str] | None = None
    ) -> Plan:
        return Plan(
            intent, {k: v for k, v in args.items() if v is not None}, language, missing or [], used or []
        )

    # The answer to "which symbol should I run them on?" ("AAPL", "on MSFT 2018-2022", "NVDA로 해줘").
    pending = context.get("pending_compare")
    if pending and symbol and strategy is None and _is_symbol_answer(text, symbol):
        args = {k: v for k, v in pending.items() if k not in ("fallback_symbol", "start", "end")}
        args["symbol"] = symbol
        start, end = parse_period(text, today)
        args.update(start=start.isoformat() if start else None, end=end.isoformat() if end else None)
        return build("compare_strategies", args, used=["pending_compare"])

    if _has(_HELP, text) and not strategy and not symbol:
        return build("help", {})

    latest_n = parse_latest_count(text)
    asks_which = _has(r"\bwhich\b|\bbest\b|어떤|어느|뭐가|무엇이|제일|가장", text)
    if _has(_COMPARE, text) or (latest_n is not None and (asks_which or parse_metric_focus(text))):
        return _plan_compare(text, latest_n, symbol, context, today, language)

    if _has(_CACHE, text):
        return build("cache_status", {})

    backtest_word = _has(_BACKTEST_WORD, text)
    strategy_word = _has(_STRATEGY_WORD, text)
    status = parse_status(text)
    backtest_id = parse_backtest_id(text) if backtest_word or _has(r"#\s*\d|\d+\s*번|\bid\b", text) else None

    wants_strategies = strategy_word and not strategy and not backtest_word and not _has(_CREATE, text)
    if wants_strategies and (_has(_LIST, text) or _has(_STRATEGIES_PLURAL, text)):
        return build("list_strategies", {})

    if _has(_CREATE, text) and (strategy_word or strategy) and not backtest_word and not symbol:
        config = strategy
        used = []
        if config is None and _has(_REFERENCE, text) and context.get("last_strategy_config"):
            config, used = dict(context["last_strategy_config"]), ["config"]
        name = parse_strategy_name(text)
        if config is not None and not name:
            name = describe_strategy(config)
        return build("create_strategy", {"name": name, "config": config}, [] if config else ["config"], used)

    wants_list = (
        backtest_word
        and backtest_id is None
        and not strategy
        and not symbol
        and (_has(_LIST, text) or status is not None or _has(_BACKTESTS_PLURAL, text))
    )
    if wants_list:
        return build("list_backtests", {"status": status, "limit": parse_limit(text)})

    if backtest_id is not None and not strategy and not _has(_AGAIN, text):
        return build("get_backtest", {"backtest_id": backtest_id})
    if (
        not strategy
        and not symbol
        and _has(_RESULT, text)
        and not _has(_RUN + r"|" + _AGAIN, text.replace("해줘", ""))
    ):
        if context.get("last_backtest_id") is not None:
            return build("get_backtest", {"backtest_id": context["last_backtest_id"]}, used=["backtest_id"])
        return build("get_backtest", {}, ["backtest_id"])
    shows_reference = _has(r"보여|show|display|see|알려", text) and _has(_REFERENCE, text)
    if not strategy and not symbol and shows_reference and context.get("last_backtest_id") is not None:
        return build("get_backtest", {"backtest_id": context["last_backtest_id"]}, used=["backtest_id"])

    run_like = backtest_word or strategy is not None or _has(_AGAIN, text)
    if symbol and _has(_MARKET, text) and not backtest_word and strategy is None:
        return build("market_data", {"symbol": symbol})

    if run_like or (symbol and _has(_RUN, text)):
        return _plan_run(text, lowered, strategy, symbol, context, today, language)

    if symbol and not _has(_RUN, text):
        return build("market_data", {"symbol": symbol})
    return build("help", {})


_SYMBOL_ANSWER_FILLER = re.compile(
    r"(?:\b(?:on|use|with|try|please|pls|ok(?:ay)?|let'?s|go|run|them|it|compare|from|to|until|and|"
    r"between|in)\b|으로|로|에서|종목|해\s*주세요|해\s*줘|해|부탁해|비교|돌려\s*줘|부터|까지|년|"
    r"[\s,.!?~\-/:]|\d)*",
    re.I,
)


def _is_symbol_answer(text: str, symbol: str) -> bool:
    """Whether the utterance is just a symbol (and maybe a period), as a reply to a symbol question."""
    rest = re.sub(re.escape(symbol), " ", text, count=1, flags=re.I)
    return _SYMBOL_ANSWER_FILLER.fullmatch(rest) is not None


def _plan_compare(
    text: str,
    latest_n: int | None,
    symbol: str | None,
    context: dict[str, Any],
    today: date,
    language: Language,
) -> Plan:
    """compare_strategies: explicit ids, "my last N strategies" (resolved by the tool when it runs), or
    the ids of the previous comparison; ranking metrics from the text; the common-ground symbol."""
    args: dict[str, Any] = {}
    used: list[str] = []
    missing: list[str] = []
    ids: list[str] = [] if latest_n is not None else parse_strategy_ids(text)
    if latest_n is not None:
        args["latest_n"] = latest_n
    elif len(ids) < 2 and _has(_REFERENCE, text) and context.get("last_strategy_ids"):
        ids, used = list(context["last_strategy_ids"]), ["strategy_ids"]
    if latest_n is None:
        args["strategy_ids"] = ids
        if len(ids) < 2:
            missing.append("strategy_ids")
    metrics = parse_metric_focus(text)
    metrics += [name for name in parse_metrics(text) if name not in metrics]
    if metrics:
        args["metrics"] = metrics
    args["natural_language_query"] = text
    # Common ground: a symbol said here binds the comparison to it; otherwise the session's last symbol
    # is only a fallback, used when some strategy has no completed backtest to compare.
    start, end = parse_period(text, today)
    if symbol:
        args["symbol"] = symbol
    elif context.get("last_symbol"):
        key = "symbol" if (start or end) else "fallback_symbol"
        args[key] = context["last_symbol"]
        used.append(key)
    elif start or end:
        missing.append("symbol")
    if start is not None:
        args["start"] = start.isoformat()
    if end is not None:
        args["end"] = end.isoformat()
    return Plan("compare_strategies", args, language, missing, used)


def _plan_run(
    text: str,
    lowered: str,
    strategy: dict[str, Any] | None,
    symbol: str | None,
    context: dict[str, Any],
    today: date,
    language: Language,
) -> Plan:
    args: dict[str, Any] = {}
    used: list[str] = []
    missing: list[str] = []
    strategy_id_match = _STRATEGY_ID.search(text)
    if strategy is not None:
        args["strategy_config"] = strategy
    elif strategy_id_match:
        args["strategy_id"] = strategy_id_match.group(1).lower()
    elif context.get("last_strategy_config"):
        args["strategy_config"] = dict(context["last_strategy_config"])
        used.append("strategy_config")
    elif context.get("last_strategy_id") is not None:
        args["strategy_id"] = str(context["last_strategy_id"])
        used.append("strategy_id")
    else:
        missing.append("strategy_config")

    if symbol:
        args["symbol"] = symbol
    elif context.get("last_symbol"):
        args["symbol"] = context["last_symbol"]
        used.append("symbol")
    else:
        missing.append("symbol")

    start, end = parse_period(text, today)
    refers_back = bool(used) or _has(_AGAIN, text) or _has(_REFERENCE, text)
    if start is None and end is None and refers_back:
        if context.get("last_start"):
            args["start"] = context["last_start"]
            used.append("start")
        if context.get("last_end"):
            args["end"] = context["last_end"]
            used.append("end")
    else:
        if start is not None:
            args["start"] = start.isoformat()
        if end is not None:
            args["end"] = end.isoformat()
    return Plan("run_backtest", args, language, missing, used)


def context_after(intent: str, args: dict[str, Any], result: dict[str, Any] | None) -> dict[str, Any]:
    """The ``last_*`` slots a successful tool call leaves for later references ("run it again")."""
    updates: dict[str, Any] = {}
    if intent == "run_backtest":
        for key in ("symbol", "start", "end"):
            if args.get(key):
                updates[f"last_{key}"] = args[key]
        if args.get("strategy_config"):
            updates["last_strategy_config"] = args["strategy_config"]
            updates["last_strategy_id"] = None
        elif args.get("strategy_id") is not None:
            updates["last_strategy_id"] = args["strategy_id"]
            updates["last_strategy_config"] = None
        if result and result.get("id") is not None:
            updates["last_backtest_id"] = result["id"]
    elif intent == "get_backtest" and result and result.get("id") is not None:
        updates["last_backtest_id"] = result["id"]
        if result.get("symbol"):
            updates["last_symbol"] = result["symbol"]
    elif intent == "create_strategy" and result and result.get("id") is not None:
        updates["last_strategy_id"] = result["id"]
        updates["last_strategy_config"] = None
    elif intent == "compare_strategies":
        # "my last 3 strategies" is resolved by the tool: the ids compared are in its result.
        ids = (result or {}).get("strategy_ids") or args.get("strategy_ids")
        if ids:
            updates["last_strategy_ids"] = list(ids)
        symbol = (result or {}).get("symbol")
        if symbol:
            updates["last_symbol"] = symbol
    elif intent == "market_data" and args.get("symbol"):
        updates["last_symbol"] = args["symbol"]
    return updates
