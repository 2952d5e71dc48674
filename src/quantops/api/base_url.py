"""ASGI middleware: each request's links are built on the host and port that request reached."""

from __future__ import annotations

from starlette.datastructures import URL
from starlette.types import ASGIApp, Receive, Scope, Send

from quantops.urls import request_base_url

_HTTP_SCHEME = {"ws": "http", "wss": "https"}


def base_url_of(scope: Scope) -> str:
    """scheme://host[:port] of the request (``Host`` header, else the socket it was accepted on)."""
    url = URL(scope=scope)
    scheme = _HTTP_SCHEME.get(url.scheme, url.scheme)
    return f"{scheme}://{url.netloc}{scope.get('root_path', '')}".rstrip("/")


class RequestBaseUrl:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with request_base_url(base_url_of(scope)):
            await self.app(scope, receive, send)
