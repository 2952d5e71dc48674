"""Fixtures for the comparison analytics tests: real GOOG bars and equity curves from tests/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantops.analysis import EquityCurve

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def goog_bars() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "GOOG.csv", parse_dates=["Date"], index_col="Date")


@pytest.fixture(scope="session")
def goog_equity() -> pd.DataFrame:
    """Three equity curves of an SMA(10/20) cross on GOOG (backtesting.py and two vectorbt fills)."""
    return pd.read_csv(DATA_DIR / "equity_sma_cross_10_20_GOOG.csv", parse_dates=["Date"], index_col="Date")


def to_ns(index: pd.DatetimeIndex) -> np.ndarray:
    return index.as_unit("ns").asi8.copy()


@pytest.fixture(scope="session")
def goog_curves(goog_equity: pd.DataFrame, goog_bars: pd.DataFrame) -> list[EquityCurve]:
    """The three strategy curves plus buy-and-hold GOOG, on the same dates."""
    timestamps = to_ns(goog_equity.index)
    curves = [EquityCurve(str(col), timestamps, goog_equity[col].to_numpy()) for col in goog_equity.columns]
    hold = goog_bars["Close"].reindex(goog_equity.index).to_numpy() / goog_bars["Close"].iloc[0] * 10_000
    curves.append(EquityCurve("buy_and_hold", timestamps, hold))
    return curves
