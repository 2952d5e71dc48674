"""DuckDB market-data store with read-through providers and persistent hit/miss statistics.

Concurrency design (DuckDB allows one read-write *process* per file):
- one ``MarketDataStore`` (one DuckDB connection) per process; the API server process owns the file;
- every thread gets its own cursor (``conn.cursor()``, a connection to the same database), so reads run
  in parallel under DuckDB's MVCC and always see committed data only;
- writes (provider fills, imports, statistics) are serialised by one lock and each is one transaction:
  a crash leaves either the whole batch or nothing;
- a per-(symbol, interval) fetch lock makes concurrent misses of the same range call the provider once;
- async callers use ``anyio.to_thread.run_sync`` so DuckDB never blocks an event loop.
Because this process is the only writer, the coverage map is kept in memory (loaded at open, updated
after each commit) and a warm ``get_bars`` is a single indexed-range query.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from quantops.common import utcnow
from quantops.data.bars import Bars
from quantops.data.errors import (
    EmptyRangeError,
    InvalidRequestError,
    StoreLockedError,
    UnknownSymbolError,
)
from quantops.data.files import read_bars_file
from quantops.data.providers.base import MarketDataProvider
from quantops.data.timeutil import (
    NS_PER_DAY,
    ceil_to,
    check_interval,
    end_ns_exclusive_of,
    floor_to,
    grain_ns,
    merge_ranges,
    normalize_symbol,
    now_ns,
    ns_to_iso,
    start_ns_of,
    subtract_ranges,
)
from quantops.data.validation import validate_bars

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
DEFAULT_LOOKBACK_NS = 3653 * NS_PER_DAY  # ten years when a provider is asked for a symbol without range

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bars (
    symbol VARCHAR NOT NULL,
    interval VARCHAR NOT NULL,
    ts BIGINT NOT NULL,          -- ns since epoch, UTC; daily bars at 00:00 UTC of the trading date
    open DOUBLE NOT NULL,
    high DOUBLE NOT NULL,
    low DOUBLE NOT NULL,
    close DOUBLE NOT NULL,
    volume DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS coverage (
    symbol VARCHAR NOT NULL,
    interval VARCHAR NOT NULL,
    start_ns BIGINT NOT NULL,    -- half-open [start_ns, end_ns) range known to the store
    end_ns BIGINT NOT NULL,
    source VARCHAR NOT NULL,     -- provider name or 'import:<file>'
    synthetic BOOLEAN NOT NULL,  -- true for generated demo data: never real prices
    row_count BIGINT NOT NULL,
    fetched_at TIMESTAMP NOT NULL  -- UTC
);
CREATE TABLE IF NOT EXISTS cache_stats (
    symbol VARCHAR NOT NULL,
    interval VARCHAR NOT NULL,
    hits BIGINT NOT NULL,
    misses BIGINT NOT NULL,
    last_access TIMESTAMP,
    PRIMARY KEY (symbol, interval)
);
CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
"""

# No ORDER BY: rows come back in insertion order (DuckDB preserves it), which is ts order unless a gap
# before existing data was filled later; ``_read`` checks and sorts in numpy only then (saves ~20 %).
_READ_BARS = (
    "SELECT ts, open, high, low, close, volume FROM bars "
    "WHERE symbol = ? AND interval = ? AND ts >= ? AND ts < ?"
)

Key = tuple[str, str]  # (symbol, interval)

# Open stores by resolved path: a second writer store on one file in this process would keep its own
# in-memory coverage map and miss the other's writes, so it is reported loudly.
_OPEN_STORES: weakref.WeakValueDictionary[str, MarketDataStore] = weakref.WeakValueDictionary()
_OPEN_STORES_LOCK = threading.Lock()


@dataclass(frozen=True)
class LoadResult:
    """Outcome of an import or a range fill."""

    symbol: str
    interval: str
    rows_written: int
    ranges_fetched: int
    source: str
    first: str | None
    last: str | None


@dataclass
class _SymbolSummary:
    first_ns: int
    last_ns: int
    rows: int


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """What the store holds for one (symbol, interval), from memory: no query (the chat reads it per turn)."""

    symbol: str
    interval: str
    first: str  # ISO timestamp of the first stored bar
    last: str  # ISO timestamp of the last stored bar
    rows: int
    synthetic: bool  # some range of it came from a synthetic (demo) source: never real prices


