"""Market-data benchmark: CSV import, warm get_bars, 8 readers + 1 writer. Prints one table.

Peers run in the same process on the same machine and data:
- import: pandas.read_csv (parse only) and DuckDB's native read_csv into a table (no validation);
- warm get_bars: the same SQL on a raw DuckDB cursor, pandas.read_parquet / read_csv of a per-symbol file;
- concurrency: the same readers without a writer, and a single reader.

Usage: .venv/bin/python bench/data.py [--rows 1000000] [--seconds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from quantops.data import DEMO_SYMBOLS, MarketDataStore
from quantops.data.providers.synthetic import SyntheticProvider


def minute_bars_csv(path: Path, rows: int) -> None:
    """A valid 1-minute OHLCV CSV with ``rows`` rows (random walk), written once; not timed."""
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0008, rows)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.0004, rows)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.0004, rows)))
    index = pd.date_range("2022-01-03", periods=rows, freq="min", tz="UTC", name="Datetime")
    frame = pd.DataFrame(
        {"Open": open_.round(4), "High": high.round(4), "Low": low.round(4), "Close": close.round(4),
         "Volume": rng.integers(100, 10_000, rows)},
        index=index,
    )  # fmt: skip
    frame["High"] = frame[["Open", "High", "Close"]].max(axis=1)
    frame["Low"] = frame[["Open", "Low", "Close"]].min(axis=1)
    frame.to_csv(path, date_format="%Y-%m-%dT%H:%M:%SZ")


def timed_interleaved(fns: list[Callable[[], object]], repeats: int) -> list[list[float]]:
    """Run the cases round-robin so load from other processes on this shared machine hits all alike."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[i].append(time.perf_counter() - start)
    return samples


def p95(samples: list[float]) -> float:
    return float(np.percentile(samples, 95))


Row = tuple[str, str, str, str, str, str]


def bench_import(work: Path, rows: int, repeats: int) -> list[Row]:
    csv_path = work / "minutes.csv"
    minute_bars_csv(csv_path, rows)
    out: list[Row] = []

    def quantops_import() -> None:
        db = work / f"import-{time.monotonic_ns()}.duckdb"
        with MarketDataStore(db) as store:
            result = store.import_file(csv_path, symbol="MIN", interval="1m")
            assert result.rows_written == rows
        db.unlink()

    def duckdb_native() -> None:
        db = work / f"native-{time.monotonic_ns()}.duckdb"
        conn = duckdb.connect(str(db))
        conn.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}')")
        conn.close()
        db.unlink()

    cases = [
        ("quantops import_file (parse+validate+insert, 1 txn)", quantops_import),
        ("peer: duckdb read_csv → table (no validation)", duckdb_native),
        (
            "peer: pandas.read_csv engine=pyarrow (parse only)",
            lambda: pd.read_csv(csv_path, engine="pyarrow"),
        ),
    ]
    all_samples = timed_interleaved([fn for _, fn in cases], repeats)
    for (name, _), samples in zip(cases, all_samples, strict=True):
        median = statistics.median(samples)
        out.append((f"import {rows:,}-row CSV", name, f"{median * 1e3:,.0f}", f"{max(samples) * 1e3:,.0f}",
                    f"{rows / median:,.0f} rows/s", str(repeats)))  # fmt: skip
    return out


def bench_get_bars(store: MarketDataStore, work: Path, calls: int) -> list[Row]:
    symbol = "AAPL"
    bars = store.get_bars(symbol, "2015-01-01", "2024-12-31")
    frame = bars.to_pandas()
    parquet_path, csv_path = work / "aapl.parquet", work / "aapl.csv"
    frame.to_parquet(parquet_path)
    frame.to_csv(csv_path)
    # Same process, same file: DuckDB hands back a connection to the already open database instance.
    raw = duckdb.connect(str(store.path))
    sql = (
        "SELECT ts, open, high, low, close, volume FROM bars WHERE symbol = ? AND interval = ? "
        "AND ts >= ? AND ts < ? ORDER BY ts"
    )
    params = [symbol, "1d", int(bars.timestamps[0]), int(bars.timestamps[-1]) + 1]
    cases = [
        ("quantops get_bars (warm; coverage check + query → Bars)",
         lambda: store.get_bars(symbol, "2015-01-01", "2024-12-31")),
        ("peer: raw DuckDB query + fetchnumpy (same SQL)", lambda: raw.execute(sql, params).fetchnumpy()),
        ("peer: pandas.read_parquet (per-symbol file)", lambda: pd.read_parquet(parquet_path)),
        ("peer: pandas.read_csv engine=pyarrow (per-symbol file)",
         lambda: pd.read_csv(csv_path, engine="pyarrow")),
    ]  # fmt: skip
    out: list[Row] = []
    timed_interleaved([fn for _, fn in cases], 20)  # warm-up
    all_samples = timed_interleaved([fn for _, fn in cases], calls)
    for (name, _), samples in zip(cases, all_samples, strict=True):
        median = statistics.median(samples)
        out.append((f"get_bars 1 symbol × 10y daily ({len(bars)} rows)", name, f"{median * 1e3:.2f}",
                    f"{p95(samples) * 1e3:.2f}", f"{1 / median:,.0f} calls/s", str(calls)))  # fmt: skip
    raw.close()
    return out


