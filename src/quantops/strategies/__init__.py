"""Strategy builder: typed configs (one module per ``config_type``), their signal functions, a registry."""

from quantops.strategies.base import StrategyConfigBase, StrategySpec
from quantops.strategies.registry import (
    STRATEGY_TYPES,
    StrategyConfig,
    StrategyCreate,
    describe,
    format_validation_error,
    get_spec,
    min_bars,
    parse_strategy_config,
    strategy_config_schema,
)

__all__ = [
    "STRATEGY_TYPES",
    "StrategyConfig",
    "StrategyConfigBase",
    "StrategyCreate",
    "StrategySpec",
    "describe",
    "format_validation_error",
    "get_spec",
    "min_bars",
    "parse_strategy_config",
    "strategy_config_schema",
]
