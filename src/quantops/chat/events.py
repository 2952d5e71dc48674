"""The one event model of a chat turn (freqtrade's rpc core under thin adapters is the model).

`ChatService.chat(..., sink=...)` emits, through one async callable:

- ``ProgressEvent`` — a long tool is working (a backtest started, a comparison runs missing backtests);
- ``ChunkEvent`` — a piece of the answer (LLM tokens as they arrive, or the offline answer in pieces);
- ``DoneEvent`` — the turn is stored; carries the whole ``ChatResponse``;
- ``ErrorEvent`` — the turn failed (``detail`` safe to show, ``status`` the HTTP status it maps to).

Every adapter serialises the same JSON (`event.to_dict()` / `event.to_json()`):
``{"type": "progress", "message"}``, ``{"type": "chunk", "content"}``, ``{"type": "done", ...response}``,
``{"type": "error", "detail", "status"}``. SSE sends it as ``event: <type>`` + ``data: <json>``, the
WebSocket as one text frame, the CLI and the web page read it back.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from quantops.chat.schemas import ChatResponse
from quantops.services.errors import ServiceError, ValidationFailed, validation_details

EventType = Literal["progress", "chunk", "done", "error"]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    message: str
    type: ClassVar[EventType] = "progress"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "progress", "message": self.message}

    def to_json(self) -> str:
        return _dumps(self.to_dict())


@dataclass(frozen=True, slots=True)
class ChunkEvent:
    content: str
    type: ClassVar[EventType] = "chunk"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "chunk", "content": self.content}

    def to_json(self) -> str:
        return _dumps(self.to_dict())


@dataclass(frozen=True, slots=True)
class DoneEvent:
    response: ChatResponse
    type: ClassVar[EventType] = "done"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "done", **self.response.model_dump(mode="json")}

    def to_json(self) -> str:
        # pydantic's serialiser writes the response (UTF-8, no NaN) without a dict round trip.
        return '{"type":"done",' + self.response.model_dump_json()[1:]


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    detail: Any  # a message, or FastAPI-shaped validation errors [{loc, msg, type}]
    status: int = 400
    type: ClassVar[EventType] = "error"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "error", "detail": self.detail, "status": self.status}

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorEvent:
        """What a client may see of a failure: service errors carry their message, others do not."""
        if isinstance(exc, ValidationFailed):
            return cls(exc.to_detail(), exc.status_code)
        if isinstance(exc, ServiceError):
            return cls(exc.message, exc.status_code)
        if isinstance(exc, ValidationError):
            return cls.from_validation_error(exc)
        return cls("internal error", 500)

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> ErrorEvent:
        """A bad request frame: the first errors, shaped like FastAPI's (no input echoed back)."""
        return cls(validation_details(exc, 5), 422)


ChatEvent = ProgressEvent | ChunkEvent | DoneEvent | ErrorEvent
EventSink = Callable[[ChatEvent], Awaitable[None]]
