"""Simulator rules on small hand-made series, expected numbers worked out from the documented formulas."""

from __future__ import annotations

import numpy as np
import pytest

from quantops.engine.simulator import (
    EXIT_END_OF_DATA,
    EXIT_SIGNAL,
    EXIT_STOP_LOSS,
    EXIT_TAKE_PROFIT,
    SIZE_CASH,
    SIZE_PERCENT,
    SIZE_UNITS,
    T_ENTRY_BAR,
    T_ENTRY_PRICE,
    T_EXIT_BAR,
    T_EXIT_PRICE,
    T_EXIT_REASON,
    T_FEES,
    T_PNL,
    T_SIZE,
    SimParams,
    simulate,
)

OPEN = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
CLOSE = np.array([10.5, 11.5, 12.5, 13.5, 14.5, 15.5])
HIGH = np.maximum(OPEN, CLOSE) + 0.2
LOW = np.minimum(OPEN, CLOSE) - 0.2


def params(**overrides: object) -> SimParams:
    base = dict(
        initial_cash=1_000.0, commission=0.0, commission_fixed=0.0, slippage=0.0, fill_next_open=True,
        allow_short=False, size_type=SIZE_PERCENT, size=1.0, fractional=False, stop_loss=0.0, take_profit=0.0,
    )  # fmt: skip
    base.update(overrides)
    return SimParams(**base)  # type: ignore[arg-type]


def signals(n: int, entries: list[int], exits: list[int]) -> tuple[np.ndarray, np.ndarray]:
    e = np.zeros(n, dtype=np.bool_)
    x = np.zeros(n, dtype=np.bool_)
    e[entries] = True
    x[exits] = True
    return e, x


def test_next_open_fill_with_commission_and_slippage() -> None:
    e, x = signals(6, [0], [2])
    out = simulate(
        OPEN, HIGH, LOW, CLOSE, e, x, params(commission=0.01, commission_fixed=1.0, slippage=0.001)
    )
    (trade,) = out.trades
    buy = 11.0 * 1.001
    units = np.floor((1_000.0 - 1.0) / (buy * 1.01))
    buy_fee = 0.01 * units * buy + 1.0
    sell = 13.0 * 0.999
    sell_fee = 0.01 * units * sell + 1.0
    assert (trade[T_ENTRY_BAR], trade[T_EXIT_BAR]) == (1, 3)
    assert trade[T_ENTRY_PRICE] == pytest.approx(buy)
    assert trade[T_EXIT_PRICE] == pytest.approx(sell)
    assert trade[T_SIZE] == units == 89
    assert trade[T_FEES] == pytest.approx(buy_fee + sell_fee)
    assert trade[T_PNL] == pytest.approx((sell - buy) * units - buy_fee - sell_fee)
    assert trade[T_EXIT_REASON] == EXIT_SIGNAL
    cash_after_buy = 1_000.0 - units * buy - buy_fee
    assert out.equity[0] == 1_000.0
    assert out.equity[1] == pytest.approx(cash_after_buy + units * CLOSE[1])
    assert out.equity[5] == pytest.approx(1_000.0 + trade[T_PNL])
    np.testing.assert_array_equal(out.position, [0, units, units, 0, 0, 0])


def test_close_fill_uses_signal_bar_close() -> None:
    e, x = signals(6, [0], [2])
    out = simulate(OPEN, HIGH, LOW, CLOSE, e, x, params(fill_next_open=False))
    (trade,) = out.trades
    assert (trade[T_ENTRY_BAR], trade[T_EXIT_BAR]) == (0, 2)
    assert (trade[T_ENTRY_PRICE], trade[T_EXIT_PRICE]) == (10.5, 12.5)
    assert trade[T_SIZE] == np.floor(1_000.0 / 10.5)


def test_end_of_data_close_and_unfilled_last_signal() -> None:
    e, x = signals(6, [1], [5])  # exit decided on the last bar can never fill at a next open
    out = simulate(OPEN, HIGH, LOW, CLOSE, e, x, params(commission=0.002))
    (trade,) = out.trades
    assert trade[T_EXIT_REASON] == EXIT_END_OF_DATA
    assert (trade[T_ENTRY_BAR], trade[T_EXIT_BAR], trade[T_EXIT_PRICE]) == (2, 5, CLOSE[5])
    assert out.equity[5] == pytest.approx(1_000.0 + trade[T_PNL])  # exit commission paid
    assert out.position[5] == trade[T_SIZE]  # held through the last bar


