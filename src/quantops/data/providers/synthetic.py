"""Seeded synthetic provider: geometric random walk on a business-day calendar, realistic OHLC structure.

Each symbol's path is generated from a fixed origin date with a generator seeded by (seed, crc32(symbol)),
so any sub-range is a slice of the same path: read-through in pieces gives the same bars as one fetch.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from quantops.data.bars import Bars
from quantops.data.errors import InvalidRequestError

ORIGIN = pd.Timestamp("2000-01-03", tz="UTC")
HORIZON = pd.Timestamp("2039-12-31", tz="UTC")
TRADING_DAYS_PER_YEAR = 252


class SyntheticProvider:
    """Daily bars only. Annual volatility 15-45 % per symbol, drawn from the seed like the drift."""

    name = "synthetic"
    synthetic = True

    def __init__(self, seed: int = 42) -> None:
        self.seed = seed
        self._cache: dict[str, Bars] = {}

    def _params(self, rng: np.random.Generator) -> tuple[float, float, float, float]:
        annual_vol = rng.uniform(0.15, 0.45)
        # Median log-growth between -2 % and +10 % a year (drift includes the volatility drag).
        annual_drift = 0.5 * annual_vol**2 + rng.uniform(-0.02, 0.10)
        start_price = float(np.exp(rng.uniform(np.log(10.0), np.log(150.0))))
        base_volume = float(np.exp(rng.uniform(np.log(2e5), np.log(5e7))))
        return annual_vol, annual_drift, start_price, base_volume

    def _path(self, symbol: str) -> Bars:
        """Every business day from ORIGIN to HORIZON for ``symbol`` (~13k bars, generated in < 1 ms).

        The whole horizon is always drawn so the random stream, hence every bar, never depends on the
        requested range."""
        cached = self._cache.get(symbol)
        if cached is not None:
            return cached
        dates = pd.bdate_range(ORIGIN.tz_localize(None), HORIZON.tz_localize(None))
        days = len(dates)
        rng = np.random.default_rng([self.seed, zlib.crc32(symbol.encode())])
        annual_vol, annual_drift, start_price, base_volume = self._params(rng)
        sigma = annual_vol / np.sqrt(TRADING_DAYS_PER_YEAR)
        mu = annual_drift / TRADING_DAYS_PER_YEAR
        # Student-t shocks (df=4, unit variance) give the fat tails of real daily returns.
        shocks = rng.standard_t(4, size=days) / np.sqrt(2.0)
        log_returns = (mu - 0.5 * sigma**2) + sigma * shocks
        close = start_price * np.exp(np.cumsum(log_returns))
        previous_close = np.concatenate([[start_price], close[:-1]])
        # Overnight gap is a small part of the day's move; intraday extremes extend beyond the body.
        open_ = previous_close * np.exp(0.25 * sigma * rng.standard_normal(days))
        body_top = np.maximum(open_, close)
        body_bottom = np.minimum(open_, close)
        high = body_top * np.exp(np.abs(rng.standard_normal(days)) * 0.5 * sigma)
        low = body_bottom * np.exp(-np.abs(rng.standard_normal(days)) * 0.5 * sigma)
        # Volume rises with the size of the move (as in real markets), lognormal noise around a base level.
        volume = np.round(
            base_volume
            * np.exp(0.3 * rng.standard_normal(days))
            * (1 + 4 * np.abs(log_returns) / sigma * 0.1)
        )
        timestamps = dates.as_unit("ns").asi8
        # Round like exchange quotes (cents), keeping the OHLC order valid after rounding.
        open_r, close_r = np.round(open_, 2), np.round(close, 2)
        high_r = np.maximum(np.round(high, 2), np.maximum(open_r, close_r))
        low_r = np.maximum(np.minimum(np.round(low, 2), np.minimum(open_r, close_r)), 0.01)
        bars = Bars.from_arrays(symbol, "1d", timestamps, open_r, high_r, low_r, close_r, volume)
        if len(self._cache) >= 32:  # bounded: a path is ~0.6 MB
            self._cache.pop(next(iter(self._cache)))
        self._cache[symbol] = bars
        return bars

    def fetch(self, symbol: str, interval: str, start_ns: int, end_ns: int) -> Bars:
        if interval != "1d":
            raise InvalidRequestError("interval", "the synthetic provider generates daily (1d) bars only")
        return self._path(symbol).slice_ns(start_ns, end_ns)
