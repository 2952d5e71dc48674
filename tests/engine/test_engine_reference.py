"""GOOG SMA(10)/SMA(20) crossover against backtesting.py 0.6.6 (reference outputs in tests/data)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import quantops

PEER_CONVENTIONS = {"initial_cash": 10_000, "commission": 0.0, "slippage_bps": 0.0}
SMA_10_20 = {"config_type": "sma_crossover", "fast": 10, "slow": 20}


def test_trades_match_backtesting_py_exactly(goog: pd.DataFrame, sma_reference: dict[str, Any]) -> None:
    result = quantops.backtest(goog, SMA_10_20, **PEER_CONVENTIONS)
    ref = pd.DataFrame(sma_reference["backtesting.py"]["trades"])
    closed = result.trades[result.trades["exit_reason"] != "end_of_data"].reset_index(drop=True)
    assert len(closed) == len(ref) == 46
    np.testing.assert_array_equal(closed["entry_bar"], ref["entry_bar"])
    np.testing.assert_array_equal(closed["exit_bar"], ref["exit_bar"])
    np.testing.assert_array_equal(closed["entry_price"], ref["entry_price"])
    np.testing.assert_array_equal(closed["exit_price"], ref["exit_price"])
    np.testing.assert_array_equal(closed["size"], ref["size"])
    np.testing.assert_allclose(closed["pnl"], ref["pnl"], atol=1e-8)
    np.testing.assert_allclose(closed["return_pct"], ref["return_pct"], atol=1e-9)
    assert list(closed["entry_time"].dt.strftime("%Y-%m-%d")) == list(ref["entry_time"])
    assert list(closed["exit_time"].dt.strftime("%Y-%m-%d")) == list(ref["exit_time"])


def test_open_trade_closed_at_last_close(goog: pd.DataFrame, sma_reference: dict[str, Any]) -> None:
    result = quantops.backtest(goog, SMA_10_20, **PEER_CONVENTIONS)
    last = result.trades.iloc[-1]
    (open_ref,) = sma_reference["backtesting.py"]["open_trades_at_end"]
    assert last["exit_reason"] == "end_of_data"
    assert last["entry_bar"] == open_ref["entry_bar"]
    assert last["entry_price"] == open_ref["entry_price"]
    assert last["size"] == open_ref["size"]
    assert last["exit_bar"] == len(goog) - 1
    assert last["exit_price"] == goog["Close"].iloc[-1]
    # backtesting.py marks the open trade at the last close: same final equity (no costs here)
    assert result.stats["final_equity"] == pytest.approx(
        sma_reference["backtesting.py"]["final_equity"], abs=0.01
    )
    assert result.stats["total_return"] == pytest.approx(
        sma_reference["backtesting.py"]["return_pct"], abs=1e-6
    )
    assert result.stats["num_trades"] == 47
    # backtesting.py's finalize_trades=True closes at the last OPEN instead: documented difference
    finalized = sma_reference["backtesting.py_finalize_trades"]
    assert finalized["last_trade"]["exit_price"] == goog["Open"].iloc[-1] != last["exit_price"]


def test_equity_curve_and_drawdown_match(
    goog: pd.DataFrame, sma_reference: dict[str, Any], reference_equity: pd.DataFrame
) -> None:
    result = quantops.backtest(goog, SMA_10_20, **PEER_CONVENTIONS)
    np.testing.assert_allclose(result.equity.to_numpy(), reference_equity["bt_equity"].to_numpy(), atol=1e-6)
    bt = sma_reference["backtesting.py"]
    assert result.stats["max_drawdown"] == pytest.approx(bt["max_drawdown_pct"], abs=1e-9)
    # Sharpe = mean/std·√252 of bar returns: vectorbt's with year_freq=252 days on the same equity
    vbt_sharpe = sma_reference["vectorbt_nextopen_int"]["sharpe_year_freq_252"]
    assert result.stats["sharpe_ratio"] == pytest.approx(vbt_sharpe, rel=1e-9)
    assert result.stats["sharpe_ratio"] == pytest.approx(bt["sharpe_plain_mean_over_std_sqrt252"], rel=1e-3)
    assert result.stats["win_rate"] == pytest.approx(
        sma_reference["backtesting.py_finalize_trades"]["win_rate_pct"]
    )


def test_commission_matches_peer(goog: pd.DataFrame, sma_reference: dict[str, Any]) -> None:
    ref = sma_reference["commission_0.002_check"]["backtesting.py"]
    result = quantops.backtest(goog, SMA_10_20, initial_cash=10_000, commission=0.002, slippage_bps=0.0)
    trades = result.trades
    first = trades.iloc[0]
    for key in ("entry_bar", "exit_bar", "entry_price", "exit_price", "size"):
        assert first[key] == ref["first_trade"][key]
    assert first["pnl"] == pytest.approx(ref["first_trade"]["pnl"], abs=1e-9)
    assert first["return_pct"] == pytest.approx(ref["first_trade"]["return_pct"], abs=1e-9)
    assert (trades["exit_reason"] != "end_of_data").sum() == ref["n_trades"]
    # The peer marks the open trade at the close without paying the exit commission; we pay it.
    last = trades.iloc[-1]
    exit_fee = 0.002 * last["size"] * last["exit_price"]
    assert result.stats["final_equity"] + exit_fee == pytest.approx(ref["final_equity"], abs=0.01)


def test_backtest_arrays_equals_dataframe_api(goog: pd.DataFrame, goog_arrays: dict[str, np.ndarray]) -> None:
    settings = quantops.BacktestSettings(**PEER_CONVENTIONS)
    from_arrays = quantops.backtest_arrays(**goog_arrays, config=SMA_10_20, settings=settings)
    from_frame = quantops.backtest(goog, SMA_10_20, settings)
    assert from_arrays.stats == from_frame.stats
    pd.testing.assert_frame_equal(from_arrays.trades, from_frame.trades)


def test_close_fills_fractional_match_vectorbt(goog: pd.DataFrame, sma_reference: dict[str, Any]) -> None:
    """fill='close' + fractional units is vectorbt's default from_signals run (reference: vectorbt 1.2.0)."""
    ref = sma_reference["vectorbt_close"]
    result = quantops.backtest(goog, SMA_10_20, **PEER_CONVENTIONS, fill="close", fractional=True)
    closed = result.trades[result.trades["exit_reason"] != "end_of_data"].reset_index(drop=True)
    ref_trades = pd.DataFrame(ref["trades"])
    assert len(closed) == ref["n_trades"]
    np.testing.assert_array_equal(closed["entry_bar"], ref_trades["entry_bar"])
    np.testing.assert_array_equal(closed["exit_bar"], ref_trades["exit_bar"])
    np.testing.assert_allclose(closed["size"], ref_trades["size"], rtol=1e-12)
    np.testing.assert_allclose(closed["pnl"], ref_trades["pnl"], rtol=1e-9)
    assert result.stats["final_equity"] == pytest.approx(ref["final_equity"], abs=0.01)
    assert result.stats["max_drawdown"] == pytest.approx(ref["max_drawdown_pct"], abs=1e-9)
