"""EMA crossover: long when EMA(fast) crosses above EMA(slow), out when it crosses below."""

from __future__ import annotations

from typing import Literal

from quantops.engine.indicators import ema
from quantops.strategies.base import MovingAverageCrossoverConfig, moving_average_crossover_spec


class EmaCrossoverConfig(MovingAverageCrossoverConfig):
    config_type: Literal["ema_crossover"] = "ema_crossover"


SPEC = moving_average_crossover_spec("ema_crossover", EmaCrossoverConfig, ema, "EMA")
