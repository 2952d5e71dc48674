"""Registry of strategy types. Adding a type = one module (config model + signals) + one line in MODULES."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from quantops.strategies import (
    bollinger_reversion,
    breakout,
    buy_and_hold,
    ema_crossover,
    macd_crossover,
    momentum,
    rsi_mean_reversion,
    sma_crossover,
)
from quantops.strategies.base import StrategyConfigBase, StrategySpec

MODULES = (
    buy_and_hold,
    sma_crossover,
    ema_crossover,
    rsi_mean_reversion,
    bollinger_reversion,
    macd_crossover,
    breakout,
    momentum,
)

STRATEGY_TYPES: dict[str, StrategySpec] = {m.SPEC.config_type: m.SPEC for m in MODULES}

StrategyConfig = Annotated[
    buy_and_hold.BuyAndHoldConfig
    | sma_crossover.SmaCrossoverConfig
    | ema_crossover.EmaCrossoverConfig
    | rsi_mean_reversion.RsiMeanReversionConfig
    | bollinger_reversion.BollingerReversionConfig
    | macd_crossover.MacdCrossoverConfig
    | breakout.BreakoutConfig
    | momentum.MomentumConfig,
    Field(discriminator="config_type"),
]
assert {m.SPEC.model for m in MODULES} == set(StrategyConfig.__origin__.__args__)  # type: ignore[attr-defined]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(StrategyConfig)


def parse_strategy_config(obj: object) -> StrategyConfigBase:
    """A config model from a model instance or a plain dict; raises ``pydantic.ValidationError``."""
    if isinstance(obj, StrategyConfigBase):
        return obj
    if isinstance(obj, BaseModel):
        obj = obj.model_dump()
    return _ADAPTER.validate_python(obj)


def get_spec(config: StrategyConfigBase) -> StrategySpec:
    return STRATEGY_TYPES[config.config_type]  # type: ignore[attr-defined]


def min_bars(config: object) -> int:
    """Bars needed before the strategy can decide and fill at least one order."""
    parsed = parse_strategy_config(config)
    return int(get_spec(parsed).min_bars(parsed))


def describe(config: object) -> str:
    parsed = parse_strategy_config(config)
    return get_spec(parsed).describe(parsed)


def strategy_config_schema() -> dict[str, Any]:
    """JSON schema of the config union (for API docs and LLM tool definitions)."""
    return _ADAPTER.json_schema()


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, ``field: rule`` (the discriminator tag is dropped from the location)."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"] if str(part) not in STRATEGY_TYPES]
        where = ".".join(loc) or "config"
        lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)


class StrategyCreate(BaseModel):
    """A named, saved strategy: what users create through chat and the API."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Stripped, so the schema says "some non-space character" too (pattern \S).
    name: str = Field(min_length=1, max_length=100, pattern=r"\S")
    description: str = Field("", max_length=1000)
    config: StrategyConfig

    @field_validator("name")
    @classmethod
    def _name_printable(cls, name: str) -> str:
        if not name.isprintable():
            raise ValueError("name must not contain control characters")
        return name
