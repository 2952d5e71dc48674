"""One tool registry for every brain (offline planner, LLM agent) and adapter (REST, WebSocket, Slack).

Each tool has a pydantic argument model — the same schemas the REST API validates with — from which
the JSON schema of the LLM tool definition is generated. Tools act through the service container as
the calling user, so they can only touch that user's resources (services answer 404 otherwise).

Roles → tools (documented in docs/chat.md) derive from ``services.policy.POLICY``. The effective roles
of a turn (``services.policy.effective_roles``): the request's ``user_roles`` narrow the roles the server
granted; empty = all of them; ``admin`` includes every role.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from quantops.data.errors import MarketDataError, UnknownSymbolError
from quantops.data.timeutil import ns_to_iso
from quantops.services.comparison import MetricName, MissingBacktests, StrategyComparisonRequest
from quantops.services.errors import (
    ConflictError,
    NotFoundError,
    ServiceError,
    ValidationFailed,
    validation_summary,
)
from quantops.services.inputs import NUL_MESSAGE, nul_locations, without_nul
from quantops.services.market_data import as_service_error
from quantops.services.policy import allowed_actions
from quantops.services.schemas import ROLES, BacktestCreate, MarketDate, StrategyCreate, Symbol, UserContext
from quantops.services.strategies import UnresolvedStrategyName

if TYPE_CHECKING:
    from quantops.services.container import Container

log = logging.getLogger(__name__)

# Every chat tool is a policy action (services.policy.POLICY): the roles → tools table is derived from
# the one policy the services enforce, so a tool is allowed exactly when the REST call is.
CHAT_TOOLS: frozenset[str] = frozenset(
    {
        "get_backtest",
        "list_backtests",
        "list_strategies",
        "cache_status",
        "market_data",
        "run_backtest",
        "cancel_backtest",
        "create_strategy",
        "compare_strategies",
    }
)
KNOWN_ROLES = ROLES


def allowed_tools(roles: Iterable[str]) -> frozenset[str]:
    """The chat tools the roles may use (``admin`` includes every role)."""
    return allowed_actions(roles) & CHAT_TOOLS


ROLE_TOOLS: dict[str, frozenset[str]] = {role: allowed_tools({role}) for role in ROLES}


# ---- argument models (the REST schemas where a REST endpoint exists) ----------------------------------
class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GetBacktestArgs(_Args):
    backtest_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_\-]+$", description="id of one of your backtests"
    )


class CancelBacktestArgs(GetBacktestArgs):
    pass


class ListBacktestsArgs(_Args):
    status: Literal["pending", "running", "completed", "failed", "cancelled"] | None = None
    limit: int = Field(default=10, ge=1, le=100)
    symbol: Symbol | None = None
    sort_by: MetricName | None = Field(
        default=None, description="rank completed backtests by this metric ('which was best?')"
    )
    order: Literal["best", "worst"] | None = Field(
        default=None, description="with sort_by: best first (default) or worst first"
    )

    @model_validator(mode="after")
    def _best_means_total_return(self) -> ListBacktestsArgs:
        if self.order is not None and self.sort_by is None:  # "best" with no metric named
            self.sort_by = "total_return"
        return self


class NoArgs(_Args):
    pass


class MarketDataArgs(_Args):
    symbol: Symbol
    start: MarketDate | None = None
    end: MarketDate | None = None
    last: int = Field(default=5, ge=1, le=100, description="how many of the latest bars to return")


# The REST comparison request as it is: `strategy_ids` or `latest_n` ("my last N strategies") and the
# `fallback_symbol` (the session's last symbol) are resolved by the comparison service itself.
CompareStrategiesArgs = StrategyComparisonRequest


class MissingSlot(ValidationFailed):
    """The tool needs one more thing from the user (the chat asks for it instead of failing).

    ``problem`` says what is wrong in words the chat can render in any language:
    {"kind": "unknown"|"ambiguous"|..., "value": what the user typed, "candidates": [...]}."""

    def __init__(
        self,
        slot: str,
        message: str,
        details: list[str] | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(slot, "missing", message)
        self.details = details or []
        self.problem = problem or {}


class NeedsTool(ServiceError):
    """The call would have to use another tool the caller's roles do not allow."""

    status_code = 403

    def __init__(self, tool: str, message: str) -> None:
        super().__init__(message)
        self.tool = tool


