"""Donchian breakout: long when the close breaks the previous ``lookback`` bars' high, out below their low."""

from __future__ import annotations

from typing import Literal

import numpy as np

from quantops.engine.indicators import rolling_max, rolling_min
from quantops.strategies.base import (
    PERIOD_LABELS,
    ChatLexicon,
    StrategyConfigBase,
    StrategySpec,
    period_field,
)


class BreakoutConfig(StrategyConfigBase):
    config_type: Literal["breakout"] = "breakout"
    lookback: int = period_field(20, "channel length (bars, excluding the current bar)", "lookback", "period")


def signals(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, config: BreakoutConfig
) -> tuple[np.ndarray, np.ndarray]:
    n = close.shape[0]
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    # channel of the previous `lookback` bars (shifted by one so today's bar is not in its own channel)
    upper[1:] = rolling_max(high, config.lookback)[:-1]
    lower[1:] = rolling_min(low, config.lookback)[:-1]
    return close > upper, close < lower


SPEC = StrategySpec(
    config_type="breakout",
    model=BreakoutConfig,
    signals=signals,
    min_bars=lambda config: config.lookback + 2,
    describe=lambda c: (
        f"Donchian breakout: buy when the close exceeds the previous {c.lookback} bars' "
        "high, sell when it falls below their low"
    ),
    title="Donchian breakout",
    chat=ChatLexicon(
        label="Breakout",
        names=(
            "donchian channel breakout",
            "donchian breakout",
            "channel breakout",
            "donchian channel",
            "donchian",
            "breakout",
            "break out",
            "turtle",
            "채널 돌파",
            "돌파 전략",
            "돈치안",
            "돌파",
            "브레이크 아웃",
        ),
        params={"lookback": (*PERIOD_LABELS, "channel", "channel length", "채널")},
    ),
)
