"""Bollinger Band reversion: long when the close falls below the lower band, out above the upper band."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from quantops.engine.indicators import bollinger
from quantops.strategies.base import (
    PERIOD_LABELS,
    ChatLexicon,
    StrategyConfigBase,
    StrategySpec,
    period_field,
)


class BollingerReversionConfig(StrategyConfigBase):
    config_type: Literal["bollinger_reversion"] = "bollinger_reversion"
    period: int = period_field(20, "moving-average / standard-deviation window (bars)", "period", "window")
    num_std: float = Field(2.0, gt=0, le=10, description="band width in population standard deviations")


def signals(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, config: BollingerReversionConfig
) -> tuple[np.ndarray, np.ndarray]:
    upper, _middle, lower = bollinger(close, config.period, float(config.num_std))
    return close < lower, close > upper


SPEC = StrategySpec(
    config_type="bollinger_reversion",
    model=BollingerReversionConfig,
    signals=signals,
    min_bars=lambda config: config.period + 1,
    describe=lambda c: (
        f"Bollinger reversion: buy below the lower band of BB({c.period}, {c.num_std:g}), "
        "sell above the upper band"
    ),
    title="Bollinger Band reversion",
    chat=ChatLexicon(
        label="Bollinger",
        names=(
            "bollinger bands",
            "bollinger band",
            "bollinger",
            "bband",
            "bbands",
            "bb",
            "볼린저 밴드",
            "볼린저",
            "볼밴",
        ),
        params={
            "period": (*PERIOD_LABELS, "ma period", "moving average"),
            "num_std": (
                "std",
                "stdev",
                "std dev",
                "stddev",
                "standard deviations",
                "standard deviation",
                "sigma",
                "sd",
                "k",
                "width",
                "band width",
                "devs",
                "표준 편차",
                "시그마",
                "밴드 폭",
            ),
        },
    ),
)
