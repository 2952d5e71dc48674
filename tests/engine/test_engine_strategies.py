"""Strategy configs: defaults, aliases, validation messages, registry, signals on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import quantops
from quantops.engine import indicators
from quantops.strategies import (
    STRATEGY_TYPES,
    StrategyCreate,
    describe,
    format_validation_error,
    min_bars,
    parse_strategy_config,
    strategy_config_schema,
)

REQUIRED_TYPES = {
    "buy_and_hold", "sma_crossover", "ema_crossover", "rsi_mean_reversion", "bollinger_reversion",
    "macd_crossover", "breakout", "momentum",
}  # fmt: skip


def error_text(obj: object) -> str:
    with pytest.raises(ValidationError) as info:
        parse_strategy_config(obj)
    return format_validation_error(info.value)


def test_registry_has_every_type_with_defaults() -> None:
    assert set(STRATEGY_TYPES) >= REQUIRED_TYPES
    for config_type in STRATEGY_TYPES:
        config = parse_strategy_config({"config_type": config_type})
        assert config.config_type == config_type
        assert describe(config)
        assert min_bars(config) >= 2
    assert parse_strategy_config({"config_type": "sma_crossover"}).model_dump() == {
        "config_type": "sma_crossover", "fast": 10, "slow": 30,
    }  # fmt: skip
    rsi = parse_strategy_config({"config_type": "rsi_mean_reversion"})
    assert (rsi.rsi_period, rsi.oversold, rsi.overbought) == (14, 30, 70)
    macd = parse_strategy_config({"config_type": "macd_crossover"})
    assert (macd.fast, macd.slow, macd.signal) == (12, 26, 9)
    mom = parse_strategy_config({"config_type": "momentum"})
    assert (mom.momentum_period, mom.buy_threshold, mom.sell_threshold) == (20, 0.02, -0.02)
    assert parse_strategy_config({"config_type": "breakout"}).lookback == 20
    bb = parse_strategy_config({"config_type": "bollinger_reversion"})
    assert (bb.period, bb.num_std) == (20, 2.0)


def test_original_platform_aliases() -> None:
    sma = parse_strategy_config({"config_type": "sma_crossover", "short_window": 5, "long_window": 40})
    assert (sma.fast, sma.slow) == (5, 40)
    assert sma.model_dump()["fast"] == 5  # serialised with the canonical names
    rsi = parse_strategy_config(
        {"config_type": "rsi_mean_reversion", "oversold_threshold": 25, "overbought_threshold": 80}
    )
    assert (rsi.oversold, rsi.overbought) == (25, 80)
    assert parse_strategy_config(sma) is sma


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"config_type": "sma_crossover", "fast": 30, "slow": 20},
            "slow: slow must be greater than fast (30)",
        ),
        ({"config_type": "ema_crossover", "fast": 50}, "slow: slow must be greater than fast (50), got 30"),
        ({"config_type": "sma_crossover", "fast": 1}, "fast: Input should be greater than or equal to 2"),
        ({"config_type": "sma_crossover", "fast": 2.5}, "fast: Input should be a valid integer"),
        ({"config_type": "sma_crossover", "speed": 3}, "speed: Extra inputs are not permitted"),
        (
            {"config_type": "rsi_mean_reversion", "oversold": 80},
            "overbought: overbought must be greater than oversold",
        ),
        (
            {"config_type": "rsi_mean_reversion", "overbought": 100},
            "overbought: Input should be less than 100",
        ),
        ({"config_type": "rsi_mean_reversion", "oversold": 0}, "oversold: Input should be greater than 0"),
        ({"config_type": "bollinger_reversion", "num_std": 0}, "num_std: Input should be greater than 0"),
        (
            {"config_type": "momentum", "sell_threshold": 0.05},
            "sell_threshold: sell_threshold must be less than",
        ),
        (
            {"config_type": "macd_crossover", "signal": 1},
            "signal: Input should be greater than or equal to 2",
        ),
        ({"config_type": "nope"}, "does not match any of the expected tags"),
        ({"fast": 10}, "Unable to extract tag using discriminator 'config_type'"),
    ],
)
def test_validation_messages_name_field_and_rule(config: dict, expected: str) -> None:
    assert expected in error_text(config)


def test_strategy_create() -> None:
    created = StrategyCreate(
        name="  Golden cross ", config={"config_type": "sma_crossover", "fast": 50, "slow": 200}
    )
    assert created.name == "Golden cross"
    assert created.config.slow == 200
    for bad, field in [
        ({"name": "", "config": {"config_type": "buy_and_hold"}}, "name"),
        ({"name": "x" * 101, "config": {"config_type": "buy_and_hold"}}, "name"),
        ({"name": "x", "description": "d" * 1001, "config": {"config_type": "buy_and_hold"}}, "description"),
        ({"name": "x", "config": {"config_type": "buy_and_hold"}, "owner": 1}, "owner"),
        ({"name": "x", "config": {"config_type": "sma_crossover", "fast": 9, "slow": 5}}, "config.slow"),
    ]:
        with pytest.raises(ValidationError) as info:
            StrategyCreate.model_validate(bad)
        assert format_validation_error(info.value).startswith(field), format_validation_error(info.value)


def test_json_schema_lists_every_type() -> None:
    schema = strategy_config_schema()
    assert set(schema["discriminator"]["mapping"]) == set(STRATEGY_TYPES)


def test_min_bars_per_type() -> None:
    assert min_bars({"config_type": "sma_crossover", "fast": 10, "slow": 20}) == 22
    assert min_bars({"config_type": "macd_crossover"}) == 36
    assert min_bars({"config_type": "rsi_mean_reversion"}) == 16


@pytest.mark.parametrize("config_type", sorted(REQUIRED_TYPES))
def test_every_strategy_runs_on_goog(goog: pd.DataFrame, config_type: str) -> None:
    result = quantops.backtest(goog, {"config_type": config_type})
    assert result.stats["num_trades"] >= 1
    assert np.isfinite(result.equity.to_numpy()).all()
    # no signal can fire before the indicators are defined: the first entry is filled at/after min_bars-1
    assert result.trades["entry_bar"].min() >= min_bars({"config_type": config_type}) - 1
    # long_short runs too and holds short positions for signal strategies
    both = quantops.backtest(goog, {"config_type": config_type}, direction="long_short")
    if config_type != "buy_and_hold":
        assert (both.trades["size"] < 0).any()


def test_signal_definitions(goog_arrays: dict[str, np.ndarray]) -> None:
    c, h, lo = goog_arrays["close"], goog_arrays["high"], goog_arrays["low"]
    o = goog_arrays["open_"]
    spec = STRATEGY_TYPES["breakout"]
    entries, exits = spec.signals(
        o, h, lo, c, parse_strategy_config({"config_type": "breakout", "lookback": 20})
    )
    i = int(np.flatnonzero(entries)[0])
    assert c[i] > h[i - 20 : i].max()
    assert not entries[:20].any()
    spec = STRATEGY_TYPES["rsi_mean_reversion"]
    entries, exits = spec.signals(o, h, lo, c, parse_strategy_config({"config_type": "rsi_mean_reversion"}))
    r = indicators.rsi(c, 14)
    np.testing.assert_array_equal(entries, r < 30)
    np.testing.assert_array_equal(exits, r > 70)
    spec = STRATEGY_TYPES["momentum"]
    entries, exits = spec.signals(o, h, lo, c, parse_strategy_config({"config_type": "momentum"}))
    roc = c[20:] / c[:-20] - 1
    np.testing.assert_array_equal(entries[20:], roc > 0.02)
    np.testing.assert_array_equal(exits[20:], roc < -0.02)
