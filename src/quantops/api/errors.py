"""HTTP errors FastAPI/Starlette raise themselves, made exact: a 405 lists every method of the path, and
a body that cannot be decoded is a 422 naming the body (like malformed JSON), not an undocumented 400."""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

# FastAPI's message when reading/decoding the body failed (e.g. bytes that are not UTF-8).
_BODY_PARSE_ERROR = "There was an error parsing the body"


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 named only the first route's).

    Asks each top-level route (included routers too, through the public `BaseRoute.matches`)."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def http_error_response(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": allow})
    if exc.status_code == 400 and exc.detail == _BODY_PARSE_ERROR:
        detail = [{"loc": ["body"], "msg": "the body is not valid JSON (UTF-8)", "type": "json_invalid"}]
        return JSONResponse({"detail": detail}, status_code=422)
    return await http_exception_handler(request, exc)
