"""Metrics against empyrical-reloaded on the same bar returns (daily GOOG strategy and buy-and-hold)."""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest

import quantops
from quantops.engine import metrics

CASES = [
    ({"config_type": "sma_crossover", "fast": 10, "slow": 20}, 0.0),
    ({"config_type": "rsi_mean_reversion"}, 0.03),
    ({"config_type": "buy_and_hold"}, 0.0),
    ({"config_type": "macd_crossover"}, 0.05),
]


@pytest.mark.parametrize(("config", "risk_free"), CASES)
def test_stats_match_empyrical(goog: pd.DataFrame, config: dict, risk_free: float) -> None:
    result = quantops.backtest(goog, config, initial_cash=10_000, risk_free_rate=risk_free)
    stats = result.stats
    equity = result.equity.to_numpy()
    returns = pd.Series(
        np.diff(np.concatenate([[10_000.0], equity])) / np.concatenate([[10_000.0], equity[:-1]]),
        index=result.equity.index,
    )
    rf_daily = (1 + risk_free) ** (1 / 252) - 1
    assert stats["periods_per_year"] == 252
    assert stats["total_return"] == pytest.approx(empyrical.cum_returns_final(returns) * 100, rel=1e-9)
    assert stats["cagr"] == pytest.approx(empyrical.cagr(returns, period="daily") * 100, rel=1e-9)
    assert stats["annual_volatility"] == pytest.approx(empyrical.annual_volatility(returns) * 100, rel=1e-9)
    assert stats["sharpe_ratio"] == pytest.approx(
        empyrical.sharpe_ratio(returns, risk_free=rf_daily), rel=1e-9
    )
    assert stats["sortino_ratio"] == pytest.approx(
        empyrical.sortino_ratio(returns, required_return=rf_daily), rel=1e-9
    )
    assert stats["max_drawdown"] == pytest.approx(empyrical.max_drawdown(returns) * 100, rel=1e-9)
    assert stats["calmar_ratio"] == pytest.approx(empyrical.calmar_ratio(returns), rel=1e-9)
    for level in (95, 99):  # losses, positive = loss (the comparison's convention too)
        cutoff = 1 - level / 100
        assert stats[f"var_{level}"] == pytest.approx(
            -empyrical.value_at_risk(returns, cutoff) * 100, rel=1e-9
        )
        assert stats[f"cvar_{level}"] == pytest.approx(
            -empyrical.conditional_value_at_risk(returns, cutoff) * 100, rel=1e-9
        )
        assert stats[f"cvar_{level}"] >= stats[f"var_{level}"] > 0


def test_trade_statistics(goog: pd.DataFrame) -> None:
    result = quantops.backtest(goog, {"config_type": "sma_crossover", "fast": 10, "slow": 20})
    trades, stats = result.trades, result.stats
    pnl = trades["pnl"]
    assert stats["num_trades"] == len(trades)
    assert stats["win_rate"] == pytest.approx((pnl > 0).mean() * 100)
    assert stats["profit_factor"] == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum())
    assert stats["expectancy"] == pytest.approx(pnl.mean())
    assert stats["best_trade_return"] == pytest.approx(trades["return_pct"].max())
    assert stats["worst_trade_return"] == pytest.approx(trades["return_pct"].min())
    assert stats["total_fees"] == pytest.approx(trades["fees"].sum())
    assert stats["exposure"] == pytest.approx((result.position != 0).mean() * 100)
    # realised P&L of all trades (the last one closed at end of data) is the whole equity change
    assert pnl.sum() == pytest.approx(stats["final_equity"] - stats["initial_cash"], abs=1e-6)


def test_drawdown_duration() -> None:
    # under the bar-1 peak for bars 2-3 (2 bars, recovered at 4); under the bar-4 peak for bars 5-7 (3 bars)
    equity = np.array([100.0, 110.0, 99.0, 105.0, 111.0, 90.0, 95.0, 100.0])
    dd, trough, longest, start, end = metrics.max_drawdown(equity, 100.0)
    assert dd == pytest.approx(90.0 / 111.0 - 1)
    assert trough == 5
    assert (longest, start, end) == (3, 4, 7)
    # below the initial cash from the first bar: the stretch starts "before" bar 0
    assert metrics.max_drawdown(np.array([90.0, 95.0, 101.0]), 100.0)[2:] == (2, -1, 1)


@pytest.mark.parametrize(
    ("freq", "expected"),
    [("B", 252.0), ("D", 365.0), ("W", 52.0), ("MS", 12.0)],
)
def test_periods_per_year_from_spacing(freq: str, expected: float) -> None:
    index = pd.date_range("2020-01-01", periods=400, freq=freq)
    assert metrics.periods_per_year(index.as_unit("ns").asi8) == expected


def test_intraday_annualisation() -> None:
    days = pd.bdate_range("2024-01-01", periods=30)
    stamps = [
        day + pd.Timedelta(hours=9, minutes=30) + pd.Timedelta(hours=h) for day in days for h in range(7)
    ]
    assert metrics.periods_per_year(pd.DatetimeIndex(stamps).as_unit("ns").asi8) == 252.0 * 7
