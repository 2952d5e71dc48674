"""What every strategy module provides: a pydantic config model and a signal function over numpy arrays."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

# (open, high, low, close, config) -> (entries, exits): bool arrays, decided on each bar's close.
SignalFunction = Callable[
    [np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any], tuple[np.ndarray, np.ndarray]
]
# (open, high, low, close, configs, entries_out, exits_out) -> None: row k of the (len(configs), n) outputs
# gets the signals of configs[k]. Optional: lets sweeps share indicator work between configurations.
ManySignalFunction = Callable[
    [np.ndarray, np.ndarray, np.ndarray, np.ndarray, Sequence[Any], np.ndarray, np.ndarray], None
]


def _config_type_required(schema: dict[str, Any]) -> None:
    """In the JSON schema `config_type` is required: it is the discriminator of `StrategyConfig`, so a
    request without it is refused (its Python default only serves direct construction)."""
    required = schema.setdefault("required", [])
    if "config_type" not in required:
        required.insert(0, "config_type")


class StrategyConfigBase(BaseModel):
    """Common model settings: unknown fields rejected, immutable, field names or aliases accepted."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, json_schema_extra=_config_type_required
    )


def period_field(default: int, description: str, *aliases: str, cross_checked: bool = False) -> Any:
    """An indicator period: an integer ≥ 2 (the original platform's spellings accepted as aliases).

    ``cross_checked``: the field has a validator comparing it with an earlier field, which must also
    run when the default is used (e.g. ``fast=50`` with the default ``slow=30``).
    """
    kwargs: dict[str, Any] = {"validate_default": cross_checked}
    if aliases:
        kwargs["validation_alias"] = AliasChoices(*aliases)
    return Field(default, ge=2, le=100_000, description=description, **kwargs)


def require_greater(field: str, value: float, other_field: str, other: float | None) -> None:
    """Raise a user-facing error unless ``value > other`` (``other`` None = it already failed)."""
    if other is not None and not value > other:
        raise PydanticCustomError(
            "greater_than_field",
            "{field} must be greater than {other_field} ({other}), got {value}",
            {"field": field, "other_field": other_field, "other": other, "value": value},
        )


def require_less(field: str, value: float, other_field: str, other: float | None) -> None:
    """Raise a user-facing error unless ``value < other``."""
    if other is not None and not value < other:
        raise PydanticCustomError(
            "less_than_field",
            "{field} must be less than {other_field} ({other}), got {value}",
            {"field": field, "other_field": other_field, "other": other, "value": value},
        )


@dataclass(frozen=True)
class ChatLexicon:
    """How chat users say a strategy type and its parameters (English and Korean).

    Read by the offline chat planner; everything else it needs comes from the pydantic model: the
    parameter names and their validation aliases (always accepted as labels), their bounds, and the
    positional order ("rsi 14 30/70" fills the fields in model order).

    - ``names``: phrases naming the type; a space matches any spacing (none included, for Korean).
    - ``params``: field name -> extra labels ("fast": ("short", "빠른선")).
    - ``presets``: phrase -> the parameter values it means ("golden cross" -> fast 50, slow 200).
    - ``slash_pair``: the fields an "a/b" pair sets when it is all that follows the name (RSI "30/70").
    - ``fraction_fields``: fields holding fractions, so "2%" -> 0.02 and a bare 2 -> 0.02.
    - ``symmetric``: label -> (field, negated field) set together ("threshold 5%" -> +0.05 / -0.05).
    - ``weak_names``: names that count only when no other strategy is named ("mean reversion").
    - ``together``: fields stated as a pair; one bare number for them is ambiguous and asked about
      (SMA "25": the fast or the slow period?).
    """

    label: str
    names: tuple[str, ...]
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    presets: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    slash_pair: tuple[str, str] | None = None
    fraction_fields: tuple[str, ...] = ()
    symmetric: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    weak_names: tuple[str, ...] = ()
    together: tuple[str, ...] = ()


