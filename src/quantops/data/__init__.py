"""Market data: DuckDB bar store with read-through providers, cache statistics, demo data and imports."""

from __future__ import annotations

from quantops.config import Settings
from quantops.data.bars import Bars
from quantops.data.demo import DEMO_SYMBOLS, load_demo
from quantops.data.errors import (
    DataFileError,
    EmptyRangeError,
    InvalidRequestError,
    MarketDataError,
    ProviderError,
    RowProblem,
    StoreLockedError,
    UnknownSymbolError,
)
from quantops.data.providers import MarketDataProvider, build_provider
from quantops.data.store import LoadResult, MarketDataStore


def open_store(settings: Settings, provider: str | None = None, read_only: bool = False) -> MarketDataStore:
    """The process's store at ``settings.resolved_duckdb_path`` with the configured provider."""
    return MarketDataStore(
        settings.resolved_duckdb_path, provider=build_provider(settings, provider), read_only=read_only
    )


__all__ = [
    "DEMO_SYMBOLS",
    "Bars",
    "DataFileError",
    "EmptyRangeError",
    "InvalidRequestError",
    "LoadResult",
    "MarketDataError",
    "MarketDataProvider",
    "MarketDataStore",
    "ProviderError",
    "RowProblem",
    "StoreLockedError",
    "UnknownSymbolError",
    "build_provider",
    "load_demo",
    "open_store",
]
