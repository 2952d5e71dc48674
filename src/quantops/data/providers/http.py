"""Shared HTTP plumbing for the network providers: one httpx client, retries, secrets kept out of logs."""

from __future__ import annotations

import logging
import re

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from quantops.data.errors import ProviderError

_SECRET_QUERY_RE = re.compile(r"(?i)((?:apikey|api_key|token|key)=)[^&\s\"']+")


def redact(text: str) -> str:
    """Mask secret query parameters (``apikey=...``) in URLs/messages."""
    return _SECRET_QUERY_RE.sub(r"\1***", text)


class _RedactSecretsFilter(logging.Filter):
    """httpx logs every request URL at INFO; Alpha Vantage puts the key in the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(str(a)) if isinstance(a, str | httpx.URL) else a for a in record.args)
        record.msg = redact(str(record.msg))
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _RedactSecretsFilter) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactSecretsFilter())


class _Retryable(Exception):
    """Transient failure (connection error, 429, 5xx) worth another attempt."""


class HttpJsonClient:
    """GET JSON with bounded retries on transient errors; errors become ``ProviderError`` (redacted)."""

    def __init__(self, base_url: str, timeout: float, provider: str, attempts: int = 3) -> None:
        self.provider = provider
        self._attempts = attempts
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"User-Agent": "Mozilla/5.0 (quantops market-data)", "Accept": "application/json"},
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def get_json(self, path: str, params: dict[str, str | int]) -> tuple[int, object]:
        """→ (status, decoded JSON). 4xx other than 429 are returned for the caller to interpret."""

        @retry(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        def attempt() -> tuple[int, object]:
            try:
                response = self._client.get(path, params=params)
            except httpx.HTTPError as exc:
                raise _Retryable(f"{type(exc).__name__}: {redact(str(exc))}") from None
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            try:
                return response.status_code, response.json()
            except ValueError:
                raise ProviderError(
                    f"{self.provider}: HTTP {response.status_code} with a non-JSON body"
                ) from None

        try:
            return attempt()
        except _Retryable as exc:
            raise ProviderError(
                f"{self.provider}: request failed after {self._attempts} attempts ({exc})"
            ) from None
