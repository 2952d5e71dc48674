"""Recognisers: each reads one kind of thing from the utterance and claims the spans it used.

Order matters only through the claims: ids, choice settings, metric words, the period, counts, tickers,
backtest/strategy ids, then labelled numbers (strategy parameters and settings share one pairing),
positional strategy numbers, and what is left over is reported (``Reading.unclaimed``).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from rapidfuzz.distance import DamerauLevenshtein

from quantops.chat.planner import lexicon as lx
from quantops.chat.planner.periods import Period, read_period
from quantops.chat.planner.text import Claims, Number, normalise, numbers, squash

# ---- problems -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Issue:
    """A problem found while reading, before it becomes a ``PlanProblem`` with messages."""

    field: str
    kind: str  # missing | invalid | ambiguous | unclaimed
    value: str | None = None
    rule_en: str = ""
    rule_ko: str = ""


# ---- ids --------------------------------------------------------------------------------------------------
_HEX_ID = re.compile(
    r"(?<![0-9a-z])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"
    r"(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,32})(?![0-9a-z])",
    re.I,
)
_ID_VALUE = r"([0-9a-f]{8,32}|\d{1,7})"
_BACKTEST_MARK = re.compile(
    r"(?:back-?test|백테스트|\brun|\bjob|\bresult|결과)\s*(?:id\s*)?(?:#|no\.?\s*|number\s*|번호\s*)?\s*"
    + _ID_VALUE
    + r"(?![0-9a-z]|\s*[/,]\s*\d|\s*년|\.\d)",
    re.I,
)
_STRATEGY_MARK = re.compile(
    r"(?:strateg(?:y|ies)|전략)\s*(?:id\s*|#\s*|no\.?\s*|number\s*)?"
    + _ID_VALUE
    + r"(?:\s*번)?(?![0-9a-z]|\s*/\s*\d|\.\d)",
    re.I,
)
_GENERIC_MARK = re.compile(
    r"#\s*"
    + _ID_VALUE
    + r"(?![0-9a-z])|\bid\s*[:=#]?\s*"
    + _ID_VALUE
    + r"(?![0-9a-z])|(?<![\d.])(\d{1,7})\s*번(?!째)",
    re.I,
)
_NUMBER_BEFORE_STRATEGY = re.compile(r"(?<![\d./])(\d{1,7})\s*번\s*(?:전략|strateg)", re.I)
_NUMBER_BEFORE_BACKTEST = re.compile(r"(?<![\d./])(\d{1,7})\s*번\s*(?:백테스트|back-?test)", re.I)
_BACKTEST_TOKEN = re.compile(
    r"(?:back-?test|백테스트)\s*(?:id\s*)?(?:#\s*)?([a-z0-9_\-]{1,40})(?![a-z0-9_\-])"
    r"(?=\s*(?:[?.!,]|$|please|pls|for\s+me|now|결과|보여|상태|취소|좀|는|은|을|를))",
    re.I,
)
_NOT_AN_ID = {
    "results", "result", "list", "status", "for", "on", "of", "with", "the", "that", "this", "please",
    "again", "it", "a", "an", "my", "me", "id", "ids", "history", "runs", "details", "detail", "report",
    "now", "and", "is", "was", "from", "since", "to", "in", "using", "strategy", "pls", "one", "all",
    "stats", "progress", "done", "s", "ing", "number", "no", "so", "by", "at",
}  # fmt: skip

# ---- counts --------------------------------------------------------------------------------------------
_COUNT_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "한": 1,
    "하나": 1,
    "두": 2,
    "둘": 2,
    "세": 3,
    "셋": 3,
    "네": 4,
    "넷": 4,
    "다섯": 5,
}
_COUNT = r"(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|다섯|하나|한|두|둘|세|셋|네|넷)"
_LATEST_STRATEGIES = [
    re.compile(
        r"\b(?:last|latest|newest|most\s+recent|recent)\s+"
        + _COUNT
        + r"\s+(?:(?:saved|created|new)\s+)?(?:strateg(?:y|ies)|strats?)\b",
        re.I,
    ),
    re.compile(
        r"\b" + _COUNT + r"\s+(?:most\s+recent|latest|newest|last|recent)\s+(?:(?:saved|created)\s+)?strateg",
        re.I,
    ),
    re.compile(
        r"(?:최근|마지막|최신)(?:에|으로)?\s*(?:(?:만든|저장한|생성한|등록한)\s*)?"
        + _COUNT
        + r"\s*(?:개\s*)?(?:의\s*)?전략"
    ),
    re.compile(
        r"(?:최근|마지막|최신)(?:에|으로)?\s*(?:(?:만든|저장한|생성한|등록한)\s*)?전략(?:들)?\s*"
        + _COUNT
        + r"\s*(?:개|가지)"
    ),
]
_LIMIT = re.compile(
    r"\b(?:last|latest|recent|top|first|bottom|best|worst)\s+(\d{1,3})\b(?!\s*(?:years?|months?|days?|"
    r"weeks?|%))"
    r"|\bgive\s+me\s+(?:the\s+)?(?:top\s+|bottom\s+)?(\d{1,3})\b(?!\s*(?:years?|months?|days?|weeks?|%|bars?))"
    r"|(?<![\d.])(\d{1,3})\s+(?:of\s+(?:my|the|our)\s+)?(?:(?:most\s+)?(?:recent|latest|last|best|worst|completed|failed|running|"
    r"pending|cancell?ed)\s+)*"
    r"(?:back-?tests|runs|results|jobs)\b|(?<![\d.])(\d{1,3})\s*개(?!월)",
    re.I,
)
_BARS = re.compile(
    r"\b(?:last|latest|recent|past)\s+(\d{1,3})\s+(?:daily\s+)?(?:bars|candles|rows|closes|prices|"
    r"sessions|days|trading\s+days)\b"
    r"|(?<![\d.])(\d{1,3})\s+(?:latest|last|most\s+recent)\s+(?:bars|candles|rows|closes|prices|days)\b"
    r"|\b(?:pull|get|fetch|show|give\s+me|load|download)\s+(?:me\s+)?(?:the\s+)?(\d{1,4})\s+(?:daily\s+)?(?:bars|candles|rows)\b"
    r"|(?:최근|마지막)\s*(\d{1,3})\s*(?:개\s*)?(?:봉|캔들|거래일|개의?\s*(?:종가|시세|데이터))",
    re.I,
)

_STATUSES: list[tuple[str, re.Pattern[str]]] = [
    (
        "running",
        re.compile(
            r"\brunning\b|in\s*progress|\bstill\s+going\b|실행\s*중|진행\s*중|돌아가(?:는|고)|돌고\s*있", re.I
        ),
    ),
    ("failed", re.compile(r"\bfail(?:ed|ures?|ing)?\b|\berror(?:ed|s)?\b|\bbroken\b|실패|에러|오류", re.I)),
    (
        "completed",
        re.compile(r"\bcompleted?\b|\bfinished\b|\bsucceeded\b|\bsuccessful\b|\bdone\b|완료|성공|끝난", re.I),
    ),
    ("pending", re.compile(r"\bpending\b|\bqueued\b|\bwaiting\b|대기", re.I)),
    ("cancelled", re.compile(r"\bcancell?ed\b|취소(?:된|한|됐)", re.I)),
]
STABILITY_METRICS: tuple[str, ...] = ("volatility", "max_drawdown", "sharpe_ratio")
PROFIT_METRICS: tuple[str, ...] = ("total_return", "cagr")
_STABILITY = re.compile(
    r"\bstab(?:le|ility)\b|\bstead(?:y|iest|ier)\b|\bsafe(?:st|r)?\b|\bleast\s+risky\b|"
    r"\blowest\s+risk\b|\bless\s+risky\b"
    r"|안정|안전|위험(?:이|도가)?\s*(?:가장\s*)?(?:적|낮)",
    re.I,
)
_PROFIT = re.compile(
    r"\bmost\s+profitable\b|\bprofitab(?:le|ility)\b|\b(?:best|highest)\s+returns?\b"
    r"|\b(?:earn(?:s|ed)?|makes?|made)\s+(?:the\s+)?most(?:\s+money)?\b|\bmore\s+money\b"
    r"|수익성|가장\s*수익|제일\s*수익|수익이?\s*(?:가장|제일)|(?:가장|제일)\s*많이\s*벌|더\s*많이\s*벌",
    re.I,
)

# ---- tickers ---------------------------------------------------------------------------------------------
_UPPER_TICKER = re.compile(r"(?<![A-Za-z0-9&^.])([A-Z]{1,5}(?:[.\-][A-Z]{1,4})?)(?![A-Za-z0-9&])")
_SPECIAL_TICKER = re.compile(r"(?<![0-9a-z])(\d{6}\.[a-z]{2}|[a-z]{2,5}-usd|\^[a-z]{2,5})(?![0-9a-z])", re.I)
_LOWER_AFTER = re.compile(
    r"(?:\b(?:on|for|of|with|in|using|try)\s+)([a-z]{1,5})(?![a-z0-9])|"
    r"(?<![a-z0-9])([a-z]{1,5})(?=\s*(?:에서|에|로|으로|의|도|는|은|를|을|이랑|랑)(?![가-힣]{2}))"
)
_NOT_TICKERS = {
    "RSI", "SMA", "EMA", "MACD", "BB", "ID", "API", "AND", "OR", "ON", "FOR", "THE", "VS", "BY", "TO", "OF",
    "IN", "A", "I", "IT", "MY", "ME", "MDD", "CAGR", "VAR", "CVAR", "JSON", "KST", "UTC", "LLM", "OK", "PM",
    "AM", "ETF", "USD", "KRW", "AI", "HI", "RUN", "SHOW", "LIST", "TOP", "FROM", "NEW", "ALL", "DATA",
    "BUY", "HOLD", "SELL", "YTD", "CSV", "HTML", "URL", "N", "NOW", "PNL", "ROI", "MA", "EOD", "OHLC",
    "OHLCV", "USA", "US", "UK", "EU", "FYI", "ASAP", "PLS", "PLZ", "THX", "LOL", "BTW", "IPO", "CEO",
    "WHAT", "HOW", "WHY", "WHO", "WHEN", "IS", "ARE", "DO", "DID", "GO", "NO", "YES", "AT", "AS", "BE",
    "SO", "UP", "IF", "OUT", "OFF", "MAX", "MIN", "AVG", "STD", "DEV", "SD", "K", "X", "GET", "SET", "BT",
    "HELP", "LONG", "SHORT", "ROC", "TP", "SL", "BPS", "BP", "Q", "H", "FY", "PLEASE", "WITH", "CAN", "YOU",
    "AN", "BEST", "WORST", "STOP", "LOSS", "TEST", "CROSS", "OVER", "THEN", "THAN", "JUST", "ALSO", "TOO",
    "NOT", "DONT", "SAME", "HODL", "DD", "ATR", "P", "L", "B", "S", "R", "E", "D", "VOL", "RF", "RFR",
    "CACHE", "MEAN", "REV", "LAST", "NEXT", "OPEN", "CLOSE", "HIGH", "LOW", "DAY", "DAYS", "YEAR", "TRY",
    "USE", "FAST", "SLOW", "SAVE", "MAKE", "DONE", "WIN", "RATE", "TOTAL", "RETURN", "KO_", "GOLDEN",
    "DEATH", "SMA_", "OK_", "UPS", "NAME", "CALL", "VS_", "OKAY",
}  # fmt: skip
_COMMON_WORDS = {
    "apply", "apple", "maple", "ample", "metal", "meat", "mate", "spot", "data", "date", "table", "total",
    "tesla", "test", "tests", "taste", "these", "those", "there", "their", "where", "which", "while",
    "what", "about", "above", "after", "again", "backs", "blank", "start", "stats", "state", "status",
    "still", "store", "story", "strat", "since", "until", "using", "value", "worst", "years", "month",
    "weeks", "today", "shows", "short", "longs", "sharp", "share", "range", "rates", "ratio", "reset",
    "gains", "loses", "money", "model", "mode", "metric", "metrics", "amazing", "google", "netflix",
    "nvidia", "amazon", "microsoft", "facebook", "please", "thanks", "ticker", "symbol", "market", "period",
    "strategy", "strategies", "compare", "results", "result", "return", "returns", "window", "cancel",
    "create", "backtest", "backtests", "simulate", "moving", "average", "averages", "momentum", "bollinger",
    "breakout", "signal", "crossover", "commission", "slippage", "profit", "drawdown", "volatility",
    "sharpe", "sortino", "calmar", "better", "latest", "recent", "running", "failed", "pending",
    "completed", "another", "setting", "settings", "trend", "trader", "trading", "every", "world", "hello",
    "would", "could", "should", "other", "first", "second", "third", "fifth", "march", "april", "june",
    "july", "august", "october", "november", "december", "january", "february", "annual", "yearly",
    "monthly", "daily", "weekly", "equity", "capital", "initial", "starting", "maximum",
}  # fmt: skip


@dataclass(slots=True)
class SymbolHit:
    symbol: str
    typed: str
    start: int
    end: int
    how: str  # ticker | company | lower | fuzzy | corrected


@dataclass
class StrategyReading:
    config_type: str
    config: dict[str, Any]  # the parameters stated (and presets), not the defaults
    stated: dict[str, str] = field(default_factory=dict)  # field -> text typed
    span: tuple[int, int] = (0, 0)
    from_context: bool = False  # the type came from the session (labels only: "now with slow 100")
    preset_fields: set[str] = field(default_factory=set)  # set by a preset ("golden cross"), numbers win
    anchors: list[tuple[int, int]] = field(default_factory=list)  # every mention of the type


@dataclass
class Reading:
    text: str  # normalised, original case
    low: str
    claims: Claims
    numbers: list[Number]
    period: Period
    hex_ids: list[str] = field(default_factory=list)
    backtest_ids: list[str] = field(default_factory=list)
    strategy_ids: list[str] = field(default_factory=list)
    generic_ids: list[str] = field(default_factory=list)
    invalid_backtest_id: str | None = None
    symbols: list[SymbolHit] = field(default_factory=list)
    strategy: StrategyReading | None = None
    strategy_types: list[str] = field(default_factory=list)  # every type named (ambiguity check)
    settings: dict[str, Any] = field(default_factory=dict)
    settings_stated: dict[str, str] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)
    status: str | None = None
    limit: int | None = None
    latest_n: int | None = None
    bars: int | None = None
    issues: list[Issue] = field(default_factory=list)
    unclaimed: list[Number] = field(default_factory=list)
    strategy_names: list[str] = field(default_factory=list)
    create_name: str | None = None
    create_description: str | None = None
    json_strategy: StrategyReading | None = None
    unpaired_labels: list[str] = field(default_factory=list)  # strong labels said without a number
    symbol_ref: bool = False  # "that ticker", "그 종목": the symbol of the conversation


# ---- label <-> number pairing ----------------------------------------------------------------------------
_GAP_LABEL_FIRST = re.compile(
    r"^(?:\s|=|:|\(|\bof\b|\bis\b|\bat\b|\bto\b|\bas\b|\babout\b|\baround\b|\bset\s+to\b|\bwith\b|\bperiod\b|"
    r"\bline\b|\blevel\b|\blevels\b|\bvalue\b|\bthreshold\b|\bequal\s+to\b|을|를|은|는|이|가|로|으로|값|값은|값을|"
    r"이고|는\s*|만|건당|매매당|거래당|회당|주문당|\bper\s+(?:trade|order)\b|"
    # "buy when roc > 5%", "sell when it drops below -3%"
    r">=?|<=?|\+|\b(?:roc|rsi|momentum|it|price|the)\b|\b(?:rises?|drops?|falls?|goes|gets|crosses|climbs|"
    r"exceeds?|hits?|reaches|moves)\b|\b(?:above|below|over|under|past|beyond|back)\b)*$",
    re.I,
)
_GAP_NUMBER_FIRST = re.compile(
    r"^(?:\s|-|\bday\b|\bdays\b|\bbar\b|\bbars\b|\bperiod\b|짜리|의|\bof\b|\bfor\b|"
    # "ROC 4% 넘으면 매수", "-2% 아래로 떨어지면 매도"
    r"넘으면|넘을\s*때|넘어가면|이상이면|이상일\s*때|이상에서|이상|이하이면|이하면|이하일\s*때|이하에서|이하|아래에서|"
    r"아래로|아래|밑에서|밑으로|위에서|위로|"
    r"떨어지면|빠지면|오르면|올라가면|되면|일\s*때|에서|에|면|로|으로)*$",
    re.I,
)


@dataclass(slots=True)
class Label:
    start: int
    end: int
    target: str  # "strategy:<field>", "strategy:<a>|<b>" (symmetric), "setting:<field>"
    text: str
    weak: bool


def _pair(
    text: str, labels: list[Label], nums: list[Number], fits: Callable[[Label, Number], bool] | None = None
) -> dict[int, Number]:
    """Pair labels with numbers (label index -> number): all label-first or all number-first, whichever
    pairs more numbers that fit their labels, then more numbers ("fast 10 slow 50" vs "bollinger 2 std 30
    period"; "20 period 2.5 std, initial cash 10000" is number-first: "period 2.5" is no whole period),
    then the rest the other way."""

    def candidates(label_first: bool) -> dict[int, Number]:
        taken: set[int] = set()
        out: dict[int, Number] = {}
        for i, label in enumerate(labels):
            best = None
            for k, num in enumerate(nums):
                if k in taken:
                    continue
                if (
                    label_first
                    and num.start >= label.end
                    and _GAP_LABEL_FIRST.match(text[label.end : num.start])
                ):
                    best = k
                    break
                if (
                    not label_first
                    and num.end <= label.start
                    and _GAP_NUMBER_FIRST.match(text[num.end : label.start])
                ):
                    best = k
            if best is not None:
                # a number directly between two labels goes with the orientation chosen
                taken.add(best)
                out[i] = nums[best]
        return out

    def rank(pairs: dict[int, Number]) -> tuple[int, int]:
        return (sum(fits(labels[i], n) for i, n in pairs.items()) if fits else 0, len(pairs))

    first = candidates(True)
    second = candidates(False)
    chosen, other = (first, second) if rank(first) >= rank(second) else (second, first)
    used = {id(n) for n in chosen.values()}
    for i, num in other.items():
        if i not in chosen and id(num) not in used:
            chosen[i] = num
            used.add(id(num))
    return chosen


# ---- reading ---------------------------------------------------------------------------------------------
_STRATEGY_FILLER = re.compile(
    r"^(?:\s|,|:|\(|\)|crossover|cross|strategy|전략|with|using|of|at|parameters?|params|settings?|크로스오버|크로스|"
    r"전략으로|전략을|전략|을|를|로|으로|에|mean\s*reversion|reversion|system|signals?|indicator|band|bands|밴드|"
    r"\bon\b|\bfor\b|\bperiods?\b|\bdays?\b|lines?|window|windows|parameters|values?|기준|thresholds?|levels?|"
    r"일선|선|교차|and|및|평균\s*회귀|역추세|추세\s*추종|\bbt\b|\bw/|\bthe\b|\bstandard\b|\bclassic\b|\busual\b|"
    # a misspelt "crossover" ("crossvoer", "crosover") is still the word between the name and its numbers
    r"\bcros+[a-z]*\b|\bcorss[a-z]*\b)*",
    re.I,
)
_SEQ_SEP = r"\s*(?:/|,|-|~|:|\s|\band\b|&|과|와|랑|이랑|\)|\(|x|일선|선)+\s*"
_ZERO_COSTS = [
    (
        re.compile(
            r"\b(?:no|zero|without|w/o|free\s+of)\s+(?:(?:percentage|percent|variable|proportional)\s+)?(?:commissions?|comms?|fees)\b|\bcommission[\s\-]*free\b|수수료\s*(?:는|은)?\s*(?:없이|없는|없음|무료|제로|0\s*으로)|"
            r"\b(?:commissions?|fees?)\s+(?:of\s+|is\s+|at\s+|set\s+to\s+|=\s*)?(?:zero|none|nil|nothing)\b",
            re.I,
        ),
        "commission",
    ),
    (
        re.compile(
            r"\b(?:no|zero|without|w/o)\s+slippage\b|슬리피지\s*(?:는|은)?\s*(?:없이|없는|없음|제로|무시)|"
            r"\bslippage\s+(?:of\s+|is\s+|at\s+|set\s+to\s+|=\s*)?(?:zero|none|nil)\b",
            re.I,
        ),
        "slippage_bps",
    ),
    (
        re.compile(
            r"\b(?:no|zero|without|w/o)\s+(?:costs|trading\s+costs|transaction\s+costs|frictions?)\b|\bfrictionless\b|(?:거래\s*)?비용\s*(?:없이|없는|0)",
            re.I,
        ),
        "both",
    ),
]
_HALF_EQUITY = re.compile(
    r"\b(?:half|50%)\s+(?:of\s+)?(?:my|the|our)?\s*(?:equity|capital|portfolio|account|cash|money|balance)\b|"
    r"(?:자산|자본|자금|계좌|잔고|시드|예수금)(?:금)?(?:의|을|를)?\s*(?:절반|반(?![가-힣]))|"
    r"절반(?:만|씩)?\s*(?:투자|매수|베팅|투입|넣)",
    re.I,
)
_PERCENT_OF_EQUITY = re.compile(
    r"^\s*(?:of\s+(?:my\s+|the\s+)?(?:equity|capital|portfolio|account|cash)|(?:position|sizing))", re.I
)
_MONEY_MULTIPLIERS = ("k", "m", "mm", "million", "thousand", "만", "억", "천만", "백만")
_PER_TRADE = re.compile(
    r"^\s*(?:per|each|a|every)\s+(?:trade|order|position|entry)|^\s*(?:씩|매매당|거래당|건당|회당)", re.I
)
_PER_TRADE_BEFORE = re.compile(
    r"(?:\bper\s+(?:trade|order|position|entry)|\beach\s+(?:trade|order|position)|\bevery\s+trade|"
    r"건당|거래당|매매당|회당|주문당|매\s*거래(?:마다)?|거래마다|매매마다|매번)\s*(?:에|은|는)?"
    r"(?:\s*(?:uses?|gets?|takes?|puts?\s+in|invests?|of|with|at|is|:|=))?\s*$",
    re.I,
)
_FIXED_FEE_AFTER = re.compile(
    r"^\s*(?:(?:per|a|each|every)\s+ticket\b|(?:(?:per|a|each)\s+(?:trade|order)\s+)?on\s+top\b|"
    r"(?:per|a|each)\s+(?:trade|order)\s+(?:fixed|flat)\b|(?:씩\s*)?고정)",
    re.I,
)
_EQUITY_PERCENT_KO = re.compile(r"(?:자본|자금|자산)(?:의|금의)?\s*$")


SYMBOL_REF = re.compile(
    r"\b(?:that|this|the\s+same|same)\s+(?:ticker|symbol|stock|company|name|one\s+stock)\b|"
    r"(?<![가-힣])(?:그|이|같은|해당|저)\s*(?:종목|티커|주식|회사)",
    re.I,
)


def _find_symbols(reading: Reading, known: set[str] | None) -> None:
    text, low, claims = reading.text, reading.low, reading.claims
    for match in SYMBOL_REF.finditer(low):
        if claims.free(*match.span()):
            reading.symbol_ref = True
            claims.claim(*match.span(), "symbol")
    universe = known if known is not None else set(lx.DEMO_SYMBOLS)
    hits: list[SymbolHit] = []
    for match in lx.COMPANY_WORDS.finditer(low):
        start, end = match.span()
        rest = low[end : end + 3]
        if re.match(r"[가-힣]", rest) and not re.match(
            r"(?:에서|에|로|으로|의|도|는|은|를|을|이랑|랑|과|와|하고|주|만|이)", rest
        ):
            continue
        if not claims.free(start, end):
            continue
        symbol = lx.COMPANY_BY_NAME.get(squash(match.group(0)))
        if symbol is None:
            continue
        hits.append(SymbolHit(symbol, text[start:end], start, end, "company"))
        claims.claim(start, end, "symbol")
    for match in _SPECIAL_TICKER.finditer(text):
        if claims.free(*match.span(1)):
            hits.append(SymbolHit(match.group(1).upper(), match.group(1), *match.span(1), "ticker"))
            claims.claim(*match.span(1), "symbol")
    upper_universe = {s.upper() for s in universe}
    for match in re.finditer(r"(?<![A-Za-z0-9&^])([A-Za-z]{1,5}(?:\.[A-Za-z])?)(?![A-Za-z0-9&])", text):
        word = match.group(1)
        start, end = match.span(1)
        if not claims.free(start, end):
            continue
        if word.upper() in upper_universe and (word.isupper() or word.lower() not in {"on", "it"}):
            hits.append(SymbolHit(word.upper(), word, start, end, "ticker"))
            claims.claim(start, end, "symbol")
    for match in _UPPER_TICKER.finditer(text):
        word = match.group(1)
        start, end = match.span(1)
        if not claims.free(start, end) or word in _NOT_TICKERS or squash(word) in lx.LEXICON_WORDS:
            continue
        if len(word) == 1 and word not in upper_universe:
            continue
        hits.append(SymbolHit(word, word, start, end, "ticker"))
        claims.claim(start, end, "symbol")
    if known is None and not hits:
        hits = _fuzzy_company(reading, universe)  # "on nvdia" is Nvidia before it is ticker NVDIA
    if known is None and not hits:
        for match in _LOWER_AFTER.finditer(low):
            group = 1 if match.group(1) else 2
            word = match.group(group)
            start, end = match.span(group)
            if (
                not claims.free(start, end)
                or word.upper() in _NOT_TICKERS
                or squash(word) in lx.LEXICON_WORDS
                or word in _COMMON_WORDS
                or word in _LOWER_STOP
            ):
                continue
            hits.append(SymbolHit(word.upper(), text[start:end], start, end, "lower"))
            claims.claim(start, end, "symbol")
            break
    # Tickers checked against the store: an unknown one is corrected when exactly one known symbol is one
    # edit away ("APPL" -> AAPL), else it is a question.
    if known is not None:
        checked: list[SymbolHit] = []
        for hit in hits:
            if hit.symbol in upper_universe or (hit.how == "company" and hit.symbol in upper_universe):
                checked.append(hit)
                continue
            close = [
                s
                for s in upper_universe
                if DamerauLevenshtein.distance(hit.symbol, s) <= 1 and len(s) == len(hit.symbol)
            ]
            if len(close) == 1 and hit.how != "lower":
                checked.append(SymbolHit(close[0], hit.typed, hit.start, hit.end, "corrected"))
            elif hit.how == "company":
                reading.issues.append(
                    Issue(
                        "symbol",
                        "invalid",
                        hit.typed,
                        "it is not in the market-data store",
                        "시세 저장소에 없는 종목이에요",
                    )
                )
            else:
                reading.issues.append(
                    Issue(
                        "symbol",
                        "invalid",
                        hit.typed,
                        "unknown symbol; the store has " + ", ".join(sorted(upper_universe)[:20]),
                        "알 수 없는 종목이에요. 가능한 종목: " + ", ".join(sorted(upper_universe)[:20]),
                    )
                )
        hits = checked
    if not hits:
        hits = _fuzzy_company(reading, universe)
    reading.symbols = sorted(hits, key=lambda h: h.start)


_LOWER_STOP = {
    "it", "the", "my", "me", "a", "all", "that", "this", "same", "them", "data", "price", "bars", "us",
    "each", "both", "those", "these", "one", "two", "three", "sharp", "mine", "four", "five", "any", "some",
    "more", "less", "now", "then", "daily", "which", "what", "you", "your", "our", "his", "her", "an",
    "time", "free", "costs", "cost", "fees", "fee", "top", "best", "worst", "risk", "years", "year", "days",
    "weeks", "ytd", "q", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    "there", "last", "past", "recent", "next", "full", "whole", "close", "open", "cash", "equity", "name",
    "sharpe",
}  # fmt: skip
_FUZZY_TARGETS: dict[str, str] = {
    name: sym for sym, names in lx.COMPANY_NAMES.items() for name in names if re.fullmatch(r"[a-z]{5,}", name)
}
_FUZZY_TARGETS_KO: dict[str, str] = {
    name: sym
    for sym, names in lx.COMPANY_NAMES.items()
    for name in names
    if re.fullmatch(r"[가-힣]{4,}", name)
}
_PARTICLE = re.compile(r"(?:에서|으로|에|로|의|는|은|를|을|이|가|도|랑|이랑|와|과)$")


def _fuzzy_company(reading: Reading, universe: set[str]) -> list[SymbolHit]:
    """Typo tolerance for company names ("nvidai", "microsft", "amazn"): one edit (two for long names)."""
    for match in re.finditer(r"(?<![a-z0-9])([a-z]{4,12})(?![a-z0-9])", reading.low):
        word = match.group(1)
        if word in _COMMON_WORDS or word in lx.LEXICON_WORDS or not reading.claims.free(*match.span(1)):
            continue
        best: tuple[int, str] | None = None
        for name, symbol in _FUZZY_TARGETS.items():
            limit = 1 if len(name) <= 6 else 2
            distance = DamerauLevenshtein.distance(word, name, score_cutoff=limit)
            if distance <= limit and (best is None or distance < best[0]):
                best = (distance, symbol)
        if best is not None and best[1] in {s.upper() for s in universe} | set(lx.DEMO_SYMBOLS):
            reading.claims.claim(*match.span(1), "symbol")
            return [SymbolHit(best[1], word, *match.span(1), "fuzzy")]
    # Korean names of 4+ syllables: "엔비디야", "넷플릭수로" (one syllable off, particles stripped; 3-syllable
    # names are left out: "아마도" is not Amazon)
    for match in re.finditer(r"[가-힣]{3,8}", reading.low):
        word = _PARTICLE.sub("", match.group(0))
        if len(word) < 3 or not reading.claims.free(*match.span()):
            continue
        for name, symbol in _FUZZY_TARGETS_KO.items():
            if len(name) == len(word) and DamerauLevenshtein.distance(word, name, score_cutoff=1) <= 1:
                reading.claims.claim(match.start(), match.start() + len(word), "symbol")
                return [SymbolHit(symbol, word, match.start(), match.start() + len(word), "fuzzy")]
    return []


def _strategy_names(reading: Reading, context_type: str | None) -> None:
    low, claims = reading.low, reading.claims
    if reading.json_strategy is not None:
        reading.strategy = reading.json_strategy
        reading.strategy_types = [reading.json_strategy.config_type]
        return
    mentions: list[tuple[int, int, str, str, str]] = []  # start, end, type, kind, squashed phrase
    for match in lx.STRATEGY_NAMES.finditer(low):
        start, end = match.span()
        if not claims.free(start, end):
            continue
        key = squash(match.group(0))
        config_type, kind = lx.STRATEGY_NAME_KIND[key]
        mentions.append((start, end, config_type, kind, key))
    strong = [m for m in mentions if m[3] != "weak"]
    chosen = strong or mentions
    if not chosen:
        if context_type is not None:
            reading.strategy = StrategyReading(context_type, {}, from_context=True)
        return
    reading.strategy_types = list(dict.fromkeys(m[2] for m in chosen))
    start, end, config_type, kind, key = chosen[0]
    config: dict[str, Any] = {}
    stated: dict[str, str] = {}
    if kind == "preset":
        config.update(lx.PRESETS[key])
        stated.update({name: reading.text[start:end] for name in lx.PRESETS[key]})
    # the name spans of the chosen type (several mentions of one type are one mention)
    last_end = max(m[1] for m in chosen if m[2] == config_type)
    for m in chosen:
        if m[2] == config_type:
            claims.claim(m[0], m[1], "strategy")
    anchors = [(m[0], m[1]) for m in chosen if m[2] == config_type]
    reading.strategy = StrategyReading(
        config_type, config, stated, (start, last_end), preset_fields=set(config), anchors=anchors
    )


def _labels(reading: Reading) -> list[Label]:
    low, claims = reading.low, reading.claims
    labels: list[Label] = []
    for match in lx.SETTING_LABELS.finditer(low):
        if claims.free(*match.span()):
            key = squash(match.group(0))
            labels.append(
                Label(
                    *match.span(),
                    "setting:" + lx.SETTING_LABEL_TARGET[key],
                    match.group(0),
                    key in lx.WEAK_LABELS,
                )
            )
    if reading.strategy is not None:
        words = lx.STRATEGIES[reading.strategy.config_type]
        if words.labels is not None:
            for match in words.labels.finditer(low):
                start, end = match.span()
                overlapping = [lab for lab in labels if not (end <= lab.start or start >= lab.end)]
                if not claims.free(start, end) and claims.owner(start, end) != "strategy":
                    continue
                key = squash(match.group(0))
                target = words.label_target.get(key)
                if target is None:
                    continue
                if overlapping:
                    if all(lab.weak for lab in overlapping) and key not in lx.WEAK_LABELS:
                        labels = [lab for lab in labels if lab not in overlapping]
                    else:
                        continue
                labels.append(
                    Label(start, end, "strategy:" + "|".join(target), match.group(0), key in lx.WEAK_LABELS)
                )
    labels.sort(key=lambda lab: lab.start)
    return labels


def _fraction(num: Number, *, bare_max: float) -> float | None:
    """A fraction from "2%" (0.02), "10bps" (0.001) or a bare number below ``bare_max``; None = ambiguous."""
    if num.unit == "%":
        return num.value / 100
    if num.unit == "bps":
        return num.value / 10_000
    if num.unit:
        return None
    if abs(num.value) < bare_max:
        return num.value
    return None


def _setting_value(name: str, num: Number, reading: Reading) -> Any:
    chat = lx.SETTINGS[name].chat
    if chat.unit == "cash":
        if num.unit in ("%", "bps", "day", "year", "month", "week", "bar"):
            reading.issues.append(
                Issue(f"settings.{name}", "invalid", num.text, "an amount of cash", "금액이어야 해요")
            )
            return None
        return num.scaled
    if chat.unit == "bps":
        if num.unit == "%":
            return round(num.value * 100, 10)
        if num.unit in ("bps", ""):
            return num.value
        return None
    if chat.unit == "percent":
        if num.unit == "%" or (num.unit == "" and num.value >= 1):
            return num.value
        reading.issues.append(
            Issue(
                f"settings.{name}",
                "ambiguous",
                num.text,
                "a percent, e.g. 5%",
                "퍼센트로 알려주세요 (예: 5%)",
            )
        )
        return None
    if chat.unit == "fraction":
        bare_max = {"commission": 0.01, "risk_free_rate": 0.2, "size": 1.0000001}.get(name, 1.0)
        value = _fraction(num, bare_max=bare_max)
        if value is None and name == "risk_free_rate" and num.unit == "" and 1 <= num.value < 100:
            value = num.value / 100  # "risk-free 2" is 2 %
        if value is None:
            reading.issues.append(
                Issue(
                    f"settings.{name}",
                    "ambiguous",
                    num.text,
                    "a percent, e.g. 0.1%",
                    "퍼센트로 알려주세요 (예: 0.1%)",
                )
            )
        return value
    return None


def _param_value(words: lx.StrategyWords, name: str, num: Number, reading: Reading) -> Any:
    if name in words.chat.fraction_fields:
        if num.unit == "%":
            return num.value / 100
        if num.unit == "" and abs(num.value) >= 1:
            return num.value / 100
        if num.unit == "":
            return num.value
        return None
    if num.unit not in ("", "day", "bar") and not (num.unit == "x" and name == "num_std"):
        reading.issues.append(
            Issue(
                f"strategy_config.{name}",
                "invalid",
                num.text,
                "a plain number of bars",
                "봉 개수(숫자)여야 해요",
            )
        )
        return None
    if name in words.integer_fields:
        if not float(num.value).is_integer():
            reading.issues.append(
                Issue(f"strategy_config.{name}", "invalid", num.text, "a whole number", "정수여야 해요")
            )
            return None
        return int(num.value)
    if words.defaults.get(name) is not None and isinstance(words.defaults[name], float) and name == "num_std":
        return float(num.value)
    return num.as_typed()


def _read_json(reading: Reading) -> None:
    """A config or settings pasted as JSON ('run {"config_type": "sma_crossover", "fast": 5} on AAPL')."""
    for match in re.finditer(r"\{[^{}]{1,800}\}", reading.text):
        try:
            obj = json.loads(match.group(0))
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        reading.claims.claim(*match.span(), "json")
        if obj.get("config_type") in lx.STRATEGIES:
            config = {k: v for k, v in obj.items() if k != "config_type"}
            reading.json_strategy = StrategyReading(
                str(obj["config_type"]), config, {k: json.dumps(v) for k, v in config.items()}, match.span()
            )
        elif obj and set(obj) <= set(lx.SETTINGS) | {"size_type", "periods_per_year"}:
            reading.settings.update(obj)
            reading.settings_stated.update({k: json.dumps(v) for k, v in obj.items()})


_NAME_BEFORE = re.compile(r"(?:\bnamed|\bname\s+it|\bcalled|\bas|이름(?:은|을|는)?)\s*[\"“‘'「]?\s*$", re.I)


def _unglue(text: str) -> str:
    """ "sma10/50" -> "sma 10/50", but never inside a name the user gives ('save it as "RSI2 scalper"',
    "named Roc45"): a quoted or named word is kept exactly as typed."""

    def split(match: re.Match[str]) -> str:
        before = text[: match.start()]
        quoted = (before.count('"') + before.count("'")) % 2 == 1 or before.count("“") > before.count("”")
        return match.group(0) if quoted or _NAME_BEFORE.search(before) else match.group(1) + " "

    return lx.GLUED_NAMES.sub(split, text)


def read(text: str, today: date, *, known_symbols: set[str] | None, context_type: str | None) -> Reading:
    text = _unglue(normalise(text))  # "sma10/50" -> "sma 10/50"
    low = text.lower()
    claims = Claims()
    reading = Reading(text, low, claims, [], Period())
    _read_json(reading)
    # 0. quoted text is a name, never numbers to read ('create strategy sma 10/50 named "sma 10/50 v2"')
    for match in re.finditer(
        r"[\"“‘「]([^\"”’」]{1,100})[\"”’」]|(?<![a-z])'(?!\d{2}\b)([^']{1,100})'(?![a-z])", text
    ):
        claims.claim(*match.span(), "name")
    named = _NAMED.search(text)
    if (
        named
        and not re.fullmatch(r"(?:a|an|the|my)\b.*", named.group(1), re.I)
        and claims.free(*named.span(1))
    ):
        reading.create_name = named.group(1).strip()
        claims.claim(*named.span(1), "name")
    for pattern in _NAMED_KO if reading.create_name is None else []:
        named = pattern.search(text)
        if named and claims.free(*named.span(1)):
            reading.create_name = named.group(1).strip()
            claims.claim(*named.span(1), "name")
            break
    described = _DESCRIPTION.search(text)
    if described:
        reading.create_description = described.group(1).strip()
        claims.claim(*described.span(), "name")
    # 1. resource ids (hex), before anything reads their digits
    for match in _HEX_ID.finditer(low):
        if re.fullmatch(r"(?:19|20)\d{6}", match.group(0)):
            continue
        before = low[max(0, match.start() - 24) : match.start()]
        if re.search(
            r"(?:strateg(?:y|ies)|전략)\s*(?:ids?\s*)?(?:#\s*)?$|(?:strateg(?:y|ies)|"
            r"전략)\s*(?:ids?\s*)?\S+\s*(?:,|and|&|vs\.?|과|와|이랑|랑|하고)\s*$",
            before,
            re.I,
        ):
            reading.strategy_ids.append(match.group(0))
        else:
            reading.hex_ids.append(match.group(0))
        claims.claim(*match.span(), "id")
    # 2. choice settings ("long/short", "fill at close") and zero costs
    for match in lx.SETTING_VALUES.finditer(low):
        if claims.free(*match.span()):
            name, value = lx.SETTING_VALUE_TARGET[squash(match.group(0))]
            reading.settings[name] = True if value == "true" else value
            reading.settings_stated[name] = match.group(0)
            claims.claim(*match.span(), "setting")
    _read_half_equity(reading)
    for pattern, name in _ZERO_COSTS:
        for match in pattern.finditer(low):
            if claims.free(*match.span()):
                for field_name in ("commission", "slippage_bps") if name == "both" else (name,):
                    reading.settings[field_name] = 0.0
                    reading.settings_stated[field_name] = match.group(0)
                claims.claim(*match.span(), "setting")
    # 3. setting labels are found before metric words ("take profit" is not the metric "profit")
    setting_label_spans = [
        m.span() for m in lx.SETTING_LABELS.finditer(low) if squash(m.group(0)) not in lx.WEAK_LABELS
    ]
    for match in lx.METRIC_WORDS.finditer(low):
        span = match.span()
        if not claims.free(*span) or any(not (span[1] <= a or span[0] >= b) for a, b in setting_label_spans):
            continue
        key = lx.METRIC_BY_SYNONYM[squash(match.group(0))]
        if key not in reading.metrics:
            reading.metrics.append(key)
        claims.claim(*span, "metric")
    # "annual return" is CAGR only; keep total_return only when named on its own
    both = "cagr" in reading.metrics and "total_return" in reading.metrics
    if both and not re.search(r"total\s*return|총\s*수익|누적", low):
        reading.metrics.remove("total_return")
    if _STABILITY.search(low):
        reading.focus = list(STABILITY_METRICS)
    elif _PROFIT.search(low):
        reading.focus = list(PROFIT_METRICS)
    # 4. counts: "my last three strategies", "last 5 backtests", "last 20 bars"
    for pattern in _LATEST_STRATEGIES:
        match = pattern.search(low)
        if match:
            word = match.group(1)
            reading.latest_n = int(word) if word.isdigit() else _COUNT_WORDS[word]
            claims.claim(*match.span(1), "count")
            break
    match = _BARS.search(low)
    if match:
        group = next(i for i in (1, 2, 3, 4) if match.group(i))
        reading.bars = int(match.group(group))
    # 5. the period
    reading.period = read_period(low, today, claims)
    if reading.bars is not None and not reading.period.relative_days:
        reading.bars = (
            reading.bars
            if re.search(r"bars|candles|rows|closes|prices|sessions|개|봉", match.group(0) if match else "")
            else None
        )
    for match in _LIMIT.finditer(low):
        group = next(i for i in (1, 2, 3, 4) if match.group(i))
        if claims.free(*match.span(group)) and reading.latest_n is None:
            reading.limit = int(match.group(group))
            claims.claim(*match.span(group), "count")
            break
    for status, pattern in _STATUSES:
        if pattern.search(low):
            reading.status = status
            break
    # 6. strategy names (before tickers: "RSI" is no ticker), then tickers
    _strategy_names(reading, context_type)
    _find_symbols(reading, known_symbols)
    # 7. marked ids: "backtest 12", "strategy 7", "#31", "12번"
    _read_ids(reading)
    # 8. labelled numbers, then positional strategy numbers
    reading.numbers = [n for n in numbers(text) if claims.free(n.start, n.end)]
    _read_labelled(reading)
    _read_positional(reading)
    _read_plus_minus(reading)
    _read_sizing(reading)
    if reading.strategy is not None and not reading.strategy.from_context:
        _validate_strategy(reading)
    reading.unclaimed = [n for n in reading.numbers if claims.free(n.start, n.end)]
    _read_names(reading)
    return reading


def _read_ids(reading: Reading) -> None:
    low, claims = reading.low, reading.claims

    def take(match: re.Match[str], target: list[str]) -> None:
        group = next(i for i in range(1, (match.lastindex or 0) + 1) if match.group(i))
        value = match.group(group)
        span = match.span(group)
        if re.fullmatch(r"(?:19|20)\d{2}", value) or not claims.free(*span):
            return
        if value not in target:
            target.append(value)
        claims.claim(*span, "id")

    for match in _STRATEGY_MARK.finditer(low):
        before = low[: match.start()].rstrip()
        if before and claims.owner(len(before) - 1, len(before)) == "strategy":
            continue  # "bollinger strategy 20 2.5": parameters of the strategy just named, not an id
        take(match, reading.strategy_ids)
        # "strategies 3, 5 and 7": the numbers that follow the first
        rest = re.match(
            r"((?:\s*(?:번)?\s*(?:,|and|&|과|와|하고|이랑|랑|및|vs\.?|or|또는)\s*#?\s*\d{1,7})+)",
            low[match.end() :],
        )
        if rest:
            for num in re.finditer(r"\d{1,7}", rest.group(1)):
                span = (match.end() + num.start(), match.end() + num.end())
                if claims.free(*span):
                    reading.strategy_ids.append(num.group(0))
                    claims.claim(*span, "id")
    for match in _NUMBER_BEFORE_STRATEGY.finditer(low):
        take(match, reading.strategy_ids)
    for match in _BACKTEST_MARK.finditer(low):
        take(match, reading.backtest_ids)
    for match in _NUMBER_BEFORE_BACKTEST.finditer(low):
        take(match, reading.backtest_ids)
    for match in _GENERIC_MARK.finditer(low):
        take(match, reading.generic_ids)
    if not reading.backtest_ids and not reading.hex_ids:
        for match in _BACKTEST_TOKEN.finditer(low):
            token = match.group(1)
            span = match.span(1)
            if token in _NOT_AN_ID or not claims.free(*span) or re.fullmatch(r"s|ing|ed|er", token):
                continue
            if (
                token.isdigit()
                or squash(token) in lx.LEXICON_WORDS
                or token.upper() in {h.symbol for h in reading.symbols}
            ):
                continue
            reading.invalid_backtest_id = token
            claims.claim(*span, "id")
            break


def _read_labelled(reading: Reading) -> None:
    labels = _labels(reading)
    nums = [n for n in reading.numbers if reading.claims.free(n.start, n.end)]
    strategy = reading.strategy
    words = lx.STRATEGIES[strategy.config_type] if strategy is not None else None

    def fits(label: Label, num: Number) -> bool:
        kind, _, target = label.target.partition(":")
        if kind == "strategy" and words is not None:
            name = target.split("|")[0]
            if name in words.integer_fields:
                return num.integral and num.unit in ("", "day", "bar") and not num.currency
            return not num.currency and num.unit in ("", "%", "x")
        if kind == "setting" and target in lx.SETTINGS:
            unit = lx.SETTINGS[target].chat.unit
            if num.unit in ("day", "bar", "year", "month", "week"):
                return False
            if target == "size":  # a fraction of equity, cash per trade ("position size $2000"), or shares
                money = num.currency or num.unit in ("dollar", "원", "share", "주")
                return money or num.unit == "%" or (num.unit == "" and 0 < num.value <= 1)
            return unit == "cash" or not num.currency or target == "commission"  # "$1" -> commission_fixed
        return True

    pairs = _pair(reading.low, labels, nums, fits)
    for i, label in enumerate(labels):
        num = pairs.get(i)
        kind, _, target = label.target.partition(":")
        if num is None:
            if not label.weak:
                reading.unpaired_labels.append(label.target)
            continue
        reading.claims.claim(label.start, label.end, "label")
        reading.claims.claim(num.start, num.end, "label")
        if kind == "setting":
            if target == "commission" and (num.currency or num.unit in ("dollar", "원")):
                target = "commission_fixed"  # "$1 commission per trade" is cash per order, not a fraction
            if target == "size" and (num.currency or num.unit in ("dollar", "원", "share", "주")):
                # "position size $2000": cash per trade; "size 100 shares": units
                reading.settings["size_type"] = "units" if num.unit in ("share", "주") else "cash"
                reading.settings["size"] = num.scaled
                reading.settings_stated["size"] = reading.settings_stated["size_type"] = num.text
                continue
            value = _setting_value(target, num, reading)
            if value is not None:
                reading.settings[target] = value
                reading.settings_stated[target] = num.text
        elif strategy is not None and words is not None:
            fields = target.split("|")
            value = _param_value(words, fields[0], num, reading)
            if value is None:
                continue
            strategy.config[fields[0]] = value
            strategy.stated[fields[0]] = num.text
            if len(fields) == 2:  # "threshold 5%": +0.05 / -0.05
                second = _next_in_pair(reading, num)
                other = _param_value(words, fields[1], second, reading) if second is not None else None
                if second is not None and other is not None:  # "thresholds 0.05 and -0.05": one each
                    reading.claims.claim(second.start, second.end, "label")
                    strategy.config[fields[1]] = other
                    strategy.stated[fields[1]] = second.text
                else:
                    strategy.config[fields[0]] = abs(value)
                    strategy.config[fields[1]] = -abs(value)
                    strategy.stated[fields[1]] = num.text


def _next_in_pair(reading: Reading, num: Number) -> Number | None:
    """The number right after ``num`` in a pair ("0.05 and -0.05", "3%/-2%"), if any and unread."""
    for other in reading.numbers:
        if other.start >= num.end and reading.claims.free(other.start, other.end):
            gap = re.fullmatch(
                r"\s*(/|,|and|&|~|과|와|및|,\s*and)?\s*(-)?", reading.low[num.end : other.start]
            )
            if gap is None or (gap.group(1) is None and not (other.value < 0 and num.value > 0)):
                return None  # only "+1% -1%" pairs without a separator: a positive then a negative
            if gap.group(2) and other.value > 0:  # "4%/-2%": the sign after the slash
                other = Number(other.start - 1, other.end, -other.value, "-" + other.text, other.unit,
                               other.integral, other.currency)  # fmt: skip
            return other
    return None


def _read_positional(reading: Reading) -> None:
    strategy = reading.strategy
    if strategy is None or strategy.from_context:
        return
    words = lx.STRATEGIES[strategy.config_type]
    remaining = [
        name for name in words.fields if name not in strategy.stated or name in strategy.preset_fields
    ]
    if not remaining:
        return
    low, claims = reading.low, reading.claims
    # a parameter is a plain number (or bars/days, a percent for thresholds): never shares, cash, counts
    free = [
        n
        for n in reading.numbers
        if claims.free(n.start, n.end)
        and n.unit in ("", "day", "bar", "%", "x")
        and not n.currency
        and not n.plus_minus  # "±3%" is a symmetric pair (_read_plus_minus)
    ]
    if not free:
        return

    def sequence_from(pos: int) -> list[Number]:
        seq: list[Number] = []
        for num in free:
            if num.start < pos:
                continue
            gap = low[pos : num.start]
            pattern = _STRATEGY_FILLER if not seq else re.compile(r"^" + _SEQ_SEP + r"$|^\s*\)?\s*$", re.I)
            if seq and gap == "" and seq[-1].unit in ("day", "bar"):
                seq.append(num)  # "5일20일": glued periods
                pos = num.end
                continue
            ok = (
                (pattern.fullmatch(gap) is not None) if seq else (_STRATEGY_FILLER.fullmatch(gap) is not None)
            )
            if not ok:
                break
            seq.append(num)
            pos = num.end
        return seq

    def sequence_before(pos: int) -> list[Number]:
        seq: list[Number] = []
        for num in reversed(free):
            if num.end > pos:
                continue
            gap = low[num.end : pos]
            allowed = (
                r"^(?:\s|-|\ba\b|\ban\b|\bday\b|\bdays\b|\bbars?\b|\bperiod\b|일선|선|\bma\b|이평선?)*$"
                if not seq
                else r"^" + _SEQ_SEP + r"$"
            )
            if not re.match(allowed, gap, re.I):
                break
            seq.insert(0, num)
            pos = num.start
        return seq

    groups: list[list[Number]] = []
    taken: set[int] = set()
    for start, end in strategy.anchors or [strategy.span]:
        seq = sequence_from(end)
        if not seq:
            # "sma crossover aapl 50/200": numbers after the ticker that follows the name
            for hit in reading.symbols:
                if hit.start >= end and _STRATEGY_FILLER.fullmatch(low[end : hit.start]) is not None:
                    seq = sequence_from(hit.end)
                    break
        if not seq:
            seq = sequence_before(start)
        seq = [num for num in seq if id(num) not in taken]
        lead = [n for n in sequence_before(start) if id(n) not in taken and n not in seq][-1:]
        if seq and lead and lead[0].unit in ("day", "bar") and lead[0].integral:
            groups.append(lead)  # "a 3-day RSI with 15/85 bands": the period before the name, then the rest
            taken.add(id(lead[0]))
        if seq:
            groups.append(seq)
            taken |= {id(num) for num in seq}
            # "RSI(14) with 30/70 thresholds": a second group after a filler word
            extra = [num for num in sequence_from(seq[-1].end) if id(num) not in taken]
            if extra:
                groups.append(extra)
                taken |= {id(num) for num in extra}
        if sum(len(g) for g in groups) >= len(remaining):
            break  # "EMA 20 and EMA 50 crossover": one number after each mention
    if not groups:
        return
    together = words.chat.together
    if (
        len(groups) == 1
        and len(groups[0]) == 1
        and together
        and not strategy.preset_fields
        and set(together) <= set(remaining)
    ):
        # "sma crossover on amd 25": one period for a pair — the fast or the slow one? ask for both
        num = groups[0][0]
        claims.claim(num.start, num.end, "strategy")
        example = "20/50"
        for name in together:
            reading.issues.append(
                Issue(
                    f"strategy_config.{name}",
                    "ambiguous",
                    num.text,
                    f"{words.chat.label} takes two periods, {' and '.join(together)}, e.g. {example}",
                    f"{words.chat.label}은(는) {', '.join(together)} 두 기간이 필요해요 (예: {example})",
                )
            )
        return
    for group in groups:
        left = [name for name in remaining if name not in strategy.stated or name in strategy.preset_fields]
        separators = [low[a.end : b.start].strip() for a, b in itertools.pairwise(group)]
        targets = left
        pair = words.chat.slash_pair
        if pair and len(group) == 2 and separators == ["/"] and set(pair) <= set(left):
            targets = list(pair)
        plain_list = all(sep == "" for sep in separators)
        if len(group) > len(targets) and set(targets) == set(words.fields) and plain_list:
            # "breakout 20 55", "macd 12 26 9 5": a plain list longer than the parameters — which is which?
            typed = " ".join(num.text for num in group)
            for num in group:
                claims.claim(num.start, num.end, "strategy")
            for name in targets:
                reading.issues.append(
                    Issue(
                        f"strategy_config.{name}",
                        "ambiguous",
                        typed,
                        f"{words.chat.label} takes {len(words.fields)} number(s): {', '.join(words.fields)}",
                        f"{words.chat.label} 파라미터는 {len(words.fields)}개예요: {', '.join(words.fields)}",
                    )
                )
            return
        for name, num in zip(targets, group, strict=False):
            value = _param_value(words, name, num, reading)
            claims.claim(num.start, num.end, "strategy")
            strategy.preset_fields.discard(name)
            if value is None:
                continue
            strategy.config[name] = value
            strategy.stated[name] = num.text


def _read_plus_minus(reading: Reading) -> None:
    """ "momentum 30 ±3%": a ± number no label took sets the strategy's symmetric pair (buy +3%, sell -3%)."""
    strategy = reading.strategy
    if strategy is None:
        return
    words = lx.STRATEGIES[strategy.config_type]
    pairs = list(dict.fromkeys(words.chat.symmetric.values()))
    if len(pairs) != 1:
        return
    first, second = pairs[0]
    for num in reading.numbers:
        if (
            num.plus_minus
            and reading.claims.free(num.start, num.end)
            and not {first, second} & set(strategy.stated)
        ):
            value = _param_value(words, first, num, reading)
            reading.claims.claim(num.start, num.end, "strategy")
            if value is not None:
                strategy.config[first], strategy.config[second] = abs(value), -abs(value)
                strategy.stated[first] = strategy.stated[second] = num.text
            return


def _read_half_equity(reading: Reading) -> None:
    """ "half my equity"/"자산의 절반": size 0.5 of equity, read before labels take "자산"/"equity"."""
    match = _HALF_EQUITY.search(reading.low)
    if match and reading.claims.free(*match.span()):
        reading.settings["size"] = 0.5
        reading.settings_stated["size"] = match.group(0)
        reading.claims.claim(*match.span(), "setting")


def _read_sizing(reading: Reading) -> None:
    low, claims = reading.low, reading.claims
    for num in reading.numbers:
        if not claims.free(num.start, num.end):
            continue
        after = low[num.end : num.end + 30]
        before = low[max(0, num.start - 12) : num.start]
        if num.unit == "%" and (_PERCENT_OF_EQUITY.match(after) or _EQUITY_PERCENT_KO.search(before)):
            reading.settings["size"] = num.value / 100
            reading.settings_stated["size"] = num.text
            claims.claim(num.start, num.end, "setting")
        elif num.unit == "share" or (num.unit == "주" and not re.match(r"\s*(?:간|동안)", after)):
            reading.settings["size_type"] = "units"
            reading.settings["size"] = num.value
            reading.settings_stated["size"] = reading.settings_stated["size_type"] = num.text
            claims.claim(num.start, num.end, "setting")
        elif (num.currency or num.unit in ("dollar", "원")) and _FIXED_FEE_AFTER.match(after):
            # "$2.50 per ticket", "$1 per order on top": a ticket charge is a fixed commission per order
            reading.settings["commission_fixed"] = num.scaled
            reading.settings_stated["commission_fixed"] = num.text
            claims.claim(num.start, num.end, "setting")
        elif (num.currency or num.unit in ("dollar", "원", "만", "천만", "백만", "억", "k")) and (
            _PER_TRADE.match(after) or _PER_TRADE_BEFORE.search(low[max(0, num.start - 20) : num.start])
        ):
            claims.claim(num.start, num.end, "setting")
            if num.scaled < 100 and num.unit != "원":
                # "$2 per trade" with no word for it: a fixed fee or the cash put in each trade?
                reading.issues.append(
                    Issue(
                        "settings.commission_fixed",
                        "ambiguous",
                        num.text,
                        "a fixed commission per order, or the cash to put in each trade (position size)?",
                        "건당 고정 수수료인가요, 거래마다 투입할 금액(포지션 크기)인가요?",
                    )
                )
                continue
            reading.settings["size_type"] = "cash"
            reading.settings["size"] = num.scaled
            reading.settings_stated["size"] = reading.settings_stated["size_type"] = num.text
            claims.claim(num.start, num.end, "setting")
        elif num.unit == "%" and _PER_TRADE.match(after):  # "invest 10% per trade"
            reading.settings["size"] = num.value / 100
            reading.settings_stated["size"] = num.text
            claims.claim(num.start, num.end, "setting")
        elif (
            num.currency
            or num.unit in ("dollar", "원")
            or (num.unit in _MONEY_MULTIPLIERS and num.scaled >= 1000)
        ) and "initial_cash" not in reading.settings:
            # "buy and hold TSLA with $1m": an amount of money alone is the starting cash
            reading.settings["initial_cash"] = num.scaled
            reading.settings_stated["initial_cash"] = num.text
            claims.claim(num.start, num.end, "setting")


def _validate_strategy(reading: Reading) -> None:
    """Validate the stated parameters with the strategy's model. An invalid value is left out of the
    config and asked about; a rule comparing two fields (slow > fast, oversold < overbought, sell < buy)
    asks about both, since either may be the one the user got wrong."""
    strategy = reading.strategy
    assert strategy is not None
    words = lx.STRATEGIES[strategy.config_type]
    try:
        words.model.model_validate({"config_type": strategy.config_type, **strategy.config})
    except ValidationError as exc:
        for name, message in conflicts(words, exc):
            typed = strategy.stated.get(name)
            strategy.config.pop(name, None)
            if any(issue.field == f"strategy_config.{name}" for issue in reading.issues):
                continue
            reading.issues.append(
                Issue(
                    f"strategy_config.{name}",
                    "invalid" if typed is not None else "missing",
                    typed,
                    _rule_en(words, name, message),
                    _rule_ko(words, name),
                )
            )


def conflicts(words: lx.StrategyWords, exc: ValidationError) -> list[tuple[str, str]]:
    """(field, message) for every field a validation error involves, in model order: the field the
    error is on, and for a cross-field rule the field it is compared with."""
    involved: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        name = str(error["loc"][-1]) if error["loc"] else ""
        if name not in words.fields:
            continue
        other = str((error.get("ctx") or {}).get("other_field", ""))
        for field_name in (other, name):
            if field_name in words.fields:
                involved.setdefault(field_name, error["msg"])
    return sorted(involved.items(), key=lambda item: words.fields.index(item[0]))


def _rule_en(words: lx.StrategyWords, name: str, message: str) -> str:
    return f"{message} ({_bounds(words, name)})"


def _bounds(words: lx.StrategyWords, name: str) -> str:
    info = words.model.model_fields[name]
    parts = []
    for meta in info.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sign} {value:g}")
    kind = "integer" if name in words.integer_fields else "number"
    return f"{name}: {kind} " + " and ".join(parts) + f", default {words.defaults[name]}"


