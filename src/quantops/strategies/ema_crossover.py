"""EMA crossover: long when EMA(fast) crosses above EMA(slow), out when it crosses below."""

from __future__ import annotations

from typing import Literal

from quantops.engine.indicators import ema
from quantops.strategies.base import (
    FAST_LABELS,
    SLOW_LABELS,
    ChatLexicon,
    MovingAverageCrossoverConfig,
    moving_average_crossover_spec,
)


class EmaCrossoverConfig(MovingAverageCrossoverConfig):
    config_type: Literal["ema_crossover"] = "ema_crossover"


CHAT = ChatLexicon(
    label="EMA",
    names=(
        "ema", "ema crossover", "ema cross", "exponential moving average crossover",
        "exponential moving average", "지수 이동 평균선", "지수 이동 평균", "지수 이평",
    ),
    params={"fast": FAST_LABELS, "slow": SLOW_LABELS},
    together=("fast", "slow"),
)  # fmt: skip
SPEC = moving_average_crossover_spec("ema_crossover", EmaCrossoverConfig, ema, "EMA", CHAT)
