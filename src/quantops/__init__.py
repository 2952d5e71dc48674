"""quantops — conversational quant backtest platform (engine API re-exported here)."""

from quantops.backtest import BacktestResult, BacktestSettings, backtest, backtest_arrays, sweep
from quantops.engine.errors import BarsValidationError, InsufficientBarsError
from quantops.strategies import STRATEGY_TYPES, StrategyCreate, min_bars, parse_strategy_config

__all__ = [
    "STRATEGY_TYPES",
    "BacktestResult",
    "BacktestSettings",
    "BarsValidationError",
    "InsufficientBarsError",
    "StrategyCreate",
    "backtest",
    "backtest_arrays",
    "min_bars",
    "parse_strategy_config",
    "sweep",
]
