"""SMA crossover: long when SMA(fast) crosses above SMA(slow), out when it crosses below."""

from __future__ import annotations

from typing import Literal

from quantops.engine.indicators import sma
from quantops.strategies.base import (
    FAST_LABELS,
    SLOW_LABELS,
    ChatLexicon,
    MovingAverageCrossoverConfig,
    moving_average_crossover_spec,
)


class SmaCrossoverConfig(MovingAverageCrossoverConfig):
    config_type: Literal["sma_crossover"] = "sma_crossover"


CHAT = ChatLexicon(
    label="SMA",
    names=(
        "sma", "sma crossover", "sma cross", "simple moving average", "moving average crossover",
        "moving average cross", "moving averages", "moving average", "ma crossover", "ma cross",
        "단순 이동평균", "이동 평균선", "이동 평균", "이평선", "이평",
    ),
    params={"fast": FAST_LABELS, "slow": SLOW_LABELS},
    together=("fast", "slow"),
    # "fast MA 20, slow MA 100": moving-average labels alone mean a simple moving-average crossover
    weak_names=("fast ma", "slow ma", "short ma", "long ma", "ma"),
    presets={
        "golden cross": {"fast": 50, "slow": 200},
        "골든 크로스": {"fast": 50, "slow": 200},
        "골크": {"fast": 50, "slow": 200},
        "골든": {"fast": 50, "slow": 200},
        "death cross": {"fast": 50, "slow": 200},
        "데드 크로스": {"fast": 50, "slow": 200},
    },
)  # fmt: skip
SPEC = moving_average_crossover_spec("sma_crossover", SmaCrossoverConfig, sma, "SMA", CHAT)
