"""Backtests: submit (202), status, result, report, list, cancel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import FileResponse

from quantops.api.deps import ContainerDep, CurrentUser, CurrentUserOrQuery
from quantops.services.schemas import (
    BacktestCreate,
    BacktestOut,
    BacktestPage,
    BacktestResultOut,
    BacktestStatus,
)
from quantops.urls import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/backtests", tags=["backtests"])

BacktestId = Annotated[str, Path(min_length=1, max_length=64)]
NOT_FOUND = {404: {"description": "no such backtest (or not yours)"}}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit a backtest; it runs in the background",
    responses={
        404: {"description": "strategy_id not found"},
        422: {"description": "bad input: unknown symbol, reversed dates, too few bars, bad params"},
    },
)
async def submit_backtest(body: BacktestCreate, user: CurrentUser, container: ContainerDep) -> BacktestOut:
    return await container.backtests.submit(user, body)


@router.get("", summary="My backtests, newest first (or ranked by a metric), filtered and paginated")
async def list_backtests(
    user: CurrentUser,
    container: ContainerDep,
    status_filter: Annotated[BacktestStatus | None, Query(alias="status")] = None,
    strategy_id: Annotated[str | None, Query(max_length=64)] = None,
    symbol: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    sort_by: Annotated[
        str | None,
        Query(max_length=32, description="rank completed backtests by this metric, e.g. total_return"),
    ] = None,
    order: Annotated[
        Literal["best", "worst"], Query(description="with sort_by: best or worst first")
    ] = "best",
) -> BacktestPage:
    return await container.backtests.list(
        user,
        status=status_filter,
        strategy_id=strategy_id,
        symbol=symbol,
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        order=order,
    )


@router.get(
    "/{backtest_id}", summary="Status, timings, stats when completed, error when failed", responses=NOT_FOUND
)
async def get_backtest(
    backtest_id: BacktestId,
    user: CurrentUser,
    container: ContainerDep,
    wait: Annotated[
        float, Query(ge=0, le=60, description="long-poll: wait up to this many seconds for a final status")
    ] = 0,
) -> BacktestOut:
    if wait > 0:
        return await container.backtests.wait(user, backtest_id, timeout=wait)
    return await container.backtests.get(user, backtest_id)


@router.get(
    "/{backtest_id}/result",
    summary="Stats, equity curve and trades",
    responses={**NOT_FOUND, 409: {"description": "not completed yet"}},
)
async def get_backtest_result(
    backtest_id: BacktestId, user: CurrentUser, container: ContainerDep
) -> BacktestResultOut:
    return await container.backtests.result(user, backtest_id)


@router.get(
    "/{backtest_id}/report",
    summary="HTML tear sheet (when submitted with generate_report=true)",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"content": {"text/html": {}}}},
)
async def get_backtest_report(
    backtest_id: BacktestId, user: CurrentUserOrQuery, container: ContainerDep
) -> FileResponse:
    path = await container.backtests.report_path(user, backtest_id)
    return FileResponse(path, media_type="text/html")


@router.post(
    "/{backtest_id}/cancel",
    summary="Cancel a pending or running backtest",
    responses={**NOT_FOUND, 409: {"description": "already finished"}},
)
async def cancel_backtest(backtest_id: BacktestId, user: CurrentUser, container: ContainerDep) -> BacktestOut:
    return await container.backtests.cancel(user, backtest_id)
