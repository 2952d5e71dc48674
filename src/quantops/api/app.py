"""FastAPI app factory. One container per app, built here and started in the lifespan.

Other layers add routers by listing them in `EXTENSION_ROUTERS` ("module:attribute" of an
`APIRouter`), or by passing `routers=` to `create_app`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRouter
from starlette.exceptions import HTTPException as StarletteHTTPException

from quantops.api.base_url import RequestBaseUrl
from quantops.api.deps import reject_nul_characters
from quantops.api.errors import http_error_response
from quantops.api.middleware import BodySizeLimit, install_log_redaction
from quantops.api.routers import backtests, events, health, market_data, strategies, users
from quantops.config import Settings, get_settings
from quantops.services.container import Container, build_container
from quantops.services.errors import ServiceError, ValidationFailed, validation_details

log = logging.getLogger(__name__)

CORE_ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    users.router,
    strategies.router,
    backtests.router,
    market_data.router,
    events.router,
)
# "module:attribute" of extra APIRouters (chat #5, comparison #6), imported when the app is built.
EXTENSION_ROUTERS: tuple[str, ...] = (
    "quantops.api.routers.compare:router",
    "quantops.api.routers.chat:router",  # chat #5: /api/v1/chatops-advanced/...
    "quantops.api.routers.chat:page_router",  # chat #5: the /chat web page
)

DESCRIPTION = """
Conversational quant backtests. Authenticate every call with `X-API-Key: <key>` (or
`Authorization: Bearer <key>`); `quantops users ensure-default` prints the local key.
Backtests run in the background: `POST /api/v1/backtests` answers 202 with an id, then poll
`GET /api/v1/backtests/{id}` (or long-poll with `?wait=30`), or listen on `WS /api/v1/ws/events`.
"""


# Statuses any route called as a user may answer (documented so the schema is the whole contract).
USER_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid API key"},
    403: {"description": "your roles do not allow this (the refusal names the roles that would)"},
    413: {"description": "request body over max_body_bytes"},
}


def _load_router(target: str) -> APIRouter:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "router")


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    routers: Sequence[APIRouter] | None = None,
    recover_jobs: bool = True,
) -> FastAPI:
    """Build the app; pass `container` to share one already built (it is then started here too)."""
    settings = settings or (container.settings if container else get_settings())
    app_container = container or build_container(settings)
    install_log_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app_container.start(recover=recover_jobs)
        try:
            yield
        finally:
            await app_container.aclose()

    app = FastAPI(
        title="quantops",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(reject_nul_characters)],  # every route, HTTP and WebSocket
    )
    app.state.container = app_container
    app.state.settings = settings
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestBaseUrl)  # links follow the host and port the request reached

    @app.exception_handler(ValidationFailed)
    async def _validation_failed(request: Request, exc: ValidationFailed) -> JSONResponse:
        return JSONResponse({"detail": exc.to_detail()}, status_code=422)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Same shape as FastAPI's default, without echoing the (possibly huge) input back.
        return JSONResponse({"detail": validation_details(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return await http_error_response(request, exc)

    for router in routers if routers is not None else CORE_ROUTERS:
        app.include_router(router, responses=None if router is health.router else USER_RESPONSES)
    for target in EXTENSION_ROUTERS:
        app.include_router(_load_router(target), responses=USER_RESPONSES)
    return app
