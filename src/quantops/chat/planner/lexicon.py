"""The planner's vocabulary, built once at import from the strategy registry, ``BacktestSettings`` and
the metric table: adding a strategy type (one module with a ``ChatLexicon``) teaches the chat its name.

Parameter names, their pydantic aliases, bounds and positional order come from each config model; the
words people use for them come from the strategy module's ``chat`` lexicon (English and Korean).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import AliasChoices

from quantops.backtest import SETTINGS_CHAT, BacktestSettings, SettingChat
from quantops.chat.planner.text import alternation, squash
from quantops.engine import catalogue
from quantops.strategies import STRATEGY_TYPES
from quantops.strategies.base import ChatLexicon, StrategyConfigBase

# Labels too common to mean anything alone: they count only when a number goes with them.
WEAK_LABELS = {
    squash(word)
    for word in (
        "stop",
        "target",
        "size",
        "sizing",
        "low",
        "high",
        "long",
        "short",
        "entry",
        "exit",
        "period",
        "window",
        "length",
        "signal",
        "channel",
        "cash",
        "capital",
        "fee",
        "fees",
        "slip",
        "k",
        "sd",
        "tp",
        "sl",
        "신호",
        "기간",
        "채널",
        "자금",
        "자본",
        "하단",
        "상단",
        "단기",
        "장기",
        "빠른",
        "느린",
        "lower",
        "upper",
        "width",
        "devs",
        "길이",
        "lookback",
        "look back",
        "below",
        "under",
        "above",
        "over",
        "ma",
        "시드",
        "원금",
        "비중",
        "buy",
        "sell",
        "buy when",
        "sell when",
        "buy if",
        "sell if",
        "enter when",
        "exit when",
        "매수",
        "매도",
        "fast",
        "slow",
    )
}


@dataclass(frozen=True)
class StrategyWords:
    """One strategy type as the planner reads it."""

    config_type: str
    chat: ChatLexicon
    model: type[StrategyConfigBase]
    fields: tuple[str, ...]  # positional order (model order)
    integer_fields: frozenset[str]
    labels: re.Pattern[str] | None  # any label of any field
    label_target: dict[str, tuple[str, ...]]  # squashed label -> fields it sets (2 = symmetric pair)
    defaults: dict[str, Any]


def _field_labels(model: type[StrategyConfigBase], name: str) -> list[str]:
    labels = [name]
    alias = model.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        labels += [choice for choice in alias.choices if isinstance(choice, str)]
    elif isinstance(alias, str):
        labels.append(alias)
    return labels


def _strategy_words(config_type: str, chat: ChatLexicon, model: type[StrategyConfigBase]) -> StrategyWords:
    fields = tuple(name for name in model.model_fields if name != "config_type")
    target: dict[str, tuple[str, ...]] = {}  # squashed label -> the field(s) it sets
    phrases: list[str] = []
    for name in fields:
        for label in [*_field_labels(model, name), *chat.params.get(name, ())]:
            target.setdefault(squash(label), (name,))
            phrases.append(label)
    for label, pair in chat.symmetric.items():
        target.setdefault(squash(label), pair)
        phrases.append(label)
    integer = frozenset(name for name in fields if model.model_fields[name].annotation is int)
    labels_re = alternation(phrases) if phrases else None
    defaults = {name: model.model_fields[name].default for name in fields}
    return StrategyWords(config_type, chat, model, fields, integer, labels_re, target, defaults)


STRATEGIES: dict[str, StrategyWords] = {
    config_type: _strategy_words(config_type, spec.chat, spec.model)
    for config_type, spec in STRATEGY_TYPES.items()
}

# name phrase (squashed) -> (config_type, kind: "name" | "preset" | "weak")
STRATEGY_NAME_KIND: dict[str, tuple[str, str]] = {}
for _words in STRATEGIES.values():
    for _phrase in _words.chat.names:
        STRATEGY_NAME_KIND.setdefault(squash(_phrase), (_words.config_type, "name"))
    for _phrase in _words.chat.presets:
        STRATEGY_NAME_KIND[squash(_phrase)] = (_words.config_type, "preset")
    for _phrase in _words.chat.weak_names:
        STRATEGY_NAME_KIND.setdefault(squash(_phrase), (_words.config_type, "weak"))
STRATEGY_NAMES = alternation(
    [p for w in STRATEGIES.values() for p in (*w.chat.names, *w.chat.presets, *w.chat.weak_names)]
)
# Short letter-only names glued to their numbers ("sma10/50", "RSI14"): the reader puts a space between.
GLUED_NAMES = re.compile(
    r"(?<![a-z])("
    + "|".join(
        sorted({n for w in STRATEGIES.values() for n in w.chat.names if re.fullmatch(r"[a-z]{2,5}", n)})
    )
    + r")(?=\d)",
    re.I,
)
PRESETS: dict[str, dict[str, Any]] = {
    squash(phrase): dict(values) for w in STRATEGIES.values() for phrase, values in w.chat.presets.items()
}


@dataclass(frozen=True)
class SettingWords:
    name: str
    chat: SettingChat
    default: Any


SETTINGS: dict[str, SettingWords] = {
    name: SettingWords(name, chat, BacktestSettings.model_fields[name].default)
    for name, chat in SETTINGS_CHAT.items()
}
SETTING_LABEL_TARGET: dict[str, str] = {}
SETTING_VALUE_TARGET: dict[str, tuple[str, str]] = {}  # squashed phrase -> (field, value)
for _name, _chat in SETTINGS_CHAT.items():
    for _label in _chat.labels:
        SETTING_LABEL_TARGET.setdefault(squash(_label), _name)
    for _value, _phrases in _chat.values.items():
        for _phrase in _phrases:
            SETTING_VALUE_TARGET[squash(_phrase)] = (_name, _value)
SETTING_LABELS = alternation([label for chat in SETTINGS_CHAT.values() for label in chat.labels])
SETTING_VALUES = alternation(
    [p for chat in SETTINGS_CHAT.values() for ps in chat.values.values() for p in ps]
)


def setting_default(name: str) -> Any:
    return BacktestSettings.model_fields[name].default


# ---- metrics: the comparable metrics of the engine's catalogue (keys, synonyms en/ko, direction) ----------
def _metric_terms(entry: catalogue.Metric) -> set[str]:
    words = {
        entry.key,
        entry.key.replace("_", " "),
        entry.label.en,
        entry.label.ko,
        entry.name.en,
        entry.name.ko,
    }
    words.update(entry.synonyms())
    return {w.lower() for w in words if not re.search(r"[()%]", w)}


_METRICS = [catalogue.metric(key) for key in catalogue.COMPARISON_METRICS]
METRIC_BY_SYNONYM: dict[str, str] = {}
for _entry in _METRICS:
    for _term in _metric_terms(_entry):
        METRIC_BY_SYNONYM.setdefault(squash(_term), _entry.key)
METRIC_WORDS = alternation([term for entry in _METRICS for term in _metric_terms(entry)])
HIGHER_IS_BETTER = {entry.key: entry.direction == catalogue.Direction.HIGHER for entry in _METRICS}

# ---- symbols: the demo universe's company names (en/ko) ----------------------------------------------
DEMO_SYMBOLS = ("AAPL", "MSFT", "NVDA", "GOOG", "AMZN", "TSLA", "META", "SPY", "QQQ", "JPM", "NFLX", "AMD")
COMPANY_NAMES: dict[str, tuple[str, ...]] = {
    "AAPL": ("apple", "apple inc", "애플"),
    "MSFT": ("microsoft", "마이크로소프트", "마이크로 소프트", "마소", "엠에스", "마쏘"),
    "NVDA": ("nvidia", "엔비디아", "엔비디아의", "엔비"),
    "GOOG": ("google", "alphabet", "googl", "구글", "알파벳"),
    "AMZN": ("amazon", "amazon.com", "아마존"),
    "TSLA": ("tesla", "테슬라", "테슬"),
    "META": ("meta platforms", "meta", "facebook", "fb", "메타", "페이스북"),
    "SPY": (
        "s&p 500 etf",
        "s&p500 etf",
        "s&p 500",
        "s&p500",
        "s&p",
        "sp500",
        "sp 500",
        "s and p 500",
        "spdr",
        "snp500",
        "에스앤피 500",
        "에스앤피",
        "s&p500 지수",
        "스파이",
    ),
    "QQQ": ("nasdaq 100 etf", "nasdaq etf", "nasdaq 100", "nasdaq-100", "nasdaq", "나스닥 100", "나스닥"),
    "JPM": (
        "jpmorgan chase",
        "jp morgan chase",
        "jpmorgan",
        "jp morgan",
        "j.p. morgan",
        "jpmorgan",
        "제이피모건",
        "jp모건",
        "제이피 모건",
    ),
    "NFLX": ("netflix", "넷플릭스", "넷플"),
    "AMD": ("advanced micro devices", "에이엠디"),
}
COMPANY_BY_NAME: dict[str, str] = {
    squash(name): sym for sym, names in COMPANY_NAMES.items() for name in names
}
COMPANY_WORDS = alternation([name for names in COMPANY_NAMES.values() for name in names])

# Every word the lexicon knows (never a ticker, never fuzzy-matched to a company).
LEXICON_WORDS: frozenset[str] = frozenset(
    part
    for phrase in [
        *STRATEGY_NAME_KIND,
        *(label for w in STRATEGIES.values() for label in w.label_target),
        *SETTING_LABEL_TARGET,
        *SETTING_VALUE_TARGET,
        *METRIC_BY_SYNONYM,
    ]
    for part in [phrase]
)
