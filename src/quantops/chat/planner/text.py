"""Text normalisation, number tokens and span claims shared by the recognisers.

Every recogniser claims the character spans it reads (``Claims``), so a number taken by one (a year of
a period, a commission) cannot be read again by another (a strategy parameter); numbers nobody claimed
are reported to the user instead of being dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# One pass of NFKC plus the dashes/tildes people type; the length of the text is kept where possible.
_TRANSLATE = str.maketrans(
    {"–": "-", "—": "-", "−": "-", "～": "~", "〜": "~", "“": '"', "”": '"', "‘": "'", "’": "'"}
)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATE).strip()


def phrase_pattern(phrase: str) -> str:
    """A regex for a lexicon phrase: any spacing/hyphen/underscore between its words (none in Korean),
    latin words not glued to other latin letters or digits."""
    parts = [re.escape(part) for part in re.split(r"[\s_\-]+", phrase.strip().lower()) if part]
    body = r"[\s\-_]*".join(parts)
    if re.match(r"[a-z0-9]", phrase.strip(), re.I):
        body = r"(?<![a-z0-9])" + body
    if re.search(r"[a-z0-9]$", phrase.strip(), re.I):
        body = body + r"(?![a-z0-9])"
    return body


def squash(phrase: str) -> str:
    return re.sub(r"[\s\-_]+", "", phrase.lower())


def alternation(phrases: list[str] | tuple[str, ...] | set[str]) -> re.Pattern[str]:
    """One regex matching any of ``phrases`` (longest first), case-insensitive."""
    unique = sorted({p.lower() for p in phrases if p.strip()}, key=lambda p: (-len(squash(p)), p))
    return re.compile("|".join(f"(?:{phrase_pattern(p)})" for p in unique), re.I)


_UNIT = (
    r"%|퍼센트|프로|percent|per\s*cent|pct|bps|bp|basis\s*points?|k|mm|m|million|thousand|천만\s*원?|백만\s*원?|만\s*원?|억\s*원?|"
    r"천\s*원?|원|달러|불|dollars?|usd|trading\s*days?|days?|bars?|candles?|일|봉|개월|months?|weeks?|주일|주|"
    r"년|years?|yrs?|개|번째|번|shares?|x|배|d"
)
NUMBER = re.compile(
    r"(?P<pm>±\s?|\+\s?/\s?-\s?|\+-\s?)?(?P<sign>(?<![a-z0-9_.\-/~])-(?=\d|\.\d))?(?P<cur>\$|₩)?\s?"
    r"(?P<num>(?<![a-z0-9_.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![a-z0-9_.])\d+(?:\.\d+)?|(?<![a-z0-9_.])\.\d+)"
    r"(?:(?:\s?|-(?=[a-z]))(?P<unit>" + _UNIT + r"))?(?:(?<=[가-힣])|(?![a-z0-9]))",  # "5일20일": glued
    re.I,
)
_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "million": 1e6,
    "천": 1e3,
    "만": 1e4,
    "백만": 1e6,
    "천만": 1e7,
    "억": 1e8,
}


# "2만5천달러", "1억 2천만 원": a Korean amount in several parts (one Number, in units of its first part)
_KO_COMPOUND = re.compile(
    r"(?<![\d.,])\d+(?:\.\d+)?\s?[억만천백](?:\s?\d+(?:\.\d+)?\s?[억만천백]|(?<=[천백])[억만])+"
)
_KO_TOKEN = re.compile(r"(\d+(?:\.\d+)?)?\s?([억만천백])")
_KO_SMALL = {"천": 1e3, "백": 1e2}
_KO_BIG = {"억": 1e8, "만": 1e4}


@dataclass(slots=True)
class Number:
    start: int
    end: int
    value: float
    text: str  # as typed, unit included
    unit: (
        str  # normalised: "", "%", "bps", "k", "만", "day", "year", "month", "week", "개", "번", "share", ...
    )
    integral: bool  # typed without a decimal point
    currency: bool
    plus_minus: bool = False  # "±3%": the same size both ways (symmetric thresholds)

    @property
    def scaled(self) -> float:
        """The value with a size multiplier applied (10k -> 10000, 1억 -> 1e8)."""
        return self.value * _MULTIPLIERS.get(self.unit, 1.0)

    def as_typed(self) -> int | float:
        return int(self.value) if self.integral and float(self.value).is_integer() else self.value


def _unit_name(raw: str | None) -> str:
    if not raw:
        return ""
    unit = re.sub(r"\s+", "", raw.lower())
    unit = re.sub(r"원$", "", unit) or "원"
    table = {
        "퍼센트": "%",
        "프로": "%",
        "percent": "%",
        "pct": "%",
        "bp": "bps",
        "basispoint": "bps",
        "basispoints": "bps",
        "tradingday": "day",
        "tradingdays": "day",
        "days": "day",
        "d": "day",
        "일": "day",
        "bars": "bar",
        "봉": "bar",
        "candle": "bar",
        "candles": "bar",
        "months": "month",
        "개월": "month",
        "weeks": "week",
        "주일": "week",
        "years": "year",
        "yrs": "year",
        "yr": "year",
        "년": "year",
        "shares": "share",
        "dollars": "dollar",
        "usd": "dollar",
        "달러": "dollar",
        "불": "dollar",
        "배": "x",
        "번째": "번",
    }
    return table.get(unit, unit)


def _korean_amounts(text: str) -> list[Number]:
    """Korean amounts in parts: "2만5천" = 25000, "3천5백만" = (3500)만, "1억 2천만" = 120000000."""
    found = []
    for match in _KO_COMPOUND.finditer(text):
        total = group = 0.0
        last_big = ""
        for token in _KO_TOKEN.finditer(match.group(0)):
            count = float(token.group(1)) if token.group(1) else None
            place = token.group(2)
            if place in _KO_SMALL:
                group += (count if count is not None else 1.0) * _KO_SMALL[place]
            else:
                group += count or 0.0
                total += (group or 1.0) * _KO_BIG[place]
                group, last_big = 0.0, place
        # "1억5천" is said for 1억 5천만 (the 만 is dropped after 억), "2만5천" is 25000
        total += group * (1e4 if last_big == "억" else 1.0)
        unit = "억" if total >= 1e8 else "만" if total >= 1e4 else "천"
        scale = {"억": 1e8, "만": 1e4, "천": 1e3}[unit]
        end = match.end()
        tail = _MONEY_AFTER.match(text, end)
        if tail:
            end = tail.end()
        # in units of its largest place ("2.5만"), so ``scaled`` is the amount
        found.append(
            Number(match.start(), end, total / scale, text[match.start() : end], unit, False, bool(tail))
        )
    return found


def numbers(text: str) -> list[Number]:
    found: list[Number] = _korean_amounts(text)
    compound = [(n.start, n.end) for n in found]
    for match in NUMBER.finditer(text):
        if any(a < match.end() and match.start() < b for a, b in compound):
            continue
        raw = match.group("num").replace(",", "")
        value = float(raw)
        if match.group("sign"):
            value = -value
        unit = _unit_name(match.group("unit"))
        start = match.start("sign") if match.group("sign") else match.start("num")
        if match.group("cur"):
            start = match.start("cur")
        if match.group("pm"):
            start = match.start("pm")
        end = match.end()
        raw_unit = (match.group("unit") or "").lower()
        money = bool(match.group("cur")) or bool(re.search(r"원|달러|불|dollar|usd", raw_unit))
        tail = _MONEY_AFTER.match(text, end) if unit in _MULTIPLIERS else None
        if tail:  # "1 million dollars", "5천만 원"
            end, money = tail.end(), True
        found.append(
            Number(
                start,
                end,
                value,
                text[start:end].strip(),
                unit,
                "." not in raw,
                money,
                bool(match.group("pm")),
            )
        )
    return sorted(found, key=lambda n: n.start)


_MONEY_AFTER = re.compile(r"\s*(?:dollars?|usd|bucks|won|달러|원|불)(?![a-z])", re.I)


@dataclass
class Claims:
    """Character spans already read by some recogniser."""

    spans: list[tuple[int, int, str]] = field(default_factory=list)

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b, _ in self.spans)

    def claim(self, start: int, end: int, owner: str) -> None:
        self.spans.append((start, end, owner))

    def owner(self, start: int, end: int) -> str | None:
        for a, b, who in self.spans:
            if not (end <= a or start >= b):
                return who
        return None
