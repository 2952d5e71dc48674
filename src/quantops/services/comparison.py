"""Strategy comparison service (`container.comparison`): real backtest results → analysis → narrative.

Flow of :meth:`ComparisonService.compare`:
1. each strategy must be the caller's (404 otherwise);
2. pick each strategy's backtest: the newest completed one (matching ``symbol``/``start``/``end`` when
   given); with ``symbol`` given, a missing one is run (or a running one awaited) within
   ``wait_timeout_seconds``; none → 409 naming the strategy;
3. load the equity curves, put them on their common dates (too few → 422), run the numpy analysis
   (ranking, correlation, Monte Carlo, VaR/CVaR, regimes of the underlying) in a worker thread;
4. narrative from the LLM when configured and sane, else the deterministic writer;
5. write the HTML comparison page and return its ``report_url``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio.to_thread
import numpy as np
import openai
from openai import AsyncOpenAI
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from quantops.analysis import (
    SUPPORTED_METRICS,
    ComparisonAnalysis,
    ComparisonOptions,
    EquityCurve,
    InsufficientOverlapError,
    Narrative,
    UnderlyingPrices,
    analyze_comparison,
    detect_language,
    write_narrative,
)
from quantops.analysis.errors import AnalysisError
from quantops.analysis.narrative import REASONING_BOUNDS, RECOMMENDATION_BOUNDS, SUMMARY_BOUNDS
from quantops.backtest import BacktestSettings
from quantops.config import Settings
from quantops.data.errors import MarketDataError
from quantops.language import contains_hangul
from quantops.llm_client import make_llm_client
from quantops.services.errors import ConflictError, NotFoundError, ValidationFailed
from quantops.services.policy import require
from quantops.services.schemas import (
    BacktestCreate,
    BacktestOut,
    MarketDate,
    Name,
    StrategyOut,
    Symbol,
    UserContext,
)

if TYPE_CHECKING:
    from quantops.reports import ReportWriter
    from quantops.services.backtests import BacktestsService
    from quantops.services.container import Container
    from quantops.services.events import EventBus
    from quantops.services.market_data import MarketDataService
    from quantops.services.strategies import StrategiesService
    from quantops.urls import Links

log = logging.getLogger(__name__)

# The comparison's metric names: the catalogue's comparable metrics (quantops.engine.catalogue).
MetricName = Literal[SUPPORTED_METRICS]  # type: ignore[valid-type]
DEFAULT_METRICS: list[str] = ["total_return", "sharpe_ratio", "max_drawdown"]
COMPARISON_ID_PATTERN = r"^[0-9a-f]{32}$"
REPORT_KIND = "comparisons"
# Calendar days of underlying history loaded before the common window for the regime warm-up
# (219 trading bars ≈ 318 calendar days; a margin for holidays).
REGIME_HISTORY_DAYS = 340
StrategyId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# Backtests listed per strategy when looking for a matching completed one.
BACKTEST_SCAN_LIMIT = 200


# ---- request / response -------------------------------------------------------------------------------


class MonteCarloRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_resamples: int = Field(default=1_000, ge=100, le=10_000, description="bootstrap resamples")
    block_size: int | None = Field(
        default=None, ge=2, le=250, description="circular block bootstrap block length in days; null = i.i.d."
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


class StrategyComparisonRequest(BaseModel):
    """The original request (strategy_ids, metrics, natural_language_query) plus common-ground options.

    The strategies are ``strategy_ids``, ``latest_n`` (the caller's N newest, in the order they were
    created) **or** ``strategy_names`` (the caller's, by name, case-insensitive). ``symbol`` is the
    common ground (missing backtests are run on it); without it each strategy's newest completed
    backtest is used, and ``fallback_symbol`` is where the comparison runs when some strategy has none."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "strategy_ids": ["<id-1>", "<id-2>"],
                    "metrics": ["sharpe_ratio", "max_drawdown", "total_return"],
                    "natural_language_query": "Which strategy is safer?",
                },
                {
                    "latest_n": 3,
                    "metrics": ["volatility", "max_drawdown", "sharpe_ratio"],
                    "natural_language_query": "compare my last three strategies — which is most stable?",
                    "fallback_symbol": "AAPL",
                },
            ]
        },
    )
    strategy_ids: list[StrategyId] | None = Field(
        default=None, min_length=2, max_length=5, description="2-5 of your strategies (or latest_n)"
    )
    latest_n: int | None = Field(
        default=None, ge=2, le=5, description="compare your N newest strategies instead of strategy_ids"
    )
    strategy_names: list[Name] | None = Field(
        default=None,
        min_length=2,
        max_length=5,
        description="2-5 names of your saved strategies (case-insensitive) instead of strategy_ids",
    )
    metrics: list[MetricName] = Field(
        default_factory=lambda: list(DEFAULT_METRICS),
        min_length=1,
        max_length=8,
        description="ranking metrics",
    )
    natural_language_query: str | None = Field(default=None, max_length=5000)
    symbol: Symbol | None = Field(
        default=None, description="compare backtests on this symbol; missing ones are run first"
    )
    fallback_symbol: Symbol | None = Field(
        default=None,
        description="without symbol: run the comparison on this symbol only when some strategy has no "
        "completed backtest (else that is a 409 naming it)",
    )
    start: MarketDate | None = None
    end: MarketDate | None = None
    settings: BacktestSettings = Field(
        default_factory=BacktestSettings, description="costs/sizing for backtests this comparison runs"
    )
    wait_timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="how long to wait for backtests this comparison runs"
    )
    monte_carlo: MonteCarloRequest = Field(default_factory=MonteCarloRequest)
    generate_report: StrictBool = True

    @field_validator("strategy_ids")
    @classmethod
    def _unique_ids(cls, ids: list[str] | None) -> list[str] | None:
        if ids is not None and len(set(ids)) != len(ids):
            raise ValueError("strategy_ids must be unique")
        return ids

    @field_validator("metrics")
    @classmethod
    def _unique_metrics(cls, metrics: list[str]) -> list[str]:
        return list(dict.fromkeys(metrics))

    @model_validator(mode="after")
    def _period(self) -> StrategyComparisonRequest:
        given = [self.strategy_ids, self.latest_n, self.strategy_names]
        if sum(value is not None for value in given) != 1:
            raise ValueError("give exactly one of strategy_ids, latest_n or strategy_names")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.start is not None or self.end is not None) and self.symbol is None:
            raise ValueError("start/end need a symbol to run the backtests on")
        return self


