"""SMA crossover: long when SMA(fast) crosses above SMA(slow), out when it crosses below."""

from __future__ import annotations

from typing import Literal

from quantops.engine.indicators import sma
from quantops.strategies.base import MovingAverageCrossoverConfig, moving_average_crossover_spec


class SmaCrossoverConfig(MovingAverageCrossoverConfig):
    config_type: Literal["sma_crossover"] = "sma_crossover"


SPEC = moving_average_crossover_spec("sma_crossover", SmaCrossoverConfig, sma, "SMA")
