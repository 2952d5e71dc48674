"""FastAPI dependencies: the container (from app.state) and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, WebSocket, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from quantops.services.container import Container
from quantops.services.schemas import UserContext

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key of a user")
bearer = HTTPBearer(auto_error=False, description="the same API key as a Bearer token")


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def _unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "missing or invalid API key (send X-API-Key or Authorization: Bearer)",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def current_user(
    container: ContainerDep,
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> UserContext:
    key = api_key or (credentials.credentials if credentials else None)
    user = await container.users.authenticate(key) if key else None
    if user is None:
        raise _unauthorized()
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
        raise _unauthorized()
    return user


async def websocket_user(websocket: WebSocket) -> UserContext | None:
    container: Container = websocket.app.state.container
    key = websocket.headers.get("x-api-key") or websocket.query_params.get("api_key")
    auth = websocket.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return await container.users.authenticate(key) if key else None


CurrentUser = Annotated[UserContext, Depends(current_user)]
CurrentUserOrQuery = Annotated[UserContext, Depends(current_user_or_query)]
