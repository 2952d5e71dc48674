"""The deterministic writer: language, cited numbers, length bounds, JSON-safe analysis dict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from quantops.analysis import (
    ComparisonAnalysis,
    EquityCurve,
    UnderlyingPrices,
    analyze_comparison,
    detect_language,
    fit_length,
    write_narrative,
)
from quantops.analysis.narrative import REASONING_BOUNDS, RECOMMENDATION_BOUNDS, SUMMARY_BOUNDS


def _check_bounds(narrative: object) -> None:
    for field, (low, high) in (
        ("summary", SUMMARY_BOUNDS),
        ("recommendation", RECOMMENDATION_BOUNDS),
        ("reasoning", REASONING_BOUNDS),
    ):
        text = getattr(narrative, field)
        assert low <= len(text) <= high, (field, len(text), text)


def _synthetic(n_strategies: int, names: list[str] | None = None, days: int = 600) -> ComparisonAnalysis:
    rng = np.random.default_rng(n_strategies)
    stamps = pd.bdate_range("2015-01-01", periods=days + 250).as_unit("ns").asi8.copy()
    close = 100 * np.cumprod(1 + rng.normal(0.0003, 0.012, stamps.size))
    names = names or [f"S{i}" for i in range(n_strategies)]
    curves = [
        EquityCurve(name, stamps[250:], 1e4 * np.cumprod(1 + rng.normal(0.0002 * i, 0.01, days)))
        for i, name in enumerate(names)
    ]
    return analyze_comparison(
        curves,
        ["sharpe_ratio", "max_drawdown", "total_return"],
        extra_metrics={"win_rate": [50.0 + i for i in range(len(names))]},
        underlying=UnderlyingPrices("SPY", stamps, close),
    )


def test_language_detection() -> None:
    assert detect_language("어떤 전략이 제일 좋아?") == "ko"
    assert detect_language("which strategy is best? 전략") == "ko"
    assert detect_language("Which strategy is best?") == "en"
    assert detect_language(None) == "en"


def test_english_narrative_cites_the_numbers() -> None:
    analysis = _synthetic(3)
    narrative = write_narrative(analysis, "Which is best?")
    best = analysis.ranking.entries[0].name
    best_index = analysis.names.index(best)
    assert narrative.language == "en"
    assert best in narrative.summary and best in narrative.recommendation
    assert f"{analysis.metrics['sharpe_ratio'][best_index]:.2f}" in narrative.summary
    assert f"{analysis.metrics['max_drawdown'][best_index]:.1f}%" in narrative.summary
    assert f"{analysis.monte_carlo.final_return[best_index, 2]:.1f}%" in narrative.recommendation
    assert f"{analysis.risk.historical_var[0, 0]:.2f}%" in narrative.reasoning
    _check_bounds(narrative)


def test_korean_narrative_for_a_korean_query() -> None:
    analysis = _synthetic(2)
    narrative = write_narrative(analysis, "두 전략을 비교해줘")
    assert narrative.language == "ko"
    assert "추천" in narrative.recommendation
    assert str(analysis.aligned.timestamps.size) in narrative.summary
    _check_bounds(narrative)


@pytest.mark.parametrize("n_strategies", [2, 5])
@pytest.mark.parametrize("query", ["compare", "비교"])
def test_bounds_hold_even_with_very_long_names(n_strategies: int, query: str) -> None:
    names = [f"strategy-with-an-extremely-long-descriptive-name-{i}-" + "x" * 60 for i in range(n_strategies)]
    narrative = write_narrative(_synthetic(n_strategies, names), query)
    _check_bounds(narrative)
    assert not narrative.summary.endswith(" ")


def test_narrative_is_deterministic() -> None:
    assert write_narrative(_synthetic(4), "x") == write_narrative(_synthetic(4), "x")


def test_fit_length_pads_and_trims() -> None:
    assert len(fit_length("short", (50, 500), "en")) >= 50
    long_text = "This sentence has some words. " * 40
    trimmed = fit_length(long_text, (50, 500), "en")
    assert len(trimmed) <= 500 and trimmed.endswith(".")
    unbroken = "x" * 900
    assert len(fit_length(unbroken, (50, 500), "en")) == 500


def test_analysis_dict_is_strict_json_even_with_undefined_figures() -> None:
    stamps = pd.bdate_range("2020-01-01", periods=100).as_unit("ns").asi8.copy()
    curves = [
        EquityCurve("flat", stamps, np.full(100, 1e4)),
        EquityCurve("moving", stamps, 1e4 * np.cumprod(1 + np.random.default_rng(0).normal(0, 0.01, 100))),
    ]
    analysis = analyze_comparison(curves, ["sharpe_ratio"])
    payload = json.loads(json.dumps(analysis.to_dict(), allow_nan=False))
    assert payload["metrics"]["flat"]["sharpe_ratio"] is None
    assert payload["correlation"]["matrix"][0][1] is None
    assert payload["regimes"] is None
    assert payload["ranking"][0]["name"] == "moving"
    assert payload["monte_carlo"]["strategies"]["flat"]["final_return_pct"]["p50"] == 0.0
    _check_bounds(write_narrative(analysis, "compare"))