def test_no_entry_on_last_close_with_close_fills() -> None:
    e, x = signals(6, [5], [])
    assert len(simulate(OPEN, HIGH, LOW, CLOSE, e, x, params(fill_next_open=False)).trades) == 0


def test_long_short_reverses_on_exit_signal() -> None:
    e, x = signals(6, [0], [2])
    out = simulate(OPEN, HIGH, LOW, CLOSE, e, x, params(allow_short=True, commission=0.001))
    long_trade, short_trade = out.trades
    assert long_trade[T_SIZE] > 0 and short_trade[T_SIZE] < 0
    assert long_trade[T_EXIT_BAR] == short_trade[T_ENTRY_BAR] == 3
    cash = 1_000.0 + long_trade[T_PNL]
    assert -short_trade[T_SIZE] == np.floor(cash / (13.0 * 1.001))
    assert short_trade[T_EXIT_REASON] == EXIT_END_OF_DATA
    # short loses as prices rise: pnl = (entry - exit) * units - fees
    units = -short_trade[T_SIZE]
    fees = 0.001 * units * (13.0 + CLOSE[5])
    assert short_trade[T_PNL] == pytest.approx((13.0 - CLOSE[5]) * units - fees)
    assert out.equity[5] == pytest.approx(1_000.0 + long_trade[T_PNL] + short_trade[T_PNL])


def test_long_only_ignores_exit_when_flat_and_conflicting_signals() -> None:
    e, x = signals(6, [2], [0, 2])
    assert len(simulate(OPEN, HIGH, LOW, CLOSE, e, x, params()).trades) == 0


@pytest.mark.parametrize(
    ("size_type", "size", "fractional", "expected_units"),
    [
        (SIZE_PERCENT, 0.5, False, np.floor(500.0 / 11.0)),
        (SIZE_CASH, 300.0, False, np.floor(300.0 / 11.0)),
        (SIZE_CASH, 5_000.0, False, np.floor(1_000.0 / 11.0)),  # capped at the available cash
        (SIZE_UNITS, 7.0, False, 7.0),
        (SIZE_UNITS, 500.0, False, np.floor(1_000.0 / 11.0)),  # a long cannot exceed the cash
        (SIZE_PERCENT, 1.0, True, 1_000.0 / 11.0),
    ],
)
def test_sizing(size_type: int, size: float, fractional: bool, expected_units: float) -> None:
    e, x = signals(6, [0], [3])
    out = simulate(
        OPEN, HIGH, LOW, CLOSE, e, x, params(size_type=size_type, size=size, fractional=fractional)
    )
    assert out.trades[0, T_SIZE] == pytest.approx(expected_units)


def test_stop_loss_inside_bar_and_on_gap() -> None:
    open_ = np.array([100.0, 100.0, 99.0, 90.0, 95.0])
    close = np.array([100.0, 99.0, 98.0, 91.0, 96.0])
    high = np.array([101.0, 101.0, 99.5, 92.0, 97.0])
    low = np.array([99.0, 94.0, 97.0, 89.0, 94.0])
    e, x = signals(5, [0], [])
    out = simulate(open_, high, low, close, e, x, params(stop_loss=0.05))
    (trade,) = out.trades
    # entered at bar 1's open (100); bar 1's low 94 pierces the 95 stop -> filled at 95
    assert (trade[T_ENTRY_BAR], trade[T_EXIT_BAR], trade[T_EXIT_PRICE]) == (1, 1, 95.0)
    assert trade[T_EXIT_REASON] == EXIT_STOP_LOSS
    # a gap below the stop fills at the open, not at the stop level
    e, x = signals(5, [1], [])
    (gap_trade,) = simulate(open_, high, low, close, e, x, params(stop_loss=0.05)).trades
    assert (gap_trade[T_ENTRY_PRICE], gap_trade[T_EXIT_BAR], gap_trade[T_EXIT_PRICE]) == (99.0, 3, 90.0)


