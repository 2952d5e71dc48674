"""Backtests: submit to the job backend, read status/results, cancel, wait."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from quantops.data.errors import MarketDataError
from quantops.engine import catalogue
from quantops.engine.catalogue import Direction
from quantops.jobs.base import JobBackend
from quantops.jobs.estimator import DurationEstimator
from quantops.jobs.handler import BacktestJobHandler
from quantops.services.errors import ConflictError, NotFoundError, ValidationFailed
from quantops.services.market_data import MarketDataService, as_service_error
from quantops.services.policy import require
from quantops.services.schemas import (
    BacktestCreate,
    BacktestOut,
    BacktestPage,
    BacktestResultOut,
    UserContext,
)
from quantops.services.strategies import config_dict, parse_config
from quantops.store.models import TERMINAL_STATUSES, Backtest
from quantops.store.repositories import BacktestRepository, StrategyRepository
from quantops.strategies import STRATEGY_TYPES
from quantops.urls import Links

# Fallback DB poll in `wait`; terminal transitions wake waiters at once (in-process, or via Redis).
WAIT_POLL_SECONDS = 5.0
# Ranking by a metric ("which was best?") reads at most this many of the user's newest backtests.
RANK_SCAN_LIMIT = 2000
RankOrder = Literal["best", "worst"]


def metric_value(stats: dict[str, Any] | None, metric: str) -> float | None:
    """A backtest's value of a metric (catalogue key, e.g. "volatility" → stats "annual_volatility") from
    its stats; None when absent or not finite."""
    entry = catalogue.lookup(metric)
    value = (stats or {}).get(entry.stats_key if entry else metric)
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        return None
    return float(value)


def _stats_time(stats: dict[str, Any] | None, key: str) -> datetime | None:
    raw = (stats or {}).get(key)
    if not isinstance(raw, str):
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(raw)
    return None


class BacktestsService:
    def __init__(
        self,
        backtests: BacktestRepository,
        strategies: StrategyRepository,
        market_data: MarketDataService | None,
        handler: BacktestJobHandler,
        backend: JobBackend,
        estimator: DurationEstimator,
        links: Links | None = None,
    ) -> None:
        self.repo = backtests
        self.strategies = strategies
        self.market_data = market_data
        self.handler = handler
        self.backend = backend
        self.estimator = estimator
        self.links = links or Links(None, "")

    def to_out(self, row: Backtest) -> BacktestOut:
        out = BacktestOut.model_validate(row)
        out.data_start = _stats_time(row.stats, "start")
        out.data_end = _stats_time(row.stats, "end")
        if row.report_path:
            out.report_url = self.report_url(row.id)
        return out

    def report_url(self, backtest_id: str) -> str:
        """Where the backtest's tear sheet is (once written)."""
        return self.links.backtest_report(backtest_id)

    async def submit(self, user: UserContext, data: BacktestCreate) -> BacktestOut:
        require(user, "run_backtest")
        if data.strategy_id is not None:
            strategy = await self.strategies.get(user.id, data.strategy_id)
            if strategy is None:
                raise NotFoundError("strategy", data.strategy_id)
            model = parse_config(strategy.config, field="strategy_id")
        else:
            model = parse_config(data.strategy_config, field="strategy_config")  # type: ignore[arg-type]
        config_type: str = model.config_type  # type: ignore[attr-defined]

        if self.market_data is None:
            raise RuntimeError("this process has no market-data store (submit through the API server)")
        try:
            bars = await self.market_data.bars_raw(data.symbol, data.start, data.end, data.interval)
        except MarketDataError as exc:
            raise as_service_error(exc) from exc
        min_bars = int(STRATEGY_TYPES[config_type].min_bars(model))
        if len(bars) < min_bars:
            raise ValidationFailed(
                "start",
                "too_few_bars",
                f"{data.symbol} has {len(bars)} {data.interval} bars in the period; "
                f"{config_type} with these parameters needs at least {min_bars}",
            )

        workers = self.backend.workers
        jobs_ahead = (
            self.backend.queued() if self.backend.name == "local" else await self.repo.count_unfinished()
        )
        estimate = await self.estimator.estimate(config_type, len(bars), jobs_ahead, workers)
        row = await self.repo.create(
            owner_id=user.id,
            strategy_id=data.strategy_id,
            config_type=config_type,
            config=config_dict(model),
            settings=data.settings.model_dump(mode="json"),
            symbol=bars.symbol,
            interval=data.interval,
            start=data.start,
            end=data.end,
            n_bars=len(bars),
            generate_report=data.generate_report,
            notify_on_completion=data.notify_on_completion,
            estimated_duration_seconds=estimate,
        )
        self.handler.prefetch(row.id, bars)
        await self.backend.enqueue(row.id)
        out = self.to_out(row)
        if len(bars):  # the bars the job will run on: the period it covers, before it completes
            out.data_start, out.data_end = bars.index[0].to_pydatetime(), bars.index[-1].to_pydatetime()
        return out

    async def _row(self, user: UserContext, backtest_id: str) -> Backtest:
        row = await self.repo.get(backtest_id, owner_id=user.id)
        if row is None:
            raise NotFoundError("backtest", backtest_id)
        return row

    async def get(self, user: UserContext, backtest_id: str) -> BacktestOut:
        return self.to_out(await self._row(user, backtest_id))

    async def result(self, user: UserContext, backtest_id: str) -> BacktestResultOut:
        row = await self._row(user, backtest_id)
        if row.status != "completed":
            raise ConflictError(f"backtest {backtest_id!r} is {row.status}; results exist once completed")
        stored = await self.repo.result(backtest_id)
        if stored is None:
            raise NotFoundError("backtest result", backtest_id)
        equity = [
            (datetime.fromtimestamp(t / 1000, tz=UTC), float(v) if v is not None else float("nan"))
            for t, v in zip(stored.equity["t"], stored.equity["v"], strict=True)
        ]
        columns = list(stored.trades.keys())
        n_trades = len(stored.trades[columns[0]]) if columns else 0
        trades: list[dict[str, Any]] = [{c: stored.trades[c][i] for c in columns} for i in range(n_trades)]
        return BacktestResultOut(id=backtest_id, stats=stored.stats, equity=equity, trades=trades)

    async def equity_arrays(
        self, user: UserContext, backtest_id: str
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """A completed backtest's equity as (ns timestamps, values) without undefined points, and its
        stats — the compact stored arrays, for analytics that would only undo BacktestResultOut's
        per-point datetimes (~7 ms against ~18 ms per 10-year curve)."""
        row = await self._row(user, backtest_id)
        if row.status != "completed":
            raise ConflictError(f"backtest {backtest_id!r} is {row.status}; results exist once completed")
        stored = await self.repo.result(backtest_id)
        if stored is None:
            raise NotFoundError("backtest result", backtest_id)
        timestamps = np.asarray(stored.equity["t"], dtype=np.int64) * 1_000_000  # stored as epoch ms
        values = np.array(stored.equity["v"], dtype=np.float64)  # None → NaN
        keep = np.isfinite(values)
        return timestamps[keep], values[keep], dict(stored.stats)

    async def report_path(self, user: UserContext, backtest_id: str) -> Path:
        row = await self._row(user, backtest_id)
        if not row.report_path or not Path(row.report_path).is_file():
            raise NotFoundError("report of backtest", backtest_id)
        return Path(row.report_path)

    async def list(
        self,
        user: UserContext,
        status: str | None = None,
        strategy_id: str | None = None,
        symbol: str | None = None,
        limit: int = 20,
        offset: int = 0,
        sort_by: str | None = None,
        order: RankOrder = "best",
    ) -> BacktestPage:
        """Newest first; with ``sort_by`` (a metric) the completed ones ranked best (or worst) first by
        the metric's direction — higher returns/ratios, lower volatility, smaller drawdown."""
        limit = min(max(limit, 1), 200)
        offset = max(offset, 0)
        filters = {
            "status": status,
            "strategy_id": strategy_id,
            "symbol": symbol.upper() if symbol else None,
        }
        if sort_by is None:
            rows, total = await self.repo.list(user.id, **filters, limit=limit, offset=offset)
            return BacktestPage(items=[self.to_out(r) for r in rows], total=total, limit=limit, offset=offset)
        entry = catalogue.BY_KEY.get(sort_by)
        if entry is None or entry.direction is Direction.NONE:
            rankable = ", ".join(catalogue.COMPARISON_METRICS)
            raise ValidationFailed(
                "sort_by", "enum", f"sort_by must be a metric such as {rankable}, got {sort_by!r}"
            )
        direction = entry.direction
        if order not in ("best", "worst"):
            raise ValidationFailed("order", "enum", f"order must be 'best' or 'worst', got {order!r}")
        filters["status"] = status or "completed"  # only completed backtests have the figures
        rows, _ = await self.repo.list(user.id, **filters, limit=RANK_SCAN_LIMIT, offset=0)
        scored = [(value, row) for row in rows if (value := metric_value(row.stats, sort_by)) is not None]
        sign = 1.0 if order == "best" else -1.0
        scored.sort(key=lambda pair: sign * direction.key(pair[0]))  # stable: ties stay newest first
        page = scored[offset : offset + limit]
        return BacktestPage(
            items=[self.to_out(row) for _, row in page], total=len(scored), limit=limit, offset=offset
        )

    async def cancel(self, user: UserContext, backtest_id: str) -> BacktestOut:
        require(user, "cancel_backtest")
        if not await self.repo.cancel(backtest_id, user.id):
            row = await self._row(user, backtest_id)  # 404 if not theirs
            raise ConflictError(f"backtest {backtest_id!r} is already {row.status}")
        self.handler.signals.changed(backtest_id)
        await self.handler.events.publish_status(backtest_id)
        return await self.get(user, backtest_id)

    async def wait(self, user: UserContext, backtest_id: str, timeout: float = 30.0) -> BacktestOut:
        """Return once the backtest is terminal, or its current state after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.handler.signals.event(backtest_id)  # before reading: no missed wake-up
            row = await self._row(user, backtest_id)
            remaining = deadline - time.monotonic()
            if row.status in TERMINAL_STATUSES or remaining <= 0:
                self.handler.signals.discard(backtest_id, event)
                return self.to_out(row)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(WAIT_POLL_SECONDS, remaining))
