"""RSI mean reversion (the original platform's example): long while oversold, out once overbought."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from quantops.engine.indicators import rsi
from quantops.strategies.base import (
    PERIOD_LABELS,
    ChatLexicon,
    StrategyConfigBase,
    StrategySpec,
    period_field,
    require_greater,
)


class RsiMeanReversionConfig(StrategyConfigBase):
    config_type: Literal["rsi_mean_reversion"] = "rsi_mean_reversion"
    rsi_period: int = period_field(14, "RSI period (bars, Wilder smoothing)", "rsi_period", "period")
    oversold: float = Field(
        30.0,
        gt=0,
        lt=100,
        validation_alias=AliasChoices("oversold", "oversold_threshold"),
        description="buy when RSI falls below this level",
    )
    overbought: float = Field(
        70.0,
        gt=0,
        lt=100,
        validation_alias=AliasChoices("overbought", "overbought_threshold"),
        validate_default=True,
        description="sell when RSI rises above this level",
    )

    @field_validator("overbought")
    @classmethod
    def _overbought_above_oversold(cls, overbought: float, info: ValidationInfo) -> float:
        require_greater("overbought", overbought, "oversold", info.data.get("oversold"))
        return overbought


def signals(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, config: RsiMeanReversionConfig
) -> tuple[np.ndarray, np.ndarray]:
    values = rsi(close, config.rsi_period)
    # NaN compares False, so the warm-up produces no signals.
    return values < config.oversold, values > config.overbought


SPEC = StrategySpec(
    config_type="rsi_mean_reversion",
    model=RsiMeanReversionConfig,
    signals=signals,
    min_bars=lambda config: config.rsi_period + 2,
    describe=lambda c: (
        f"RSI mean reversion: buy when RSI({c.rsi_period}) < {c.oversold:g}, sell when RSI > {c.overbought:g}"
    ),
    title="RSI mean reversion",
    chat=ChatLexicon(
        label="RSI",
        names=(
            "rsi",
            "relative strength index",
            "relative strength",
            "rsi mean reversion",
            "상대 강도 지수",
            "상대 강도",
        ),
        params={
            "rsi_period": (*PERIOD_LABELS, "rsi period", "rsi length"),
            "oversold": (
                "buy below",
                "buy under",
                "buy when below",
                "buy when",
                "buy if",
                "buy",
                "매수",
                "below",
                "under",
                "lower",
                "low",
                "entry",
                "os",
                "과매도",
                "매수 기준",
                "하단",
            ),
            "overbought": (
                "sell above",
                "sell over",
                "sell when above",
                "sell when",
                "sell if",
                "sell",
                "매도",
                "above",
                "over",
                "upper",
                "high",
                "exit",
                "ob",
                "과매수",
                "매도 기준",
                "상단",
            ),
        },
        slash_pair=("oversold", "overbought"),
        weak_names=("mean reversion", "mean-reversion", "평균 회귀"),
    ),
)
