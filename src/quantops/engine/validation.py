"""Checks on bar arrays before they reach a numba kernel (a kernel would crash or silently mislead)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantops.engine.errors import BarsValidationError


class BarArrays(NamedTuple):
    open_: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    timestamps_ns: np.ndarray


def _when(timestamps_ns: np.ndarray, i: int) -> str:
    return str(np.datetime64(int(timestamps_ns[i]), "ns").astype("datetime64[s]"))


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
    ts = ts.astype(np.int64, copy=False)

    arrays: dict[str, np.ndarray] = {}
    for name, raw in (("open", open_), ("high", high), ("low", low), ("close", close)):
        try:
            values = np.ascontiguousarray(np.asarray(raw, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise BarsValidationError(f"{name} prices are not numeric: {exc}") from exc
        if values.shape != (n,):
            raise BarsValidationError(f"{name} has shape {values.shape}, expected ({n},) like the timestamps")
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise BarsValidationError(
                f"{name} price is {values[i]} (NaN/inf) at bar {i} ({_when(ts, i)}); "
                f"{int(bad.sum())} bad value(s) in total"
            )
        nonpos = values <= 0.0
        if nonpos.any():
            i = int(np.argmax(nonpos))
            raise BarsValidationError(
                f"{name} price must be positive, got {values[i]} at bar {i} ({_when(ts, i)})"
            )
        arrays[name] = values

    if n > 1:
        step = np.diff(ts)
        if (step <= 0).any():
            i = int(np.argmax(step <= 0)) + 1
            kind = "duplicate" if step[i - 1] == 0 else "unsorted (earlier than the previous bar)"
            raise BarsValidationError(
                f"timestamps must be strictly increasing: {kind} timestamp {_when(ts, i)} at bar {i}"
            )
    inverted = arrays["high"] < arrays["low"]
    if inverted.any():
        i = int(np.argmax(inverted))
        raise BarsValidationError(
            f"high ({arrays['high'][i]}) is below low ({arrays['low'][i]}) at bar {i} ({_when(ts, i)})"
        )
    return BarArrays(arrays["open"], arrays["high"], arrays["low"], arrays["close"], ts)
