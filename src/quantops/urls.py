"""Every URL quantops hands out is built here: the API prefixes and the absolute links.

Links follow the host and port the server really serves on. The API layer records each request's
base URL (scheme, ``Host`` header, else the socket the server accepted on) with `request_base_url`;
`Links` uses it unless ``QUANTOPS_PUBLIC_BASE_URL`` is set explicitly (behind a proxy). Outside a
request (background jobs, the CLI) the fallback is the configured bind address.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

API_PREFIX = "/api/v1"
CHATOPS_PREFIX = f"{API_PREFIX}/chatops-advanced"

_request_base: ContextVar[str | None] = ContextVar("quantops_request_base_url", default=None)


@contextlib.contextmanager
def request_base_url(url: str | None) -> Iterator[None]:
    """Within this block (one request and the tasks it starts) links use ``url`` as their base."""
    token = _request_base.set(url.rstrip("/") if url else None)
    try:
        yield
    finally:
        _request_base.reset(token)


def backtest_path(backtest_id: str) -> str:
    return f"{API_PREFIX}/backtests/{backtest_id}"


def backtest_report_path(backtest_id: str) -> str:
    return f"{backtest_path(backtest_id)}/report"


def comparison_report_path(comparison_id: str) -> str:
    return f"{CHATOPS_PREFIX}/strategies/compare/{comparison_id}/report"


class Links:
    """Absolute links: ``public_base_url`` when configured, else the current request's base URL, else
    ``fallback_base_url`` (the server's configured bind address)."""

    def __init__(self, public_base_url: str | None, fallback_base_url: str) -> None:
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.fallback_base_url = fallback_base_url.rstrip("/")

    @property
    def base_url(self) -> str:
        return self.public_base_url or _request_base.get() or self.fallback_base_url

    def absolute(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def backtest_report(self, backtest_id: str) -> str:
        return self.absolute(backtest_report_path(backtest_id))

    def comparison_report(self, comparison_id: str) -> str:
        return self.absolute(comparison_report_path(comparison_id))