def _rule_ko(words: lx.StrategyWords, name: str) -> str:
    return (
        _bounds(words, name)
        .replace("integer", "정수")
        .replace("number", "숫자")
        .replace(" and ", ", ")
        .replace("default", "기본값")
    )


_NAMED = re.compile(
    r"(?:\b(?:named|called|(?:name|call|title|label)\s+it|titled)\s+|\bname\s*(?:[:=]|\s+is\b)\s*)"
    r"([\w\-/]+(?:\s[\w\-/]+){0,5}?)(?:\s+(?:with|using|on|and|for|to)\b|[.,!?:;]|$)",
    re.I,
)
# "모멘텀90이라는 이름으로", "이름: 추세20", "이름은 볼밴스윙"
_NAMED_KO = [
    re.compile(r"([\w\-]{1,60}?)\s?(?:이라는|라는|이란|란)\s*이름"),
    re.compile(
        r"이름(?!으로|로|이\s|이$)(?:은|을|:|=|\s)\s*([\w\-]{1,60}?)(?:\s*(?:으로|로|이라고|라고))?(?:\s|$|[.,!?])"
    ),
]
_NAMED_AS = re.compile(r"\b(?:as)\s+([\w\- /]{1,60}?)(?:\s+(?:with|using|on|and)\b|[.,!?:;]|$)", re.I)
_DESCRIPTION = re.compile(
    r"(?:\b(?:description|desc|described\s+as)\s*[:=]?\s*|설명(?:은|:|으로)?\s*:?\s*)[\"']?(.+?)[\"']?\s*(?:$|[;])",
    re.I,
)
# "MeanRev vs Trend 누가 더 나아?", "추세추종이랑 평균회귀 중에 뭐가 나아?"
_VERSUS = re.compile(
    r"^\s*(.+?\s+(?:vs\.?|versus)\s+.+?)(?:\s+(?:누가|어느|뭐가|which|who)\b.*|[?!.]|$)", re.I
)
_WHICH_OF_KO = re.compile(
    r"^\s*(.+?(?:이랑|랑|와|과|하고)\s*.+?)\s*중(?:에서|에)?\s+(?=.*(?:뭐|어느|어떤|누가|나아|나았|좋|높|낮|\?))"
)
# "which has the better sortino, TrendA or SwingB?", "is TrendA better than SwingB?"
_WHICH_OR = re.compile(r"\b(?:which|who)\b[^,]*,\s*(.+?\s+or\s+.+?)\s*[?.!]*$", re.I)
_BETTER_THAN = re.compile(
    r"^\s*(?:is|was|did|does|has)\s+(.+?\s+(?:better|worse|stronger|safer)\s+than\s+.+?)\s*[?.!]*$", re.I
)
_COMPARE_HEAD = re.compile(r"\b(?:compare|rank)\b\s*(?:strategies\s+|the\s+strategies\s+)?(.+)$", re.I)
_COMPARE_TAIL_KO = re.compile(r"^(.+?)\s*(?:을|를)?(?:\s+전략\s*)?(?:들\s*)?(?:을|를)?\s*비교")
_NAME_CUT = re.compile(
    r"\s+(?:by|on|using|in\s+terms\s+of|for|over|from|since|between|during|with\s+respect|—|-{1,2}\s|"
    r"which|based)\b.*$|[?.!—].*$|\s+(?:기준|으로|로\s).*$",
    re.I,
)
_NAME_SPLIT = re.compile(
    r"\s*(?:,|\band\b|\bor\b|\bvs\.?\b|\bversus\b|&|\bwith\b|\s+(?:better|worse|stronger|safer)\s+than\b|"
    r"이랑|랑|하고|과(?:\s|$)|와(?:\s|$)|\s및\s)\s*",
    re.I,
)
# words around a saved strategy's name that are not part of it ("골든크로스50 전략", "MeanRev 중에")
_NAME_TRIM = re.compile(
    r"(?:\s+전략(?:을|를|이|은|는|들)?|\s*(?:중에서|중에|에서)|\s+중|(?<=[\w])(?:을|를|은|는|이|가))+$"
)


