"""Periods: explicit dates, months, quarters, years and ranges between them, and relative periods.

Own rules for ranges ("2018-2022", "jan 2019 to june 2021", "2018년부터 2022년까지"), quarters, halves,
"ytd", "last 6 months", "최근 3년"; ``dateparser`` (loaded lazily, it is slow to import) for single
day-level dates written with month names or slashes ("March 5, 2020", "5 Mar 2020", "3/5/2020").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from quantops.chat.planner.text import Claims

_MONTHS = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:19|20)\d{2}"
_NUM_WORDS = {
    "a": 1,
    "an": 1,
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
    "eleven": 11,
    "twelve": 12,
    "eighteen": 18,
    "twenty": 20,
    "thirty": 30,
    "한": 1,
    "두": 2,
    "세": 3,
    "네": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
    "열": 10,
}
_COUNT = r"(\d{1,3}|" + "|".join(sorted(_NUM_WORDS, key=len, reverse=True)) + r")"


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    first: date  # first day the mention covers
    last: date  # last day it covers
    text: str
    span_range: bool = False  # a range by itself ("Jan-Jun 2021"): never cut to its start or end


@dataclass
class Period:
    start: date | None = None
    end: date | None = None
    relative: bool = False
    stated: dict[str, str] = field(default_factory=dict)  # "start"/"end" -> text typed
    problems: list[tuple[str, str, str | None]] = field(default_factory=list)  # (field, kind, value)
    refers_back: bool = False  # "same period", "같은 기간"
    relative_days: int | None = None  # "last 10 days" (market data may read it as a bar count)
    reversed: bool = False  # the end came before the start (both are problems)


def month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, month_end(year, month + 1).day))


_FULL = re.compile(rf"(?<!\d)({_YEAR})[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?!\d)")
_KO = re.compile(
    rf"(?<!\d)({_YEAR}|\d{{2}})(?:\s*년\s*|\s*(?=상반기|하반기))(?:(\d{{1,2}})\s*월(?:\s*(\d{{1,2}})\s*일)?|([1-4])\s*분기|(상반기|하반기))?"
)
_KO_MONTH_ONLY = re.compile(r"(?<!\d)(\d{1,2})\s*월\s*(\d{1,2})\s*일")  # "3월 5일" needs a year: not read
_QUARTER = re.compile(
    rf"(?<![a-z0-9])(?:q([1-4])\s*[-/']?\s*({_YEAR})|({_YEAR})\s*[-/]?\s*q([1-4])|"
    rf"([1-4])q\s*({_YEAR}))(?![a-z0-9])"
    rf"|(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\s+(?:of\s+)?({_YEAR})",
    re.I,
)
_HALF = re.compile(
    rf"(?<![a-z0-9])(?:h([12])\s*({_YEAR})|({_YEAR})\s*h([12]))(?![a-z0-9])|(first|"
    rf"second)\s+half\s+(?:of\s+)?({_YEAR})",
    re.I,
)
_DAY_MONTH_NAME = re.compile(
    rf"(?<![a-z])(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}|\d{{1,2}}(?:st|nd|rd|"
    rf"th)?\s+(?:of\s+)?{_MONTH},?\s+{_YEAR})(?!\d)",
    re.I,
)
_SLASH_DATE = re.compile(rf"(?<![\d/])(\d{{1,2}})/(\d{{1,2}})/({_YEAR})(?![\d/])")
_MONTH_YEAR = re.compile(
    rf"(?<![a-z])({_MONTH})\s*,?\s*({_YEAR})(?!\d)|(?<!\d)({_YEAR})\s+({_MONTH})(?![a-z])", re.I
)
_YEAR_MONTH = re.compile(
    rf"(?<!\d)({_YEAR})[-/.](\d{{1,2}})(?![\d\-/.])|(?<![\d/])(\d{{1,2}})/({_YEAR})(?!\d)"
)
_YEAR_ONLY = re.compile(
    rf"(?<![\d#$₩.,])(?<!\d/)({_YEAR})(?!\d|,\d|\.\d|\s*(?:%|bps|원|달러|dollars?|shares?|주(?!일)|개|번))",
    re.I,
)
_NOT_A_YEAR_BEFORE = re.compile(
    r"(?:cash|capital|balance|equity|bankroll|자금|자본금?|투자금|원금|시드|lookback|look\s*back|period|window|length|"
    r"size|commission|fee|룩백|기간|\$)\s*(?:of|=|:|is|to|at|을|를|은|는)?\s*$",
    re.I,
)
_SHORT_YEAR = re.compile(r"(?<![\w'])'(\d{2})(?![\d'])")
# "Jan-Jun 2021", "jan to june 2021", "2021년 1월~6월", "2021년 1월부터 6월까지": two months of one year
_MONTH_RANGE = re.compile(
    rf"(?<![a-z])({_MONTH})\s*(?:-|~|to|through|thru|until)\s*({_MONTH})\s*,?\s*({_YEAR})(?!\d)", re.I
)
_KO_MONTH_RANGE = re.compile(
    rf"(?<!\d)({_YEAR})\s*년\s*(\d{{1,2}})\s*월\s*(?:~|-|부터)\s*(\d{{1,2}})\s*월(?!\s*\d)"
)
_LONE_MONTH = re.compile(
    r"(?<![a-z])(?:jan|january|feb|february|march|apr|april|june|july|aug|august|sept?|september|oct|october|"
    r"nov|november|dec|december)\.?(?![a-z])|(?<!\d)(?:1[0-2]|[1-9])\s*월(?!\s*\d)",
    re.I,
)
_FISCAL = re.compile(rf"(?<![a-z])(?:fy|fiscal\s+year)\s*({_YEAR}|\d{{2}})(?!\d)", re.I)

_RELATIVE = re.compile(
    r"(?:\b(?:last|past|previous|prior|trailing)\s+"
    + _COUNT
    + r"\s*(days?|trading\s+days?|weeks?|months?|years?|yrs?|quarters?)\b"
    r"|(?:최근|지난|과거|직전)\s*" + _COUNT + r"\s*(일|주일|주|개월|달|년|분기)(?:\s*(?:간|동안))?"
    r"|(?<!\d)(\d{1,2})\s*(년|개월)\s*(?:간|동안)"
    r"|\b(?:(?:the\s+)?(?:past|trailing)|the\s+last|last(?!\s+year))\s+(year|month|quarter|week|"
    r"decade)\b(?!\s+(?:of|to))"
    r"|\b(ytd|year[\s\-]+to[\s\-]+date|this\s+year|so\s+far\s+this\s+year)\b|(올해|연초\s*(?:이후|부터|대비)?|금년)"
    r"|(작년|지난해|전년|\blast\s+(?:calendar\s+)?year\b)|(재작년)"
    r"|(최근\s*반년|지난\s*반년|반년간?|half\s+a\s+year)|(최근\s*한\s*달|지난\s*한\s*달|지난달)"
    r"|\b(last\s+decade|past\s+decade)\b)",
    re.I,
)
_REFERS_BACK = re.compile(
    r"\bsame\s+(?:period|dates?|date\s+range|range|timeframe|time\s*frame|window|years?|time\s+period|span)\b"
    r"|\b(?:that|this|those)\s+(?:period|dates|date\s+range|timeframe|window)\b|\bsame\s+(?:thing|"
    r"setup|everything|config(?:uration)?)\b"
    r"|\beverything\s+else\s+the\s+same\b|\bsame\s+conditions\b|같은\s*조건|동일한?\s*조건|같은\s*기간|동일한?\s*기간|그\s*기간|기간은?\s*그대로|똑같이|그대로",
    re.I,
)
_START_BEFORE = re.compile(
    r"(?:\bsince|\bfrom|\bafter|\bstarting(?:\s+(?:in|from|on|at))?|\bbeginning(?:\s+(?:in|of))?|"
    r"\bstart(?:ing)?\s+(?:date\s+)?(?:of\s+|in\s+|at\s+|=\s*|:\s*)?|\bas\s+of|\bbetween|"
    r"\bfrom\s+the\s+start\s+of|\bback\s+to|\bgo(?:ing)?\s+back\s+to)\s*$",
    re.I,
)
_END_BEFORE = re.compile(
    r"(?:\buntil|\btill|\bthrough|\bthru|\bto|\bbefore|\bby|\bup\s+to|\bending(?:\s+(?:in|on))?|"
    r"\bend(?:\s+date)?\s*(?:of\s+|in\s+|at\s+|=\s*|:\s*)?|\buntil\s+the\s+end\s+of)\s*$",
    re.I,
)
_WHOLE_BEFORE = re.compile(
    r"(?:\bin|\bduring|\bfor|\bover|\bof|\bthroughout|\bwithin)\s*(?:the\s+(?:year|month)\s+(?:of\s+)?)?$",
    re.I,
)
_START_AFTER = re.compile(
    r"^\s*(?:년\s*)?(?:부터|이후|이래|에서부터|에서|~|onwards?|and\s+(?:later|after)|or\s+later|to\s+(?:now|date|"
    r"today|present))",
    re.I,
)
_END_AFTER = re.compile(r"^\s*(?:년\s*)?(?:까지|이전|전까지|말까지|및\s*이전)", re.I)
_WHOLE_AFTER = re.compile(r"^\s*(?:년\s*)?(?:한\s*해|동안|에만|한해|1년간|전체|내내|in\s+full|only)", re.I)
_AFTER_WORD = re.compile(r"\bafter\s*$", re.I)
_BEFORE_WORD = re.compile(r"\bbefore\s*$|이전", re.I)
_RANGE_GAP = re.compile(
    r"^\s*(?:-|~|–|to|through|thru|till|until|and|\.\.|부터|에서|에서부터|~|,)\s*(?:the\s+end\s+of\s+|end\s+of\s+)?$",
    re.I,
)
_OUT_OF_RANGE_YEAR = re.compile(
    r"(?:\b(?:since|from|until|till|through|to|between|after|before|in|during)\s+|"
    r"(?<![\d.])(?=\d{4}\s*(?:년|-|~|to\b)))(\d{4})(?!\d)",
    re.I,
)


@lru_cache(maxsize=1)
def _dateparser() -> Any:
    import dateparser  # slow to import (about 0.3 s) and ~2 ms a parse: only for "N days ago"-type dates

    return dateparser


def _month_name_day(text: str) -> date | None:
    """ "March 5, 2020", "5th of Mar 2020" (own rule: exact and fast)."""
    month = re.search(_MONTH, text, re.I)
    day = re.search(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?(?!\d)", text)
    year = re.search(_YEAR, text)
    if not (month and day and year):
        return None
    try:
        return date(int(year.group(0)), _MONTHS[month.group(0).rstrip(".").lower()], int(day.group(1)))
    except ValueError:
        return None


# A single day relative to today ("3 weeks ago", "2년 전"): dateparser reads these in both languages.
_AGO = re.compile(
    r"\b(\d{1,3}|a|an|one|two|three|four|five|six|ten|twelve)\s+(days?|weeks?|months?|years?)\s+ago\b"
    r"|(?<!\d)(\d{1,3})\s*(일|주|개월|달|년)\s*전(?=\s|$|부터|까지|에|이후|[.,!?])",
    re.I,
)


def _ago(text: str, today: date) -> date | None:
    from datetime import datetime

    parsed = _dateparser().parse(
        text, languages=["en", "ko"], settings={"RELATIVE_BASE": datetime(today.year, today.month, today.day)}
    )
    return parsed.date() if parsed else None


def _mentions(
    text: str, claims: Claims, problems: list[tuple[str, str, str | None]], today: date, relative: list[bool]
) -> list[Mention]:
    found: list[Mention] = []

    def add(match: re.Match[str], first: date, last: date, group: int = 0, span_range: bool = False) -> None:
        start, end = match.span(group)
        if claims.free(start, end):
            found.append(Mention(start, end, first, last, text[start:end], span_range))
            claims.claim(start, end, "period")

    for match in _MONTH_RANGE.finditer(text):
        year = int(match.group(3))
        first_month = _MONTHS[match.group(1).rstrip(".").lower()]
        last_month = _MONTHS[match.group(2).rstrip(".").lower()]
        if first_month <= last_month:
            add(match, date(year, first_month, 1), month_end(year, last_month), span_range=True)
    for match in _KO_MONTH_RANGE.finditer(text):
        year, first_month, last_month = (int(g) for g in match.groups())
        if 1 <= first_month <= last_month <= 12:
            add(match, date(year, first_month, 1), month_end(year, last_month), span_range=True)
    for match in _FULL.finditer(text):
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            problems.append(("date", "invalid", match.group(0)))
            claims.claim(*match.span(), "period")
            continue
        add(match, day, day)
    for match in _DAY_MONTH_NAME.finditer(text):
        day = _month_name_day(match.group(0))
        if day is not None:
            add(match, day, day)
        else:
            problems.append(("date", "invalid", match.group(0)))
            claims.claim(*match.span(), "period")
    for match in _AGO.finditer(text):
        day = _ago(match.group(0), today) if claims.free(*match.span()) else None
        if day is not None:
            add(match, day, day)
            relative.append(True)
    for match in _SLASH_DATE.finditer(text):
        try:
            day = date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        except ValueError:
            continue
        add(match, day, day)
    for match in _KO.finditer(text):
        raw_year = match.group(1)
        year = int(raw_year) if len(raw_year) == 4 else 2000 + int(raw_year)
        try:
            if match.group(3):
                first = last = date(year, int(match.group(2)), int(match.group(3)))
            elif match.group(2):
                month = int(match.group(2))
                first, last = date(year, month, 1), month_end(year, month)
            elif match.group(4):
                quarter = int(match.group(4))
                first, last = date(year, 3 * quarter - 2, 1), month_end(year, 3 * quarter)
            elif match.group(5):
                first, last = (
                    (date(year, 1, 1), date(year, 6, 30))
                    if match.group(5) == "상반기"
                    else (date(year, 7, 1), date(year, 12, 31))
                )
            else:
                first, last = date(year, 1, 1), date(year, 12, 31)
        except ValueError:
            problems.append(("date", "invalid", match.group(0)))
            claims.claim(*match.span(), "period")
            continue
        add(match, first, last)
    for match in _QUARTER.finditer(text):
        groups = match.groups()
        if groups[0]:
            quarter, year = int(groups[0]), int(groups[1])
        elif groups[2]:
            quarter, year = int(groups[3]), int(groups[2])
        elif groups[4]:
            quarter, year = int(groups[4]), int(groups[5])
        else:
            quarter, year = _ordinal(groups[6]), int(groups[7])
        add(match, date(year, 3 * quarter - 2, 1), month_end(year, 3 * quarter))
    for match in _HALF.finditer(text):
        groups = match.groups()
        if groups[0]:
            half, year = int(groups[0]), int(groups[1])
        elif groups[2]:
            half, year = int(groups[3]), int(groups[2])
        else:
            half, year = (1 if groups[4].lower() == "first" else 2), int(groups[5])
        add(
            match,
            date(year, 1, 1) if half == 1 else date(year, 7, 1),
            date(year, 6, 30) if half == 1 else date(year, 12, 31),
        )
    for match in _MONTH_YEAR.finditer(text):
        name = (match.group(1) or match.group(4)).rstrip(".").lower()
        year = int(match.group(2) or match.group(3))
        month = _MONTHS[name]
        add(match, date(year, month, 1), month_end(year, month))
    for match in _YEAR_MONTH.finditer(text):
        year = int(match.group(1) or match.group(4))
        month = int(match.group(2) or match.group(3))
        if 1 <= month <= 12:
            add(match, date(year, month, 1), month_end(year, month))
    for match in _SHORT_YEAR.finditer(text):  # "from '19 to '22"
        short = int(match.group(1))
        year = 2000 + short if short <= today.year % 100 + 1 else 1900 + short
        add(match, date(year, 1, 1), date(year, 12, 31))
    for match in _FISCAL.finditer(text):
        raw = match.group(1)
        year = int(raw) if len(raw) == 4 else 2000 + int(raw)
        add(match, date(year, 1, 1), date(year, 12, 31))
    for match in _YEAR_ONLY.finditer(text):
        if _NOT_A_YEAR_BEFORE.search(text[max(0, match.start() - 30) : match.start()]):
            continue  # "initial cash 2000", "lookback 2000"
        year = int(match.group(1))
        add(match, date(year, 1, 1), date(year, 12, 31), 1)
    found.sort(key=lambda m: m.start)
    return found


def _ordinal(word: str) -> int:
    return {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}[
        word.lower()
    ]


def _role(text: str, mention: Mention) -> str:
    before = re.sub(r"\bthe\s*$", "", text[max(0, mention.start - 40) : mention.start])
    after = text[mention.end : mention.end + 12]
    if _END_AFTER.match(after):
        return "end_before" if _BEFORE_WORD.match(after.strip()) else "end"
    if _START_AFTER.match(after):
        return "start"
    if _AFTER_WORD.search(before):
        return "start_after"
    if re.search(r"\bbefore\s*$", before, re.I):
        return "end_before"
    if _START_BEFORE.search(before):
        return "start"
    if _END_BEFORE.search(before):
        return "end"
    if _WHOLE_AFTER.match(after) or _WHOLE_BEFORE.search(before):
        return "whole"
    return "whole"


def _relative(match: re.Match[str], today: date) -> tuple[date, date | None, int | None]:
    g = match.groups()
    # (count, unit) pairs of the three numeric forms
    for count, unit in ((g[0], g[1]), (g[2], g[3]), (g[4], g[5])):
        if count:
            n = int(count) if count.isdigit() else _NUM_WORDS[count.lower()]
            unit = unit.lower()
            if unit.startswith(("day", "trading")) or unit == "일":
                return today - timedelta(days=n), None, n
            if unit.startswith("week") or unit in ("주", "주일"):
                return today - timedelta(weeks=n), None, None
            if unit.startswith("month") or unit in ("개월", "달"):
                return _shift_months(today, n), None, None
            if unit.startswith("quarter") or unit == "분기":
                return _shift_months(today, 3 * n), None, None
            return _shift_months(today, 12 * n), None, None
    if g[6]:
        unit = g[6].lower()
        months = {"year": 12, "month": 1, "quarter": 3, "week": 0, "decade": 120}[unit]
        if unit == "week":
            return today - timedelta(weeks=1), None, None
        return _shift_months(today, months), None, None
    if g[7] or g[8]:
        return date(today.year, 1, 1), None, None
    if g[9]:
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), None
    if g[10]:
        return date(today.year - 2, 1, 1), date(today.year - 2, 12, 31), None
    if g[11]:
        return _shift_months(today, 6), None, None
    if g[12]:
        return _shift_months(today, 1), None, None
    return _shift_months(today, 120), None, None


def read_period(text: str, today: date, claims: Claims) -> Period:
    """The period stated in ``text`` (lower-cased, normalised); claims what it reads."""
    period = Period()
    if _REFERS_BACK.search(text):
        period.refers_back = True
    relative = None
    for match in _RELATIVE.finditer(text):
        if claims.free(*match.span()):
            relative = match
            claims.claim(*match.span(), "period")
            break
    ago: list[bool] = []
    mentions = _mentions(text, claims, period.problems, today, ago)
    period.relative = bool(ago)
    # a month nobody read ("jan" without a year): asked, never dropped
    for match in _LONE_MONTH.finditer(text):
        if claims.free(*match.span()):
            period.problems.append(("start", "ambiguous", match.group(0)))
            claims.claim(*match.span(), "period")
    # "from 1600 to 1700", "since 3000": a year the data can never have.
    for match in _OUT_OF_RANGE_YEAR.finditer(text):
        if claims.free(*match.span(1)):
            value = match.group(1)
            before = text[max(0, match.start(1) - 12) : match.start(1)]
            field_name = (
                "end"
                if _END_BEFORE.search(before) or re.match(r"\s*(?:년\s*)?까지", text[match.end(1) :])
                else "start"
            )
            period.problems.append((field_name, "invalid", value))
            claims.claim(*match.span(1), "period")
    if not mentions and relative is not None:
        start, end, days = _relative(relative, today)
        period.start, period.end, period.relative, period.relative_days = start, end, True, days
        period.stated["start"] = relative.group(0).strip()
        if end is not None:
            period.stated["end"] = relative.group(0).strip()
        return period
    if not mentions:
        return period
    roles = ["whole" if m.span_range else _role(text, m) for m in mentions]
    used: set[int] = set()
    # ranges: two mentions joined by "-", "to", "~", "부터", "and" (after "between"), ...
    for i in range(len(mentions) - 1):
        first, second = mentions[i], mentions[i + 1]
        gap = text[first.end : second.start]
        # "2019-01-01 2023-12-31": two full dates side by side are a range too
        side_by_side = gap.isspace() and first.first == first.last and second.first == second.last
        if i in used or not (_RANGE_GAP.match(gap) or side_by_side) or roles[i] == "end":
            continue
        if gap.strip() in ("and", ",") and not re.search(
            r"\bbetween\s*$|\bfrom\s*$|\bin\s*$|\bduring\s*$",
            text[max(0, first.start - 12) : first.start],
            re.I,
        ):
            continue
        period.start, period.end = first.first, second.last
        period.stated["start"], period.stated["end"] = first.text, second.text
        used |= {i, i + 1}
        break
    for i, mention in enumerate(mentions):
        if i in used:
            continue
        role = roles[i]
        if role in ("start", "start_after") and period.start is None:
            period.start = mention.last + timedelta(days=1) if role == "start_after" else mention.first
            period.stated["start"] = mention.text
        elif role in ("end", "end_before") and period.end is None:
            period.end = mention.first - timedelta(days=1) if role == "end_before" else mention.last
            period.stated["end"] = mention.text
        elif role == "whole" and period.start is None and period.end is None:
            period.start, period.end = mention.first, mention.last
            period.stated["start"] = period.stated["end"] = mention.text
        elif (
            role == "whole"
            and period.start is not None
            and period.end is None
            and mention.first > period.start
        ):
            period.end = mention.last
            period.stated["end"] = mention.text
        else:
            period.problems.append(("start", "ambiguous", mention.text))
    if period.start and period.end and period.start > period.end:
        # "from 2022 to 2019": either date may be the slip, so both are asked and neither is used
        period.problems.append(("start", "invalid", period.stated.get("start")))
        period.problems.append(("end", "invalid", period.stated.get("end")))
        period.start = period.end = None
        period.reversed = True
    if period.start and period.start > today:
        period.problems.append(("start", "invalid", period.stated.get("start")))
        if period.end and period.end > today:  # "2030년부터 2035년까지": neither date can have data
            period.problems.append(("end", "invalid", period.stated.get("end")))
    return period
