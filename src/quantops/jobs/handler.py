"""Database side of backtest jobs: claim, payload, completion (+ notifications), failure."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from quantops.common import utcnow
from quantops.data.bars import Bars
from quantops.jobs.payload import JobOutcome, JobPayload
from quantops.store.models import TERMINAL_STATUSES
from quantops.store.repositories import BacktestRepository
from quantops.urls import backtest_path, backtest_report_path

if TYPE_CHECKING:
    from quantops.jobs.base import BarsSource, JobEventPublisher
    from quantops.jobs.estimator import DurationEstimator
    from quantops.reports import ReportWriter

log = logging.getLogger(__name__)

PREFETCH_LIMIT = 1000


class StatusSignals:
    """Wakes in-process waiters (`backtests.wait`) as soon as a job of this process ends."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, backtest_id: str) -> asyncio.Event:
        return self._events.setdefault(backtest_id, asyncio.Event())

    def changed(self, backtest_id: str) -> None:
        event = self._events.pop(backtest_id, None)
        if event is not None:
            event.set()

    def discard(self, backtest_id: str, event: asyncio.Event) -> None:
        if self._events.get(backtest_id) is event and not event.is_set():
            self._events.pop(backtest_id, None)


class BacktestJobHandler:
    def __init__(
        self,
        backtests: BacktestRepository,
        reports: ReportWriter,
        events: JobEventPublisher,
        estimator: DurationEstimator,
        max_attempts: int,
        stale_after_seconds: float,
        market_data: BarsSource | None = None,
    ) -> None:
        self.stale_after_seconds = stale_after_seconds
        self.backtests = backtests
        self.reports = reports
        self.events = events
        self.estimator = estimator
        self.max_attempts = max_attempts
        self.market_data = market_data  # None in Celery workers: they get bars in the message
        self.signals = StatusSignals()
        # Bars read at submit time (to validate the request), reused by the job in this process.
        self._prefetched: dict[str, Bars] = {}

    def prefetch(self, backtest_id: str, bars: Bars) -> None:
        if len(self._prefetched) >= PREFETCH_LIMIT:  # a burst larger than this reloads from DuckDB
            return
        self._prefetched[backtest_id] = bars

    async def claim(self, backtest_id: str, expected_attempts: int | None = None) -> int | None:
        stale_before = None
        if expected_attempts is not None:
            stale_before = utcnow() - timedelta(seconds=self.stale_after_seconds)
        return await self.backtests.claim(backtest_id, self.max_attempts, expected_attempts, stale_before)

    async def load_payload(self, backtest_id: str, attempt: int | None = None) -> JobPayload | None:
        prefetched = self._prefetched.pop(backtest_id, None)
        row = await self.backtests.get(backtest_id)
        if row is None or row.status in TERMINAL_STATUSES:
            return None
        if prefetched is not None:
            bars = prefetched
        elif self.market_data is not None:
            bars = await self.market_data.bars_raw(row.symbol, row.start, row.end, row.interval)
        else:
            raise RuntimeError("this process has no market-data store")
        report_path = str(self.reports.backtest_report_path(row.id)) if row.generate_report else None
        synthetic = self.market_data is not None and self.market_data.is_synthetic(row.symbol, row.interval)
        return JobPayload(
            backtest_id=row.id,
            attempt=row.attempts if attempt is None else attempt,
            symbol=row.symbol,
            interval=row.interval,
            config=row.config,
            settings=row.settings,
            timestamps=bars.timestamps,
            open=bars.open,
            high=bars.high,
            low=bars.low,
            close=bars.close,
            volume=bars.volume,
            report_path=report_path,
            title=f"{row.config_type} on {row.symbol}",
            synthetic=synthetic,
        )

    async def finish(self, payload: JobPayload, outcome: JobOutcome) -> bool:
        stored = await self.backtests.complete(
            payload.backtest_id,
            payload.attempt,
            stats=outcome.stats,
            equity=outcome.equity,
            trades=outcome.trades,
            n_bars=outcome.n_bars,
            run_seconds=outcome.run_seconds,
            report_path=outcome.report_path,
        )
        if not stored:
            # Cancelled meanwhile, or a newer attempt owns the row: this result is dropped on purpose.
            log.info("job %s attempt %d: result dropped (row moved on)", payload.backtest_id, payload.attempt)
            return False
        self.estimator.invalidate(str(payload.config.get("config_type", "")))
        await self._after_terminal(payload.backtest_id)
        return True

    async def fail(self, backtest_id: str, error: str, attempt: int | None = None) -> bool:
        failed = await self.backtests.fail(backtest_id, error, attempt)
        if failed:
            log.warning("job %s failed: %s", backtest_id, error)
            await self._after_terminal(backtest_id)
        return failed

    async def unfinished_ids(self) -> list[tuple[str, str, int]]:
        return [(row.id, row.status, row.attempts) for row in await self.backtests.unfinished()]

    async def unfinished_started(self) -> list[tuple[str, str, int, datetime | None]]:
        return [(r.id, r.status, r.attempts, r.started_at) for r in await self.backtests.unfinished()]

    async def _after_terminal(self, backtest_id: str) -> None:
        self.signals.changed(backtest_id)
        await self.events.publish_status(backtest_id)  # other processes' waiters (Celery)
        row = await self.backtests.get(backtest_id)
        if row is None or not row.notify_on_completion:
            return
        event: dict[str, Any] = {
            "type": f"backtest.{row.status}",
            "backtest_id": row.id,
            "status": row.status,
            "symbol": row.symbol,
            "config_type": row.config_type,
            "error": row.error,
            "stats": row.stats,
            # server-relative: a worker does not know the host a client reaches the server on
            "url": backtest_path(row.id),
            "report_url": backtest_report_path(row.id) if row.report_path else None,
        }
        await self.events.publish(row.owner_id, event)
