"""Technical indicators as numba kernels over float64 arrays.

Every function follows TA-Lib's warm-up convention: the output has the input's length and is NaN
until the indicator is defined (e.g. SMA(n) is NaN for the first n-1 bars, RSI(n) for the first n).
Seeds follow TA-Lib too (EMA seeded with the SMA of its first ``period`` inputs; RSI and ATR use
Wilder's smoothing seeded with a simple mean), so values agree with TA-Lib after the warm-up.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NAN = np.nan


@njit(cache=True)
def sma(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average (running sum, like TA-Lib)."""
    n = values.shape[0]
    out = np.full(n, NAN)
    if period < 1 or n < period:
        return out
    total = 0.0
    for i in range(period - 1):
        total += values[i]
    for i in range(period - 1, n):
        total += values[i]
        out[i] = total / period
        total -= values[i - period + 1]
    return out


@njit(cache=True)
def _ema_from(values: np.ndarray, period: int, seed_start: int, out: np.ndarray) -> None:
    """EMA seeded with the mean of values[seed_start : seed_start+period], written from there on."""
    n = values.shape[0]
    first = seed_start + period - 1
    if first >= n:
        return
    k = 2.0 / (period + 1.0)
    total = 0.0
    for i in range(seed_start, first + 1):
        total += values[i]
    prev = total / period
    out[first] = prev
    for i in range(first + 1, n):
        prev = (values[i] - prev) * k + prev
        out[i] = prev


@njit(cache=True)
def ema(values: np.ndarray, period: int) -> np.ndarray:
    """Exponential moving average, k = 2/(period+1), seeded with the SMA of the first ``period`` values."""
    out = np.full(values.shape[0], NAN)
    if period >= 1:
        _ema_from(values, period, 0, out)
    return out


@njit(cache=True)
def rsi(close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's RSI (TA-Lib's): first average gain/loss is the plain mean of ``period`` changes."""
    n = close.shape[0]
    out = np.full(n, NAN)
    if period < 1 or n <= period:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(1, period + 1):
        change = close[i] - close[i - 1]
        if change > 0:
            gain += change
        else:
            loss -= change
    gain /= period
    loss /= period
    total = gain + loss
    out[period] = 100.0 * gain / total if total != 0.0 else 0.0
    for i in range(period + 1, n):
        change = close[i] - close[i - 1]
        up = change if change > 0 else 0.0
        down = -change if change < 0 else 0.0
        gain = (gain * (period - 1) + up) / period
        loss = (loss * (period - 1) + down) / period
        total = gain + loss
        out[i] = 100.0 * gain / total if total != 0.0 else 0.0
    return out


@njit(cache=True)
def macd(close: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal line and histogram as TA-Lib computes them.

    TA-Lib seeds the fast EMA so both EMAs start on the same bar (slow-1): the fast seed is the mean
    of the ``fast`` closes ending there, not of the first ``fast`` closes. All three outputs are NaN
    until bar slow+signal-2 (TA-Lib's lookback), the signal line is an EMA of the MACD line.
    """
    n = close.shape[0]
    line = np.full(n, NAN)
    sig = np.full(n, NAN)
    hist = np.full(n, NAN)
    if fast > slow:
        fast, slow = slow, fast
    start = slow - 1
    if start >= n:
        return line, sig, hist
    fast_ema = np.full(n, NAN)
    slow_ema = np.full(n, NAN)
    _ema_from(close, fast, start - (fast - 1), fast_ema)
    _ema_from(close, slow, 0, slow_ema)
    raw = np.full(n, NAN)
    for i in range(start, n):
        raw[i] = fast_ema[i] - slow_ema[i]
    _ema_from(raw, signal, start, sig)
    first = start + signal - 1
    for i in range(first, n):
        line[i] = raw[i]
        hist[i] = raw[i] - sig[i]
    return line, sig, hist


@njit(cache=True)
def rolling_std(values: np.ndarray, period: int) -> np.ndarray:
    """Population standard deviation over a window (TA-Lib STDDEV with nbdev=1: running sums)."""
    n = values.shape[0]
    out = np.full(n, NAN)
    if period < 1 or n < period:
        return out
    total = 0.0
    total_sq = 0.0
    for i in range(period - 1):
        total += values[i]
        total_sq += values[i] * values[i]
    for i in range(period - 1, n):
        total += values[i]
        total_sq += values[i] * values[i]
        mean = total / period
        var = total_sq / period - mean * mean
        out[i] = np.sqrt(var) if var > 0.0 else 0.0
        total -= values[i - period + 1]
        total_sq -= values[i - period + 1] * values[i - period + 1]
    return out


