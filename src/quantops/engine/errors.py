"""Errors raised by the engine for bad input (all ``ValueError`` subclasses, messages name the problem)."""

from __future__ import annotations


class BarsValidationError(ValueError):
    """The bars cannot be backtested (empty, NaN/inf, non-positive, unsorted/duplicate timestamps...)."""


class InsufficientBarsError(BarsValidationError):
    """Fewer bars than the strategy's indicator periods need."""

    def __init__(self, message: str, *, required: int, available: int) -> None:
        super().__init__(message)
        self.required = required
        self.available = available
