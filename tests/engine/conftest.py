"""Fixtures for engine tests: GOOG daily bars and the reference outputs of backtesting.py / TA-Lib."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def goog() -> pd.DataFrame:
    return pd.read_csv(DATA / "GOOG.csv", index_col=0, parse_dates=True)


@pytest.fixture(scope="session")
def goog_arrays(goog: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        "open_": goog["Open"].to_numpy(np.float64),
        "high": goog["High"].to_numpy(np.float64),
        "low": goog["Low"].to_numpy(np.float64),
        "close": goog["Close"].to_numpy(np.float64),
        "timestamps_ns": goog.index.as_unit("ns").asi8.copy(),
    }


@pytest.fixture(scope="session")
def sma_reference() -> dict[str, Any]:
    return json.loads((DATA / "sma_cross_10_20_GOOG.json").read_text())


@pytest.fixture(scope="session")
def reference_equity() -> pd.DataFrame:
    return pd.read_csv(DATA / "equity_sma_cross_10_20_GOOG.csv", index_col=0, parse_dates=True)


@pytest.fixture(scope="session")
def talib_reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "talib_GOOG.csv", index_col=0, parse_dates=True)


def make_bars(
    close: list[float],
    *,
    open_: list[float] | None = None,
    high: list[float] | None = None,
    low: list[float] | None = None,
    start: str = "2024-01-01",
) -> pd.DataFrame:
    """Daily bars from explicit prices (open defaults to close, high/low to max/min of open and close)."""
    c = np.asarray(close, dtype=float)
    o = np.asarray(open_ if open_ is not None else close, dtype=float)
    h = np.asarray(high, dtype=float) if high is not None else np.maximum(o, c)
    lo = np.asarray(low, dtype=float) if low is not None else np.minimum(o, c)
    index = pd.date_range(start, periods=len(c), freq="D", tz="UTC")
    return pd.DataFrame({"Open": o, "High": h, "Low": lo, "Close": c, "Volume": 1_000.0}, index=index)


@pytest.fixture(scope="session")
def bars_factory() -> Callable[..., pd.DataFrame]:
    return make_bars