@dataclass(frozen=True)
class _Fill:
    """One provider answer for one gap: bars to write and the range the store may claim as covered."""

    start_ns: int
    end_ns: int
    claim_end_ns: int
    bars: Bars


def _utcnow() -> dt.datetime:
    return utcnow().replace(tzinfo=None)  # DuckDB TIMESTAMP columns are naive UTC


class MarketDataStore:
    """Thread-safe DuckDB bar store; one per process (see module docstring)."""

    def __init__(
        self,
        path: str | Path,
        provider: MarketDataProvider | None = None,
        *,
        read_only: bool = False,
        stats_flush_seconds: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.provider = provider
        self.read_only = read_only
        self._stats_flush_seconds = stats_flush_seconds
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreLockedError(
                    f"{self.path} is open in another process (DuckDB allows one writer process per file; "
                    "the API server owns it — use the API, or stop the server)"
                ) from None
            raise
        if not read_only:
            with _OPEN_STORES_LOCK:
                resolved = str(self.path.resolve())
                other = _OPEN_STORES.get(resolved)
                if other is not None and not other._closed:
                    logger.warning(
                        "a second MarketDataStore was opened on %s in this process; use one store per "
                        "process (its coverage cache does not see the other store's writes)",
                        resolved,
                    )
                _OPEN_STORES[resolved] = self
        self._local = threading.local()
        self._cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
        self._cursors_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._state_lock = threading.Lock()  # guards the in-memory maps below
        self._fetch_locks: dict[Key, threading.Lock] = {}
        self._closed = False
        if not read_only:
            self._conn.execute(_SCHEMA)
            self._conn.execute(
                "INSERT INTO store_meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION]
            )
        self._coverage: dict[Key, list[tuple[int, int]]] = {}
        self._summaries: dict[Key, _SymbolSummary] = {}
        self._synthetic: dict[Key, bool] = {}  # bool_or(coverage.synthetic) per key
        self._version = 0  # bumped whenever the in-memory maps change (readers cache on it)
        self._pending_stats: dict[Key, list[int]] = {}  # key -> [hits, misses] not yet in cache_stats
        self._last_stats_flush = time.monotonic()
        self._load_state()

    # ---------------------------------------------------------------- plumbing
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (DuckDB connections must not be shared by threads at the same time)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            if self._closed:
                raise RuntimeError("market data store is closed")
            cursor = self._conn.cursor()
            self._local.cursor = cursor
            with self._cursors_lock:
                self._cursors.add(cursor)
        return cursor

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.read_only:
            raise InvalidRequestError("duckdb_path", "store opened read-only")
        with self._write_lock:
            cursor = self._cursor()
            cursor.begin()
            try:
                yield cursor
            except BaseException:
                cursor.rollback()
                raise
            cursor.commit()

    def _load_state(self) -> None:
        cursor = self._cursor()
        coverage: dict[Key, list[tuple[int, int]]] = {}
        for symbol, interval, start, end in cursor.execute(
            "SELECT symbol, interval, start_ns, end_ns FROM coverage"
        ).fetchall():
            coverage.setdefault((symbol, interval), []).append((start, end))
        summaries = {
            (symbol, interval): _SymbolSummary(first, last, rows)
            for symbol, interval, first, last, rows in cursor.execute(
                "SELECT symbol, interval, min(ts), max(ts), count(*) FROM bars GROUP BY symbol, interval"
            ).fetchall()
        }
        synthetic = {
            (symbol, interval): bool(flag)
            for symbol, interval, flag in cursor.execute(
                "SELECT symbol, interval, bool_or(synthetic) FROM coverage GROUP BY symbol, interval"
            ).fetchall()
        }
        with self._state_lock:
            self._coverage = {k: merge_ranges(v) for k, v in coverage.items()}
            self._summaries = summaries
            self._synthetic = synthetic
            self._version += 1

    @staticmethod
    def _summary_of(cursor: duckdb.DuckDBPyConnection, key: Key) -> _SymbolSummary | None:
        row = cursor.execute(
            "SELECT min(ts), max(ts), count(*) FROM bars WHERE symbol = ? AND interval = ?", list(key)
        ).fetchone()
        if row is None or not row[2]:
            return None
        return _SymbolSummary(int(row[0]), int(row[1]), int(row[2]))

    def _fetch_lock(self, key: Key) -> threading.Lock:
        with self._state_lock:
            return self._fetch_locks.setdefault(key, threading.Lock())

    def close(self) -> None:
        """Flush statistics and release the DuckDB file (so another process/store may open it)."""
        if self._closed:
            return
        if not self.read_only:
            try:
                self.flush_stats()
            except duckdb.Error:
                logger.exception("could not flush cache statistics on close")
        self._closed = True
        with self._cursors_lock:
            cursors = list(self._cursors)
        for cursor in cursors:
            with suppress(duckdb.Error):
                cursor.close()
        self._conn.close()
        closer = getattr(self.provider, "close", None)
        if callable(closer):
            closer()

    def __enter__(self) -> MarketDataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- reads
    def symbols(self, interval: str | None = None) -> list[str]:
        """Symbols with at least one stored bar (optionally of one interval), sorted."""
        with self._state_lock:
            return sorted({s for (s, i) in self._summaries if interval is None or i == interval})

    @property
    def version(self) -> int:
        """Changes whenever stored symbols, ranges or sources change (to cache ``catalogue()`` on)."""
        return self._version

    def catalogue(self, interval: str = "1d") -> dict[str, SymbolInfo]:
        """Per stored symbol of ``interval``: first/last bar, rows, synthetic — from memory, no query."""
        with self._state_lock:
            items = [
                (key, summary, self._synthetic.get(key, False)) for key, summary in self._summaries.items()
            ]
        return {
            key[0]: SymbolInfo(
                key[0],
                key[1],
                ns_to_iso(summary.first_ns),
                ns_to_iso(summary.last_ns),
                summary.rows,
                synthetic,
            )
            for key, summary, synthetic in sorted(items)
            if key[1] == interval
        }

    def has_symbol(self, symbol: str, interval: str = "1d") -> bool:
        key = (normalize_symbol(symbol), check_interval(interval))
        with self._state_lock:
            return key in self._summaries

    def _resolve_range(self, key: Key, start: object, end: object, provider: MarketDataProvider | None):
        grain = grain_ns(key[1])
        with self._state_lock:
            covered = list(self._coverage.get(key, []))
            summary = self._summaries.get(key)
        if end is not None:
            end_ns = end_ns_exclusive_of(end)
        elif provider is not None:
            end_ns = floor_to(now_ns(), grain)  # through the last complete day/bar
        elif covered:
            end_ns = covered[-1][1]
        elif summary is not None:
            end_ns = summary.last_ns + 1
        else:
            raise UnknownSymbolError(key[0], self.symbols())
        if start is not None:
            start_ns = start_ns_of(start)
        elif summary is not None and provider is None:
            start_ns = summary.first_ns
        elif covered:
            start_ns = covered[0][0]
        else:
            start_ns = end_ns - DEFAULT_LOOKBACK_NS
        if start_ns >= end_ns:
            raise EmptyRangeError(
                f"start ({ns_to_iso(start_ns)}) must be before end ({ns_to_iso(end_ns)})", key[0]
            )
        return start_ns, end_ns

    def get_bars(
        self,
        symbol: str,
        start: object = None,
        end: object = None,
        interval: str = "1d",
    ) -> Bars:
        """Bars with start <= ts <= end (dates are inclusive whole days), read through the provider.

        Only ranges not yet covered are requested from the provider; a request answered entirely
        from the store counts as a hit, one that needed the provider (or found a gap) as a miss.
        """
        key = (normalize_symbol(symbol), check_interval(interval))
        start_ns, end_ns = self._resolve_range(key, start, end, self.provider)
        outcome = self._ensure_covered(key, start_ns, end_ns, self.provider, count_miss=True)
        bars = self._read(key, start_ns, end_ns)
        if len(bars) == 0:
            with self._state_lock:
                summary = self._summaries.get(key)
            if summary is None:
                raise UnknownSymbolError(key[0], self.symbols())
            raise EmptyRangeError(
                f"no {key[1]} bars for {key[0]} between {ns_to_iso(start_ns)} and {ns_to_iso(end_ns - 1)}; "
                f"stored: {ns_to_iso(summary.first_ns)} .. {ns_to_iso(summary.last_ns)}",
                key[0],
            )
        if outcome == "hit":
            self._count(key, hits=1)
        elif outcome == "gap":
            self._count(key, misses=1)
        return bars

    def _read(self, key: Key, start_ns: int, end_ns: int) -> Bars:
        columns = self._cursor().execute(_READ_BARS, [key[0], key[1], start_ns, end_ns]).fetchnumpy()
        timestamps = columns["ts"]
        if timestamps.shape[0] > 1 and not bool(np.all(timestamps[1:] > timestamps[:-1])):
            order = np.argsort(timestamps, kind="stable")
            columns = {name: values[order] for name, values in columns.items()}
        return Bars.from_arrays(
            key[0],
            key[1],
            columns["ts"],
            columns["open"],
            columns["high"],
            columns["low"],
            columns["close"],
            columns["volume"],
        )

    # ---------------------------------------------------------------- read-through
    def _gaps(self, key: Key, start_ns: int, end_ns: int) -> list[tuple[int, int]]:
        grain = grain_ns(key[1])
        with self._state_lock:
            covered = self._coverage.get(key, [])
            return subtract_ranges(floor_to(start_ns, grain), ceil_to(end_ns, grain), covered)

    def _ensure_covered(
        self,
        key: Key,
        start_ns: int,
        end_ns: int,
        provider: MarketDataProvider | None,
        *,
        count_miss: bool,
    ) -> str:
        """→ "hit" (all covered), "fetched" (provider filled gaps; miss already persisted), "gap"."""
        if not self._gaps(key, start_ns, end_ns):
            return "hit"
        if provider is None:
            return "gap"
        with self._fetch_lock(key):
            gaps = self._gaps(key, start_ns, end_ns)  # another thread may have filled them meanwhile
            if not gaps:
                return "hit"
            grain = grain_ns(key[1])
            current = now_ns()
            claim_limit = floor_to(current, grain)  # the running day/bar may still change: never claimed
            horizon = ceil_to(current + 1, grain)  # nothing exists beyond the running day/bar
            gaps = [(s, min(e, horizon)) for s, e in gaps if s < horizon]
            if not gaps:
                return "gap"
            fills: list[_Fill] = []
            for gap_start, gap_end in gaps:
                try:
                    answer = provider.fetch(key[0], key[1], gap_start, gap_end)
                except UnknownSymbolError:
                    with self._state_lock:
                        known_here = key in self._summaries
                    if not known_here:
                        raise
                    # e.g. an imported custom series the provider does not carry: serve what is stored.
                    return "gap"
                answer = answer.slice_ns(gap_start, gap_end)
                validate_bars(answer, f"{provider.name} answer for {key[0]} {key[1]}")
                fills.append(_Fill(gap_start, gap_end, min(gap_end, claim_limit), answer))
            self._write_fills(key, fills, provider.name, provider.synthetic, count_miss=count_miss)
        return "fetched"

    def _write_fills(
        self, key: Key, fills: list[_Fill], source: str, synthetic: bool, *, count_miss: bool
    ) -> int:
        """All fills of one request in one transaction (bars + coverage + miss counter)."""
        fetched_at = _utcnow()
        written = 0
        with self._transaction() as cursor:
            for fill in fills:
                cursor.execute(
                    "DELETE FROM bars WHERE symbol = ? AND interval = ? AND ts >= ? AND ts < ?",
                    [key[0], key[1], fill.start_ns, fill.end_ns],
                )
                if len(fill.bars):
                    self._insert_bars(cursor, key, fill.bars)
                    written += len(fill.bars)
                if fill.claim_end_ns > fill.start_ns:
                    cursor.execute(
                        "INSERT INTO coverage VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            key[0],
                            key[1],
                            fill.start_ns,
                            fill.claim_end_ns,
                            source,
                            synthetic,
                            len(fill.bars),
                            fetched_at,
                        ],
                    )
            if count_miss:
                self._upsert_stats(cursor, key, hits=0, misses=1)
            summary = self._summary_of(cursor, key)
            claimed = [(f.start_ns, f.claim_end_ns) for f in fills if f.claim_end_ns > f.start_ns]
        # Published only after the commit: whatever the in-memory maps claim, readers can see in DuckDB.
        with self._state_lock:
            self._coverage[key] = merge_ranges(self._coverage.get(key, []) + claimed)
            if claimed:
                self._synthetic[key] = self._synthetic.get(key, False) or synthetic
            self._version += 1
            if summary is None:
                self._summaries.pop(key, None)
            else:
                self._summaries[key] = summary
        return written

    @staticmethod
    def _insert_bars(cursor: duckdb.DuckDBPyConnection, key: Key, bars: Bars) -> None:
        cursor.register("incoming_bars", bars.to_arrow())
        try:
            cursor.execute(
                "INSERT INTO bars SELECT ?, ?, ts, open, high, low, close, volume FROM incoming_bars",
                list(key),
            )
        finally:
            cursor.unregister("incoming_bars")

    def fetch(
        self,
        symbol: str,
        start: object = None,
        end: object = None,
        interval: str = "1d",
        provider: MarketDataProvider | None = None,
    ) -> LoadResult:
        """Make sure ``[start, end]`` is stored, asking ``provider`` (default: the store's) for gaps only.

        A preload, not a read: it does not change the hit/miss statistics."""
        chosen = provider or self.provider
        if chosen is None:
            raise InvalidRequestError("provider", "no provider configured (QUANTOPS_MARKET_DATA_PROVIDER)")
        key = (normalize_symbol(symbol), check_interval(interval))
        start_ns, end_ns = self._resolve_range(key, start, end, chosen)
        with self._state_lock:
            before = self._summaries.get(key)
        gaps = len(self._gaps(key, start_ns, end_ns))
        self._ensure_covered(key, start_ns, end_ns, chosen, count_miss=False)
        with self._state_lock:
            after = self._summaries.get(key)
        if after is None:
            raise UnknownSymbolError(key[0])
        return LoadResult(
            key[0],
            key[1],
            after.rows - (before.rows if before else 0),
            gaps,
            chosen.name,
            ns_to_iso(after.first_ns),
            ns_to_iso(after.last_ns),
        )

    # ---------------------------------------------------------------- imports
    def import_file(
        self, path: str | Path, symbol: str | None = None, interval: str = "1d", source: str | None = None
    ) -> LoadResult:
        """Import a CSV/Parquet file as the authoritative bars for its date range (replacing overlaps).

        The file is validated whole first; a bad file raises ``DataFileError`` with the row numbers
        and nothing is written. Symbol defaults to the file name stem."""
        file_path = Path(path)
        key = (normalize_symbol(symbol or file_path.stem), check_interval(interval))
        bars = read_bars_file(file_path, key[0], key[1])
        label = source or f"import:{file_path.name}"
        return self._write_validated(bars, label, synthetic=False)  # read_bars_file validated it

    def write_bars(self, bars: Bars, source: str, synthetic: bool = False) -> LoadResult:
        """Validate, then store bars as covering ``[first, last]`` (whole days if daily); one transaction."""
        validate_bars(bars, source)
        return self._write_validated(bars, source, synthetic)

    def _write_validated(self, bars: Bars, source: str, synthetic: bool) -> LoadResult:
        key = (normalize_symbol(bars.symbol), check_interval(bars.interval))
        if len(bars) == 0:
            raise EmptyRangeError("no bars to write", key[0])
        grain = grain_ns(key[1])
        start_ns = floor_to(int(bars.timestamps[0]), grain)
        end_ns = ceil_to(int(bars.timestamps[-1]) + 1, grain)
        fill = _Fill(start_ns, end_ns, end_ns, bars)
        written = self._write_fills(key, [fill], source, synthetic, count_miss=False)
        return LoadResult(
            key[0],
            key[1],
            written,
            0,
            source,
            ns_to_iso(int(bars.timestamps[0])),
            ns_to_iso(int(bars.timestamps[-1])),
        )

    def load_demo(self, symbols: list[str] | None = None) -> list[LoadResult]:
        """Load the synthetic demo universe (``quantops.data.demo``); only missing ranges are generated."""
        from quantops.data.demo import DEMO_SYMBOLS, load_demo

        return load_demo(self, symbols or DEMO_SYMBOLS)

    def is_empty(self) -> bool:
        with self._state_lock:
            return not self._summaries

    # ---------------------------------------------------------------- statistics
    def _upsert_stats(self, cursor: duckdb.DuckDBPyConnection, key: Key, hits: int, misses: int) -> None:
        cursor.execute(
            "INSERT INTO cache_stats VALUES (?, ?, ?, ?, ?) ON CONFLICT (symbol, interval) DO UPDATE SET "
            "hits = cache_stats.hits + excluded.hits, misses = cache_stats.misses + excluded.misses, "
            "last_access = excluded.last_access",
            [key[0], key[1], hits, misses, _utcnow()],
        )

    def _count(self, key: Key, hits: int = 0, misses: int = 0) -> None:
        with self._state_lock:
            pending = self._pending_stats.setdefault(key, [0, 0])
            pending[0] += hits
            pending[1] += misses
            due = time.monotonic() - self._last_stats_flush >= self._stats_flush_seconds
        # Hits are batched (at most one stats write per flush interval) so readers do not queue behind
        # the write lock; if a writer is busy we simply flush on a later call.
        if due and not self.read_only and self._write_lock.acquire(blocking=False):
            try:
                self.flush_stats()
            finally:
                self._write_lock.release()

    def flush_stats(self) -> None:
        """Persist pending hit/miss counts (called periodically and on close; ``cache_status`` adds the
        pending ones to what it reports without writing)."""
        with self._state_lock:
            pending, self._pending_stats = self._pending_stats, {}
            self._last_stats_flush = time.monotonic()
        if not pending:
            return
        try:
            with self._transaction() as cursor:
                for key, (hits, misses) in pending.items():
                    self._upsert_stats(cursor, key, hits, misses)
        except BaseException:
            with self._state_lock:  # put them back: counts are never silently dropped
                for key, (hits, misses) in pending.items():
                    again = self._pending_stats.setdefault(key, [0, 0])
                    again[0] += hits
                    again[1] += misses
            raise

    def cache_status(self) -> dict[str, object]:
        """JSON-safe: file size, symbols, rows, per-symbol range/rows/sources, hits, misses, hit rate."""
        cursor = self._cursor()
        stats = {
            (s, i): (h, m, a)
            for s, i, h, m, a in cursor.execute(
                "SELECT symbol, interval, hits, misses, last_access FROM cache_stats"
            ).fetchall()
        }
        # A few rows (one per fetched range): aggregated here, ~10x less CPU than DuckDB's parallel
        # GROUP BY with list(DISTINCT ...) — this runs on every "cache status?" chat turn.
        sources: dict[Key, tuple[list[str], bool, dt.datetime | None]] = {}
        for s, i, source, synthetic, fetched in cursor.execute(
            "SELECT symbol, interval, source, synthetic, fetched_at FROM coverage"
        ).fetchall():
            names, any_synthetic, newest = sources.get((s, i), ([], False, None))
            sources[(s, i)] = (
                sorted({*names, source}),
                any_synthetic or bool(synthetic),
                fetched if newest is None or (fetched is not None and fetched > newest) else newest,
            )
        with self._state_lock:
            summaries = dict(self._summaries)
            # Counts not flushed yet are reported as they are (no write on a status read).
            for key, (hits, misses) in self._pending_stats.items():
                old_hits, old_misses, last_access = stats.get(key, (0, 0, None))
                stats[key] = (old_hits + hits, old_misses + misses, last_access)
        per_symbol: list[dict[str, object]] = []
        for key in sorted(summaries):
            summary = summaries[key]
            hits, misses, _last_access = stats.get(key, (0, 0, None))
            source_list, synthetic, fetched = sources.get(key, ([], False, None))
            per_symbol.append(
                {
                    "symbol": key[0],
                    "interval": key[1],
                    "first": ns_to_iso(summary.first_ns),
                    "last": ns_to_iso(summary.last_ns),
                    "rows": summary.rows,
                    "sources": source_list,
                    "synthetic": synthetic,
                    "hits": int(hits),
                    "misses": int(misses),
                    "last_update": fetched.replace(tzinfo=dt.UTC).isoformat() if fetched else None,
                }
            )
        total_hits = int(sum(h for h, _, _ in stats.values()))
        total_misses = int(sum(m for _, m, _ in stats.values()))
        requests = total_hits + total_misses
        updates = [v[2] for v in sources.values() if v[2] is not None]
        synthetic_symbols = sorted({p["symbol"] for p in per_symbol if p["synthetic"]})  # type: ignore[misc]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}.wal")) if p.exists())
        return {
            "path": str(self.path),
            "file_size_bytes": int(size),
            "provider": self.provider.name if self.provider else None,
            "symbols": sorted({p["symbol"] for p in per_symbol}),  # type: ignore[misc]
            "symbol_count": len({p["symbol"] for p in per_symbol}),
            "total_rows": int(sum(s.rows for s in summaries.values())),
            "per_symbol": per_symbol,
            "hits": total_hits,
            "misses": total_misses,
            "hit_rate": round(total_hits / requests, 4) if requests else None,
            "last_update": max(updates).replace(tzinfo=dt.UTC).isoformat() if updates else None,
            "synthetic_symbols": synthetic_symbols,
            "note": (
                "synthetic data (seeded random walk), not real market prices: " + ", ".join(synthetic_symbols)
                if synthetic_symbols
                else None
            ),
        }
