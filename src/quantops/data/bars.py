"""The ``Bars`` value handed to the engine: numpy arrays, timestamps as int64 ns since epoch (UTC)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
BAR_COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")


@dataclass(frozen=True, eq=False)
class Bars:
    """OHLCV bars of one symbol/interval, sorted by strictly increasing timestamp."""

    symbol: str
    interval: str
    timestamps: np.ndarray  # int64 ns UTC
    open: np.ndarray  # float64
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    @classmethod
    def from_arrays(
        cls,
        symbol: str,
        interval: str,
        timestamps: np.ndarray,
        open_: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
    ) -> Bars:
        """Build with dtype coercion (int64 ns, contiguous float64) so numba kernels get what they expect."""
        return cls(
            symbol=symbol,
            interval=interval,
            timestamps=np.ascontiguousarray(timestamps, dtype=np.int64),
            open=np.ascontiguousarray(open_, dtype=np.float64),
            high=np.ascontiguousarray(high, dtype=np.float64),
            low=np.ascontiguousarray(low, dtype=np.float64),
            close=np.ascontiguousarray(close, dtype=np.float64),
            volume=np.ascontiguousarray(volume, dtype=np.float64),
        )

    @classmethod
    def empty(cls, symbol: str, interval: str) -> Bars:
        none = np.empty(0, dtype=np.float64)
        return cls(symbol, interval, np.empty(0, dtype=np.int64), none, none, none, none, none)

    @property
    def index(self) -> pd.DatetimeIndex:
        """Timestamps as a UTC ``DatetimeIndex`` named ``timestamp``."""
        return pd.DatetimeIndex(self.timestamps.view("datetime64[ns]"), name="timestamp").tz_localize("UTC")

    def to_pandas(self) -> pd.DataFrame:
        """DataFrame indexed by UTC timestamp with columns Open, High, Low, Close, Volume."""
        return pd.DataFrame(
            {
                "Open": self.open,
                "High": self.high,
                "Low": self.low,
                "Close": self.close,
                "Volume": self.volume,
            },
            index=self.index,
        )

    def slice_ns(self, start_ns: int, end_ns: int) -> Bars:
        """Bars with ``start_ns <= ts < end_ns``."""
        lo, hi = np.searchsorted(self.timestamps, [start_ns, end_ns], side="left")
        return Bars(
            self.symbol,
            self.interval,
            self.timestamps[lo:hi],
            self.open[lo:hi],
            self.high[lo:hi],
            self.low[lo:hi],
            self.close[lo:hi],
            self.volume[lo:hi],
        )

    def to_arrow(self) -> pa.Table:
        """Zero-copy Arrow table in the column layout of the store's ``bars`` table (used for inserts)."""
        return pa.table(
            {
                "ts": self.timestamps,
                "open": self.open,
                "high": self.high,
                "low": self.low,
                "close": self.close,
                "volume": self.volume,
            }
        )
