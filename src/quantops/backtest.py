"""Friendly Python API over the engine: ``backtest()``, ``backtest_arrays()``, ``sweep()``.

pandas is allowed here (results are DataFrames/Series); the numeric work happens in
``quantops.engine`` on numpy arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from quantops.common import json_safe
from quantops.engine import catalogue
from quantops.engine.errors import BarsValidationError, InsufficientBarsError
from quantops.engine.metrics import compute_stats, periods_per_year
from quantops.engine.simulator import (
    EXIT_REASONS,
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
    T_RETURN_PCT,
    T_SIZE,
    SimOutput,
    SimParams,
    simulate,
)
from quantops.engine.validation import BarArrays, validate_bars, validate_prices
from quantops.strategies import StrategyConfigBase, get_spec, parse_strategy_config

if TYPE_CHECKING:
    import pandas as pd

_SIZE_TYPES = {"percent": SIZE_PERCENT, "cash": SIZE_CASH, "units": SIZE_UNITS}
MAX_PERIODS_PER_YEAR = 525_600  # one-minute bars around the clock (the shortest interval)


class BacktestSettings(BaseModel):
    """Costs, sizing and execution conventions of one backtest (defaults follow the original platform)."""

    # Every number is bounded (and finite): periods_per_year=1e308 once gave a Sharpe ratio of 1.2e152.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    initial_cash: float = Field(100_000.0, gt=0, le=1e15, description="starting cash")
    commission: float = Field(
        0.001, ge=0, lt=0.5, description="fraction of notional per order (0.001 = 0.1%)"
    )
    commission_fixed: float = Field(0.0, ge=0, le=1e9, description="fixed fee per order, in cash")
    slippage_bps: float = Field(5.0, ge=0, lt=5_000, description="adverse price move per fill, basis points")
    fill: Literal["next_open", "close"] = Field(
        "next_open", description="decided on bar t's close; filled at t+1's open or at t's close"
    )
    direction: Literal["long_only", "long_short"] = "long_only"
    size_type: Literal["percent", "cash", "units"] = "percent"
    size: float = Field(1.0, gt=0, le=1e15, description="fraction of equity (percent), cash amount, or units")
    fractional: StrictBool = Field(False, description="allow fractional units (default: whole units)")
    stop_loss_pct: float | None = Field(None, gt=0, lt=100, description="exit at this % loss from entry")
    take_profit_pct: float | None = Field(None, gt=0, le=10_000, description="exit at this % gain from entry")
    risk_free_rate: float = Field(
        0.0, ge=-0.5, lt=1, description="annual rate as a fraction, for Sharpe/Sortino"
    )
    periods_per_year: float | None = Field(
        None,
        ge=1,
        le=MAX_PERIODS_PER_YEAR,
        description="bars per year for annualisation (1 .. 525600, one bar a minute all year); "
        "default inferred from the bar spacing",
    )

    @model_validator(mode="after")
    def _percent_size_at_most_one(self) -> BacktestSettings:
        if self.size_type == "percent" and self.size > 1.0:
            raise ValueError("size must be at most 1.0 (100% of equity) when size_type is 'percent'")
        return self

    def sim_params(self) -> SimParams:
        return SimParams(
            initial_cash=float(self.initial_cash),
            commission=float(self.commission),
            commission_fixed=float(self.commission_fixed),
            slippage=float(self.slippage_bps) / 10_000.0,
            fill_next_open=self.fill == "next_open",
            allow_short=self.direction == "long_short",
            size_type=_SIZE_TYPES[self.size_type],
            size=float(self.size),
            fractional=bool(self.fractional),
            stop_loss=float(self.stop_loss_pct or 0.0) / 100.0,
            take_profit=float(self.take_profit_pct or 0.0) / 100.0,
        )


@dataclass(frozen=True)
class SettingChat:
    """How chat users name one ``BacktestSettings`` field (English and Korean; read by the chat planner).

    ``unit`` says how a typed number maps to the field: ``cash`` (10k, 1만, $1,000), ``fraction``
    (2% -> 0.02), ``bps`` (0.05% -> 5, 5bps -> 5), ``percent`` (5% -> 5). ``values``: for a choice
    field, value -> phrases that select it (a bool field: True -> phrases). Bounds come from the field.
    """

    labels: tuple[str, ...] = ()
    unit: Literal["cash", "fraction", "bps", "percent", "choice"] = "choice"
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


SETTINGS_CHAT: dict[str, SettingChat] = {
    "initial_cash": SettingChat(
        (
            "initial cash",
            "starting cash",
            "initial capital",
            "starting capital",
            "initial balance",
            "starting balance",
            "initial equity",
            "starting equity",
            "account size",
            "bankroll",
            "capital",
            "cash",
            "초기 자금",
            "시작 자금",
            "초기 자본",
            "자본금",
            "투자금",
            "원금",
            "시드",
            "자금",
            "자본",
        ),
        "cash",
    ),
    "commission": SettingChat(
        (
            "commission",
            "commissions",
            "comm",
            "comms",
            "commish",
            "fees",
            "fee",
            "transaction costs",
            "transaction cost",
            "trading costs",
            "trading cost",
            "수수료",
            "거래 비용",
            "거래비용",
        ),
        "fraction",
    ),
    "commission_fixed": SettingChat(
        (
            "fixed commission",
            "fixed comm",
            "fixed fee",
            "flat fee",
            "flat commission",
            "per trade fee",
            "per order fee",
            "고정 수수료",
            "건당 수수료",
        ),
        "cash",
    ),
    "slippage_bps": SettingChat(("slippage", "slip", "슬리피지", "슬리피지는", "미끄러짐"), "bps"),
    "fill": SettingChat(
        values={
            "close": (
                "fill at close",
                "fill on close",
                "fill at the close",
                "fills at close",
                "at the close",
                "on the close",
                "same bar close",
                "close fill",
                "fills on the close",
                "filled at the close",
                "filled at close",
                "execute at the close",
                "executed at the close",
                "trade at the close",
                "종가 체결",
                "종가에 체결",
                "종가로 체결",
                "종가 기준 체결",
                "체결은 종가",
                "체결 종가",
                "종가 매매",
                "종가로 매매",
                "종가에 매매",
            ),
            "next_open": (
                "next open",
                "next bar open",
                "next day open",
                "next day's open",
                "at the open",
                "다음날 시가",
                "다음 시가",
                "익일 시가",
                "시가 체결",
                "시가로 체결",
                "체결은 다음날 시가",
                "체결은 시가",
            ),
        }
    ),
    "direction": SettingChat(
        values={
            "long_short": (
                "long/short",
                "long-short",
                "long short",
                "long and short",
                "allow shorting",
                "allow shorts",
                "allow short",
                "with shorting",
                "with shorts",
                "shorting",
                "short selling",
                "short-selling",
                "shorts allowed",
                "allowing shorts",
                "allowing short",
                "allowing shorting",
                "allowing short selling",
                "shorting enabled",
                "enable shorting",
                "shorts enabled",
                "short allowed",
                "shorting allowed",
                "숏 허용",
                "숏 가능",
                "공매도 가능",
                "go short",
                "롱숏",
                "롱/숏",
                "롱 숏",
                "공매도 허용",
                "공매도",
            ),
            "long_only": (
                "long only",
                "long-only",
                "longs only",
                "no shorting",
                "no shorts",
                "롱 온리",
                "롱만",
                "매수만",
            ),
        }
    ),
    # A percent/fraction here is size_type "percent" ("half my equity" -> 0.5); the planner reads
    # "$5,000 per trade" as size_type "cash" and "100 shares"/"100주" as "units".
    "size": SettingChat(
        (
            "position size",
            "position sizing",
            "size",
            "sizing",
            "포지션 크기",
            "포지션 사이즈",
            "투자 비중",
            "비중",
        ),
        "fraction",
    ),
    "fractional": SettingChat(
        values={
            "true": (
                "fractional shares",
                "fractional units",
                "fractional",
                "소수점 매매",
                "소수점",
                "소수 단위",
            )
        }
    ),
    "stop_loss_pct": SettingChat(
        (
            "stop loss",
            "stop-loss",
            "stoploss",
            "stop",
            "sl",
            "손절매",
            "손절선",
            "손절",
            "스탑 로스",
            "스톱 로스",
        ),
        "percent",
    ),
    "take_profit_pct": SettingChat(
        (
            "take profit",
            "take-profit",
            "takeprofit",
            "profit target",
            "tp",
            "target",
            "익절",
            "이익 실현",
            "목표 수익률",
            "목표 수익",
        ),
        "percent",
    ),
    "risk_free_rate": SettingChat(
        (
            "risk-free rate",
            "risk free rate",
            "risk-free",
            "risk free",
            "rf rate",
            "rfr",
            "rf",
            "무위험 이자율",
            "무위험 수익률",
            "무위험 금리",
            "무위험",
        ),
        "fraction",
    ),
}
assert set(SETTINGS_CHAT) <= set(BacktestSettings.model_fields)


def _iso(ts_ns: int) -> str:
    return str(np.datetime64(int(ts_ns), "ns").astype("datetime64[s]")) + "Z"


@dataclass
class BacktestResult:
    """Outcome of one backtest. Arrays inside; pandas views built on first access."""

    config: StrategyConfigBase
    settings: BacktestSettings
    timestamps_ns: np.ndarray
    close: np.ndarray
    sim: SimOutput
    annualization: float
    _stats: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def stats(self) -> dict[str, Any]:
        """Headline statistics; returns/drawdowns/rates in percent (total_return: 15.5 means +15.5%)."""
        if self._stats is None:
            t = self.sim.trades
            self._stats = compute_stats(
                self.sim.equity,
                self.sim.position,
                t[:, T_PNL],
                t[:, T_RETURN_PCT],
                t[:, T_FEES],
                self.settings.initial_cash,
                self.annualization,
                self.settings.risk_free_rate,
                self.timestamps_ns,
            )
            first, last = self.close[0], self.close[-1]
            self._stats["buy_hold_return"] = float((last / first - 1.0) * 100.0)
            self._stats["start"] = _iso(self.timestamps_ns[0])
            self._stats["end"] = _iso(self.timestamps_ns[-1])
        return self._stats

    @cached_property
    def trades(self) -> pd.DataFrame:
        import pandas as pd

        t = self.sim.trades
        entry_bar = t[:, T_ENTRY_BAR].astype(np.int64)
        exit_bar = t[:, T_EXIT_BAR].astype(np.int64)
        index = pd.to_datetime(self.timestamps_ns, utc=True)
        return pd.DataFrame(
            {
                "entry_bar": entry_bar,
                "exit_bar": exit_bar,
                "entry_time": index[entry_bar],
                "exit_time": index[exit_bar],
                "direction": np.where(t[:, T_SIZE] > 0, "long", "short"),
                "entry_price": t[:, T_ENTRY_PRICE],
                "exit_price": t[:, T_EXIT_PRICE],
                "size": t[:, T_SIZE],
                "pnl": t[:, T_PNL],
                "return_pct": t[:, T_RETURN_PCT],
                "fees": t[:, T_FEES],
                "exit_reason": [EXIT_REASONS[int(code)] for code in t[:, T_EXIT_REASON]],
            }
        )

    @cached_property
    def equity(self) -> pd.Series:
        import pandas as pd

        return pd.Series(self.sim.equity, index=pd.to_datetime(self.timestamps_ns, utc=True), name="equity")

    @cached_property
    def position(self) -> pd.Series:
        import pandas as pd

        return pd.Series(
            self.sim.position, index=pd.to_datetime(self.timestamps_ns, utc=True), name="position"
        )

    def to_dict(self, *, include_equity: bool = True, include_trades: bool = True) -> dict[str, Any]:
        """JSON-safe dict (no NaN/inf: undefined numbers become None, times ISO-8601 UTC)."""
        out: dict[str, Any] = {
            "config": self.config.model_dump(mode="json"),
            "settings": self.settings.model_dump(mode="json"),
            "stats": json_safe(dict(self.stats)),
        }
        if include_equity:
            out["equity"] = [
                [_iso(ts), json_safe(v)]
                for ts, v in zip(self.timestamps_ns.tolist(), self.sim.equity.tolist(), strict=True)
            ]
        if include_trades:
            t = self.sim.trades
            rows = []
            for row in t:
                eb, xb = int(row[T_ENTRY_BAR]), int(row[T_EXIT_BAR])
                rows.append(
                    json_safe(
                        {
                            "entry_bar": eb,
                            "exit_bar": xb,
                            "entry_time": _iso(self.timestamps_ns[eb]),
                            "exit_time": _iso(self.timestamps_ns[xb]),
                            "direction": "long" if row[T_SIZE] > 0 else "short",
                            "entry_price": row[T_ENTRY_PRICE],
                            "exit_price": row[T_EXIT_PRICE],
                            "size": row[T_SIZE],
                            "pnl": row[T_PNL],
                            "return_pct": row[T_RETURN_PCT],
                            "fees": row[T_FEES],
                            "exit_reason": EXIT_REASONS[int(row[T_EXIT_REASON])],
                        }
                    )
                )
            out["trades"] = rows
        return out


def _resolve_settings(
    settings: BacktestSettings | Mapping[str, Any] | None, costs: Mapping[str, Any]
) -> BacktestSettings:
    if settings is None:
        return BacktestSettings(**costs)
    if isinstance(settings, Mapping):
        return BacktestSettings(**{**settings, **costs})
    # re-validate: model_copy(update=...) would skip the field rules
    return BacktestSettings(**{**settings.model_dump(), **costs}) if costs else settings


def check_enough_bars(config: StrategyConfigBase, n_bars: int) -> None:
    spec = get_spec(config)
    required = int(spec.min_bars(config))
    if n_bars < required:
        params = ", ".join(f"{k}={v}" for k, v in config.model_dump(exclude={"config_type"}).items())
        raise InsufficientBarsError(
            f"too few bars: {spec.config_type}({params}) needs at least {required} bars, got {n_bars}",
            required=required,
            available=n_bars,
        )


def _run(bars: BarArrays, config: StrategyConfigBase, settings: BacktestSettings) -> BacktestResult:
    check_enough_bars(config, bars.close.shape[0])
    entries, exits = get_spec(config).signals(bars.open_, bars.high, bars.low, bars.close, config)
    sim = simulate(bars.open_, bars.high, bars.low, bars.close, entries, exits, settings.sim_params())
    ann = settings.periods_per_year or periods_per_year(bars.timestamps_ns)
    return BacktestResult(
        config=config,
        settings=settings,
        timestamps_ns=bars.timestamps_ns,
        close=bars.close,
        sim=sim,
        annualization=float(ann),
    )


def backtest_arrays(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    timestamps_ns: np.ndarray,
    config: StrategyConfigBase | Mapping[str, Any],
    settings: BacktestSettings | Mapping[str, Any] | None = None,
    **costs: Any,
) -> BacktestResult:
    """Backtest from numpy arrays (timestamps as int64 ns UTC). Raises ``BarsValidationError`` for bad bars,
    ``pydantic.ValidationError`` for a bad config or settings."""
    parsed = parse_strategy_config(config)
    resolved = _resolve_settings(settings, costs)
    return _run(validate_bars(open_, high, low, close, timestamps_ns), parsed, resolved)


_TIME_COLUMNS = ("timestamp", "datetime", "date", "time")


def bars_from_frame(bars: pd.DataFrame) -> BarArrays:
    """Arrays from a DataFrame indexed by timestamp (or with a date/timestamp column), columns any case."""
    import pandas as pd

    if not isinstance(bars, pd.DataFrame):
        raise BarsValidationError(f"bars must be a pandas DataFrame, got {type(bars).__name__}")
    if bars.empty:
        raise BarsValidationError("no bars: the price data is empty")
    labels = bars.columns.tolist()
    columns = {str(c).strip().lower(): c for c in labels}
    missing = [name for name in ("open", "high", "low", "close") if name not in columns]
    if missing:
        raise BarsValidationError(f"bars are missing column(s) {', '.join(missing)}; got {labels}")
    index = bars.index
    if not isinstance(index, pd.DatetimeIndex):
        time_col = next((columns[c] for c in _TIME_COLUMNS if c in columns), None)
        if time_col is None:
            raise BarsValidationError("bars need a DatetimeIndex or a timestamp/date column")
        index = pd.DatetimeIndex(pd.to_datetime(bars[time_col], utc=True))
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)  # naive timestamps are taken as UTC
    timestamps = np.ascontiguousarray(index.as_unit("ns").asi8, dtype=np.int64)
    if (timestamps == np.iinfo(np.int64).min).any():
        raise BarsValidationError("bars contain a missing (NaT) timestamp")
    prices = np.empty((4, timestamps.shape[0]))  # one contiguous row per price series for the kernels
    for row, name in enumerate(("open", "high", "low", "close")):
        try:
            prices[row] = bars[columns[name]].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise BarsValidationError(f"{name} prices are not numeric: {exc}") from exc
    return validate_prices(prices, timestamps)


def backtest(
    bars: pd.DataFrame,
    config: StrategyConfigBase | Mapping[str, Any],
    settings: BacktestSettings | Mapping[str, Any] | None = None,
    **costs: Any,
) -> BacktestResult:
    """Backtest a strategy on a DataFrame of bars; ``costs`` are ``BacktestSettings`` fields
    (``initial_cash=10_000, commission=0.0, slippage_bps=0.0``...)."""
    parsed = parse_strategy_config(config)
    resolved = _resolve_settings(settings, costs)
    return _run(bars_from_frame(bars), parsed, resolved)


_SWEEP_SIGNAL_BYTES = 64 * 2**20  # budget for one chunk's entry+exit matrices (bool, 2 bytes per bar)


def sweep(
    bars: pd.DataFrame,
    config_type: str,
    grid: Mapping[str, Sequence[Any]],
    metric: str = "sharpe_ratio",
    settings: BacktestSettings | Mapping[str, Any] | None = None,
    *,
    progress: bool | None = None,
    **costs: Any,
) -> pd.DataFrame:
    """Backtest every combination of ``grid`` in parallel numba kernels; best ``metric`` first.

    Combinations the config model rejects (e.g. fast ≥ slow) are skipped; fixed parameters can be
    given as one-element lists. ``progress``: a rich progress bar on stderr (default: when stderr is a
    terminal and the grid has more than 200 combinations).
    """
    import itertools
    import sys

    import pandas as pd
    from pydantic import ValidationError

    from quantops.engine.sweep import SWEEP_METRICS, simulate_many
    from quantops.strategies import STRATEGY_TYPES

    if config_type not in STRATEGY_TYPES:
        raise ValueError(
            f"config_type: unknown strategy type {config_type!r}; known: {sorted(STRATEGY_TYPES)}"
        )
    if metric not in SWEEP_METRICS:
        raise ValueError(f"metric: {metric!r} is not one of {', '.join(SWEEP_METRICS)}")
    spec = STRATEGY_TYPES[config_type]
    names = list(grid)
    values = [list(v) if isinstance(v, Sequence) and not isinstance(v, str) else [v] for v in grid.values()]
    resolved = _resolve_settings(settings, costs)
    arrays = bars_from_frame(bars)
    n = arrays.close.shape[0]

    configs: list[StrategyConfigBase] = []
    for combo in itertools.product(*values):
        try:
            configs.append(
                spec.model.model_validate(
                    {"config_type": config_type, **dict(zip(names, combo, strict=True))}
                )
            )
        except ValidationError:
            continue
    if not configs:
        raise ValueError(f"grid: no valid {config_type} parameter combination in {dict(grid)}")
    for cfg in configs:
        check_enough_bars(cfg, n)

    params = resolved.sim_params()
    ann = resolved.periods_per_year or periods_per_year(arrays.timestamps_ns)
    show = progress if progress is not None else (sys.stderr.isatty() and len(configs) > 200)
    bar = None
    if show:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        # rich is the project's one progress-bar library (the data CLI uses it too)
        bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(stderr=True),
        )  # fmt: skip
        bar.start()
        task = bar.add_task(f"sweep {config_type}", total=len(configs))
    results = np.empty((len(configs), len(SWEEP_METRICS)))
    # chunks bound the signal memory on long series and let the progress bar move
    chunk_rows = int(min(256, max(4, _SWEEP_SIGNAL_BYTES // (2 * n))))
    try:
        for start in range(0, len(configs), chunk_rows):
            chunk = configs[start : start + chunk_rows]
            entries = np.empty((len(chunk), n), dtype=np.bool_)
            exits = np.empty((len(chunk), n), dtype=np.bool_)
            if spec.signals_many is not None:
                spec.signals_many(arrays.open_, arrays.high, arrays.low, arrays.close, chunk, entries, exits)
            else:
                for row, cfg in enumerate(chunk):
                    entries[row], exits[row] = spec.signals(
                        arrays.open_, arrays.high, arrays.low, arrays.close, cfg
                    )
            results[start : start + len(chunk)] = simulate_many(
                arrays.open_,
                arrays.high,
                arrays.low,
                arrays.close,
                entries,
                exits,
                params,
                ann,
                resolved.risk_free_rate,
            )
            if bar is not None:
                bar.advance(task, len(chunk))
    finally:
        if bar is not None:
            bar.stop()

    table = pd.DataFrame([cfg.model_dump(exclude={"config_type"}) for cfg in configs])
    metrics = pd.DataFrame(results, columns=list(SWEEP_METRICS))
    metrics["num_trades"] = metrics["num_trades"].astype(np.int64)
    table = pd.concat([table, metrics], axis=1)
    # Best first by the catalogue's direction (its one ordering rule); undefined values last.
    direction = catalogue.BY_STATS_KEY[metric].direction
    return table.sort_values(
        metric, key=direction.key, na_position="last", kind="stable"
    ).reset_index(drop=True)