def test_take_profit_and_stop_priority() -> None:
    open_ = np.array([100.0, 100.0, 105.0, 108.0])
    close = np.array([100.0, 104.0, 107.0, 108.0])
    high = np.array([100.0, 104.0, 111.0, 109.0])
    low = np.array([100.0, 99.0, 104.0, 100.0])
    e, x = signals(4, [0], [])
    (trade,) = simulate(open_, high, low, close, e, x, params(take_profit=0.10)).trades
    assert (trade[T_EXIT_BAR], trade[T_EXIT_PRICE], trade[T_EXIT_REASON]) == (
        2,
        pytest.approx(110.0),
        EXIT_TAKE_PROFIT,
    )
    # both levels inside one bar (95 and 110 within 90..111): the stop is assumed first (conservative)
    low2 = low.copy()
    low2[2] = 90.0
    (both,) = simulate(open_, high, low2, close, e, x, params(take_profit=0.10, stop_loss=0.05)).trades
    assert (both[T_EXIT_BAR], both[T_EXIT_PRICE], both[T_EXIT_REASON]) == (2, 95.0, EXIT_STOP_LOSS)


def test_short_stop_loss() -> None:
    open_ = np.array([100.0, 100.0, 103.0])
    close = np.array([100.0, 101.0, 104.0])
    high = np.array([100.0, 102.0, 106.0])
    low = np.array([100.0, 99.0, 102.0])
    e, x = signals(3, [], [0])
    (trade,) = simulate(open_, high, low, close, e, x, params(allow_short=True, stop_loss=0.05)).trades
    assert trade[T_SIZE] < 0
    assert (trade[T_EXIT_BAR], trade[T_EXIT_PRICE], trade[T_EXIT_REASON]) == (2, 105.0, EXIT_STOP_LOSS)


def test_cannot_afford_a_unit_means_no_trade() -> None:
    e, x = signals(6, [0], [])
    out = simulate(OPEN, HIGH, LOW, CLOSE, e, x, params(initial_cash=5.0))
    assert len(out.trades) == 0
    np.testing.assert_array_equal(out.equity, 5.0)


@pytest.mark.parametrize("seed", range(12))
def test_random_signals_keep_the_books_balanced(goog_arrays: dict[str, np.ndarray], seed: int) -> None:
    """Random dense signals in every mode: P&L adds up, trades never overlap, capacity is respected."""
    from quantops.engine.simulator import trade_capacity

    rng = np.random.default_rng(seed)
    o, h, lo, c = (goog_arrays[k] for k in ("open_", "high", "low", "close"))
    n = c.shape[0]
    density = rng.uniform(0.05, 0.9)
    entries = rng.random(n) < density
    exits = rng.random(n) < density
    cash = float(rng.uniform(10_000, 1_000_000))
    size_type = (SIZE_PERCENT, SIZE_CASH, SIZE_UNITS)[seed % 3]
    size = {SIZE_PERCENT: float(rng.choice([0.3, 1.0])), SIZE_CASH: cash / 3, SIZE_UNITS: 10.0}[size_type]
    p = params(
        initial_cash=cash,
        commission=float(rng.choice([0.0, 0.001, 0.01])),
        commission_fixed=float(rng.choice([0.0, 1.0])),
        slippage=float(rng.choice([0.0, 0.0005])),
        fill_next_open=bool(seed % 2),
        allow_short=bool(seed % 4 < 2),
        size_type=size_type,
        size=size,
        fractional=bool(seed % 5 == 0),
        stop_loss=float(rng.choice([0.0, 0.02])),
        take_profit=float(rng.choice([0.0, 0.03])),
    )
    out = simulate(o, h, lo, c, entries, exits, p)
    trades = out.trades
    assert 0 < len(trades) <= trade_capacity(entries, exits, p.allow_short)
    assert trades[:, T_PNL].sum() == pytest.approx(out.equity[-1] - p.initial_cash, rel=1e-9, abs=1e-6)
    assert (trades[:, T_EXIT_BAR] >= trades[:, T_ENTRY_BAR]).all()
    # a new trade starts no earlier than the previous one ended
    assert (trades[1:, T_ENTRY_BAR] >= trades[:-1, T_EXIT_BAR]).all()
    assert np.isfinite(out.equity).all()
    assert set(trades[:, T_EXIT_REASON]) <= {EXIT_SIGNAL, EXIT_STOP_LOSS, EXIT_TAKE_PROFIT, EXIT_END_OF_DATA}
    if not p.allow_short:
        assert (trades[:, T_SIZE] > 0).all()
        assert (out.position >= 0).all()