# Labels shared by the moving-average crossovers (SMA, EMA) and MACD.
FAST_LABELS = (
    "short",
    "short window",
    "fast period",
    "fast ma",
    "short ma",
    "빠른선",
    "빠른",
    "단기선",
    "단기",
)
SLOW_LABELS = ("long", "long window", "slow period", "slow ma", "long ma", "느린선", "느린", "장기선", "장기")
PERIOD_LABELS = ("period", "length", "window", "lookback", "look back", "기간", "룩백", "길이")


@dataclass(frozen=True)
class StrategySpec:
    """Registry entry for one ``config_type``."""

    config_type: str
    model: type[StrategyConfigBase]
    signals: SignalFunction
    min_bars: Callable[[Any], int]
    describe: Callable[[Any], str]
    title: str
    chat: ChatLexicon
    signals_many: ManySignalFunction | None = None

    def __post_init__(self) -> None:
        assert self.model.model_fields["config_type"].default == self.config_type


def crossover_signals(fast: np.ndarray, slow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry when ``fast`` crosses above ``slow``, exit when it crosses below (backtesting.py's rule)."""
    from quantops.engine.indicators import crossed_above, crossed_below

    return crossed_above(fast, slow), crossed_below(fast, slow)


def ma_crossover_many(
    moving_average: Callable[[np.ndarray, int], np.ndarray],
    close: np.ndarray,
    configs: Sequence[Any],
    entries_out: np.ndarray,
    exits_out: np.ndarray,
) -> None:
    """Crossover signals for many (fast, slow) configs, each distinct moving average computed once."""
    from quantops.engine.indicators import crossed_above, crossed_below

    averages: dict[int, np.ndarray] = {}
    for period in {c.fast for c in configs} | {c.slow for c in configs}:
        averages[period] = moving_average(close, period)
    for row, config in enumerate(configs):
        fast, slow = averages[config.fast], averages[config.slow]
        entries_out[row] = crossed_above(fast, slow)
        exits_out[row] = crossed_below(fast, slow)


class MovingAverageCrossoverConfig(StrategyConfigBase):
    """The (fast, slow) periods every moving-average crossover shares; slow must exceed fast."""

    fast: int = period_field(10, "fast moving-average period (bars)", "fast", "short_window")
    slow: int = period_field(
        30, "slow moving-average period (bars)", "slow", "long_window", cross_checked=True
    )

    @field_validator("slow")
    @classmethod
    def _slow_above_fast(cls, slow: int, info: ValidationInfo) -> int:
        require_greater("slow", slow, "fast", info.data.get("fast"))
        return slow


def moving_average_crossover_spec(
    config_type: str,
    model: type[MovingAverageCrossoverConfig],
    moving_average: Callable[[np.ndarray, int], np.ndarray],
    label: str,
    chat: ChatLexicon,
) -> StrategySpec:
    """Registry entry of a crossover of two ``moving_average`` lines (``label``: "SMA", "EMA", …)."""

    def signals(
        open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, config: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        return crossover_signals(moving_average(close, config.fast), moving_average(close, config.slow))

    def signals_many(
        open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, configs: Sequence[Any],
        entries_out: np.ndarray, exits_out: np.ndarray,
    ) -> None:  # fmt: skip
        ma_crossover_many(moving_average, close, configs, entries_out, exits_out)

    return StrategySpec(
        config_type=config_type,
        model=model,
        signals=signals,
        # first crossover can be decided on bar `slow` (needs bar slow-1 defined), plus one bar to fill
        min_bars=lambda config: config.slow + 2,
        describe=lambda c: (
            f"{label} crossover: buy when {label}({c.fast}) crosses above {label}({c.slow}), "
            "sell when it crosses below"
        ),
        signals_many=signals_many,
        title=f"{label} crossover",
        chat=chat,
    )
