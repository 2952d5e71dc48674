"""The comparison page: valid plotly figures carrying the analysis' numbers, regime shading runs."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from quantops.analysis import EquityCurve, Regime, UnderlyingPrices, analyze_comparison, write_narrative
from quantops.services.comparison_report import (
    comparison_sections,
    correlation_figure,
    equity_figure,
    fan_figure,
    regime_figure,
    regime_runs,
)


def _decode(spec: dict[str, str]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]).newbyteorder("<"))


def _analysis() -> object:
    rng = np.random.default_rng(21)
    stamps = pd.bdate_range("2014-01-01", periods=1_000).as_unit("ns").asi8.copy()
    close = 100 * np.cumprod(1 + rng.normal(0.0003, 0.012, stamps.size))
    curves = [
        EquityCurve(name, stamps[300:], 1e4 * np.cumprod(1 + rng.normal(0.0003 * i, 0.01, 700)))
        for i, name in enumerate(["alpha", "beta", "gamma"])
    ]
    return analyze_comparison(curves, ["sharpe_ratio"], underlying=UnderlyingPrices("SPY", stamps, close))


def test_regime_runs_hand_case() -> None:
    labels = np.array([1, 1, 0, 0, 0, -1, 1], dtype=np.int8)
    assert regime_runs(labels) == [(0, 1, 1), (2, 4, 0), (5, 5, -1), (6, 6, 1)]
    assert regime_runs(np.array([], dtype=np.int8)) == []


def test_figures_are_valid_plotly_and_carry_the_numbers() -> None:
    analysis = _analysis()
    equity = equity_figure(analysis)
    go.Figure(equity)  # raises on any invalid property
    first = equity["data"][0]
    np.testing.assert_allclose(
        _decode(first["y"]), analysis.aligned.equity[:, 0] / analysis.aligned.equity[0, 0] * 100, rtol=1e-6
    )
    np.testing.assert_array_equal(_decode(first["x"]), analysis.aligned.timestamps // 1_000_000)
    # epoch-ms x values only read as dates on a date axis (else the axis shows "1.5T")
    assert equity["layout"]["xaxis"]["type"] == "date"

    correlation = correlation_figure(analysis)
    go.Figure(correlation)
    np.testing.assert_allclose(
        np.array(correlation["data"][0]["z"], dtype=float), analysis.correlation, atol=1e-4
    )

    fan = fan_figure(analysis)
    go.Figure(fan)
    # Per strategy: two bands (two traces each) and the median.
    assert len(fan["data"]) == 5 * len(analysis.names)
    median = fan["data"][4]
    np.testing.assert_allclose(median["y"], analysis.monte_carlo.fan[0, 2], atol=0.01)

    regimes = regime_figure(analysis)
    assert regimes is not None
    go.Figure(regimes)
    assert regimes["layout"]["xaxis"]["type"] == "date"
    window = (analysis.underlying.timestamps >= analysis.aligned.timestamps[0]) & (
        analysis.underlying.timestamps <= analysis.aligned.timestamps[-1]
    )
    runs = [r for r in regime_runs(analysis.underlying_regime_labels[window]) if r[2] != Regime.UNCLASSIFIED]
    assert len(regimes["layout"]["shapes"]) == len(runs) > 0


def test_page_sections() -> None:
    analysis = _analysis()
    sections = comparison_sections(analysis, write_narrative(analysis, "compare"), [])
    titles = [s.title for s in sections]
    assert titles[:4] == [
        "Verdict",
        "Equity curves (rebased to 100)",
        "Correlation of daily returns",
        "Monte Carlo fan chart (bootstrap cumulative return)",
    ]
    assert titles[4].startswith("Market regimes of SPY (200-day SMA slope over 20 days, ±1% band)")
    assert "Ranking" in titles and "Performance by market regime" in titles


def test_user_text_is_escaped_in_the_verdict() -> None:
    stamps = pd.bdate_range("2020-01-01", periods=100).as_unit("ns").asi8.copy()
    rng = np.random.default_rng(2)
    curves = [
        EquityCurve("<script>alert(1)</script>", stamps, 1e4 * np.cumprod(1 + rng.normal(0.001, 0.01, 100))),
        EquityCurve("plain", stamps, 1e4 * np.cumprod(1 + rng.normal(0.0, 0.01, 100))),
    ]
    analysis = analyze_comparison(curves, ["total_return"])
    sections = comparison_sections(analysis, write_narrative(analysis, "compare"), [])
    assert "&lt;script&gt;" in sections[0].body_html
    # Nowhere on the page (verdict, plotly JSON, tables) does the name arrive as markup.
    assert not any("<script>alert" in section.body_html for section in sections)


def test_duplicate_strategy_names_get_unique_labels() -> None:
    from datetime import UTC, datetime

    from quantops.services.comparison import _unique_labels
    from quantops.services.schemas import StrategyOut

    now = datetime.now(UTC)

    def strategy(strategy_id: str, name: str) -> StrategyOut:
        return StrategyOut(
            id=strategy_id, name=name, description="", config={}, created_at=now, updated_at=now
        )

    labels = _unique_labels([strategy("aaaaaa11", "SMA"), strategy("bbbbbb22", "SMA"), strategy("c", "RSI")])
    assert labels == ["SMA (#aaaaaa)", "SMA (#bbbbbb)", "RSI"]
