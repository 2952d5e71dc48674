"""Momentum: long when the N-bar return exceeds ``buy_threshold``, out when below ``sell_threshold``."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from quantops.strategies.base import (
    PERIOD_LABELS,
    ChatLexicon,
    StrategyConfigBase,
    StrategySpec,
    period_field,
    require_less,
)


class MomentumConfig(StrategyConfigBase):
    config_type: Literal["momentum"] = "momentum"
    momentum_period: int = period_field(
        20, "look-back of the rate of change (bars)", "momentum_period", "period"
    )
    buy_threshold: float = Field(0.02, gt=-1, lt=10, description="enter when the return rises above this")
    sell_threshold: float = Field(
        -0.02, gt=-1, lt=10, validate_default=True, description="exit when the return falls below this"
    )

    @field_validator("sell_threshold")
    @classmethod
    def _sell_below_buy(cls, sell_threshold: float, info: ValidationInfo) -> float:
        require_less("sell_threshold", sell_threshold, "buy_threshold", info.data.get("buy_threshold"))
        return sell_threshold


def signals(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, config: MomentumConfig
) -> tuple[np.ndarray, np.ndarray]:
    p = config.momentum_period
    change = np.full(close.shape[0], np.nan)
    change[p:] = close[p:] / close[:-p] - 1.0
    return change > config.buy_threshold, change < config.sell_threshold


SPEC = StrategySpec(
    config_type="momentum",
    model=MomentumConfig,
    signals=signals,
    min_bars=lambda config: config.momentum_period + 2,
    describe=lambda c: (
        f"Momentum: buy when the {c.momentum_period}-bar return exceeds "
        f"{c.buy_threshold:+.2%}, sell when it falls below {c.sell_threshold:+.2%}"
    ),
    title="Momentum",
    chat=ChatLexicon(
        label="Momentum",
        names=("momentum", "rate of change", "roc", "모멘텀"),
        params={
            "momentum_period": (*PERIOD_LABELS, "roc period"),
            "buy_threshold": (
                "buy threshold",
                "entry threshold",
                "buy above",
                "buy thr",
                "buy thresh",
                "enter above",
                "entry above",
                "enter over",
                "long above",
                "매수 임계값",
                "매수 임계",
                "매수 기준",
                "진입 기준",
                "buy when",
                "buy if",
                "enter when",
                "buy",
                "매수",
            ),
            "sell_threshold": (
                "sell threshold",
                "exit threshold",
                "sell below",
                "sell thr",
                "sell thresh",
                "exit below",
                "exit under",
                "sell under",
                "매도 임계값",
                "매도 임계",
                "매도 기준",
                "청산 기준",
                "sell when",
                "sell if",
                "exit when",
                "sell",
                "매도",
            ),
        },
        fraction_fields=("buy_threshold", "sell_threshold"),
        symmetric={
            "threshold": ("buy_threshold", "sell_threshold"),
            "thresholds": ("buy_threshold", "sell_threshold"),
            "임계값": ("buy_threshold", "sell_threshold"),
            "임계치": ("buy_threshold", "sell_threshold"),
            "임계": ("buy_threshold", "sell_threshold"),
        },
    ),
)
