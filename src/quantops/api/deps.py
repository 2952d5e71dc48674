"""FastAPI dependencies: the container (from app.state) and the authenticated user."""

from __future__ import annotations

import json
import typing
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, WebSocket, status
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect

from quantops.services.container import Container
from quantops.services.inputs import NUL, NUL_ERROR_TYPE, NUL_MESSAGE, nul_locations
from quantops.services.schemas import UserContext

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key of a user")
bearer = HTTPBearer(auto_error=False, description="the same API key as a Bearer token")


UNKNOWN, REPEATED = "extra_forbidden", "repeated_parameter"
_DECLARED_QUERY: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_sequence(arg) for arg in typing.get_args(annotation)) if origin is not None else False


def _declared_query(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """(query parameter names the route declares, those that may repeat), computed once per route."""
    key = id(route)
    if key not in _DECLARED_QUERY:
        params, stack = [], [route.dependant]
        while stack:  # the route's and its dependencies' query parameters
            dependant = stack.pop()
            params.extend(dependant.query_params)
            stack.extend(dependant.dependencies)
        names = frozenset(p.alias for p in params)
        repeatable = frozenset(p.alias for p in params if _is_sequence(p.field_info.annotation))
        _DECLARED_QUERY[key] = (names, repeatable)
    return _DECLARED_QUERY[key]


def _check_query_names(connection: HTTPConnection) -> None:
    """A query parameter the route does not declare, or a single-valued one given twice, is a 422 (like
    an unknown body field): `?limt=5` or `?symbol=A&symbol=B` were silently ignored or half-used."""
    route = connection.scope.get("route")
    if connection.scope["type"] != "http" or not isinstance(route, APIRoute):
        return
    names, repeatable = _declared_query(route)
    seen: set[str] = set()
    errors: list[dict[str, Any]] = []
    for name, _ in connection.query_params.multi_items():
        if name not in names:
            errors.append(
                {"loc": ("query", name), "msg": "unknown query parameter", "type": "extra_forbidden"}
            )
        elif name in seen and name not in repeatable:
            errors.append(
                {"loc": ("query", name), "msg": "given more than once", "type": "repeated_parameter"}
            )
        seen.add(name)
    if errors:
        raise RequestValidationError(errors[:10])


async def reject_nul_characters(connection: HTTPConnection) -> None:
    """App-wide dependency: a NUL in a path/query parameter or anywhere in a JSON body is a 422 naming it.

    Runs before every route (HTTP and WebSocket), so no handler, service or database sees one."""
    locations: list[tuple[str | int, ...]] = [
        ("path", name)
        for name, value in connection.path_params.items()
        if isinstance(value, str) and NUL in value
    ]
    locations += [
        ("query", name.replace(NUL, "")) for name, value in connection.query_params.multi_items()
        if NUL in name or NUL in value
    ]  # fmt: skip
    _check_query_names(connection)
    if isinstance(connection, Request):
        body = await connection.body()  # already read (and cached) by FastAPI
        if b"\\u0000" in body:
            try:
                decoded: Any = json.loads(body)
            except ValueError:
                decoded = None  # not JSON: FastAPI's own body validation answers
            locations += [("body", *loc) for loc in nul_locations(decoded)]
    if not locations:
        return
    errors = [{"loc": loc, "msg": NUL_MESSAGE, "type": NUL_ERROR_TYPE} for loc in locations]
    if connection.scope["type"] == "websocket":
        raise WebSocketRequestValidationError(errors)
    raise RequestValidationError(errors)


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def unauthorized_message(container: Container) -> str:
    return (
        "missing or invalid API key: send it as X-API-Key or Authorization: Bearer; "
        + container.settings.key_hint
    )


def _unauthorized(container: Container) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, unauthorized_message(container), headers={"WWW-Authenticate": "Bearer"}
    )


async def current_user(
    container: ContainerDep,
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> UserContext:
    key = api_key or (credentials.credentials if credentials else None)
    user = await container.users.authenticate(key) if key else None
    if user is None:
        raise _unauthorized(container)
    return user


async def current_user_or_query(
    container: ContainerDep,
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    api_key_query: Annotated[
        str | None, Query(alias="api_key", description="for browsers that cannot send headers")
    ] = None,
) -> UserContext:
    """Header first; `?api_key=` allowed for pages opened in a browser (redacted from logs)."""
    key = api_key or (credentials.credentials if credentials else None) or api_key_query
    user = await container.users.authenticate(key) if key else None
    if user is None:
        raise _unauthorized(container)
    return user


async def websocket_user(websocket: WebSocket) -> UserContext | None:
    container: Container = websocket.app.state.container
    key = websocket.headers.get("x-api-key") or websocket.query_params.get("api_key")
    auth = websocket.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return await container.users.authenticate(key) if key else None


BINARY_FRAME_ERROR = "binary frames are not supported: send JSON as a text frame"


async def receive_text_frame(websocket: WebSocket) -> str | None:
    """The next text frame, or None for a binary frame (answer it with an error; the socket stays open).

    `WebSocket.receive_text()` raised KeyError on a binary frame, which killed the socket without a
    close frame. Raises `WebSocketDisconnect` when the client leaves."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    return text if isinstance(text, str) else None


CurrentUser = Annotated[UserContext, Depends(current_user)]
CurrentUserOrQuery = Annotated[UserContext, Depends(current_user_or_query)]
