"""Errors raised by the comparison analytics (plain ``ValueError`` subclasses, no web types)."""

from __future__ import annotations


class AnalysisError(ValueError):
    """Input the analysis cannot work with; the message names the problem."""


class InsufficientOverlapError(AnalysisError):
    """The equity curves share too few dates to compare them."""

    def __init__(self, common_dates: int, required: int, names: list[str]) -> None:
        self.common_dates = common_dates
        self.required = required
        self.names = names
        super().__init__(
            f"strategies {', '.join(names)} share only {common_dates} common dates; "
            f"at least {required} are needed to compare them"
        )
