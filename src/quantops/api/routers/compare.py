"""Strategy comparison (#6): POST the comparison, GET its HTML page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import FileResponse

from quantops.api.deps import ContainerDep, CurrentUser, CurrentUserOrQuery
from quantops.services.comparison import (
    COMPARISON_ID_PATTERN,
    ComparisonService,
    StrategyComparisonRequest,
    StrategyComparisonResult,
)
from quantops.services.container import Container
from quantops.urls import CHATOPS_PREFIX

router = APIRouter(prefix=f"{CHATOPS_PREFIX}/strategies", tags=["comparison"])

ComparisonId = Annotated[str, Path(pattern=COMPARISON_ID_PATTERN, description="comparison_id of a result")]


def _service(container: Container) -> ComparisonService:
    service = container.comparison
    if not isinstance(service, ComparisonService):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "strategy comparison is not installed")
    return service


@router.post(
    "/compare",
    summary="Compare 2-5 of your strategies on their real backtest results",
    responses={
        404: {"description": "a strategy id is unknown (or not yours)"},
        409: {"description": "a strategy has no completed backtest (named in the message)"},
        422: {"description": "bad request, or too few overlapping dates (field and rule named)"},
    },
)
async def compare_strategies(
    body: StrategyComparisonRequest, user: CurrentUser, container: ContainerDep
) -> StrategyComparisonResult:
    return await _service(container).compare(user, body)


@router.get(
    "/compare/{comparison_id}/report",
    summary="HTML comparison page (equity, correlation, Monte Carlo fan, regimes)",
    response_class=FileResponse,
    responses={
        404: {"description": "no such comparison (or not yours)"},
        200: {"content": {"text/html": {}}},
    },
)
async def get_comparison_report(
    comparison_id: ComparisonId, user: CurrentUserOrQuery, container: ContainerDep
) -> FileResponse:
    return FileResponse(_service(container).report_path(user, comparison_id), media_type="text/html")
