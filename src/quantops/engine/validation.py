"""Checks on bar arrays before they reach a numba kernel (a kernel would crash or silently mislead)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from quantops.engine.errors import BarsValidationError


class BarArrays(NamedTuple):
    open_: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    timestamps_ns: np.ndarray


def _when(timestamps_ns: np.ndarray, i: int) -> str:
    return str(np.datetime64(int(timestamps_ns[i]), "ns").astype("datetime64[s]"))


@njit(cache=True)
def _scan(prices: np.ndarray, timestamps_ns: np.ndarray) -> tuple[int, int, int]:
    """First problem as (code, column, bar): 0 none, 1 NaN/inf, 2 non-positive, 3 not increasing, 4 high<low.

    ``prices`` is (4, n): open, high, low, close.
    """
    n = timestamps_ns.shape[0]
    for col in range(4):
        for i in range(n):
            value = prices[col, i]
            if not (value > 0.0 and value < np.inf):  # one test for NaN, inf and ≤ 0 on the hot path
                return (1 if not np.isfinite(value) else 2), col, i
    for i in range(1, n):
        if timestamps_ns[i] <= timestamps_ns[i - 1]:
            return 3, 0, i
    for i in range(n):
        if prices[1, i] < prices[2, i]:
            return 4, 0, i
    return 0, 0, 0


_COLUMNS = ("open", "high", "low", "close")


def validate_prices(prices: np.ndarray, timestamps_ns: np.ndarray) -> BarArrays:
    """Check a (4, n) float64 C-contiguous price block (open, high, low, close) and int64 timestamps."""
    code, col, i = _scan(prices, timestamps_ns)
    ts = timestamps_ns
    if code == 1:
        name = _COLUMNS[col]
        bad = int((~np.isfinite(prices[col])).sum())
        raise BarsValidationError(
            f"{name} price is {prices[col, i]} (NaN/inf) at bar {i} ({_when(ts, i)}); "
            f"{bad} bad value(s) in {name}"
        )
    if code == 2:
        raise BarsValidationError(
            f"{_COLUMNS[col]} price must be positive, got {prices[col, i]} at bar {i} ({_when(ts, i)})"
        )
    if code == 3:
        kind = "duplicate" if ts[i] == ts[i - 1] else "unsorted (earlier than the previous bar)"
        raise BarsValidationError(
            f"timestamps must be strictly increasing: {kind} timestamp {_when(ts, i)} at bar {i}"
        )
    if code == 4:
        raise BarsValidationError(
            f"high ({prices[1, i]}) is below low ({prices[2, i]}) at bar {i} ({_when(ts, i)})"
        )
    return BarArrays(prices[0], prices[1], prices[2], prices[3], ts)


def validate_bars(
    open_: object, high: object, low: object, close: object, timestamps_ns: object
) -> BarArrays:
    """Contiguous float64 prices and int64 timestamps, or ``BarsValidationError`` naming the problem."""
    ts = np.ascontiguousarray(np.asarray(timestamps_ns))
    if ts.dtype.kind == "M":
        ts = ts.astype("datetime64[ns]").view(np.int64)
    if ts.ndim != 1:
        raise BarsValidationError(f"timestamps must be one-dimensional, got shape {ts.shape}")
    n = ts.shape[0]
    if n == 0:
        raise BarsValidationError("no bars: the price data is empty")
    if ts.dtype.kind not in "iu":
        raise BarsValidationError(f"timestamps must be int64 nanoseconds or datetime64, got {ts.dtype}")
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    prices = np.empty((4, n))
    for row, (name, raw) in enumerate(zip(_COLUMNS, (open_, high, low, close), strict=True)):
        try:
            values = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise BarsValidationError(f"{name} prices are not numeric: {exc}") from exc
        if values.shape != (n,):
            raise BarsValidationError(f"{name} has shape {values.shape}, expected ({n},) like the timestamps")
        prices[row] = values
    return validate_prices(prices, ts)
