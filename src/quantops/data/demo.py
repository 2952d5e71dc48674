"""Demo universe: familiar tickers filled with *synthetic* (seeded random-walk) daily bars.

Loaded by ``make run`` (``quantops data demo --if-empty``) so the product works offline at once. Every
range is recorded with source ``synthetic`` and ``synthetic = true`` in the coverage table and shows up
as synthetic in ``cache_status()``: these are not real prices of those companies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from quantops.data.providers.synthetic import SyntheticProvider
from quantops.data.store import LoadResult, MarketDataStore

DEMO_SYMBOLS: tuple[str, ...] = (
    "AAPL", "MSFT", "NVDA", "GOOG", "AMZN", "TSLA", "META", "SPY", "QQQ", "JPM", "NFLX", "AMD",
)  # fmt: skip
DEMO_START = "2015-01-01"
DEMO_END = "2024-12-31"
DEMO_SEED = 42


def load_demo(
    store: MarketDataStore,
    symbols: Sequence[str] = DEMO_SYMBOLS,
    start: str = DEMO_START,
    end: str = DEMO_END,
    seed: int = DEMO_SEED,
    on_symbol_done: Callable[[LoadResult], None] | None = None,
) -> list[LoadResult]:
    """Fill ``symbols`` × [start, end] daily from the seeded synthetic provider (gaps only)."""
    provider = SyntheticProvider(seed=seed)
    results: list[LoadResult] = []
    for symbol in symbols:
        result = store.fetch(symbol, start, end, interval="1d", provider=provider)
        results.append(result)
        if on_symbol_done is not None:
            on_symbol_done(result)
    return results
