"""Liveness, readiness and the static plotly.js used by report pages."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from quantops.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database and DuckDB reachable",
    responses={503: {"description": "a dependency is down"}},
)
async def readyz(container: ContainerDep) -> Any:
    try:
        checks = await container.ready()
    except Exception as exc:  # report which dependency failed, not a stack trace
        return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, status_code=503)
    return {"status": "ok", "checks": checks, "job_backend": container.jobs.name}


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode()


@router.get("/static/plotly.min.js", include_in_schema=False)
async def plotly_js() -> Response:
    return Response(
        _plotly_js(), media_type="application/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )
