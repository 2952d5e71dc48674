"""Read-through providers and the settings-driven factory."""

from __future__ import annotations

from quantops.config import Settings
from quantops.data.errors import InvalidRequestError
from quantops.data.providers.alphavantage import AlphaVantageProvider
from quantops.data.providers.base import MarketDataProvider
from quantops.data.providers.synthetic import SyntheticProvider
from quantops.data.providers.yahoo import YahooProvider

PROVIDER_NAMES = ("none", "synthetic", "yahoo", "yfinance", "alphavantage")


def build_provider(settings: Settings, name: str | None = None) -> MarketDataProvider | None:
    """Provider named by ``name`` (or ``settings.market_data_provider``); ``"none"`` → offline store."""
    chosen = (name or settings.market_data_provider).lower()
    if chosen == "none":
        return None
    if chosen == "synthetic":
        return SyntheticProvider()
    if chosen in ("yahoo", "yfinance"):
        return YahooProvider(settings.yahoo_base_url, timeout=settings.market_data_timeout_seconds)
    if chosen == "alphavantage":
        return AlphaVantageProvider(
            settings.alphavantage_api_key,
            settings.alphavantage_base_url,
            timeout=settings.market_data_timeout_seconds,
        )
    raise InvalidRequestError("provider", f"{name!r} unknown; use one of {', '.join(PROVIDER_NAMES)}")


__all__ = [
    "PROVIDER_NAMES",
    "AlphaVantageProvider",
    "MarketDataProvider",
    "SyntheticProvider",
    "YahooProvider",
    "build_provider",
]
