"""Bar-by-bar portfolio simulator (numba).

Conventions (see docs/engine.md):
- Signals are decided on bar i's close. With ``fill_next_open`` (default) the order fills at bar i+1's
  open; otherwise at bar i's close. A signal on the last bar with next-open fills is never filled.
- ``entries[i]`` asks for a long position, ``exits[i]`` for leaving it; with ``allow_short`` an exit
  signal means "be short" (reverse), like vectorbt's direction="both". Both on one bar: ignored.
- Buys fill at price·(1+slippage), sells at price·(1−slippage); every order pays
  commission·notional + commission_fixed.
- Sizing when opening: percent → size·equity, cash → min(size, equity), units → size units (capped to
  what the cash affords for longs); units are whole (floored) unless ``fractional``.
- Stop-loss / take-profit (fractions of the entry fill price) are checked on each bar's range after
  the entry; a gap through the level fills at the open; if both levels are inside one bar the stop wins.
- Equity is marked at each close; a position still open at the end is closed at the last close (costs
  applied) with exit reason END_OF_DATA. No position is opened on the last close (fill=close).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

SIZE_PERCENT = 0
SIZE_CASH = 1
SIZE_UNITS = 2

EXIT_SIGNAL = 0
EXIT_STOP_LOSS = 1
EXIT_TAKE_PROFIT = 2
EXIT_END_OF_DATA = 3
EXIT_REASONS = ("signal", "stop_loss", "take_profit", "end_of_data")

# Columns of the float trade matrix written by the kernel.
T_ENTRY_BAR = 0
T_EXIT_BAR = 1
T_ENTRY_PRICE = 2
T_EXIT_PRICE = 3
T_SIZE = 4
T_PNL = 5
T_RETURN_PCT = 6
T_FEES = 7
T_EXIT_REASON = 8
N_TRADE_FIELDS = 9


class SimParams(NamedTuple):
    """Scalar simulator parameters (plain floats/ints so numba compiles one specialisation)."""

    initial_cash: float
    commission: float
    commission_fixed: float
    slippage: float  # fraction, i.e. bps / 10_000
    fill_next_open: bool
    allow_short: bool
    size_type: int
    size: float
    fractional: bool
    stop_loss: float  # fraction of entry price; 0 = off
    take_profit: float  # fraction of entry price; 0 = off


class SimOutput(NamedTuple):
    equity: np.ndarray  # float64 per bar, marked at close
    position: np.ndarray  # float64 units held at each close (negative = short)
    trades: np.ndarray  # (n_trades, N_TRADE_FIELDS) float64


@njit(cache=True)
def _open_units(
    cash: float,
    price: float,
    commission: float,
    commission_fixed: float,
    size_type: int,
    size: float,
    fractional: bool,
    is_long: bool,
) -> float:
    unit_cost = price * (1.0 + commission)
    if size_type == SIZE_PERCENT:
        units = (size * cash - commission_fixed) / unit_cost
    elif size_type == SIZE_CASH:
        units = (min(size, cash) - commission_fixed) / unit_cost
    else:
        units = size
        if is_long:
            affordable = (cash - commission_fixed) / unit_cost
            if units > affordable:
                units = affordable
    if not fractional:
        units = np.floor(units)
    if units <= 0.0 or cash <= 0.0:
        return 0.0
    return units


@njit(cache=True)
def _exit_fill(
    raw: float, units: float, slippage: float, commission: float, commission_fixed: float
) -> tuple[float, float]:
    """Fill price and fee of the order that flattens ``units`` at raw price ``raw``."""
    price = raw * (1.0 - slippage) if units > 0.0 else raw * (1.0 + slippage)
    return price, commission * abs(units) * price + commission_fixed


@njit(cache=True)
def _record_trade(
    trades: np.ndarray,
    k: int,
    entry_bar: int,
    exit_bar: int,
    entry_price: float,
    exit_price: float,
    units: float,
    entry_fee: float,
    exit_fee: float,
    reason: int,
) -> None:
    pnl = (exit_price - entry_price) * units - entry_fee - exit_fee
    trades[k, T_ENTRY_BAR] = entry_bar
    trades[k, T_EXIT_BAR] = exit_bar
    trades[k, T_ENTRY_PRICE] = entry_price
    trades[k, T_EXIT_PRICE] = exit_price
    trades[k, T_SIZE] = units
    trades[k, T_PNL] = pnl
    trades[k, T_RETURN_PCT] = pnl / (entry_price * abs(units)) * 100.0
    trades[k, T_FEES] = entry_fee + exit_fee
    trades[k, T_EXIT_REASON] = reason


@njit(cache=True)
def trade_capacity(entries: np.ndarray, exits: np.ndarray, allow_short: bool) -> int:
    """Upper bound on the trade count: every trade is opened on a bar with an opening signal."""
    count = 1
    for i in range(entries.shape[0]):
        if entries[i] or (allow_short and exits[i]):
            count += 1
    return min(count, max(entries.shape[0], 1))


@njit(cache=True)
def simulate_into(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    initial_cash: float,
    commission: float,
    commission_fixed: float,
    slippage: float,
    fill_next_open: bool,
    allow_short: bool,
    size_type: int,
    size: float,
    fractional: bool,
    stop_loss: float,
    take_profit: float,
    equity: np.ndarray,
    position: np.ndarray,
    trades: np.ndarray,
) -> int:
    """Run the simulation writing into preallocated outputs; returns the number of trades.

    ``trades`` needs ``trade_capacity(entries, exits, allow_short)`` rows (at most one entry per bar).
    """
    n = close.shape[0]
    cash = initial_cash
    units = 0.0
    entry_price = 0.0
    entry_bar = -1
    entry_fee = 0.0
    n_trades = 0
    pending = False
    pending_target = 0

    for i in range(n):
        # Orders to execute on this bar: (raw price, target) from the previous close or this close.
        for step in range(2):
            if step == 0:
                # 1) an order decided on the previous close fills at this open.
                if not pending:
                    continue
                pending = False
                raw = open_[i]
                target = pending_target
            else:
                # 2) stop-loss / take-profit inside this bar for a position already held.
                if units != 0.0 and (stop_loss > 0.0 or take_profit > 0.0):
                    hit = -1
                    level = 0.0
                    if units > 0.0:
                        sl_level = entry_price * (1.0 - stop_loss) if stop_loss > 0.0 else -np.inf
                        tp_level = entry_price * (1.0 + take_profit) if take_profit > 0.0 else np.inf
                        if open_[i] <= sl_level:
                            hit, level = EXIT_STOP_LOSS, open_[i]
                        elif open_[i] >= tp_level:
                            hit, level = EXIT_TAKE_PROFIT, open_[i]
                        elif low[i] <= sl_level:
                            hit, level = EXIT_STOP_LOSS, sl_level
                        elif high[i] >= tp_level:
                            hit, level = EXIT_TAKE_PROFIT, tp_level
                    else:
                        sl_level = entry_price * (1.0 + stop_loss) if stop_loss > 0.0 else np.inf
                        tp_level = entry_price * (1.0 - take_profit) if take_profit > 0.0 else -np.inf
                        if open_[i] >= sl_level:
                            hit, level = EXIT_STOP_LOSS, open_[i]
                        elif open_[i] <= tp_level:
                            hit, level = EXIT_TAKE_PROFIT, open_[i]
                        elif high[i] >= sl_level:
                            hit, level = EXIT_STOP_LOSS, sl_level
                        elif low[i] <= tp_level:
                            hit, level = EXIT_TAKE_PROFIT, tp_level
                    if hit >= 0:
                        price, fee = _exit_fill(level, units, slippage, commission, commission_fixed)
                        cash += units * price - fee
                        _record_trade(
                            trades, n_trades, entry_bar, i, entry_price, price, units, entry_fee, fee, hit
                        )
                        n_trades += 1
                        units = 0.0
                # 3) decide on this close.
                target = 2  # no order
                if entries[i] and not exits[i]:
                    target = 1
                elif exits[i] and not entries[i]:
                    target = -1 if allow_short else 0
                current = 1 if units > 0.0 else (-1 if units < 0.0 else 0)
                if target == 2 or target == current:
                    continue
                if fill_next_open:
                    if i + 1 < n:
                        pending = True
                        pending_target = target
                    continue
                raw = close[i]

            # Execute ``target`` (1 long, 0 flat, -1 short) at ``raw``: flatten, then open.
            if units != 0.0 and target != (1 if units > 0.0 else -1):
                price, fee = _exit_fill(raw, units, slippage, commission, commission_fixed)
                cash += units * price - fee
                _record_trade(
                    trades, n_trades, entry_bar, i, entry_price, price, units, entry_fee, fee, EXIT_SIGNAL
                )
                n_trades += 1
                units = 0.0
            # no new position on the last close: it would be closed again at that same price
            if units == 0.0 and target != 0 and not (step == 1 and i == n - 1):
                is_long = target == 1
                price = raw * (1.0 + slippage) if is_long else raw * (1.0 - slippage)
                qty = _open_units(
                    cash, price, commission, commission_fixed, size_type, size, fractional, is_long
                )
                if qty > 0.0:
                    fee = commission * qty * price + commission_fixed
                    units = qty if is_long else -qty
                    cash -= units * price + fee
                    entry_price = price
                    entry_bar = i
                    entry_fee = fee

        # 4) mark to market at the close.
        equity[i] = cash + units * close[i]
        position[i] = units

    # A position still open is closed at the last close (costs applied), flagged END_OF_DATA.
    if units != 0.0 and n > 0:
        last = n - 1
        price, fee = _exit_fill(close[last], units, slippage, commission, commission_fixed)
        cash += units * price - fee
        _record_trade(
            trades, n_trades, entry_bar, last, entry_price, price, units, entry_fee, fee, EXIT_END_OF_DATA
        )
        n_trades += 1
        equity[last] = cash  # position[last] keeps the units held through the last bar
    return n_trades


def simulate(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    params: SimParams,
) -> SimOutput:
    """Run one simulation; inputs must already be validated float64 arrays and bool signals."""
    n = close.shape[0]
    equity = np.empty(n)
    position = np.empty(n)
    trades = np.empty((trade_capacity(entries, exits, bool(params.allow_short)), N_TRADE_FIELDS))
    n_trades = simulate_into(
        open_,
        high,
        low,
        close,
        entries,
        exits,
        float(params.initial_cash),
        float(params.commission),
        float(params.commission_fixed),
        float(params.slippage),
        bool(params.fill_next_open),
        bool(params.allow_short),
        int(params.size_type),
        float(params.size),
        bool(params.fractional),
        float(params.stop_loss),
        float(params.take_profit),
        equity,
        position,
        trades,
    )
    return SimOutput(equity=equity, position=position, trades=trades[:n_trades].copy())
