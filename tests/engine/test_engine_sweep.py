"""Parameter sweeps: every valid combination, same numbers as single backtests, sorted by the metric."""

from __future__ import annotations

import pandas as pd
import pytest

import quantops


def test_sweep_matches_single_backtests(goog: pd.DataFrame) -> None:
    grid = {"fast": [5, 10, 20, 40], "slow": [20, 30, 60]}
    table = quantops.sweep(goog, "sma_crossover", grid, metric="sharpe_ratio", commission=0.002)
    # fast >= slow combinations (20/20, 40/20, 40/30) are skipped
    assert len(table) == 12 - 3
    assert table["sharpe_ratio"].is_monotonic_decreasing
    for row in table.itertuples():
        stats = quantops.backtest(
            goog, {"config_type": "sma_crossover", "fast": row.fast, "slow": row.slow}, commission=0.002
        ).stats
        for key in (
            "total_return",
            "sharpe_ratio",
            "sortino_ratio",
            "max_drawdown",
            "cagr",
            "win_rate",
            "final_equity",
            "exposure",
            "annual_volatility",
            "calmar_ratio",
            "profit_factor",
        ):
            assert getattr(row, key) == pytest.approx(stats[key], rel=1e-12), key
        assert row.num_trades == stats["num_trades"]


def test_sweep_other_types_and_metric(goog: pd.DataFrame) -> None:
    table = quantops.sweep(
        goog,
        "rsi_mean_reversion",
        {"rsi_period": [7, 14], "oversold": [20, 30], "overbought": [70, 80]},
        metric="total_return",
    )
    assert len(table) == 8
    assert table["total_return"].is_monotonic_decreasing
    best = table.iloc[0]
    stats = quantops.backtest(
        goog,
        {
            "config_type": "rsi_mean_reversion",
            "rsi_period": int(best.rsi_period),
            "oversold": best.oversold,
            "overbought": best.overbought,
        },
    ).stats
    assert best.total_return == pytest.approx(stats["total_return"], rel=1e-12)


def test_sweep_errors(goog: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown strategy type 'nope'"):
        quantops.sweep(goog, "nope", {"fast": [1]})
    with pytest.raises(ValueError, match="metric: 'alpha' is not one of"):
        quantops.sweep(goog, "sma_crossover", {"fast": [5]}, metric="alpha")
    with pytest.raises(ValueError, match="no valid sma_crossover parameter combination"):
        quantops.sweep(goog, "sma_crossover", {"fast": [50], "slow": [20]})
    with pytest.raises(quantops.InsufficientBarsError):
        quantops.sweep(goog.iloc[:100], "sma_crossover", {"fast": [5], "slow": [200]})


def test_sweep_progress_bar(goog: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    quantops.sweep(goog, "ema_crossover", {"fast": [5, 8], "slow": [30, 50]}, progress=True)
    assert "sweep ema_crossover" in capsys.readouterr().err


def test_sweep_chunks_and_threads_agree(goog: pd.DataFrame) -> None:
    """300 combinations span two kernel chunks; two sweeps from two threads give the same table."""
    from concurrent.futures import ThreadPoolExecutor

    grid = {"fast": list(range(2, 32)), "slow": list(range(40, 50))}
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(
            lambda _: quantops.sweep(goog, "sma_crossover", grid, progress=False), range(2)
        )
    assert len(first) == 300
    pd.testing.assert_frame_equal(first, second)
    for row in first.iloc[[0, 150, 299]].itertuples():
        stats = quantops.backtest(
            goog, {"config_type": "sma_crossover", "fast": row.fast, "slow": row.slow}
        ).stats
        assert row.sharpe_ratio == pytest.approx(stats["sharpe_ratio"], rel=1e-12)
        assert row.final_equity == pytest.approx(stats["final_equity"], rel=1e-12)


def test_ema_sweep_shares_averages_but_matches_single_runs(goog: pd.DataFrame) -> None:
    table = quantops.sweep(goog, "ema_crossover", {"fast": [3, 8, 13], "slow": [21, 34]}, metric="cagr")
    assert len(table) == 6
    for row in table.itertuples():
        stats = quantops.backtest(
            goog, {"config_type": "ema_crossover", "fast": row.fast, "slow": row.slow}
        ).stats
        assert row.cagr == pytest.approx(stats["cagr"], rel=1e-12)
        assert row.num_trades == stats["num_trades"]
