"""The one metric catalogue: every layer's metric names, directions and labels come from it."""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd
import pytest

import quantops
from quantops.analysis import METRIC_DIRECTIONS, SUPPORTED_METRICS
from quantops.chat import render
from quantops.engine import catalogue
from quantops.engine.catalogue import Direction
from quantops.engine.metrics import SUMMARY_COLUMNS
from quantops.engine.sweep import SWEEP_METRICS
from quantops.services.comparison import MetricName, StrategyComparisonRequest


def test_every_stats_key_is_catalogued(goog: pd.DataFrame) -> None:
    stats = quantops.backtest(goog, {"config_type": "sma_crossover", "fast": 10, "slow": 20}).stats
    assert set(stats) - {"start", "end"} == set(catalogue.BY_STATS_KEY)
    for key in catalogue.SWEEP_METRICS:
        assert key in SUMMARY_COLUMNS


def test_layers_derive_from_the_catalogue() -> None:
    assert SWEEP_METRICS is catalogue.SWEEP_METRICS
    assert SUPPORTED_METRICS == catalogue.COMPARISON_METRICS
    assert typing.get_args(MetricName) == catalogue.COMPARISON_METRICS
    assert METRIC_DIRECTIONS["volatility"] is Direction.LOWER
    assert METRIC_DIRECTIONS["max_drawdown"] is Direction.SMALLER_MAGNITUDE
    assert METRIC_DIRECTIONS["sharpe_ratio"] is Direction.HIGHER
    assert catalogue.metric("annual_volatility") is catalogue.metric("volatility")
    assert render.format_metric("volatility", 12.345, "ko") == "변동성 12.35%"
    assert render.format_metric("sharpe_ratio", 0.851, "en") == "Sharpe 0.85"
    with pytest.raises(ValueError):
        StrategyComparisonRequest(strategy_ids=["a", "b"], metrics=["alpha"])


def test_sweep_sorts_by_the_catalogue_direction(goog: pd.DataFrame) -> None:
    grid = {"fast": [5, 10], "slow": [20, 50]}
    for metric in ("annual_volatility", "max_drawdown", "sharpe_ratio"):
        values = quantops.sweep(goog, "sma_crossover", grid, metric=metric)[metric].to_numpy()
        lower_first = catalogue.BY_STATS_KEY[metric].direction is Direction.LOWER
        assert np.array_equal(values, np.sort(values) if lower_first else np.sort(values)[::-1])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("샤프지수로 비교", ["sharpe_ratio"]),
        ("마지막 전략 2개 MDD랑 변동성 비교해줘", ["max_drawdown", "volatility"]),
        ("최대낙폭과 승률", ["max_drawdown", "win_rate"]),
        ("연평균수익률 기준", ["cagr"]),
        ("compare by return and vol", ["total_return", "volatility"]),
        ("sortino then calmar, then drawdown", ["sortino_ratio", "calmar_ratio", "max_drawdown"]),
        ("trading volume", []),
    ],
)
def test_synonyms(text: str, expected: list[str]) -> None:
    assert catalogue.mentioned_metrics(text) == expected


def test_find_metric_and_labels() -> None:
    assert catalogue.find_metric("샤프") is catalogue.metric("sharpe_ratio")
    assert catalogue.find_metric(" Max  Drawdown ") is catalogue.metric("max_drawdown")
    assert catalogue.find_metric("alpha") is None
    assert catalogue.label("max_drawdown", "ko") == "최대 낙폭"
    assert catalogue.prose_name("sharpe_ratio", "en") == "Sharpe ratio"
    assert catalogue.label("unknown") == "unknown"
    for m in catalogue.METRICS:
        assert m.unit in typing.get_args(catalogue.Unit)
        assert m.label.en and m.label.ko


def test_one_ordering_rule_per_direction() -> None:
    values = np.array([-30.0, -5.0, 10.0])
    assert list(np.argsort(Direction.HIGHER.key(values))) == [2, 1, 0]
    assert list(np.argsort(Direction.LOWER.key(values))) == [0, 1, 2]
    assert list(np.argsort(Direction.SMALLER_MAGNITUDE.key(values))) == [1, 2, 0]
    assert Direction.NONE.key(3.0) == -3.0  # descriptive: largest first