def bench_concurrency(store: MarketDataStore, seconds: float, readers: int, rounds: int) -> list[Row]:
    symbols = list(DEMO_SYMBOLS)
    synthetic = SyntheticProvider(seed=5)
    out: list[Row] = []

    def run(reader_count: int, with_writer: bool) -> tuple[list[float], int, float]:
        latencies: list[list[float]] = [[] for _ in range(reader_count)]
        writes = [0]
        errors: list[BaseException] = []
        stop = threading.Event()

        def reader(slot: int) -> None:
            rng = np.random.default_rng(slot)
            try:
                while not stop.is_set():
                    symbol = symbols[int(rng.integers(len(symbols)))]
                    start = time.perf_counter()
                    store.get_bars(symbol, "2015-01-01", "2024-12-31")
                    latencies[slot].append(time.perf_counter() - start)
            except BaseException as exc:
                errors.append(exc)

        def writer() -> None:
            try:
                i = 0
                while not stop.is_set():
                    # 10 years of daily bars for a fresh symbol: one transaction per write.
                    bars = synthetic.fetch(f"BW{i}", "1d", pd.Timestamp("2015-01-01", tz="UTC").value,
                                           pd.Timestamp("2025-01-01", tz="UTC").value)  # fmt: skip
                    store.write_bars(bars, source="synthetic", synthetic=True)
                    writes[0] += 1
                    i += 1
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(reader_count)]
        if with_writer:
            threads.append(threading.Thread(target=writer))
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        if errors:
            raise RuntimeError(f"concurrency run failed: {errors[0]!r}")
        return [x for lat in latencies for x in lat], writes[0], elapsed

    phases = (
        (f"quantops: {readers} readers + 1 writer", readers, True),
        (f"peer: {readers} readers, no writer", readers, False),
        ("peer: 1 reader, no writer", 1, False),
    )
    # Phases alternate in rounds (ABCABC) so a burst of outside load does not land on one phase only.
    totals: dict[str, tuple[list[float], int, float]] = {label: ([], 0, 0.0) for label, _, _ in phases}
    for _ in range(rounds):
        for label, count, with_writer in phases:
            latencies, writes, elapsed = run(count, with_writer)
            previous = totals[label]
            totals[label] = (previous[0] + latencies, previous[1] + writes, previous[2] + elapsed)
    for label, _, with_writer in phases:
        latencies, writes, elapsed = totals[label]
        throughput = f"{len(latencies) / elapsed:,.0f} reads/s"
        if with_writer:
            throughput += f"; {writes / elapsed:,.1f} writes/s ({writes * 2609 / elapsed:,.0f} rows/s)"
        out.append((f"concurrent get_bars (10y daily, random symbol, {rounds}×{seconds:g} s)", label,
                    f"{statistics.median(latencies) * 1e3:.2f}", f"{p95(latencies) * 1e3:.2f}", throughput,
                    str(len(latencies))))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--readers", type=int, default=8)
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="quantops-bench-data-") as tmp:
        work = Path(tmp)
        rows += bench_import(work, args.rows, args.repeats)
        with MarketDataStore(work / "market.duckdb") as store:
            store.load_demo()
            store.import_file(work / "minutes.csv", symbol="MIN", interval="1m")  # a big neighbour table
            rows += bench_get_bars(store, work, args.calls)
            rows += bench_concurrency(store, args.seconds, args.readers, args.rounds)
    headers = ("benchmark", "implementation", "median ms", "p95/max ms", "throughput", "n")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print(f"(duckdb {duckdb.__version__}, pandas {pd.__version__}; 2-CPU machine shared with other work; "
          "import rows show max instead of p95)")  # fmt: skip


if __name__ == "__main__":
    main()
