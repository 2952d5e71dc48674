"""Exponential moving average crossover: long when EMA(fast) crosses above EMA(slow), out when below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import ValidationInfo, field_validator

from quantops.engine.indicators import ema
from quantops.strategies.base import (
    StrategyConfigBase,
    StrategySpec,
    crossover_signals,
    ma_crossover_many,
    period_field,
    require_greater,
)


class EmaCrossoverConfig(StrategyConfigBase):
    config_type: Literal["ema_crossover"] = "ema_crossover"
    fast: int = period_field(10, "fast EMA period (bars)", "fast", "short_window")
    slow: int = period_field(30, "slow EMA period (bars)", "slow", "long_window", cross_checked=True)

    @field_validator("slow")
    @classmethod
    def _slow_above_fast(cls, slow: int, info: ValidationInfo) -> int:
        require_greater("slow", slow, "fast", info.data.get("fast"))
        return slow


def signals(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, config: EmaCrossoverConfig
) -> tuple[np.ndarray, np.ndarray]:
    return crossover_signals(ema(close, config.fast), ema(close, config.slow))


def signals_many(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, configs: Sequence[Any],
    entries_out: np.ndarray, exits_out: np.ndarray,
) -> None:  # fmt: skip
    ma_crossover_many(ema, close, configs, entries_out, exits_out)


SPEC = StrategySpec(
    config_type="ema_crossover",
    model=EmaCrossoverConfig,
    signals=signals,
    # first crossover can be decided on bar `slow` (needs bar slow-1 defined), plus one bar to fill
    min_bars=lambda config: config.slow + 2,
    describe=lambda c: (
        f"EMA crossover: buy when EMA({c.fast}) crosses above EMA({c.slow}), sell when it crosses below"
    ),
    signals_many=signals_many,
    title="EMA crossover",
)
