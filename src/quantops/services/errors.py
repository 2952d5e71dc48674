"""Service errors; the API maps them to HTTP statuses (404, 409, 422, 403)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol


class _HasErrors(Protocol):
    """pydantic's ``ValidationError`` and FastAPI's ``RequestValidationError``."""

    def errors(self) -> Sequence[Any]: ...


def validation_details(exc: _HasErrors, limit: int | None = None) -> list[dict[str, Any]]:
    """The errors of a pydantic/FastAPI validation error as FastAPI shapes them — ``loc`` (a list),
    ``msg``, ``type`` — without the input (it may be huge or secret). The one helper for that shape."""
    errors = list(exc.errors())
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors[:limit]]


def validation_summary(exc: _HasErrors, limit: int = 5, default: str = "arguments") -> str:
    """``field: message; …`` of the first ``limit`` errors (for texts: chat tool results)."""
    details = validation_details(exc, limit)
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or default}: {e['msg']}" for e in details)


class ServiceError(Exception):
    """Base of every error a service raises on purpose (message safe to show to the caller)."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ServiceError):
    """Missing, or owned by another user (never reveal which)."""

    status_code = 404

    def __init__(self, kind: str, resource_id: str) -> None:
        super().__init__(f"{kind} {resource_id!r} not found")
        self.kind = kind
        self.resource_id = resource_id


class ConflictError(ServiceError):
    status_code = 409


class ValidationFailed(ServiceError):
    """Bad input the schema could not catch (needs data): names the field and the rule broken."""

    status_code = 422

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule

    @classmethod
    def from_pydantic(
        cls,
        exc: _HasErrors,
        prefix: str = "",
        *,
        unprefixed: Collection[str] = (),
        field_in_message: bool = False,
    ) -> ValidationFailed:
        """The first error of a pydantic ``ValidationError`` as a ``ValidationFailed`` naming the field:
        ``prefix.loc`` (``loc`` alone when it is in ``unprefixed``; ``prefix``, else "request", when the
        error has no location). The one place that turns pydantic errors into a service error."""
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        if not loc:
            field = prefix or "request"
        elif not prefix or loc in unprefixed:
            field = loc
        else:
            field = f"{prefix}.{loc}"
        message = f"{field}: {first['msg']}" if field_in_message else first["msg"]
        return cls(field, first["type"], message)

    def to_detail(self) -> list[dict[str, object]]:
        """Same shape as FastAPI's request validation errors."""
        return [{"loc": ["body", *self.field.split(".")], "msg": self.message, "type": self.rule}]


class PermissionDenied(ServiceError):
    status_code = 403


class UpstreamUnavailable(ServiceError):
    """A remote data source failed or timed out: not the caller's fault, worth a retry later."""

    status_code = 502
