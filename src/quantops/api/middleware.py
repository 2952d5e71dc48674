"""ASGI middleware: request body size limit, and redaction of API keys from server logs."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A query parameter `name=value` (name and value as they appear, possibly percent-encoded).
_QUERY_PARAM = re.compile(r"(?P<name>[^?&=\s\"']+)=(?P<value>[^&\s\"']*)")
_SECRET_PARAMS = frozenset({"api_key"})


def _redact_param(match: re.Match[str]) -> str:
    # Decide on the decoded name: `api%5Fkey=` is the same parameter to the server as `api_key=`.
    if unquote_plus(match["name"]).strip().lower() in _SECRET_PARAMS:
        return f"{match['name']}=***"
    return match.group(0)


def redact_api_keys(text: str) -> str:
    """`text` with the value of every `api_key` query parameter (however encoded) replaced by ***."""
    return _QUERY_PARAM.sub(_redact_param, text) if "=" in text else text


class RedactApiKeys(logging.Filter):
    """Access logs print the URL; a WebSocket/report URL may carry ?api_key=… — never log it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_api_keys(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_api_keys(record.msg)
        return True


def install_log_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactApiKeys) for f in logger.filters):
            logger.addFilter(RedactApiKeys())


class BodySizeLimit:
    """413 for bodies above `max_bytes`, by Content-Length or by counting a streamed body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(send)
                    return
        received = 0
        response_started = False
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            # FastAPI turns any error while reading the body into a 400; a streamed (chunked) body over
            # the limit must answer 413 like one announced by Content-Length.
            nonlocal response_started
            if too_large:
                if message["type"] == "http.response.start" and not response_started:
                    response_started = True
                    await self._reject(send)
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = b'{"detail":"request body too large (limit %d bytes)"}' % self.max_bytes
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
