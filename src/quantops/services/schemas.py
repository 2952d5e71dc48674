"""Pydantic schemas at the service edge (API bodies/responses, chat tools)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from quantops.backtest import BacktestSettings
from quantops.data.timeutil import MAX_DATE, MIN_DATE
from quantops.strategies import StrategyConfig, StrategyCreate

ROLES = ("admin", "devops", "engineer", "analyst", "viewer")
Role = Literal["admin", "devops", "engineer", "analyst", "viewer"]
BacktestStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
Interval = Literal["1d"]
Symbol = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
# A date of market data (backtest/compare/bars periods): the data layer's supported calendar.
# JSON Schema has no date bounds: the pattern says it (years 1900-2199, or MAX_DATE itself).
MARKET_DATE_PATTERN = (
    r"^((19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])|" + MAX_DATE.isoformat() + ")$"
)
MarketDate = Annotated[
    date,
    Field(ge=MIN_DATE, le=MAX_DATE),
    WithJsonSchema({"type": "string", "format": "date", "pattern": MARKET_DATE_PATTERN}),
]


@dataclass(frozen=True, slots=True)
class UserContext:
    """The acting user, passed first to every service method."""

    id: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---- users -------------------------------------------------------------------------------------------


class UserOut(_Out):
    id: str
    name: str
    roles: list[str]
    webhook_url: str | None = None
    created_at: datetime


class UserCreated(UserOut):
    api_key: str = Field(description="shown once; only its hash is stored")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[\w.@-]+$")
    ]
    roles: list[Role] = Field(default_factory=lambda: ["analyst"], min_length=1)


class UserSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"webhook_url": None}]})
    webhook_url: AnyHttpUrl | None = Field(
        default=None, description="POSTed a JSON event when a backtest with notify_on_completion ends"
    )


# ---- strategies --------------------------------------------------------------------------------------

_SMA_EXAMPLE: dict[str, Any] = {"config_type": "sma_crossover", "fast": 10, "slow": 20}


__all__ = ["StrategyCreate"]  # re-exported: the engine layer owns it


class StrategyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "SMA 10/30"}]})
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    config: StrategyConfig | None = None


class StrategyOut(_Out):
    id: str
    name: str
    description: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class StrategyValidation(BaseModel):
    valid: bool
    config: dict[str, Any]
    description: str = ""
    min_bars: int


# ---- backtests ---------------------------------------------------------------------------------------


class BacktestCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "strategy_config": _SMA_EXAMPLE,
                    "symbol": "AAPL",
                    "start": "2015-01-01",
                    "end": "2024-12-31",
                    "settings": {"initial_cash": 100000, "commission": 0.001, "slippage_bps": 5},
                    "generate_report": True,
                    "notify_on_completion": False,
                }
            ]
        },
    )
    strategy_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="a saved strategy; or give strategy_config"
    )
    strategy_config: StrategyConfig | None = Field(default=None, description="an inline strategy config")
    symbol: Symbol
    start: MarketDate | None = None
    end: MarketDate | None = None
    interval: Interval = "1d"
    settings: BacktestSettings = Field(default_factory=BacktestSettings)
    generate_report: StrictBool = False  # strict: 0/1/"true" are not booleans
    notify_on_completion: StrictBool = False

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end <= start:
            raise ValueError("end must be after start")
        return end

    @model_validator(mode="after")
    def _one_strategy(self) -> BacktestCreate:
        if (self.strategy_id is None) == (self.strategy_config is None):
            raise ValueError("give exactly one of strategy_id or strategy_config")
        return self


class BacktestOut(_Out):
    id: str
    status: BacktestStatus
    strategy_id: str | None
    config: dict[str, Any]
    settings: dict[str, Any]
    symbol: str
    interval: str
    start: date | None
    end: date | None
    n_bars: int | None = None
    data_start: datetime | None = Field(default=None, description="first bar the backtest covers")
    data_end: datetime | None = Field(default=None, description="last bar the backtest covers")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    estimated_duration_seconds: float | None = None
    run_seconds: float | None = Field(default=None, description="compute time in the worker")
    attempts: int = 0
    error: str | None = None
    stats: dict[str, Any] | None = None
    generate_report: bool = False
    notify_on_completion: bool = False
    report_url: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")


class BacktestPage(BaseModel):
    items: list[BacktestOut]
    total: int
    limit: int
    offset: int


class BacktestResultOut(BaseModel):
    id: str
    stats: dict[str, Any]
    equity: list[tuple[datetime, float]] = Field(description="(timestamp, portfolio value) per bar")
    trades: list[dict[str, Any]]


# ---- market data -------------------------------------------------------------------------------------


class Bar(BaseModel):
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class BarsOut(BaseModel):
    symbol: str
    interval: str
    count: int
    bars: list[Bar]
