"""Service errors; the API maps them to HTTP statuses (404, 409, 422, 403)."""

from __future__ import annotations


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

    def to_detail(self) -> list[dict[str, object]]:
        """Same shape as FastAPI's request validation errors."""
        return [{"loc": ["body", *self.field.split(".")], "msg": self.message, "type": self.rule}]


class PermissionDenied(ServiceError):
    status_code = 403


class UpstreamUnavailable(ServiceError):
    """A remote data source failed or timed out: not the caller's fault, worth a retry later."""

    status_code = 502
