"""The metric catalogue: the one home of every metric's key, unit, direction, labels and synonyms.

Pure data (no numpy, no imports from the rest of quantops) so every layer can use it: the engine's
sweep (``SWEEP_METRICS``), the comparison analytics (``COMPARISON_METRICS``, directions for ranking),
the comparison request schema, the chat renderers and planner, the narrative writer and the reports.

- ``key``: the name in comparisons, rankings and the planner's output; ``stats_key``: the name in a
  backtest's ``stats`` dict (they differ only for volatility: ``volatility`` / ``annual_volatility``).
- ``unit``: ``"%"`` (percent: 12.5 means 12.5 %), ``"ratio"`` (unitless), ``"count"``, ``"currency"``
  (the backtest's cash unit), ``"bars"``, ``"days"``, ``"per_year"``.
- ``direction``: which way is better — ``higher``, ``lower``, ``smaller_magnitude`` (drawdowns are
  compared by size whatever their sign) or ``none`` (descriptive: trade counts, bar counts).
- ``label``: short display label per language ("Sharpe" / "샤프"); ``name``: the longer prose name
  ("Sharpe ratio" / "샤프 비율").
- ``synonyms``: lower-case words a user may type per language (the key, label and name also match).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

Language = Literal["en", "ko"]
Unit = Literal["%", "ratio", "count", "currency", "bars", "days", "per_year"]


class Direction(StrEnum):
    """Which way a metric is better."""

    HIGHER = "higher"
    LOWER = "lower"
    # Drawdowns are compared by size whatever their sign convention.
    SMALLER_MAGNITUDE = "smaller_magnitude"
    # Descriptive figures (trade count, bar count): no better or worse.
    NONE = "none"

    def key(self, value: Any) -> Any:
        """Sort key, smaller = better (a float or a numpy array): −v for higher, |v| for smaller
        magnitude, v for lower; descriptive figures sort largest first. The one ordering rule used by
        the sweep, the comparison ranking and "best backtest by metric"."""
        if self is Direction.LOWER:
            return value
        if self is Direction.SMALLER_MAGNITUDE:
            return abs(value)
        return -value


@dataclass(frozen=True, slots=True)
class Text:
    en: str
    ko: str

    def __getitem__(self, language: str) -> str:
        return self.ko if language == "ko" else self.en


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    unit: Unit
    direction: Direction
    label: Text
    name: Text
    synonyms_en: tuple[str, ...] = ()
    synonyms_ko: tuple[str, ...] = ()
    stats_key: str = ""
    comparable: bool = False  # offered by comparisons/rankings (computed on the common dates)
    sweepable: bool = False  # a column of the engine's sweep table
    description: str = ""

    def __post_init__(self) -> None:
        if not self.stats_key:
            object.__setattr__(self, "stats_key", self.key)

    @property
    def percent(self) -> bool:
        return self.unit == "%"

    def synonyms(self, language: str | None = None) -> tuple[str, ...]:
        """The synonyms of one language, or of both (``None``)."""
        if language == "en":
            return self.synonyms_en
        if language == "ko":
            return self.synonyms_ko
        return (*self.synonyms_en, *self.synonyms_ko)


def _m(
    key: str, unit: Unit, direction: Direction, label: tuple[str, str], name: tuple[str, str] | None = None,
    *, en: tuple[str, ...] = (), ko: tuple[str, ...] = (), stats_key: str = "", comparable: bool = False,
    sweepable: bool = False, description: str = "",
) -> Metric:  # fmt: skip
    return Metric(
        key=key, unit=unit, direction=direction, label=Text(*label), name=Text(*(name or label)),
        synonyms_en=en, synonyms_ko=ko, stats_key=stats_key, comparable=comparable, sweepable=sweepable,
        description=description,
    )  # fmt: skip


H, L, S, N = Direction.HIGHER, Direction.LOWER, Direction.SMALLER_MAGNITUDE, Direction.NONE

# Order: the sweep table's column order for the sweepable ones, the comparison's for the comparable ones.
METRICS: tuple[Metric, ...] = (
    _m("initial_cash", "currency", N, ("initial cash", "초기 자금")),
    _m("total_return", "%", H, ("total return", "총 수익률"),
       en=("return", "returns", "total return", "total returns", "profit", "profits", "pnl", "p&l",
           "performance"),
       ko=("수익률", "총수익률", "총 수익률", "누적 수익률", "수익"), comparable=True, sweepable=True,
       description="final equity / initial cash − 1"),
    _m("cagr", "%", H, ("CAGR", "연평균 수익률"), ("CAGR", "연평균 수익률(CAGR)"),
       en=("cagr", "annual return", "annualized return", "annualised return", "yearly return",
           "compound annual growth rate"),
       ko=("연평균수익률", "연평균 수익률", "연평균", "연수익률", "연 수익률", "연환산 수익률"),
       comparable=True, sweepable=True, description="compound annual growth rate"),
    _m("sharpe_ratio", "ratio", H, ("Sharpe", "샤프"), ("Sharpe ratio", "샤프 비율"),
       en=("sharpe", "sharpe ratio"), ko=("샤프", "샤프지수", "샤프 지수", "샤프비율", "샤프 비율"),
       comparable=True, sweepable=True, description="annualised mean excess return / std of returns"),
    _m("sortino_ratio", "ratio", H, ("Sortino", "소르티노"), ("Sortino ratio", "소르티노 비율"),
       en=("sortino", "sortino ratio"), ko=("소르티노", "소르티노지수", "소르티노 비율"),
       comparable=True, sweepable=True, description="annualised mean excess return / downside deviation"),
    _m("max_drawdown", "%", S, ("max drawdown", "최대 낙폭"),
       en=("mdd", "drawdown", "drawdowns", "max drawdown", "max dd", "maximum drawdown"),
       ko=("최대낙폭", "최대 낙폭", "낙폭", "드로다운", "엠디디", "손실폭"), comparable=True,
       sweepable=True, description="largest peak-to-trough fall, ≤ 0"),
    _m("calmar_ratio", "ratio", H, ("Calmar", "칼마"), ("Calmar ratio", "칼마 비율"),
       en=("calmar", "calmar ratio"), ko=("칼마", "칼마 비율", "칼마지수"), comparable=True, sweepable=True,
       description="CAGR / |max drawdown|"),
    _m("volatility", "%", L, ("volatility", "변동성"), en=("vol", "volatility", "annual volatility"),
       ko=("변동성", "연간 변동성", "변동폭"), stats_key="annual_volatility", comparable=True, sweepable=True,
       description="annualised standard deviation of returns"),
    _m("num_trades", "count", N, ("trades", "거래 수"), ("number of trades", "거래 횟수"),
       en=("trades", "number of trades", "trade count"), ko=("거래 수", "거래수", "거래 횟수", "매매 횟수"),
       sweepable=True),
    _m("win_rate", "%", H, ("win rate", "승률"), en=("win rate", "winrate", "hit rate", "win ratio"),
       ko=("승률",),
       comparable=True, sweepable=True, description="share of closed trades with a positive P&L"),
    _m("profit_factor", "ratio", H, ("profit factor", "손익비"), en=("profit factor",),
       ko=("손익비", "프로핏 팩터"), sweepable=True, description="gross profit / gross loss"),
    _m("exposure", "%", N, ("exposure", "노출도"), ko=("노출", "노출도", "시장 노출"), sweepable=True,
       description="share of bars with an open position"),
    _m("final_equity", "currency", H, ("final equity", "최종 자산"), en=("final value", "ending equity"),
       ko=("최종 자산", "최종자산"), sweepable=True),
    _m("max_drawdown_duration_bars", "bars", L, ("longest drawdown (bars)", "최장 낙폭 기간(봉)")),
    _m("max_drawdown_duration_days", "days", L, ("longest drawdown (days)", "최장 낙폭 기간(일)")),
    _m("expectancy", "currency", H, ("expectancy", "기대값"), ("expectancy per trade", "거래당 기대 손익")),
    _m("avg_trade_return", "%", H, ("average trade", "평균 거래 수익률")),
    _m("best_trade_return", "%", H, ("best trade", "최고 거래 수익률")),
    _m("worst_trade_return", "%", H, ("worst trade", "최저 거래 수익률")),
    _m("total_fees", "currency", L, ("fees", "수수료"), ko=("수수료",)),
    _m("var_95", "%", L, ("VaR 95%", "VaR 95%"), en=("var", "value at risk"), ko=("위험가치", "밸류앳리스크"),
       description="historical one-bar Value at Risk at 95 %, a loss: positive = loss"),
    _m("cvar_95", "%", L, ("CVaR 95%", "CVaR 95%"), en=("cvar", "expected shortfall"), ko=("기대손실",),
       description="minus the mean of the worst 5 % of one-bar returns (positive = loss)"),
    _m("var_99", "%", L, ("VaR 99%", "VaR 99%")),
    _m("cvar_99", "%", L, ("CVaR 99%", "CVaR 99%")),
    _m("buy_hold_return", "%", N, ("buy & hold return", "매수 후 보유 수익률"), en=("buy and hold",),
       ko=("바이앤홀드", "매수 후 보유"), description="the underlying's return over the same bars"),
    _m("periods_per_year", "per_year", N, ("bars per year", "연간 봉 수")),
    _m("num_bars", "count", N, ("bars", "봉 수")),
)
del H, L, S, N

BY_KEY: MappingProxyType[str, Metric] = MappingProxyType({m.key: m for m in METRICS})
BY_STATS_KEY: MappingProxyType[str, Metric] = MappingProxyType({m.stats_key: m for m in METRICS})
# The comparison's metrics (request ``metrics``, ranking, per-strategy ``metrics``), in catalogue order.
COMPARISON_METRICS: tuple[str, ...] = tuple(m.key for m in METRICS if m.comparable)
# The engine sweep table's columns (names as in the backtest ``stats``), in catalogue order.
SWEEP_METRICS: tuple[str, ...] = tuple(m.stats_key for m in METRICS if m.sweepable)


def lookup(key: str) -> Metric | None:
    """The entry for a comparison key or a backtest stats key ("volatility" or "annual_volatility")."""
    return BY_KEY.get(key) or BY_STATS_KEY.get(key)


def metric(key: str) -> Metric:
    """Like :func:`lookup` but ``KeyError`` for an unknown key."""
    found = lookup(key)
    if found is None:
        raise KeyError(key)
    return found


def label(key: str, language: str = "en") -> str:
    """Short display label; an unknown key is shown as itself."""
    found = lookup(key)
    return found.label[language] if found else key


def prose_name(key: str, language: str = "en") -> str:
    """Longer name for sentences ("Sharpe ratio"); an unknown key is shown as itself."""
    found = lookup(key)
    return found.name[language] if found else key


def direction(key: str) -> Direction:
    return metric(key).direction


def _terms(m: Metric) -> tuple[str, ...]:
    words = {m.key, m.key.replace("_", " "), m.label.en.lower(), m.label.ko, m.name.en.lower(), m.name.ko}
    words.update(s.lower() for s in m.synonyms())
    return tuple(sorted(words, key=len, reverse=True))


def _pattern(m: Metric) -> re.Pattern[str]:
    parts = []
    for term in _terms(m):
        body = r"\s*".join(re.escape(piece) for piece in term.split())
        # ASCII words must stand alone ("vol" is not "volume"); Korean words may carry particles (샤프로).
        parts.append(rf"(?<![a-z]){body}(?![a-z])" if term.isascii() else body)
    return re.compile("|".join(parts), re.I)


SYNONYM_PATTERNS: MappingProxyType[str, re.Pattern[str]] = MappingProxyType(
    {m.key: _pattern(m) for m in METRICS}
)


def find_metric(word: str) -> Metric | None:
    """The metric a single word or phrase names exactly ("샤프지수" → sharpe_ratio), else None."""
    text = " ".join(word.strip().lower().split())
    for m in METRICS:
        if text in _terms(m):
            return m
    return None


def mentioned_metrics(text: str, keys: tuple[str, ...] = COMPARISON_METRICS) -> list[str]:
    """Metrics among ``keys`` that ``text`` mentions, in order of first mention.

    A mention inside a longer mention of another metric does not count ("연평균 수익률" is CAGR, not total
    return; "max drawdown duration" is not looked for unless asked).
    """
    spans: list[tuple[int, int, str]] = []
    for key in keys:
        for match in SYNONYM_PATTERNS[key].finditer(text):
            spans.append((match.start(), match.end(), key))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    found: list[str] = []
    covered_until = -1
    for start, end, key in spans:
        if start < covered_until:
            continue
        covered_until = end
        if key not in found:
            found.append(key)
    return found
