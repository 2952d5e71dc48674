"""Errors of the market-data layer.

Every error names what was wrong (``field``) so adapters can turn it into a 4xx/validation message;
``UnknownSymbolError`` is a ``LookupError`` (→ 404), the request/data errors are ``ValueError`` (→ 422).
"""

from __future__ import annotations

from dataclasses import dataclass


class MarketDataError(Exception):
    """Base class of everything raised by ``quantops.data``."""

    field: str | None = None


class UnknownSymbolError(MarketDataError, LookupError):
    """No bars for this symbol in the store, and the provider (if any) does not know it either."""

    field = "symbol"

    def __init__(self, symbol: str, available: list[str] | None = None) -> None:
        self.symbol = symbol
        self.available = available or []
        hint = f"; available: {', '.join(self.available[:20])}" if self.available else ""
        super().__init__(f"unknown symbol {symbol!r}{hint}")


class EmptyRangeError(MarketDataError, ValueError):
    """The symbol exists but has no bars between start and end (or start > end)."""

    field = "start"

    def __init__(self, message: str, symbol: str | None = None) -> None:
        self.symbol = symbol
        super().__init__(message)


class InvalidRequestError(MarketDataError, ValueError):
    """A request argument is malformed (bad symbol text, unparsable date, unsupported interval)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class RowProblem:
    """One validation rule broken by a file; ``rows`` are 1-based data-row numbers (header excluded)."""

    rule: str
    rows: tuple[int, ...]

    def describe(self, max_rows: int = 10) -> str:
        shown = ", ".join(str(r) for r in self.rows[:max_rows])
        more = f" (+{len(self.rows) - max_rows} more)" if len(self.rows) > max_rows else ""
        return f"{self.rule} at row(s) {shown}{more}"


class DataFileError(MarketDataError, ValueError):
    """A file or provider batch was rejected whole; nothing of it was written."""

    field = "path"

    def __init__(self, source: str, problems: list[RowProblem] | None = None, message: str | None = None):
        self.source = source
        self.problems = problems or []
        detail = message or "; ".join(p.describe() for p in self.problems)
        super().__init__(f"{source} rejected: {detail}")

    @property
    def rows(self) -> list[int]:
        """All offending row numbers, sorted."""
        return sorted({r for p in self.problems for r in p.rows})


class ProviderError(MarketDataError, RuntimeError):
    """The remote provider failed (network, HTTP status, rate limit, malformed answer)."""

    field = "provider"


class StoreLockedError(MarketDataError, RuntimeError):
    """Another process holds the DuckDB file (DuckDB allows one read-write process per file)."""

    field = "duckdb_path"
