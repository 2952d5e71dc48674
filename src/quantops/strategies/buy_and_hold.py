"""Buy on the first bar's close signal (filled on the next fill opportunity) and hold to the end."""

from __future__ import annotations

from typing import Literal

import numpy as np

from quantops.strategies.base import StrategyConfigBase, StrategySpec


class BuyAndHoldConfig(StrategyConfigBase):
    config_type: Literal["buy_and_hold"] = "buy_and_hold"


def signals(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, config: BuyAndHoldConfig
) -> tuple[np.ndarray, np.ndarray]:
    entries = np.zeros(close.shape[0], dtype=np.bool_)
    entries[0] = True
    return entries, np.zeros(close.shape[0], dtype=np.bool_)


SPEC = StrategySpec(
    config_type="buy_and_hold",
    model=BuyAndHoldConfig,
    signals=signals,
    min_bars=lambda config: 2,
    describe=lambda config: "Buy and hold: enter on the first bar and hold until the end of the data",
    title="Buy and hold",
)
