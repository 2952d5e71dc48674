"""A strategy's figures in a comparison are its own backtest's: same engine functions, starting cash,
periods_per_year and risk-free rate; VaR has one sign convention (positive = loss) in both places."""

from __future__ import annotations

import pandas as pd
import pytest

import quantops
from quantops.analysis import EquityCurve, analyze_comparison
from quantops.analysis.compare import ComparisonOptions

CONFIGS = {
    "sma": {"config_type": "sma_crossover", "fast": 10, "slow": 20},
    "rsi": {"config_type": "rsi_mean_reversion"},
}
PAIRS = {
    "total_return": "total_return", "cagr": "cagr", "sharpe_ratio": "sharpe_ratio",
    "sortino_ratio": "sortino_ratio", "max_drawdown": "max_drawdown", "calmar_ratio": "calmar_ratio",
    "volatility": "annual_volatility",
}  # fmt: skip


@pytest.mark.parametrize(
    "costs",
    [
        {},  # daily bars: 252 per year, no risk-free rate
        {"risk_free_rate": 0.03, "periods_per_year": 365},  # the backtest's own settings must be used
    ],
)
def test_comparison_metrics_equal_the_backtest_stats(goog_bars: pd.DataFrame, costs: dict) -> None:
    results = {
        name: quantops.backtest(goog_bars, cfg, initial_cash=10_000, **costs) for name, cfg in CONFIGS.items()
    }
    curves = [
        EquityCurve(
            name,
            res.equity.index.as_unit("ns").asi8.copy(),
            res.equity.to_numpy(),
            initial_cash=res.stats["initial_cash"],
            periods_per_year=res.stats["periods_per_year"],
            risk_free_rate=costs.get("risk_free_rate", 0.0),
        )
        for name, res in results.items()
    ]
    analysis = analyze_comparison(curves, ["sharpe_ratio"], options=ComparisonOptions(n_resamples=100))
    for index, (name, res) in enumerate(results.items()):
        for ours, theirs in PAIRS.items():
            assert analysis.metrics[ours][index] == pytest.approx(res.stats[theirs], rel=1e-12), (name, ours)
        risk = analysis.risk
        for column, level in enumerate(risk.levels):
            key = round(level * 100)
            assert risk.historical_var[index, column] == pytest.approx(res.stats[f"var_{key}"], rel=1e-12)
            assert risk.historical_cvar[index, column] == pytest.approx(res.stats[f"cvar_{key}"], rel=1e-12)
            assert res.stats[f"var_{key}"] > 0  # a loss, positive


def test_a_window_inside_the_curve_is_measured_from_its_first_common_date(goog_bars: pd.DataFrame) -> None:
    """A curve whose history starts before the common window: its first common value is the base."""
    res = quantops.backtest(goog_bars, CONFIGS["sma"], initial_cash=10_000)
    stamps = res.equity.index.as_unit("ns").asi8.copy()
    values = res.equity.to_numpy()
    late = quantops.backtest(goog_bars.iloc[500:], CONFIGS["sma"], initial_cash=10_000)
    curves = [
        EquityCurve("whole", stamps, values, initial_cash=10_000.0, periods_per_year=252.0),
        EquityCurve("late", late.equity.index.as_unit("ns").asi8.copy(), late.equity.to_numpy(),
                    initial_cash=10_000.0, periods_per_year=252.0),
    ]  # fmt: skip
    analysis = analyze_comparison(curves, ["total_return"], options=ComparisonOptions(n_resamples=100))
    assert analysis.metrics["total_return"][0] == pytest.approx((values[-1] / values[500] - 1) * 100)
    assert analysis.metrics["total_return"][1] == pytest.approx(late.stats["total_return"])