class MissingBacktests(ConflictError):
    """Some strategies have no completed backtest and the request names no symbol to run them on."""

    def __init__(self, strategies: Sequence[StrategyOut], labels: Sequence[str]) -> None:
        named = ", ".join(f"{label!r} ({s.id})" for s, label in zip(strategies, labels, strict=True))
        verb = "has" if len(strategies) == 1 else "have"
        super().__init__(
            f"strategy {named} {verb} no completed backtest; run one, or pass symbol (and start/end) or "
            "fallback_symbol to have the comparison run it"
        )
        self.strategy_ids = [s.id for s in strategies]
        self.labels = list(labels)


# Called once the comparison knows it must run (or await) backtests: (strategy labels, symbol).
# A hook may raise to refuse (e.g. the chat when the caller's roles may not run backtests).
BeforeRuns = Callable[[list[str], str], Awaitable[None]]


class ComparedStrategy(BaseModel):
    """One compared strategy. Each metric is also a top-level key (``"total_return": 15.5``), as in the
    original platform's entries; ``metrics`` holds the same numbers."""

    model_config = ConfigDict(extra="allow")

    strategy_id: str
    name: str
    label: str = Field(description="unique display name used in the texts and the report")
    backtest_id: str
    symbol: str
    start: date | None
    end: date | None
    metrics: dict[str, float | None] = Field(description="on the common dates; win_rate from the backtest")
    num_trades: int | None = None

    @model_validator(mode="after")
    def _metrics_at_top_level(self) -> ComparedStrategy:
        extra = self.__pydantic_extra__
        if extra is not None:
            fields = type(self).model_fields
            extra.update({name: value for name, value in self.metrics.items() if name not in fields})
        return self


class RankingEntry(BaseModel):
    rank: int
    strategy_id: str
    name: str
    composite_score: float = Field(description="mean of the per-metric ranks (lower is better)")
    metric_ranks: dict[str, int]


