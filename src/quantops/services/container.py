"""The one place where services are built and wired (no global service locator).

`create_app` (API), the CLI and the Celery worker each build one `Container` per process::

    container = build_container(settings)
    await container.start()          # DB check, events relay, job backend (+ recovery)
    ...
    await container.aclose()

Extensions (chat #5, comparison #6) fill their optional slot from an ``install(container)``
function listed in `CONTAINER_EXTENSIONS` ("module:function"), called after the core services exist.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel

from quantops.config import Settings, require_extras
from quantops.jobs.base import JobBackend
from quantops.jobs.estimator import DurationEstimator
from quantops.jobs.handler import BacktestJobHandler
from quantops.reports import ReportWriter
from quantops.services.backtests import BacktestsService
from quantops.services.events import EventBus
from quantops.services.market_data import MarketDataService
from quantops.services.strategies import StrategiesService
from quantops.services.users import UsersService
from quantops.services.webhooks import WebhookPolicy
from quantops.store.db import Database
from quantops.store.repositories import BacktestRepository, ChatRepository, StrategyRepository, UserRepository
from quantops.urls import Links

if TYPE_CHECKING:
    from quantops.services.comparison import ComparisonService
    from quantops.services.schemas import UserContext

log = logging.getLogger(__name__)


@runtime_checkable
class ChatPort(Protocol):
    """What adapters call on ``container.chat``, implemented by ``quantops.chat.service.ChatService``
    (the services layer never imports the chat core, which sits above it; the models it returns are
    the chat schemas)."""

    async def create_session(self, user: UserContext, channel: str = "api", title: str = "") -> BaseModel: ...

    async def chat(
        self, user: UserContext, session_id: str, question: str, user_roles: list[str] | None = None,
        include_history: bool = True, sink: Any = None,
    ) -> BaseModel: ...  # fmt: skip

    async def get_session(self, user: UserContext, session_id: str) -> BaseModel: ...

    async def list_sessions(self, user: UserContext, limit: int = 50) -> list[Any]: ...

    async def delete_session(self, user: UserContext, session_id: str) -> None: ...

    async def export(self, user: UserContext, session_id: str, fmt: str) -> tuple[str, str, str]: ...

    async def trigger_backtest(self, user: UserContext, request: Any) -> BaseModel: ...

    def metrics(self) -> dict[str, Any]: ...


# "module:function" hooks, each `def install(container: Container) -> None`; imported lazily.
CONTAINER_EXTENSIONS: tuple[str, ...] = (
    "quantops.services.comparison:install",
    "quantops.chat.service:install",  # chat #5: container.chat
)


@dataclass
class Container:
    settings: Settings
    db: Database
    market_data: MarketDataService | None
    users: UsersService
    strategies: StrategiesService
    backtests: BacktestsService
    reports: ReportWriter
    events: EventBus
    jobs: JobBackend
    job_handler: BacktestJobHandler
    estimator: DurationEstimator
    chat_repository: ChatRepository
    links: Links
    # Optional slots filled by extensions.
    chat: ChatPort | None = None
    comparison: ComparisonService | None = None
    # Extensions register async start/stop callbacks here (e.g. a cache connection).
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    started: bool = False

    async def start(self, *, jobs: bool = True, recover: bool = True, relay: bool = True) -> None:
        """Start background parts. `recover` re-queues work a dead process left (API server only)."""
        await self.db.ping()
        await self.events.start(relay=relay)
        if jobs:
            await self.jobs.start()
            if recover:
                await self.jobs.recover()
        for hook in self.on_start:
            await hook()
        self.started = True

    async def ready(self) -> dict[str, str]:
        """Readiness of the dependencies (raises if one is unreachable)."""
        checks: dict[str, str] = {}
        await self.db.ping()
        checks["database"] = "ok"
        if self.market_data is not None:
            await self.market_data.symbols()
            checks["duckdb"] = "ok"
        return checks

    async def aclose(self) -> None:
        for hook in reversed(self.on_close):
            try:
                await hook()
            except Exception:
                log.exception("extension close hook failed")
        await self.jobs.stop()
        await self.events.stop()
        if self.market_data is not None:
            self.market_data.close()
        await self.db.dispose()
        self.started = False


def _install_extensions(container: Container, extensions: tuple[str, ...]) -> None:
    for target in extensions:
        module_name, _, function_name = target.partition(":")
        install = getattr(importlib.import_module(module_name), function_name or "install")
        install(container)


def build_container(
    settings: Settings,
    *,
    with_market_data: bool = True,
    extensions: tuple[str, ...] | None = None,
) -> Container:
    """Build every service once. Celery workers pass with_market_data=False (the server owns DuckDB)."""
    require_extras(settings)  # a missing `scale` extra is named here, not a ModuleNotFoundError later
    db = Database(settings.resolved_database_url)
    user_repo = UserRepository(db)
    strategy_repo = StrategyRepository(db)
    backtest_repo = BacktestRepository(db)

    market_data: MarketDataService | None = None
    if with_market_data:
        from quantops.data.providers import build_provider
        from quantops.data.store import MarketDataStore

        store = MarketDataStore(settings.resolved_duckdb_path, provider=build_provider(settings))
        market_data = MarketDataService(store)

    webhook_policy = WebhookPolicy(settings.webhook_allowlist)  # one policy: when set and when sent
    users = UsersService(
        user_repo, webhook_policy=webhook_policy, auth_cache_ttl_seconds=settings.auth_cache_ttl_seconds
    )
    reports = ReportWriter(settings.resolved_reports_dir)
    events = EventBus(
        users.webhook_url,
        redis_url=settings.redis_url,
        redis_prefix=settings.redis_prefix,
        webhook_timeout_seconds=settings.webhook_timeout_seconds,
        webhook_policy=webhook_policy,
    )
    estimator = DurationEstimator(backtest_repo.recent_runs)
    handler = BacktestJobHandler(
        backtest_repo,
        reports,
        events,
        estimator,
        max_attempts=settings.job_max_attempts,
        stale_after_seconds=settings.job_timeout_seconds,
        market_data=market_data,
    )
    events.on_status.append(handler.signals.changed)
    links = Links(settings.public_base_url, settings.bind_base_url)
    backend: JobBackend
    if settings.job_backend == "celery":
        from quantops.jobs.celery_backend import CeleryJobBackend

        backend = CeleryJobBackend(handler, settings)
    else:
        from quantops.jobs.local import LocalJobBackend

        backend = LocalJobBackend(
            handler,
            workers=settings.job_workers,
            timeout_seconds=settings.job_timeout_seconds,
            max_attempts=settings.job_max_attempts,
        )
    container = Container(
        settings=settings,
        db=db,
        market_data=market_data,
        users=users,
        strategies=StrategiesService(strategy_repo),
        backtests=BacktestsService(
            backtest_repo,
            strategy_repo,
            market_data,
            handler,
            backend,
            estimator,
            links=links,
        ),
        reports=reports,
        events=events,
        jobs=backend,
        job_handler=handler,
        estimator=estimator,
        chat_repository=ChatRepository(db),
        links=links,
    )
    _install_extensions(container, CONTAINER_EXTENSIONS if extensions is None else extensions)
    return container
