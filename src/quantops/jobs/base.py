"""Job backend interface. A backend moves backtest ids to workers; all state lives in the database."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from quantops.data.bars import Bars
from quantops.jobs.payload import JobOutcome, JobPayload


@runtime_checkable
class JobEventPublisher(Protocol):
    """Where jobs announce their outcome (implemented by ``quantops.services.events.EventBus``):
    jobs publish through this, so the job layer never imports the services."""

    async def publish(self, user_id: str, event: dict[str, Any]) -> None:
        """Send an event to the user's channel (WebSocket subscribers, webhook)."""
        ...

    async def publish_status(self, backtest_id: str) -> None:
        """A backtest became terminal: wake waiters in other processes."""
        ...


@runtime_checkable
class BarsSource(Protocol):
    """Market data for a job run in this process (``quantops.services.market_data.MarketDataService``)."""

    async def bars_raw(
        self, symbol: str, start: date | None = None, end: date | None = None, interval: str = "1d"
    ) -> Bars: ...

    def is_synthetic(self, symbol: str, interval: str = "1d") -> bool:
        """Whether the stored bars of the symbol are (partly) synthetic demo data."""
        ...


class JobHandler(Protocol):
    """The database/market-data side of a job (implemented by quantops.jobs.handler.BacktestJobHandler)."""

    async def claim(self, backtest_id: str, expected_attempts: int | None = None) -> int | None:
        """pending|running → running, attempts+1; the attempt number, or None when nothing to run."""
        ...

    async def load_payload(self, backtest_id: str, attempt: int | None = None) -> JobPayload | None:
        """Config + bars arrays for a job (None if terminal); `attempt` defaults to the row's count."""
        ...

    async def finish(self, payload: JobPayload, outcome: JobOutcome) -> bool: ...

    async def fail(self, backtest_id: str, error: str, attempt: int | None = None) -> bool: ...

    async def unfinished_ids(self) -> list[tuple[str, str, int]]:
        """(id, status, attempts) of pending/running rows, oldest first."""
        ...

    async def unfinished_started(self) -> list[tuple[str, str, int, datetime | None]]:
        """(id, status, attempts, started_at) of pending/running rows, oldest first."""
        ...


class JobBackend(ABC):
    name: str
    workers: int

    @abstractmethod
    async def start(self) -> None:
        """Start workers/dispatchers (no recovery; see `recover`)."""

    @abstractmethod
    async def enqueue(self, backtest_id: str) -> None:
        """Queue a pending backtest. Called after the row is committed."""

    @abstractmethod
    async def recover(self) -> dict[str, int]:
        """On startup: re-queue pending/running rows left by a dead process, or fail them with a reason."""

    @abstractmethod
    async def stop(self) -> None: ...

    def queued(self) -> int:
        """Jobs waiting in this process (0 when the queue lives elsewhere)."""
        return 0
