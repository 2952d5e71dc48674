"""All settings in one place (pydantic-settings, ``QUANTOPS_`` prefix).

Embedded defaults need no setup: SQLite + DuckDB files under ``var/`` and the in-process job
backend. Setting ``QUANTOPS_DATABASE_URL`` / ``QUANTOPS_REDIS_URL`` / ``QUANTOPS_JOB_BACKEND=celery``
switches to the scale-out components through the same code paths.
"""

from __future__ import annotations

import importlib.util
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUANTOPS_", env_file=".env", extra="ignore")

    # Where embedded state lives (SQLite, DuckDB, reports).
    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default sqlite+aiosqlite under data_dir"
    )
    duckdb_path: Path | None = Field(
        default=None, description="DuckDB market-data file; default under data_dir"
    )
    reports_dir: Path | None = None

    host: str = "127.0.0.1"
    port: int = 8500
    public_base_url: str | None = Field(
        default=None,
        description="base of the links the server hands out (set it behind a proxy); default: the host "
        "and port each request reached (quantops.urls)",
    )
    max_body_bytes: int = 1_000_000
    auth_cache_ttl_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="how long a server process remembers a verified API key (0: read the database on every "
        "request); a revoked key or a changed role takes effect within this time",
    )

    # Jobs
    job_backend: Literal["local", "celery"] = "local"
    job_workers: int = 2
    job_timeout_seconds: float = 600.0
    redis_url: str | None = None
    celery_broker_url: str | None = None
    celery_result_backend: str | None = None
    job_max_attempts: int = Field(default=3, ge=1, description="runs of one backtest before it is failed")
    job_sweep_seconds: float = Field(
        default=30.0, gt=0, description="celery: how often the server re-sends stale or orphaned jobs"
    )
    job_worker_heartbeat_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="celery: a worker is presumed dead this long after its last heartbeat (every third)",
    )
    # Prefix of every Redis key/channel/queue, so several deployments (or test runs) share one Redis.
    redis_prefix: str = "quantops"
    webhook_timeout_seconds: float = 5.0
    webhook_allowlist: str = Field(
        default="",
        description="admin: comma-separated hosts, IPs or CIDR networks webhooks may reach although they "
        "are loopback/private/link-local (refused otherwise, against SSRF), e.g. 127.0.0.1,10.0.0.0/8",
    )

    # LLM (any OpenAI-compatible endpoint); absent key/base_url => offline planner only.
    llm_api_key: SecretStr | None = None
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o"
    llm_temperature: float = 0.7
    llm_max_tokens: int = 1000
    llm_timeout_seconds: float = 30.0  # per read (the SDK's httpx timeout), not for the whole answer
    llm_turn_deadline_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="wall-clock limit of one LLM turn, then the offline planner"
    )
    llm_breaker_failures: int = Field(
        default=5, ge=1, le=1000, description="consecutive failed LLM turns that open the circuit breaker"
    )
    llm_breaker_cooldown_seconds: float = Field(
        default=30.0, gt=0, le=86400, description="how long an open breaker skips the LLM before a probe"
    )
    llm_max_tool_steps: int = 5
    llm_cache_ttl_seconds: int = 3600

    # Chat sessions
    session_ttl_hours: float = 24.0
    session_cache_ttl_seconds: int = 300
    chat_history_turns: int = 10

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None

    # Market data (#3): read-through provider behind the DuckDB store; "none" = stored data only (offline).
    market_data_provider: Literal["none", "synthetic", "yahoo", "alphavantage"] = "none"
    market_data_timeout_seconds: float = 20.0
    yahoo_base_url: str = "https://query2.finance.yahoo.com"
    alphavantage_api_key: SecretStr | None = None
    alphavantage_base_url: str = "https://www.alphavantage.co"

    # The original /backtest/trigger names no symbol: it runs on this one, over its full stored range.
    default_symbol: str = Field(default="SPY", min_length=1, max_length=32)

    # Default user created by `make run`
    default_user_name: str = "local"
    default_user_role: str = "admin"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'quantops.db').resolve()}"

    @property
    def default_api_key_file(self) -> Path:
        """Where `quantops users ensure-default` keeps the local default user's key (mode 0600)."""
        return self.data_dir / "default_api_key"

    @cached_property
    def resolved_duckdb_path(self) -> Path:
        return self.duckdb_path or (self.data_dir / "market.duckdb")

    @cached_property
    def resolved_reports_dir(self) -> Path:
        return self.reports_dir or (self.data_dir / "reports")

    @property
    def key_hint(self) -> str:
        """Where to find a key, for 401 answers (never a server's absolute path)."""
        where = (
            "default_api_key in the server's data directory"
            if self.data_dir.is_absolute()
            else self.default_api_key_file.as_posix()
        )
        return f"the local user's key is in {where}; `make run` prints it"

    @property
    def bind_base_url(self) -> str:
        """The configured bind address as a URL (a wildcard bind is reached on loopback)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def llm_enabled(self) -> bool:
        return self.llm_api_key is not None or self.llm_base_url is not None


# Modules of the `scale` extra, and the setting that needs each (see the README's scale-out table).
SCALE_EXTRA_MODULES: dict[str, str] = {
    "redis": "QUANTOPS_REDIS_URL",
    "celery": "QUANTOPS_JOB_BACKEND=celery",
    "kombu": "QUANTOPS_JOB_BACKEND=celery",
    "asyncpg": "QUANTOPS_DATABASE_URL=postgresql+asyncpg://…",
    "psycopg": "QUANTOPS_DATABASE_URL=postgresql+psycopg://…",
}


class MissingExtraError(RuntimeError):
    """A setting needs an optional dependency group (extra) that is not installed."""

    def __init__(self, module: str, needed_by: str | None = None, extra: str = "scale") -> None:
        needed_by = needed_by or SCALE_EXTRA_MODULES.get(module, "this configuration")
        super().__init__(
            f"{needed_by} needs the '{extra}' extra (module {module!r} is not installed): "
            f"pip install 'quantops[{extra}]'"
        )
        self.module = module


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def required_modules(settings: Settings) -> dict[str, str]:
    """Optional modules these settings need → the setting that needs it."""
    needed: dict[str, str] = {}
    if settings.redis_url:
        needed["redis"] = "QUANTOPS_REDIS_URL"
    if settings.job_backend == "celery":
        needed["celery"] = "QUANTOPS_JOB_BACKEND=celery"
        needed["redis"] = "QUANTOPS_JOB_BACKEND=celery (Redis broker)"
    scheme = settings.resolved_database_url.split("://", 1)[0]
    dialect, _, driver = scheme.partition("+")
    if dialect == "postgresql" and driver in ("asyncpg", "psycopg"):
        needed[driver] = f"QUANTOPS_DATABASE_URL={scheme}://…"
    return needed


def require_extras(settings: Settings) -> None:
    """Fail at start-up, naming the extra to install, instead of a ModuleNotFoundError later."""
    for module, needed_by in required_modules(settings).items():
        if not _installed(module):
            raise MissingExtraError(module, needed_by)


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment; tests pass overrides instead of mutating globals."""
    return Settings(**overrides)  # type: ignore[arg-type]
