"""Provider interface: the store asks a provider only for ranges it does not cover yet."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from quantops.data.bars import Bars


@runtime_checkable
class MarketDataProvider(Protocol):
    """A source of bars. ``fetch`` returns bars with ``start_ns <= ts < end_ns`` (possibly none, e.g. a
    weekend) and raises ``UnknownSymbolError`` for a symbol the source does not know, ``ProviderError``
    for transport/format failures."""

    name: str
    synthetic: bool

    def fetch(self, symbol: str, interval: str, start_ns: int, end_ns: int) -> Bars: ...
