"""Bars from the store feed the engine unchanged: same backtest as from the original CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import quantops
from quantops.data import MarketDataStore


def test_store_bars_give_the_same_backtest_as_the_csv(goog_csv: Path, empty_store: MarketDataStore) -> None:
    empty_store.import_file(goog_csv, symbol="GOOG")
    config = {"config_type": "sma_crossover", "fast": 10, "slow": 20}
    from_store = quantops.backtest(empty_store.get_bars("GOOG").to_pandas(), config, initial_cash=10_000)
    csv_frame = pd.read_csv(goog_csv, index_col=0, parse_dates=True)
    from_csv = quantops.backtest(csv_frame, config, initial_cash=10_000)
    assert from_store.stats["total_return"] == from_csv.stats["total_return"]
    assert len(from_store.trades) == len(from_csv.trades) > 0
