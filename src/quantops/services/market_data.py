"""Async facade over the DuckDB market-data store (calls run in a thread: DuckDB never blocks the loop)."""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio.to_thread

from quantops.data.bars import Bars
from quantops.data.errors import (
    EmptyRangeError,
    InvalidRequestError,
    MarketDataError,
    ProviderError,
    UnknownSymbolError,
)
from quantops.data.store import MarketDataStore, SymbolInfo
from quantops.services.errors import NotFoundError, ServiceError, UpstreamUnavailable, ValidationFailed
from quantops.services.policy import may_view_server_paths
from quantops.services.schemas import Bar, BarsOut, UserContext


def as_service_error(exc: MarketDataError) -> ServiceError:
    """Data-layer error → 422 naming the field, or 502 when the remote provider failed."""
    if isinstance(exc, ProviderError):
        return UpstreamUnavailable(f"market data provider failed: {exc}")
    if isinstance(exc, UnknownSymbolError):
        return ValidationFailed("symbol", "unknown_symbol", str(exc))
    if isinstance(exc, EmptyRangeError):
        return ValidationFailed("start", "empty_range", str(exc))
    if isinstance(exc, InvalidRequestError):
        return ValidationFailed(exc.field or "request", "invalid", str(exc))
    return ValidationFailed(exc.field or "market_data", "market_data_error", str(exc))


class MarketDataService:
    def __init__(self, store: MarketDataStore) -> None:
        self.store = store
        self._catalogue: tuple[int, dict[str, SymbolInfo]] = (-1, {})

    @property
    def fetches_on_demand(self) -> bool:
        """Whether a provider fills symbols and ranges the store does not hold yet (read-through)."""
        return self.store.provider is not None

    def catalogue(self) -> dict[str, SymbolInfo]:
        """Daily symbols the store holds (first/last bar, synthetic), rebuilt only when the store changed —
        cheap enough to call on every chat turn (no DuckDB query, no thread hop)."""
        version, cached = self._catalogue
        if version != self.store.version:
            version = self.store.version
            cached = self.store.catalogue("1d")
            self._catalogue = (version, cached)
        return cached

    def is_synthetic(self, symbol: str, interval: str = "1d") -> bool:
        """Whether the store's bars of the symbol came (partly) from a synthetic source (the demo)."""
        if interval == "1d":
            info = self.catalogue().get(symbol.strip().upper())
            return bool(info and info.synthetic)
        return any(i.synthetic for i in self.store.catalogue(interval).values() if i.symbol == symbol)

    async def cache_status(self, user: UserContext | None = None) -> dict[str, Any]:
        """The store's status; its file path only for admins (`policy.SERVER_PATH_ROLES`) or the local
        CLI (`user=None`)."""
        status = await anyio.to_thread.run_sync(self.store.cache_status)
        if user is not None and not may_view_server_paths(user.roles):
            status.pop("path", None)
        return status

    async def symbols(self) -> list[str]:
        return await anyio.to_thread.run_sync(self.store.symbols)

    async def bars_raw(
        self, symbol: str, start: date | None = None, end: date | None = None, interval: str = "1d"
    ) -> Bars:
        """Bars as numpy arrays; raises the data layer's errors."""
        return await anyio.to_thread.run_sync(self.store.get_bars, symbol, start, end, interval)

    async def bars(
        self,
        symbol: str,
        start: date | None = None,
        end: date | None = None,
        interval: str = "1d",
        limit: int | None = None,
    ) -> BarsOut:
        """Bars for display; an unknown symbol is a 404, a bad range a 422. `limit` keeps the last N."""
        try:
            bars = await self.bars_raw(symbol, start, end, interval)
        except UnknownSymbolError as exc:
            raise NotFoundError("symbol", exc.symbol) from exc
        except MarketDataError as exc:
            raise as_service_error(exc) from exc
        index = bars.index
        first = max(0, len(bars) - limit) if limit else 0
        items = [
            Bar(
                timestamp=index[i].to_pydatetime(),
                open=float(bars.open[i]),
                high=float(bars.high[i]),
                low=float(bars.low[i]),
                close=float(bars.close[i]),
                volume=float(bars.volume[i]),
            )
            for i in range(first, len(bars))
        ]
        return BarsOut(symbol=bars.symbol, interval=bars.interval, count=len(items), bars=items)

    def close(self) -> None:
        self.store.close()
