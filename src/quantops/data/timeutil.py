"""Intervals, date parsing and range arithmetic (half-open ``[start_ns, end_ns)`` int64 ranges)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from quantops.data.errors import InvalidRequestError

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND

# Bar length of each supported interval, in ns.
INTERVAL_NS: dict[str, int] = {
    "1m": 60 * NS_PER_SECOND,
    "5m": 300 * NS_PER_SECOND,
    "15m": 900 * NS_PER_SECOND,
    "30m": 1800 * NS_PER_SECOND,
    "1h": 3600 * NS_PER_SECOND,
    "1d": NS_PER_DAY,
    "1wk": 7 * NS_PER_DAY,
}

# The supported calendar (inclusive). Timestamps are int64 ns (representable 1677-09-21..2262-04-11); dates
# outside this range are typos, and refusing them here names the field instead of an OverflowError.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 1, 1)

# Bars of these intervals are keyed by trading date (00:00 UTC), whatever time the source stamps.
DAILY_INTERVALS = frozenset({"1d", "1wk"})

# A ticker (after upper-casing); SYMBOL_PATTERN is the same rule for any case (API schemas).
_SYMBOL_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=_^]{0,23}$")
SYMBOL_PATTERN = r"^[A-Za-z0-9^][A-Za-z0-9.\-=_^]{0,23}$"


def normalize_symbol(symbol: object) -> str:
    """Upper-case, stripped ticker; rejects anything that is not ticker-shaped (e.g. SQL, paths)."""
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidRequestError("symbol", "must be a non-empty ticker such as AAPL")
    text = symbol.strip().upper()
    if not _SYMBOL_RE.match(text):
        raise InvalidRequestError("symbol", f"{symbol!r} is not a valid ticker (letters, digits, . - = ^ _)")
    return text


def check_interval(interval: object) -> str:
    if interval not in INTERVAL_NS:
        raise InvalidRequestError(
            "interval", f"{interval!r} unsupported; use one of {', '.join(INTERVAL_NS)}"
        )
    return str(interval)


def grain_ns(interval: str) -> int:
    """Coverage granularity: whole days for daily/weekly bars, one bar for intraday bars."""
    return min(INTERVAL_NS[interval], NS_PER_DAY)


def floor_to(value_ns: int, grain: int) -> int:
    return (value_ns // grain) * grain


def ceil_to(value_ns: int, grain: int) -> int:
    return -((-value_ns) // grain) * grain


def to_timestamp(value: object, field: str) -> pd.Timestamp:
    """Parse date/datetime/str/Timestamp/ns-int into a UTC Timestamp (naive input is taken as UTC)."""
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            ts = pd.Timestamp(value, unit="ns")
        else:
            ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidRequestError(field, f"cannot parse {value!r} as a date ({exc})") from exc
    if ts is pd.NaT:
        raise InvalidRequestError(field, f"cannot parse {value!r} as a date")
    if not MIN_DATE <= ts.date() <= MAX_DATE:  # checked before any ns arithmetic can overflow
        raise InvalidRequestError(
            field, f"{ts.date().isoformat()} is outside the supported dates {MIN_DATE} .. {MAX_DATE}"
        )
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def start_ns_of(value: object) -> int:
    return int(to_timestamp(value, "start").value)


def end_ns_exclusive_of(value: object) -> int:
    """Inclusive end → exclusive ns bound. A date (or a midnight datetime) includes that whole day."""
    ts = to_timestamp(value, "end")
    is_whole_day = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if is_whole_day or ts == ts.normalize():
        return int(ts.value) + NS_PER_DAY
    return int(ts.value) + 1


def now_ns() -> int:
    return int(pd.Timestamp.now(tz="UTC").value)


def ns_to_iso(value_ns: int | None) -> str | None:
    if value_ns is None:
        return None
    return pd.Timestamp(int(value_ns), unit="ns", tz="UTC").isoformat()


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open ranges, sorted; touching ranges are joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract_ranges(start: int, end: int, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Parts of ``[start, end)`` not inside any of the (merged, sorted) ``covered`` ranges."""
    gaps: list[tuple[int, int]] = []
    cursor = start
    for c_start, c_end in covered:
        if c_end <= cursor:
            continue
        if c_start >= end:
            break
        if c_start > cursor:
            gaps.append((cursor, min(c_start, end)))
        cursor = max(cursor, c_end)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return gaps