def _read_names(reading: Reading) -> None:
    """Names of saved strategies ("compare MeanRev and SMA 10/50") and the name of a new one."""
    text = reading.text
    found = (
        _COMPARE_HEAD.search(text)
        or _COMPARE_TAIL_KO.search(text)
        or _VERSUS.search(text)
        or _WHICH_OF_KO.search(text)
        or _WHICH_OR.search(text)
        or _BETTER_THAN.search(text)
    )
    fragment = None
    if found:
        start, end = found.span(1)
        # a name stops before the symbol, period or metric that follows it ("… SPY에서 2020년부터")
        later = [
            a for a, b, who in reading.claims.spans if who in ("symbol", "period", "metric") and a > start
        ]
        end = min([end, *later])
        chars = list(text[start:end])
        for named in lx.STRATEGY_NAMES.finditer(reading.low, start, end):  # "buy and hold" is one name
            for i in range(named.start() - start, named.end() - start):
                chars[i] = "ǂ" if chars[i] == " " else "ǁ" if chars[i] == "&" else chars[i]
        fragment = _NAME_CUT.sub("", "".join(chars))
    if fragment:
        parts = [
            p.strip(" '\"“”").replace("ǂ", " ").replace("ǁ", "&")
            for p in _NAME_SPLIT.split(fragment)
            if p and p.strip(" '\"")
        ]
        parts = [
            re.sub(r"^(?:strategy|전략)\s+", "", _NAME_TRIM.sub("", p), flags=re.I).strip(" '\"“”,")
            for p in parts
        ]
        parts = [p for p in parts if p]
        ok = [
            p
            for p in parts
            if p
            and not re.fullmatch(
                r"#?\s*(?:\d{1,7}|[0-9a-f]{8,32})(?:\s*번)?|(?:my|the|them|these|those|strategies|전략들?)",
                p,
                re.I,
            )
            and not re.search(
                r"\b(?:last|latest|recent|newest)\b|최근|마지막|\bmy\s+\w+\s+strategies\b|\bthem\b|\bagain\b|\bit\b",
                p,
                re.I,
            )
        ]
        symbols = {hit.typed.lower() for hit in reading.symbols} | {
            hit.symbol.lower() for hit in reading.symbols
        }
        if any(part.lower() in symbols for part in ok):
            ok = []  # "애플이랑 테슬라 …": symbols, not saved strategies
        if len(ok) >= 2 and len(ok) == len(parts):
            reading.strategy_names = ok[:5]
    quoted = re.search(r"[\"'“‘「]([^\"'”’」]{1,100})[\"'”’」]", text)
    if quoted:
        reading.create_name = quoted.group(1).strip()
        return
    if reading.create_name:
        return
    named = _NAMED_AS.search(text)
    if named and not re.fullmatch(r"(?:a|an|the|my)\b.*", named.group(1), re.I):
        reading.create_name = named.group(1).strip()
        return
