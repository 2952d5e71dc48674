"""MACD crossover: long when the MACD line crosses above its signal line, out when below."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import ValidationInfo, field_validator

from quantops.engine.indicators import macd
from quantops.strategies.base import (
    FAST_LABELS,
    SLOW_LABELS,
    ChatLexicon,
    StrategyConfigBase,
    StrategySpec,
    crossover_signals,
    period_field,
    require_greater,
)


class MacdCrossoverConfig(StrategyConfigBase):
    config_type: Literal["macd_crossover"] = "macd_crossover"
    fast: int = period_field(12, "fast EMA period (bars)", "fast", "fast_period")
    slow: int = period_field(26, "slow EMA period (bars)", "slow", "slow_period", cross_checked=True)
    signal: int = period_field(9, "signal-line EMA period (bars)", "signal", "signal_period")

    @field_validator("slow")
    @classmethod
    def _slow_above_fast(cls, slow: int, info: ValidationInfo) -> int:
        require_greater("slow", slow, "fast", info.data.get("fast"))
        return slow


def signals(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, config: MacdCrossoverConfig
) -> tuple[np.ndarray, np.ndarray]:
    line, signal_line, _hist = macd(close, config.fast, config.slow, config.signal)
    return crossover_signals(line, signal_line)


SPEC = StrategySpec(
    config_type="macd_crossover",
    model=MacdCrossoverConfig,
    signals=signals,
    # MACD and signal are defined from bar slow+signal-2; a crossover needs one more bar, a fill another
    min_bars=lambda config: config.slow + config.signal + 1,
    describe=lambda c: (
        f"MACD crossover: buy when MACD({c.fast},{c.slow}) crosses above its "
        f"{c.signal}-bar signal line, sell when it crosses below"
    ),
    title="MACD crossover",
    chat=ChatLexicon(
        label="MACD",
        names=("macd crossover", "macd cross", "macd", "맥디"),
        params={
            "fast": FAST_LABELS,
            "slow": SLOW_LABELS,
            "signal": ("signal line", "signal period", "시그널", "신호선", "신호"),
        },
        together=("fast", "slow"),
    ),
)
