"""Market data: cache status, symbols, bars."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from quantops.api.deps import ContainerDep, CurrentUser
from quantops.data.timeutil import SYMBOL_PATTERN
from quantops.services.schemas import BarsOut, MarketDate
from quantops.urls import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/market-data", tags=["market-data"])


@router.get("/status", summary="Cache status: symbols, ranges, hit/miss counts (file path: admins only)")
async def cache_status(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return await container.market_data.cache_status(user)  # type: ignore[union-attr]


@router.get("/symbols", summary="Symbols with stored bars")
async def symbols(user: CurrentUser, container: ContainerDep) -> list[str]:
    return await container.market_data.symbols()  # type: ignore[union-attr]


@router.get(
    "/bars/{symbol}",
    summary="Bars of a symbol",
    responses={404: {"description": "unknown symbol"}, 422: {"description": "bad range"}},
)
async def bars(
    symbol: Annotated[str, Path(min_length=1, max_length=32, pattern=SYMBOL_PATTERN)],
    user: CurrentUser,
    container: ContainerDep,
    start: Annotated[MarketDate | None, Query()] = None,
    end: Annotated[MarketDate | None, Query()] = None,
    interval: Annotated[str, Query(pattern="^1d$")] = "1d",
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="keep the last N bars")] = None,
) -> BarsOut:
    return await container.market_data.bars(symbol, start, end, interval, limit)  # type: ignore[union-attr]
