"""Bad input gives a ValueError subclass naming the problem, never a numba crash or a silent result."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import quantops
from quantops import BarsValidationError, InsufficientBarsError

SMA = {"config_type": "sma_crossover", "fast": 3, "slow": 5}


def run(bars: pd.DataFrame) -> None:
    quantops.backtest(bars, SMA)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("Close", np.nan, "close price is nan (NaN/inf) at bar 4 (2024-01-05T00:00:00)"),
        ("Open", np.inf, "open price is inf (NaN/inf) at bar 4"),
        ("Low", 0.0, "low price must be positive, got 0.0 at bar 4"),
        ("High", -1.0, "high price must be positive, got -1.0 at bar 4"),
    ],
)
def test_bad_prices(
    bars_factory: Callable[..., pd.DataFrame], column: str, value: float, expected: str
) -> None:
    bars = bars_factory(list(np.linspace(10, 20, 30)))
    bars.iloc[4, bars.columns.get_loc(column)] = value
    with pytest.raises(BarsValidationError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        run(bars)


def test_unsorted_and_duplicate_timestamps(bars_factory: Callable[..., pd.DataFrame]) -> None:
    bars = bars_factory(list(np.linspace(10, 20, 30)))
    swapped = bars.iloc[[0, 1, 3, 2, *range(4, 30)]]
    with pytest.raises(BarsValidationError, match=r"unsorted .* at bar 3"):
        run(swapped)
    duplicated = bars.iloc[[0, 1, 2, 2, *range(3, 30)]]
    with pytest.raises(BarsValidationError, match="duplicate timestamp 2024-01-03T00:00:00 at bar 3"):
        run(duplicated)


def test_too_few_bars(bars_factory: Callable[..., pd.DataFrame]) -> None:
    with pytest.raises(
        InsufficientBarsError, match=r"sma_crossover\(fast=3, slow=5\) needs at least 7 bars, got 6"
    ):
        run(bars_factory([10.0, 11, 12, 13, 12, 11]))
    assert issubclass(InsufficientBarsError, ValueError)


def test_empty_and_malformed_frames(bars_factory: Callable[..., pd.DataFrame]) -> None:
    bars = bars_factory(list(np.linspace(10, 20, 30)))
    with pytest.raises(BarsValidationError, match="empty"):
        run(bars.iloc[:0])
    with pytest.raises(BarsValidationError, match="missing column"):
        run(bars.drop(columns=["High"]))
    with pytest.raises(BarsValidationError, match="DatetimeIndex or a timestamp/date column"):
        run(bars.reset_index(drop=True))
    with pytest.raises(BarsValidationError, match=r"high .* is below low"):
        broken = bars.copy()
        broken.iloc[7, broken.columns.get_loc("High")] = 1.0
        run(broken)
    # lower-case columns and a date column instead of an index are fine
    lowered = bars.rename(columns=str.lower).reset_index(names="Date")
    assert quantops.backtest(lowered, SMA).stats["num_bars"] == 30


def test_bad_arrays_and_settings() -> None:
    ts = np.arange(10, dtype=np.int64) * 86_400 * 10**9
    prices = np.linspace(10, 20, 10)
    with pytest.raises(BarsValidationError, match="empty"):
        quantops.backtest_arrays(prices[:0], prices[:0], prices[:0], prices[:0], ts[:0], SMA)
    with pytest.raises(BarsValidationError, match=r"close has shape \(9,\), expected \(10,\)"):
        quantops.backtest_arrays(prices, prices, prices, prices[:9], ts, SMA)
    with pytest.raises(ValidationError, match="commission"):
        quantops.backtest_arrays(prices, prices, prices, prices, ts, SMA, commission=-0.1)
    with pytest.raises(ValidationError, match=r"size must be at most 1\.0"):
        quantops.BacktestSettings(size=1.5)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        quantops.BacktestSettings(comission=0.1)
    with pytest.raises(ValidationError, match="slippage_bps"):  # overrides on a settings object are checked
        quantops.backtest_arrays(
            prices, prices, prices, prices, ts, SMA, quantops.BacktestSettings(), slippage_bps=-1
        )
    with pytest.raises(ValidationError, match="slow must be greater than fast"):
        quantops.backtest_arrays(
            prices, prices, prices, prices, ts, {"config_type": "sma_crossover", "fast": 9, "slow": 3}
        )


def test_to_dict_is_json_safe(goog: pd.DataFrame) -> None:
    import json

    # a strategy that never trades has undefined win rate / profit factor (None, not NaN)
    result = quantops.backtest(goog, {"config_type": "momentum", "momentum_period": 5, "buy_threshold": 5.0})
    payload = result.to_dict()
    assert payload["stats"]["num_trades"] == 0
    assert payload["stats"]["win_rate"] is None
    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text)["config"]["config_type"] == "momentum"
    full = quantops.backtest(goog, {"config_type": "sma_crossover"}).to_dict()
    json.dumps(full, allow_nan=False)
    assert full["trades"][-1]["exit_reason"] == "end_of_data"
    assert full["equity"][0] == ["2004-08-19T00:00:00Z", 100_000.0]
