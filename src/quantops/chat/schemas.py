"""Pydantic shapes of the ChatOps API (the original platform's names, plus structured extras)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from quantops.services.inputs import Text

Engine = Literal["llm", "offline"]


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"question": "backtest sma 10/50 on MSFT 2018-2022", "user_roles": ["analyst"]}]
        }
    )
    question: Text = Field(min_length=1, max_length=5000)  # Text: no NUL (also over the WebSocket)
    user_roles: list[Text] = Field(default_factory=list, max_length=10)
    include_history: StrictBool = True


class ChatResponse(BaseModel):
    session_id: str
    query: str
    answer: str
    conversation_turn: int
    engine: Engine = Field(description="which brain answered: llm or offline (planner)")
    language: Literal["en", "ko"]
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    backtest_ids: list[str] = Field(default_factory=list, description="backtests started by this turn")
    denied_tools: list[str] = Field(default_factory=list)
    effective_roles: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime


class ChatMessage(BaseModel):
    role: Literal["user", "assistant", "system", "tool"]
    content: str
    timestamp: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)


class ChatSessionOut(BaseModel):
    """The original platform's ChatSession."""

    session_id: str
    user_id: str
    conversation_history: list[ChatMessage]
    context: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    is_active: bool
    expires_at: datetime | None = None


class ChatSessionSummary(BaseModel):
    session_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    is_active: bool


class SessionCreated(BaseModel):
    session_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime | None


class AutoBacktestRequest(BaseModel):
    """The original platform's AutoBacktestRequest.

    ``strategy_config`` is the original's ``StrategyCreate`` (``{"name", "description", "config":
    {"config_type": "rsi_mean_reversion", ...}}``), a flat engine config (``{"config_type":
    "sma_crossover", ...}``) or ``{"strategy_id": ...}``. It may carry ``symbol`` and ``start``/``end``
    (or the original ``start_date``/``end_date``), which can be given at the top level as well; without a
    symbol the backtest runs on ``QUANTOPS_DEFAULT_SYMBOL`` over its full stored range.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "strategy_config": {
                        "name": "Test RSI Strategy",
                        "description": "RSI based test strategy",
                        "config": {
                            "config_type": "rsi_mean_reversion",
                            "rsi_period": 14,
                            "oversold": 30,
                            "overbought": 70,
                        },
                    },
                    "trigger_reason": "사용자 요청",
                    "generate_report": True,
                    "notify_on_completion": False,
                },
                {
                    "strategy_config": {
                        "config_type": "sma_crossover",
                        "fast": 10,
                        "slow": 50,
                        "symbol": "AAPL",
                    },
                    "trigger_reason": "nightly re-run",
                    "generate_report": True,
                    "notify_on_completion": True,
                },
            ]
        },
    )
    strategy_config: dict[str, Any]
    trigger_reason: str = Field(min_length=1, max_length=500)
    generate_report: StrictBool = True
    notify_on_completion: StrictBool = True
    symbol: str | None = Field(default=None, max_length=32)
    start: str | None = None
    end: str | None = None


class AutoBacktestResponse(BaseModel):
    backtest_id: str
    status: str
    estimated_duration_seconds: int = Field(description="whole seconds, rounded up (as the original)")
    report_url: str | None
    trigger_reason: str
    strategy_name: str | None = Field(default=None, description="the StrategyCreate name, when given")
    symbol: str = Field(description="the symbol it runs on (the default symbol when none was given)")
    start: date | None = Field(default=None, description="null: from the first stored bar")
    end: date | None = Field(default=None, description="null: to the last stored bar")
    note: str | None = Field(default=None, description="what was assumed (default symbol, full range)")


class ExportFormat(BaseModel):
    format: Literal["json", "markdown"] = "json"
