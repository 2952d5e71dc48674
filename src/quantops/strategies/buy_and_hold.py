"""Buy on the first bar's close signal (filled on the next fill opportunity) and hold to the end."""

from __future__ import annotations

from typing import Literal

import numpy as np

from quantops.strategies.base import ChatLexicon, StrategyConfigBase, StrategySpec


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
    chat=ChatLexicon(
        label="Buy & Hold",
        names=(
            "buy and hold",
            "buy & hold",
            "buy n hold",
            "buy-and-hold",
            "buy hold",
            "b&h",
            "hodl",
            "바이 앤 홀드",
            "바이 앤드 홀드",
            "바이홀드",
            "매수 후 보유",
            "매수 보유",
            "보유 전략",
            "장기 보유",
            # "what if I had just held it": holding is the strategy
            "just hold",
            "just held",
            "just holding",
            "hold it",
            "held it",
            "holding it",
            "bought and held",
            "buying and holding",
            "buy and holding",
            "buy and forget",
            "보유만",
            "그냥 보유",
            "계속 보유",
            "사서 보유",
            "들고만",
            "그냥 들고",
            "계속 들고",
            "사서 들고",
            "묻어두",
            "존버",
        ),
    ),
)