@njit(cache=True)
def bollinger(close: np.ndarray, period: int, num_std: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger Bands (upper, middle, lower): SMA ± num_std · population std."""
    middle = sma(close, period)
    std = rolling_std(close, period)
    return middle + num_std * std, middle, middle - num_std * std


@njit(cache=True)
def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range; NaN on the first bar (no previous close), like TA-Lib TRANGE."""
    n = close.shape[0]
    out = np.full(n, NAN)
    for i in range(1, n):
        hl = high[i] - low[i]
        hc = abs(high[i] - close[i - 1])
        lc = abs(low[i] - close[i - 1])
        out[i] = max(hl, max(hc, lc))
    return out


@njit(cache=True)
def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Average true range with Wilder's smoothing, seeded with the mean of the first ``period`` TRs."""
    n = close.shape[0]
    out = np.full(n, NAN)
    if period < 1 or n <= period:
        return out
    tr = true_range(high, low, close)
    total = 0.0
    for i in range(1, period + 1):
        total += tr[i]
    prev = total / period
    out[period] = prev
    for i in range(period + 1, n):
        prev = (prev * (period - 1) + tr[i]) / period
        out[i] = prev
    return out


@njit(cache=True)
def rolling_max(values: np.ndarray, period: int) -> np.ndarray:
    """Highest value of the window ending at each bar (TA-Lib MAX)."""
    n = values.shape[0]
    out = np.full(n, NAN)
    for i in range(period - 1, n):
        best = values[i - period + 1]
        for j in range(i - period + 2, i + 1):
            if values[j] > best:
                best = values[j]
        out[i] = best
    return out


@njit(cache=True)
def rolling_min(values: np.ndarray, period: int) -> np.ndarray:
    """Lowest value of the window ending at each bar (TA-Lib MIN)."""
    n = values.shape[0]
    out = np.full(n, NAN)
    for i in range(period - 1, n):
        best = values[i - period + 1]
        for j in range(i - period + 2, i + 1):
            if values[j] < best:
                best = values[j]
        out[i] = best
    return out


@njit(cache=True)
def stochastic(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, k_period: int, slowk_period: int, slowd_period: int
) -> tuple[np.ndarray, np.ndarray]:
    """Slow stochastic (%K smoothed by an SMA, %D = SMA of slow %K), TA-Lib STOCH with SMA averages.

    Outputs are NaN until bar k_period + slowk_period + slowd_period - 3 (TA-Lib's lookback).
    """
    n = close.shape[0]
    slow_k = np.full(n, NAN)
    slow_d = np.full(n, NAN)
    if n < k_period:
        return slow_k, slow_d
    highest = rolling_max(high, k_period)
    lowest = rolling_min(low, k_period)
    fast_k = np.full(n, NAN)
    for i in range(k_period - 1, n):
        span = highest[i] - lowest[i]
        fast_k[i] = 100.0 * (close[i] - lowest[i]) / span if span != 0.0 else 0.0
    k_start = k_period - 1
    smoothed_k = np.full(n, NAN)
    tail = sma(fast_k[k_start:], slowk_period)
    smoothed_k[k_start:] = tail
    d_start = k_start + slowk_period - 1
    smoothed_d = np.full(n, NAN)
    if d_start < n:
        smoothed_d[d_start:] = sma(smoothed_k[d_start:], slowd_period)
    first = d_start + slowd_period - 1
    for i in range(first, n):
        slow_k[i] = smoothed_k[i]
        slow_d[i] = smoothed_d[i]
    return slow_k, slow_d


@njit(cache=True)
def crossed_above(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True at bar i when a[i-1] < b[i-1] and a[i] > b[i] (strict, previous bar only; backtesting.py's rule).

    Comparisons with NaN are False, so nothing fires during any warm-up.
    """
    n = a.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        out[i] = a[i - 1] < b[i - 1] and a[i] > b[i]
    return out


@njit(cache=True)
def crossed_below(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True at bar i when a[i-1] > b[i-1] and a[i] < b[i]."""
    n = a.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        out[i] = a[i - 1] > b[i - 1] and a[i] < b[i]
    return out