# ---- registry -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ToolContext:
    user: UserContext
    container: Container
    # Progress of long tools (a started backtest) for streaming clients; language of the question.
    progress: Callable[[str], Awaitable[None]] | None = None
    language: str = "en"
    # Tools the effective roles allow (set by ToolRegistry.call): a tool that needs another one checks it.
    allowed: frozenset[str] | None = None


Handler = Callable[[ToolContext, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    args_model: type[BaseModel]
    handler: Handler

    def openai_definition(self) -> dict[str, Any]:
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        schema.setdefault("properties", {})
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": schema},
        }


@dataclass(slots=True)
class ToolOutcome:
    """What one tool call produced: a JSON-safe result, or an error message safe to show."""

    name: str
    args: dict[str, Any]
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None
    denied: bool = False
    status_code: int | None = None
    # A slot the user must still give (e.g. "symbol"), with the details for the question.
    missing: str | None = None
    missing_details: list[str] = field(default_factory=list)
    # What went wrong in words any language can render: {"kind": ..., "value": ..., ...} (see MissingSlot).
    problem: dict[str, Any] = field(default_factory=dict)
    # Other tools this call needed but the roles refused (reported in denied_tools).
    denied_tools: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tool": self.name, "arguments": self.args, "ok": self.ok}
        if self.result is not None:
            out["result"] = self.result
        if self.error is not None:
            out["error"] = self.error
        if self.denied:
            out["denied"] = True
        return out


def _problem_of(exc: ServiceError) -> dict[str, Any]:
    """A service error in words any language can render (see ToolOutcome.problem)."""
    if isinstance(exc, NotFoundError):
        return {"kind": "not_found", "resource": exc.kind, "value": exc.resource_id}
    return dict(getattr(exc, "problem", None) or {})


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def openai_tools(self, allowed: Iterable[str] | None = None) -> list[dict[str, Any]]:
        names = set(allowed) if allowed is not None else set(self._tools)
        return [tool.openai_definition() for tool in self._tools.values() if tool.name in names]

    async def call(
        self, name: str, raw_args: dict[str, Any], ctx: ToolContext, allowed: frozenset[str]
    ) -> ToolOutcome:
        """Validate and run one tool as ``ctx.user``; never raises for expected failures."""
        tool = self._tools.get(name)
        if tool is None:
            return ToolOutcome(name, raw_args, ok=False, error=f"unknown tool {name!r}", status_code=404)
        if name not in allowed:
            return ToolOutcome(
                name, raw_args, ok=False, denied=True, error="not allowed for your roles", status_code=403
            )
        if found := nul_locations(raw_args):
            where = ".".join(str(part) for part in found[0]) or "arguments"
            error = f"{where}: {NUL_MESSAGE}"
            return ToolOutcome(name, without_nul(raw_args), ok=False, error=error, status_code=422)
        try:
            args = tool.args_model.model_validate(raw_args)
        except ValidationError as exc:
            return ToolOutcome(name, raw_args, ok=False, error=validation_summary(exc), status_code=422)
        ctx = dataclasses.replace(ctx, allowed=allowed)
        try:
            result = await tool.handler(ctx, args)
        except NeedsTool as exc:
            return ToolOutcome(
                name, raw_args, ok=False, error=exc.message, status_code=403, denied_tools=[exc.tool]
            )
        except ServiceError as exc:
            slot = exc if isinstance(exc, MissingSlot) else None  # the chat asks for it instead
            return ToolOutcome(
                name,
                raw_args,
                ok=False,
                error=exc.message,
                status_code=exc.status_code,
                missing=slot.field if slot else None,
                missing_details=slot.details if slot else [],
                problem=_problem_of(exc),
            )
        except (ValueError, LookupError) as exc:  # data-layer errors carry user-facing messages
            return ToolOutcome(name, raw_args, ok=False, error=str(exc), status_code=422)
        return ToolOutcome(name, raw_args, ok=True, result=result)


# ---- handlers -----------------------------------------------------------------------------------------
def _dump(model: Any) -> dict[str, Any]:
    if isinstance(model, BaseModel):
        return model.model_dump(mode="json")
    if isinstance(model, dict):
        return model
    raise TypeError(f"unexpected service result {type(model).__name__}")


def _backtest_summary(backtest: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "id", "status", "strategy_id", "config", "settings", "symbol", "start", "end", "data_start",
        "data_end", "created_at", "finished_at", "estimated_duration_seconds", "error", "stats", "report_url",
    )  # fmt: skip
    return {key: backtest.get(key) for key in keep}


async def _run_backtest(ctx: ToolContext, args: BacktestCreate, wait_seconds: float) -> dict[str, Any]:
    backtests = ctx.container.backtests
    submitted = await backtests.submit(ctx.user, args)
    if ctx.progress is not None and wait_seconds > 0:
        eta = submitted.estimated_duration_seconds or 0.0
        if ctx.language == "ko":
            await ctx.progress(f"백테스트 {submitted.id} 시작 ({submitted.symbol}, 예상 {eta:.1f}초)…")
        else:
            await ctx.progress(f"Started backtest {submitted.id} on {submitted.symbol} (~{eta:.1f} s)…")
    if wait_seconds > 0:
        submitted = await backtests.wait(ctx.user, submitted.id, timeout=wait_seconds)
    return _backtest_summary(_dump(submitted))


async def _get_backtest(ctx: ToolContext, args: GetBacktestArgs) -> dict[str, Any]:
    return _backtest_summary(_dump(await ctx.container.backtests.get(ctx.user, args.backtest_id)))


class CancelRefused(ConflictError):
    """The backtest already finished: nothing to cancel (its status, for the answer in any language)."""

    def __init__(self, message: str, backtest_id: str, status: str) -> None:
        super().__init__(message)
        self.problem = {"kind": "finished", "value": backtest_id, "status": status}


async def _cancel_backtest(ctx: ToolContext, args: CancelBacktestArgs) -> dict[str, Any]:
    backtests = ctx.container.backtests
    try:
        return _backtest_summary(_dump(await backtests.cancel(ctx.user, args.backtest_id)))
    except ConflictError as exc:
        current = await backtests.get(ctx.user, args.backtest_id)
        raise CancelRefused(exc.message, current.id, current.status) from exc


async def _list_backtests(ctx: ToolContext, args: ListBacktestsArgs) -> dict[str, Any]:
    order = args.order or "best"
    page = await ctx.container.backtests.list(
        ctx.user,
        status=args.status,
        symbol=args.symbol,
        limit=args.limit,
        sort_by=args.sort_by,
        order=order,
    )
    rows = [_backtest_summary(_dump(item)) for item in page.items]
    return {
        "items": rows,
        "count": len(rows),
        "total": page.total,
        "status": args.status,
        "symbol": args.symbol,
        "sort_by": args.sort_by,
        "order": order if args.sort_by else None,
    }


async def _list_strategies(ctx: ToolContext, args: NoArgs) -> dict[str, Any]:
    strategies = await ctx.container.strategies.list(ctx.user)
    rows = [_dump(s) for s in strategies]
    return {
        "items": [
            {k: row.get(k) for k in ("id", "name", "description", "config", "created_at")} for row in rows
        ],
        "count": len(rows),
    }


async def _create_strategy(ctx: ToolContext, args: StrategyCreate) -> dict[str, Any]:
    return _dump(await ctx.container.strategies.create(ctx.user, args))


async def _compare_strategies(ctx: ToolContext, args: StrategyComparisonRequest) -> dict[str, Any]:
    comparison = ctx.container.comparison
    if comparison is None:
        raise ServiceError("strategy comparison is not available on this server yet")

    async def before_runs(labels: list[str], symbol: str) -> None:
        if ctx.allowed is not None and "run_backtest" not in ctx.allowed:
            raise NeedsTool(
                "run_backtest",
                f"comparing needs new backtests of {', '.join(labels)}, and your roles may not run backtests",
            )
        if ctx.progress is not None:  # streaming clients see why this turn takes a while
            if ctx.language == "ko":
                await ctx.progress(f"{symbol}에서 백테스트 {len(labels)}개를 먼저 실행하고 비교해요…")
            else:
                await ctx.progress(f"Running {len(labels)} backtest(s) on {symbol} first, then comparing…")

    try:
        result = await comparison.compare(ctx.user, args, before_runs=before_runs)
    except MissingBacktests as exc:  # the chat asks for the symbol instead of failing
        raise MissingSlot(
            "symbol", f"{exc.message}; name a symbol to run the comparison on", exc.labels
        ) from exc
    except UnresolvedStrategyName as exc:  # ... and about a name that is none or several of theirs
        raise MissingSlot(
            "strategy_names",
            exc.message,
            [exc.name, *exc.candidates],
            {"kind": exc.kind, "value": exc.name, "candidates": exc.candidates},
        ) from exc
    return _dump(result)


async def _cache_status(ctx: ToolContext, args: NoArgs) -> dict[str, Any]:
    if ctx.container.market_data is None:
        raise ServiceError("this process has no market-data store")
    return _dump(await ctx.container.market_data.cache_status(ctx.user))  # path: admins only


async def _market_data(ctx: ToolContext, args: MarketDataArgs) -> dict[str, Any]:
    market = ctx.container.market_data
    if market is None:
        raise ServiceError("this process has no market-data store")
    try:  # one read; the same error mapping as the REST endpoint (unknown symbol 404, bad range 422)
        bars = await market.bars_raw(args.symbol, args.start, args.end, "1d")
    except UnknownSymbolError as exc:
        raise NotFoundError("symbol", exc.symbol) from exc
    except MarketDataError as exc:
        raise as_service_error(exc) from exc
    # Only the bars shown get a timestamp string (not a pandas index of the whole history).
    stamps = bars.timestamps
    count = len(bars)
    latest = [
        {
            "timestamp": ns_to_iso(int(stamps[i])),
            "open": float(bars.open[i]),
            "high": float(bars.high[i]),
            "low": float(bars.low[i]),
            "close": float(bars.close[i]),
            "volume": float(bars.volume[i]),
        }
        for i in range(max(0, count - args.last), count)
    ]
    return {
        "symbol": bars.symbol,
        "count": count,
        "first": ns_to_iso(int(stamps[0])) if count else None,
        "last": ns_to_iso(int(stamps[-1])) if count else None,
        "bars": latest,
    }


def build_registry(backtest_wait_seconds: float = 20.0) -> ToolRegistry:
    """The registry every chat brain and adapter uses."""

    async def run_backtest(ctx: ToolContext, args: BacktestCreate) -> dict[str, Any]:
        return await _run_backtest(ctx, args, backtest_wait_seconds)

    return ToolRegistry(
        [
            Tool(
                "run_backtest",
                "Run a backtest of a saved strategy (strategy_id) or an inline strategy_config on a symbol "
                "over an optional start/end period; waits briefly and returns status and stats.",
                BacktestCreate,
                run_backtest,
            ),
            Tool(
                "get_backtest",
                "Status, stats and error of one of the user's backtests.",
                GetBacktestArgs,
                _get_backtest,
            ),
            Tool(
                "cancel_backtest",
                "Cancel one of the user's pending or running backtests.",
                CancelBacktestArgs,
                _cancel_backtest,
            ),
            Tool(
                "list_backtests",
                "The user's backtests, newest first, optionally filtered by status and symbol; with sort_by "
                "(a metric) the completed ones ranked best first (order='worst': worst first).",
                ListBacktestsArgs,
                _list_backtests,
            ),
            Tool("list_strategies", "The user's saved strategies.", NoArgs, _list_strategies),
            Tool(
                "create_strategy",
                "Save a named strategy config for the user.",
                StrategyCreate,
                _create_strategy,
            ),
            Tool(
                "compare_strategies",
                "Compare 2-5 of the user's strategies (strategy_ids, or latest_n = their N newest) on real "
                "backtest results by the given metrics; symbol sets common ground (missing backtests are "
                "run), fallback_symbol is used only when a strategy has no completed backtest.",
                CompareStrategiesArgs,
                _compare_strategies,
            ),
            Tool(
                "cache_status",
                "Which symbols and date ranges the market-data cache holds.",
                NoArgs,
                _cache_status,
            ),
            Tool(
                "market_data",
                "Latest daily bars of a symbol from the market-data store.",
                MarketDataArgs,
                _market_data,
            ),
        ]
    )