class StrategyComparisonResult(BaseModel):
    comparison_id: str
    query: str
    language: Literal["en", "ko"]
    strategies: list[ComparedStrategy]
    ranking: list[str] = Field(description="strategy ids, best first (the original's List[str])")
    ranking_details: list[RankingEntry] = Field(
        description="per strategy: rank, composite score and per-metric ranks, best first"
    )
    summary: str = Field(min_length=SUMMARY_BOUNDS[0], max_length=SUMMARY_BOUNDS[1])
    recommendation: str = Field(min_length=RECOMMENDATION_BOUNDS[0], max_length=RECOMMENDATION_BOUNDS[1])
    reasoning: str = Field(min_length=REASONING_BOUNDS[0], max_length=REASONING_BOUNDS[1])
    narrative_source: Literal["llm", "deterministic"]
    narrative_note: str | None = Field(default=None, description="why the LLM text was not used")
    analysis: dict[str, Any]
    ran_backtests: list[str] = Field(
        default_factory=list, description="backtests started for this comparison"
    )
    strategy_ids: list[str] = Field(
        default_factory=list, description="the compared strategies (latest_n resolved), in request order"
    )
    symbol: str | None = Field(default=None, description="common ground the backtests were run on, if any")
    symbol_source: Literal["request", "fallback"] | None = Field(
        default=None, description="where symbol came from: the request's symbol or its fallback_symbol"
    )
    strategies_without_backtest: list[str] = Field(
        default_factory=list, description="strategies that had no completed backtest for the request"
    )
    report_url: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)


# ---- LLM narrative ------------------------------------------------------------------------------------

_NARRATIVE_SYSTEM_PROMPT = (
    "You explain a comparison of trading strategies to an investor. Use only the numbers in the JSON "
    "facts you are given; never invent or estimate figures. Percent fields are already in percent. "
    "Write in {language}. Reply with one JSON object with exactly these string keys: "
    '"summary" ({s_min}-{s_max} characters: what was compared and who ranked first), '
    '"recommendation" ({r_min}-{r_max} characters: which strategy to prefer and why), '
    '"reasoning" ({q_min}-{q_max} characters: the metrics, Monte Carlo, risk and regime figures behind it).'
)
_LANGUAGE_NAMES = {"en": "English", "ko": "Korean (한국어)"}
_CODE_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


class NarrativeUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NarrativeTexts(BaseModel):
    summary: str = Field(min_length=SUMMARY_BOUNDS[0], max_length=SUMMARY_BOUNDS[1])
    recommendation: str = Field(min_length=RECOMMENDATION_BOUNDS[0], max_length=RECOMMENDATION_BOUNDS[1])
    reasoning: str = Field(min_length=REASONING_BOUNDS[0], max_length=REASONING_BOUNDS[1])

    @field_validator("summary", "recommendation", "reasoning", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class LLMNarrator:
    """Asks an OpenAI-compatible chat model for the three texts, grounded in the analysis facts."""

    def __init__(self, settings: Settings, client: AsyncOpenAI | None = None) -> None:
        self.model = settings.llm_model
        self.temperature = settings.llm_temperature
        self.max_tokens = settings.llm_max_tokens
        # The SDK timeout is per read: a server trickling its body would hold the comparison for minutes.
        self.deadline = settings.llm_turn_deadline_seconds
        # No SDK retries: a failing LLM should fall back to the deterministic writer at once.
        self.client = client or make_llm_client(settings)

    async def close(self) -> None:
        await self.client.close()

    async def write(self, facts: dict[str, Any], query: str, language: Literal["en", "ko"]) -> Narrative:
        system = _NARRATIVE_SYSTEM_PROMPT.format(
            language=_LANGUAGE_NAMES[language],
            s_min=SUMMARY_BOUNDS[0],
            s_max=SUMMARY_BOUNDS[1],
            r_min=RECOMMENDATION_BOUNDS[0],
            r_max=RECOMMENDATION_BOUNDS[1],
            q_min=REASONING_BOUNDS[0],
            q_max=REASONING_BOUNDS[1],
        )
        user = (
            f"Question: {query}\nFacts (JSON): {json.dumps(facts, ensure_ascii=False, separators=(',', ':'))}"
        )
        try:
            async with asyncio.timeout(self.deadline):
                completion = await self.client.chat.completions.create(
                    model=self.model,
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                    response_format={"type": "json_object"},
                )
        except TimeoutError as exc:
            raise NarrativeUnavailable("deadline") from exc
        except openai.APITimeoutError as exc:
            raise NarrativeUnavailable("timeout") from exc
        except openai.APIConnectionError as exc:
            raise NarrativeUnavailable("connection_error") from exc
        except openai.APIStatusError as exc:
            raise NarrativeUnavailable(f"http_{exc.status_code}") from exc
        except openai.OpenAIError as exc:
            raise NarrativeUnavailable(f"error: {type(exc).__name__}") from exc
        if not completion.choices or not completion.choices[0].message.content:
            raise NarrativeUnavailable("malformed_output: empty answer")
        content = _CODE_FENCE.sub("", completion.choices[0].message.content.strip())
        try:
            texts = _NarrativeTexts.model_validate(json.loads(content))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise NarrativeUnavailable(
                "malformed_output: not the three texts within their length bounds"
            ) from exc
        if language == "ko" and not all(contains_hangul(t) for t in (texts.summary, texts.recommendation)):
            raise NarrativeUnavailable("wrong_language")
        return Narrative(language, texts.summary, texts.recommendation, texts.reasoning)


# ---- the service --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Selected:
    strategy: StrategyOut
    label: str
    backtest: BacktestOut


@dataclass(frozen=True, slots=True)
class _Ground:
    """Where the comparison's missing backtests run: symbol, its source, who lacked a backtest."""

    symbol: str | None
    source: Literal["request", "fallback"] | None
    without: list[str]


def _unique_labels(strategies: Sequence[StrategyOut]) -> list[str]:
    counts = Counter(s.name for s in strategies)
    return [s.name if counts[s.name] == 1 else f"{s.name} (#{s.id[:6]})" for s in strategies]


def _matches(backtest: BacktestOut, request: StrategyComparisonRequest) -> bool:
    if request.symbol is not None and backtest.symbol != request.symbol:
        return False
    if request.start is not None and backtest.start != request.start:
        return False
    return not (request.end is not None and backtest.end != request.end)


def _float_or_nan(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


@dataclass(frozen=True, slots=True)
class _Loaded:
    timestamps: np.ndarray
    values: np.ndarray
    stats: dict[str, Any]


def narrative_facts(analysis: dict[str, Any], strategies: Sequence[ComparedStrategy]) -> dict[str, Any]:
    """The numbers the LLM may cite (everything the deterministic writer uses, nothing else)."""
    return {
        "strategies": [{"name": s.label, "symbol": s.symbol, "metrics": s.metrics} for s in strategies],
        "common_dates": analysis["common_dates"],
        "ranking": analysis["ranking"],
        "correlation": analysis["correlation"],
        "monte_carlo": analysis["monte_carlo"],
        "risk": analysis["risk"],
        "regimes": analysis["regimes"],
    }


class ComparisonService:
    def __init__(
        self,
        strategies: StrategiesService,
        backtests: BacktestsService,
        market_data: MarketDataService | None,
        reports: ReportWriter,
        links: Links | None = None,
        narrator: LLMNarrator | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.strategies = strategies
        self.backtests = backtests
        self.market_data = market_data
        self.reports = reports
        self.links = links or backtests.links
        self.narrator = narrator
        self.events = events

    async def close(self) -> None:
        if self.narrator is not None:
            await self.narrator.close()

    # -- public API --

    async def compare(
        self,
        user: UserContext,
        request: BaseModel | dict[str, Any],
        *,
        before_runs: BeforeRuns | None = None,
    ) -> StrategyComparisonResult:
        """Compare the caller's strategies. Accepts this module's request, or any model / dict with its
        fields (adapters such as chat tools); invalid fields raise ``ValidationFailed`` naming them.
        ``before_runs`` hears (and may refuse) the backtests the comparison is about to run or await."""
        require(user, "compare_strategies")
        request = self._coerce(request)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        strategies = await self._strategies(user, request)
        labels = _unique_labels(strategies)
        selected, ran, ground = await self._select_backtests(user, request, strategies, labels, before_runs)
        results = await asyncio.gather(*(self._load(user, s.backtest) for s in selected))
        # Each backtest's starting cash, annualisation and risk-free rate: its Sharpe here is its own.
        curves = [
            EquityCurve(
                s.label,
                r.timestamps,
                r.values,
                initial_cash=_float_or_none(r.stats.get("initial_cash")),
                periods_per_year=_float_or_none(r.stats.get("periods_per_year")),
                risk_free_rate=_float_or_none((s.backtest.settings or {}).get("risk_free_rate")) or 0.0,
            )
            for s, r in zip(selected, results, strict=True)
        ]
        win_rates = [_float_or_nan(r.stats.get("win_rate")) for r in results]
        underlying = await self._underlying(request, selected, curves)
        timings["load"] = (time.perf_counter() - clock) * 1_000
        options = ComparisonOptions(
            n_resamples=request.monte_carlo.n_resamples,
            seed=request.monte_carlo.seed,
            block_size=request.monte_carlo.block_size,
        )
        clock = time.perf_counter()
        try:
            analysis = await anyio.to_thread.run_sync(
                lambda: analyze_comparison(
                    curves, request.metrics, {"win_rate": win_rates}, underlying, options
                )
            )
        except InsufficientOverlapError as exc:
            raise ValidationFailed("strategy_ids", "too_few_common_dates", str(exc)) from exc
        except AnalysisError as exc:
            raise ValidationFailed("strategy_ids", "unusable_results", str(exc)) from exc
        timings["analysis"] = (time.perf_counter() - clock) * 1_000

        analysis_dict = analysis.to_dict()
        compared = [
            ComparedStrategy(
                strategy_id=s.strategy.id,
                name=s.strategy.name,
                label=s.label,
                backtest_id=s.backtest.id,
                symbol=s.backtest.symbol,
                start=s.backtest.start,
                end=s.backtest.end,
                metrics=analysis_dict["metrics"][s.label],
                num_trades=_int_or_none(r.stats.get("num_trades")),
            )
            for s, r in zip(selected, results, strict=True)
        ]
        by_label = {s.label: s for s in selected}
        ranking = [
            RankingEntry(
                rank=entry.position,
                strategy_id=by_label[entry.name].strategy.id,
                name=entry.name,
                composite_score=entry.composite_score,
                metric_ranks=entry.metric_ranks,
            )
            for entry in analysis.ranking.entries
        ]
        query = request.natural_language_query or (
            f"Compare {', '.join(labels)} by {', '.join(request.metrics)}"
        )
        language = detect_language(request.natural_language_query)

        clock = time.perf_counter()
        narrative, source, note = await self._narrative(analysis, analysis_dict, compared, query, language)
        timings["narrative"] = (time.perf_counter() - clock) * 1_000

        comparison_id = uuid.uuid4().hex
        report_url: str | None = None
        if request.generate_report:
            clock = time.perf_counter()
            await self._write_report(user, comparison_id, analysis, analysis_dict, narrative, compared, query)
            report_url = self.links.comparison_report(comparison_id)
            timings["report"] = (time.perf_counter() - clock) * 1_000

        return StrategyComparisonResult(
            comparison_id=comparison_id,
            query=query,
            language=narrative.language,
            strategies=compared,
            ranking=[entry.strategy_id for entry in ranking],
            ranking_details=ranking,
            summary=narrative.summary,
            recommendation=narrative.recommendation,
            reasoning=narrative.reasoning,
            narrative_source=source,
            narrative_note=note,
            analysis=analysis_dict,
            ran_backtests=ran,
            strategy_ids=[s.id for s in strategies],
            symbol=ground.symbol,
            symbol_source=ground.source,
            strategies_without_backtest=ground.without,
            report_url=report_url,
            timings_ms={k: round(v, 2) for k, v in timings.items()},
        )

    def report_path(self, user: UserContext, comparison_id: str) -> Path:
        """The caller's comparison page; another user's id is simply not found."""
        if not re.fullmatch(COMPARISON_ID_PATTERN, comparison_id):
            raise NotFoundError("comparison report", comparison_id)
        path = self.reports.page_path(f"{REPORT_KIND}/{user.id}", comparison_id)
        if not path.is_file():
            raise NotFoundError("comparison report", comparison_id)
        return path

    # -- steps --

    @staticmethod
    def _coerce(request: BaseModel | dict[str, Any]) -> StrategyComparisonRequest:
        if isinstance(request, StrategyComparisonRequest):
            return request
        data = request.model_dump(exclude_unset=True) if isinstance(request, BaseModel) else dict(request)
        try:
            return StrategyComparisonRequest.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc) from exc

    async def _strategies(self, user: UserContext, request: StrategyComparisonRequest) -> list[StrategyOut]:
        """The caller's strategies of the request (404 for another's id; a name matching none or several
        of theirs → ``UnresolvedStrategyName``, a 422 naming ``strategy_names``) before anything runs."""
        if request.strategy_names is not None:
            return await self.strategies.resolve_names(user, request.strategy_names)
        if request.latest_n is None:
            ids = request.strategy_ids or []
            return list(await asyncio.gather(*(self.strategies.get(user, sid) for sid in ids)))
        newest_first = await self.strategies.list(user)
        if len(newest_first) < request.latest_n:
            raise ValidationFailed(
                "latest_n",
                "too_few_strategies",
                f"you asked for your last {request.latest_n} strategies but have {len(newest_first)}; "
                "create more or name the strategy ids",
            )
        return list(reversed(newest_first[: request.latest_n]))  # in the order they were created

    async def _completed(
        self, user: UserContext, strategies: Sequence[StrategyOut], request: StrategyComparisonRequest
    ) -> list[BacktestOut | None]:
        return list(
            await asyncio.gather(*(self._find(user, s.id, request, status="completed") for s in strategies))
        )

    async def _select_backtests(
        self,
        user: UserContext,
        request: StrategyComparisonRequest,
        strategies: Sequence[StrategyOut],
        labels: Sequence[str],
        before_runs: BeforeRuns | None = None,
    ) -> tuple[list[_Selected], list[str], _Ground]:
        chosen = await self._completed(user, strategies, request)
        missing = [i for i, b in enumerate(chosen) if b is None]
        ground = _Ground(request.symbol, "request" if request.symbol else None, [labels[i] for i in missing])
        if missing and request.symbol is None:
            if request.fallback_symbol is None:
                raise MissingBacktests([strategies[i] for i in missing], [labels[i] for i in missing])
            # Common ground on the fallback symbol: every strategy's backtest there (run if missing).
            request = request.model_copy(update={"symbol": request.fallback_symbol})
            ground = _Ground(request.fallback_symbol, "fallback", ground.without)
            chosen = await self._completed(user, strategies, request)
            missing = [i for i, b in enumerate(chosen) if b is None]
        if missing and before_runs is not None:
            assert request.symbol is not None
            await before_runs([labels[i] for i in missing], request.symbol)
        ran: list[str] = []
        pending: dict[int, str] = {}
        for i in missing:
            in_flight = await self._find(
                user, strategies[i].id, request, status="running"
            ) or await self._find(user, strategies[i].id, request, status="pending")
            if in_flight is None:
                assert request.symbol is not None
                in_flight = await self.backtests.submit(
                    user,
                    BacktestCreate(
                        strategy_id=strategies[i].id,
                        symbol=request.symbol,
                        start=request.start,
                        end=request.end,
                        settings=request.settings,
                    ),
                )
                ran.append(in_flight.id)
            pending[i] = in_flight.id

        if pending:
            finished = await self._wait_with_progress(user, pending, labels, request.wait_timeout_seconds)
            for i, backtest in finished.items():
                if backtest.status == "completed":
                    chosen[i] = backtest
                elif backtest.status in ("pending", "running"):
                    raise ConflictError(
                        f"backtest {backtest.id} of strategy {labels[i]!r} is still {backtest.status} after "
                        f"{request.wait_timeout_seconds:g} s; retry the comparison later"
                    )
                else:
                    raise ConflictError(
                        f"backtest {backtest.id} of strategy {labels[i]!r} {backtest.status}: "
                        f"{backtest.error or 'no error recorded'}"
                    )
        return (
            [_Selected(s, label, b) for s, label, b in zip(strategies, labels, chosen, strict=True) if b],
            ran,
            ground,
        )

    async def _load(self, user: UserContext, backtest: BacktestOut) -> _Loaded:
        """Equity and stats of a completed backtest of ``user``."""
        return _Loaded(*await self.backtests.equity_arrays(user, backtest.id))

    async def _wait_with_progress(
        self, user: UserContext, pending: dict[int, str], labels: Sequence[str], timeout: float
    ) -> dict[int, BacktestOut]:
        """Wait for the backtests concurrently; a ``comparison.progress`` event per finished one."""

        async def wait_one(index: int, backtest_id: str) -> tuple[int, BacktestOut]:
            return index, await self.backtests.wait(user, backtest_id, timeout=timeout)

        total = len(pending)
        await self._progress(user, "waiting_for_backtests", 0, total, list(pending.values()))
        finished: dict[int, BacktestOut] = {}
        for next_done in asyncio.as_completed([wait_one(i, bid) for i, bid in pending.items()]):
            index, backtest = await next_done
            finished[index] = backtest
            await self._progress(
                user, "backtest_finished", len(finished), total, [backtest.id], labels[index], backtest.status
            )
        return dict(sorted(finished.items()))

    async def _progress(
        self,
        user: UserContext,
        stage: str,
        done: int,
        total: int,
        backtest_ids: list[str],
        strategy: str | None = None,
        status: str | None = None,
    ) -> None:
        if self.events is None:
            return
        event: dict[str, Any] = {
            "type": "comparison.progress",
            "stage": stage,
            "done": done,
            "total": total,
            "backtest_ids": backtest_ids,
        }
        if strategy is not None:
            event.update(strategy=strategy, status=status)
        try:
            await self.events.publish(user.id, event)
        except Exception:  # progress is best effort; never fail the comparison over it
            log.exception("could not publish comparison progress")

    async def _find(
        self, user: UserContext, strategy_id: str, request: StrategyComparisonRequest, status: str
    ) -> BacktestOut | None:
        page = await self.backtests.list(
            user, status=status, strategy_id=strategy_id, symbol=request.symbol, limit=BACKTEST_SCAN_LIMIT
        )
        return next((b for b in page.items if _matches(b, request)), None)

    async def _underlying(
        self,
        request: StrategyComparisonRequest,
        selected: Sequence[_Selected],
        curves: Sequence[EquityCurve],
    ) -> UnderlyingPrices | None:
        """Prices of the market for the regime analysis: the requested symbol, else the most used one."""
        if self.market_data is None or not all(c.timestamps.size for c in curves):
            return None
        symbols = [s.backtest.symbol for s in selected]
        symbol = request.symbol or max(symbols, key=lambda sym: (symbols.count(sym), -symbols.index(sym)))
        first = max(int(c.timestamps[0]) for c in curves)
        last = min(int(c.timestamps[-1]) for c in curves)
        if last <= first:
            return None
        start = _ns_to_date(first) - timedelta(days=REGIME_HISTORY_DAYS)
        try:
            bars = await self.market_data.bars_raw(symbol, start, _ns_to_date(last) + timedelta(days=1))
        except MarketDataError as exc:
            log.info("no regime analysis: %s", exc)
            return None
        return UnderlyingPrices(symbol, np.asarray(bars.timestamps), np.asarray(bars.close))

    async def _narrative(
        self,
        analysis: ComparisonAnalysis,
        analysis_dict: dict[str, Any],
        compared: Sequence[ComparedStrategy],
        query: str,
        language: Literal["en", "ko"],
    ) -> tuple[Narrative, Literal["llm", "deterministic"], str | None]:
        note: str | None = None
        if self.narrator is not None:
            try:
                narrative = await self.narrator.write(
                    narrative_facts(analysis_dict, compared), query, language
                )
                return narrative, "llm", None
            except NarrativeUnavailable as exc:
                log.warning("LLM narrative unavailable (%s); using the deterministic writer", exc.reason)
                note = f"LLM narrative not used: {exc.reason}"
        return write_narrative(analysis, query, language), "deterministic", note

    async def _write_report(
        self,
        user: UserContext,
        comparison_id: str,
        analysis: ComparisonAnalysis,
        analysis_dict: dict[str, Any],
        narrative: Narrative,
        compared: Sequence[ComparedStrategy],
        query: str,
    ) -> Path:
        from quantops.services.comparison_report import comparison_sections

        path = self.reports.page_path(f"{REPORT_KIND}/{user.id}", comparison_id)
        subtitle = f"{query} — {len(compared)} strategies, {analysis.aligned.timestamps.size} common dates"

        def write() -> Path:
            sections = comparison_sections(analysis, narrative, compared, analysis_dict)
            return self.reports.write_page(path, "Strategy comparison", sections, subtitle)

        return await anyio.to_thread.run_sync(write)


def _float_or_none(value: Any) -> float | None:
    number = _float_or_nan(value)
    return number if math.isfinite(number) else None


def _int_or_none(value: Any) -> int | None:
    number = _float_or_nan(value)
    return int(number) if math.isfinite(number) else None


def _ns_to_date(timestamp_ns: int) -> date:
    return date(1970, 1, 1) + timedelta(days=timestamp_ns // 86_400_000_000_000)


def install(container: Container) -> None:
    """Container extension hook: fills ``container.comparison``."""
    settings = container.settings
    narrator = LLMNarrator(settings) if settings.llm_enabled else None
    service = ComparisonService(
        container.strategies,
        container.backtests,
        container.market_data,
        container.reports,
        links=container.links,
        narrator=narrator,
        events=container.events,
    )
    container.comparison = service
    container.on_close.append(service.close)
