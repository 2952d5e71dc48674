"""MarketDataStore: reads, read-through, persistence across restarts, errors, concurrency."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import numpy as np
import pandas as pd
import pytest

from quantops.data import (
    DataFileError,
    EmptyRangeError,
    InvalidRequestError,
    MarketDataStore,
    StoreLockedError,
    UnknownSymbolError,
)
from quantops.data.bars import Bars
from quantops.data.providers.synthetic import SyntheticProvider
from quantops.data.timeutil import NS_PER_DAY


def _ns(day: str) -> int:
    return pd.Timestamp(day, tz="UTC").value


def test_import_goog_matches_the_csv_exactly(goog_csv: Path, empty_store: MarketDataStore) -> None:
    result = empty_store.import_file(goog_csv, symbol="goog")
    reference = pd.read_csv(goog_csv, index_col=0, parse_dates=True)
    assert result.symbol == "GOOG" and result.rows_written == len(reference) == 2148
    bars = empty_store.get_bars("GOOG")
    assert bars.timestamps.dtype == np.int64 and bars.close.dtype == np.float64
    np.testing.assert_array_equal(bars.timestamps, reference.index.as_unit("ns").asi8)
    for ours, theirs in zip(
        (bars.open, bars.high, bars.low, bars.close, bars.volume),
        ("Open", "High", "Low", "Close", "Volume"),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, reference[theirs].to_numpy(dtype=np.float64))
    frame = bars.to_pandas()
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert str(frame.index.tz) == "UTC" and frame.index[0] == pd.Timestamp("2004-08-19", tz="UTC")


def test_date_bounds_are_inclusive_and_symbols_case_normalised(
    goog_csv: Path, empty_store: MarketDataStore
) -> None:
    empty_store.import_file(goog_csv, symbol="GOOG")
    bars = empty_store.get_bars(" goog ", start="2010-01-04", end=dt.date(2010, 1, 8))
    days = pd.DatetimeIndex(bars.timestamps.view("datetime64[ns]")).strftime("%Y-%m-%d").tolist()
    assert days == ["2010-01-04", "2010-01-05", "2010-01-06", "2010-01-07", "2010-01-08"]
    assert bars.symbol == "GOOG" and empty_store.symbols() == ["GOOG"]


def test_unknown_symbol_and_empty_range_are_clear_errors(
    goog_csv: Path, empty_store: MarketDataStore
) -> None:
    with pytest.raises(UnknownSymbolError, match="NOPE") as unknown:
        empty_store.get_bars("nope")
    assert unknown.value.field == "symbol"
    empty_store.import_file(goog_csv, symbol="GOOG")
    with pytest.raises(UnknownSymbolError) as unknown_with_hint:
        empty_store.get_bars("MSFT", "2010-01-01", "2010-12-31")
    assert unknown_with_hint.value.available == ["GOOG"]
    with pytest.raises(EmptyRangeError, match="stored: 2004-08-19"):
        empty_store.get_bars("GOOG", "2020-01-01", "2020-12-31")
    with pytest.raises(EmptyRangeError, match="must be before"):
        empty_store.get_bars("GOOG", "2010-01-10", "2010-01-01")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"symbol": "DROP TABLE bars"}, "symbol"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": "GOOG", "interval": "3d"}, "interval"),
        ({"symbol": "GOOG", "start": "not-a-date"}, "start"),
        ({"symbol": "GOOG", "end": "2010-13-45"}, "end"),
    ],
)
def test_bad_arguments_name_the_field(
    goog_csv: Path, empty_store: MarketDataStore, kwargs: dict, field: str
) -> None:
    empty_store.import_file(goog_csv, symbol="GOOG")
    with pytest.raises(InvalidRequestError) as error:
        empty_store.get_bars(**kwargs)
    assert error.value.field == field and isinstance(error.value, ValueError)


def test_read_through_asks_only_for_uncovered_ranges(store_path: Path, counting_provider_factory) -> None:
    provider = counting_provider_factory(SyntheticProvider(seed=7))
    with MarketDataStore(store_path, provider=provider) as store:
        first = store.get_bars("AAPL", "2020-01-01", "2020-06-30")
        assert provider.calls == [("AAPL", _ns("2020-01-01"), _ns("2020-07-01"))]
        store.get_bars("AAPL", "2020-02-01", "2020-03-31")  # inside: no provider call
        assert len(provider.calls) == 1
        wider = store.get_bars("AAPL", "2019-12-01", "2020-08-31")  # both sides missing
        assert provider.calls[1:] == [
            ("AAPL", _ns("2019-12-01"), _ns("2020-01-01")),
            ("AAPL", _ns("2020-07-01"), _ns("2020-09-01")),
        ]
        # Pieces fetched separately equal one fetch of the whole range (same seeded path).
        whole = SyntheticProvider(seed=7).fetch("AAPL", "1d", _ns("2019-12-01"), _ns("2020-09-01"))
        np.testing.assert_array_equal(wider.timestamps, whole.timestamps)
        np.testing.assert_array_equal(wider.close, whole.close)
        np.testing.assert_array_equal(first.close, wider.slice_ns(_ns("2020-01-01"), _ns("2020-07-01")).close)
        status = store.cache_status()
    assert (status["hits"], status["misses"], status["hit_rate"]) == (1, 2, round(1 / 3, 4))
    assert (
        status["per_symbol"][0]["sources"] == ["synthetic"] and status["per_symbol"][0]["synthetic"] is True
    )


def test_restart_keeps_bars_coverage_and_hit_counts(store_path: Path, counting_provider_factory) -> None:
    provider = counting_provider_factory(SyntheticProvider(seed=1))
    store = MarketDataStore(store_path, provider=provider, stats_flush_seconds=3600)
    store.get_bars("MSFT", "2021-01-01", "2021-12-31")  # miss
    for _ in range(3):
        store.get_bars("msft", "2021-03-01", "2021-03-31")  # hits (batched in memory, flushed on close)
    before = store.get_bars("MSFT", "2021-01-01", "2021-12-31")
    store.close()

    reopened_provider = counting_provider_factory(SyntheticProvider(seed=999))  # different data if asked
    with MarketDataStore(store_path, provider=reopened_provider) as reopened:
        after = reopened.get_bars("MSFT", "2021-01-01", "2021-12-31")
        assert reopened_provider.calls == []  # coverage survived: nothing re-fetched
        np.testing.assert_array_equal(before.close, after.close)
        status = reopened.cache_status()
    assert status["misses"] == 1 and status["hits"] == 5 and status["hit_rate"] == round(5 / 6, 4)
    assert status["total_rows"] == len(before) and status["symbols"] == ["MSFT"]


def test_cache_status_fields_are_json_safe(goog_csv: Path, empty_store: MarketDataStore) -> None:
    empty_store.import_file(goog_csv, symbol="GOOG")
    empty_store.get_bars("GOOG", "2005-01-01", "2005-12-31")
    status = empty_store.cache_status()
    json.dumps(status, allow_nan=False)
    assert status["file_size_bytes"] > 0
    assert status["symbol_count"] == 1 and status["total_rows"] == 2148
    (row,) = status["per_symbol"]
    assert row["first"].startswith("2004-08-19") and row["last"].startswith("2013-03-01")
    assert row["rows"] == 2148 and row["sources"] == ["import:GOOG.csv"] and row["synthetic"] is False
    assert status["hits"] == 1 and status["misses"] == 0 and status["last_update"] is not None
    assert status["synthetic_symbols"] == [] and status["note"] is None


def test_provider_batch_with_bad_bars_writes_nothing(store_path: Path) -> None:
    class BrokenProvider:
        name = "broken"
        synthetic = False

        def fetch(self, symbol: str, interval: str, start_ns: int, end_ns: int) -> Bars:
            good = SyntheticProvider().fetch(symbol, interval, start_ns, end_ns)
            high = good.high.copy()
            high[3] = good.low[3] / 2  # one impossible bar poisons the batch
            return Bars.from_arrays(symbol, interval, good.timestamps, good.open, high, good.low, good.close,
                                    good.volume)  # fmt: skip

    with MarketDataStore(store_path, provider=BrokenProvider()) as store:
        with pytest.raises(DataFileError, match="row") as error:
            store.get_bars("AAPL", "2020-01-01", "2020-03-31")
        assert error.value.rows == [4]
        assert store.is_empty() and store.cache_status()["total_rows"] == 0
    with MarketDataStore(store_path) as reopened:
        assert reopened.is_empty()


def test_import_replaces_overlapping_range_without_duplicates(
    goog_csv: Path, empty_store: MarketDataStore, tmp_path
) -> None:
    empty_store.import_file(goog_csv, symbol="GOOG")
    patch = pd.read_csv(goog_csv, index_col=0).iloc[100:110].copy()
    patch[["Open", "High", "Low", "Close"]] *= 2
    patch_path = tmp_path / "patch.csv"
    patch.to_csv(patch_path)
    empty_store.import_file(patch_path, symbol="GOOG")
    bars = empty_store.get_bars("GOOG")
    assert len(bars) == 2148 and np.all(np.diff(bars.timestamps) > 0)
    original = pd.read_csv(goog_csv, index_col=0)
    np.testing.assert_allclose(bars.close[100:110], original["Close"].to_numpy()[100:110] * 2)
    np.testing.assert_allclose(bars.close[110:], original["Close"].to_numpy()[110:])
    assert sorted(empty_store.cache_status()["per_symbol"][0]["sources"]) == [
        "import:GOOG.csv",
        "import:patch.csv",
    ]


def test_concurrent_readers_and_writer_see_consistent_data(goog_csv: Path, store_path: Path) -> None:
    """8 reader threads hammer get_bars while one thread imports symbols; nothing fails or tears."""
    with MarketDataStore(store_path, stats_flush_seconds=0.01) as store:
        store.import_file(goog_csv, symbol="GOOG")
        expected = store.get_bars("GOOG").close.copy()
        synthetic = SyntheticProvider(seed=3)
        errors: list[BaseException] = []
        reads = [0] * 8  # get_bars calls per reader thread
        stop = threading.Event()

        def reader(slot: int) -> None:
            try:
                while not stop.is_set():
                    bars = store.get_bars("GOOG")
                    reads[slot] += 1
                    if not np.array_equal(bars.close, expected):
                        raise AssertionError("torn read")
                    for symbol in store.symbols():
                        got = store.get_bars(symbol)
                        reads[slot] += 1
                        assert np.all(np.diff(got.timestamps) > 0)
            except BaseException as exc:
                errors.append(exc)

        def writer() -> None:
            try:
                for i in range(12):
                    symbol = f"W{i}"
                    bars = synthetic.fetch(symbol, "1d", _ns("2015-01-01"), _ns("2025-01-01"))
                    store.write_bars(bars, source="synthetic", synthetic=True)
            except BaseException as exc:
                errors.append(exc)
            finally:
                stop.set()

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
        threads.append(threading.Thread(target=writer))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert all(count > 0 for count in reads)
        assert len(store.symbols()) == 13
        status = store.cache_status()
        assert status["hits"] == sum(reads) + 1 and status["misses"] == 0  # +1: the read of `expected`
    with MarketDataStore(store_path) as reopened:
        per_symbol = len(pd.bdate_range("2015-01-01", "2024-12-31"))  # 2609 business days
        assert reopened.cache_status()["total_rows"] == 2148 + 12 * per_symbol


def test_concurrent_misses_of_one_range_call_the_provider_once(store_path: Path, counting_provider_factory):
    provider = counting_provider_factory(SyntheticProvider())
    with MarketDataStore(store_path, provider=provider) as store:
        barrier = threading.Barrier(6)
        results: list[int] = []

        def worker() -> None:
            barrier.wait()
            results.append(len(store.get_bars("NVDA", "2018-01-01", "2018-12-31")))

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(provider.calls) == 1 and len(set(results)) == 1 and results[0] > 250


async def test_async_callers_use_a_worker_thread(goog_csv: Path, store_path: Path) -> None:
    with MarketDataStore(store_path) as store:
        store.import_file(goog_csv, symbol="GOOG")
        results = []

        async def read() -> None:
            results.append(await anyio.to_thread.run_sync(store.get_bars, "GOOG", "2006-01-01", "2006-12-31"))

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(read)
        assert len(results) == 10 and all(len(r) == 251 for r in results)


def test_second_process_gets_a_clear_lock_error(goog_csv: Path, store_path: Path) -> None:
    with MarketDataStore(store_path) as store:
        store.import_file(goog_csv, symbol="GOOG")
        code = (
            "import sys\n"
            "from quantops.data import MarketDataStore, StoreLockedError\n"
            "try:\n"
            f"    MarketDataStore({str(store_path)!r})\n"
            "except StoreLockedError as exc:\n"
            "    print('LOCKED', exc)\n"
            "    sys.exit(3)\n"
        )
        finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 3, finished.stderr
    assert "one writer process" in finished.stdout
    assert issubclass(StoreLockedError, RuntimeError)


def test_provider_end_defaults_to_last_complete_day(store_path: Path, counting_provider_factory) -> None:
    provider = counting_provider_factory(SyntheticProvider())
    with MarketDataStore(store_path, provider=provider) as store:
        store.get_bars("SPY", start="2024-01-01")
        store.get_bars("SPY", start="2024-06-01")
        assert len(provider.calls) == 1  # second call fully covered up to today 00:00 UTC
        today = pd.Timestamp.now(tz="UTC").normalize().value
        assert provider.calls[0][2] == today
        assert (
            store.cache_status()["per_symbol"][0]["last"]
            < pd.Timestamp(today, unit="ns", tz="UTC").isoformat()
        )
    assert NS_PER_DAY == 86_400 * 10**9


def test_future_dates_are_never_fetched_or_claimed(store_path: Path, counting_provider_factory) -> None:
    provider = counting_provider_factory(SyntheticProvider())  # would happily generate bars up to 2039
    today = pd.Timestamp.now(tz="UTC").normalize()
    with MarketDataStore(store_path, provider=provider) as store:
        bars = store.get_bars("QQQ", today - pd.Timedelta(days=30), today + pd.Timedelta(days=400))
        assert bars.timestamps[-1] <= today.value
        assert provider.calls[0][2] == today.value + NS_PER_DAY  # asked up to the end of today only
        store.get_bars("QQQ", today - pd.Timedelta(days=30), today + pd.Timedelta(days=400))
        assert len(provider.calls) == 2  # today is never claimed as covered: asked again for it only
        assert provider.calls[1][1] == today.value


def test_hard_kill_keeps_committed_bars_and_misses(store_path: Path) -> None:
    """A process killed without close(): fills and their misses were committed; batched hits are lost."""
    code = (
        "import os\n"
        "from quantops.data import MarketDataStore\n"
        "from quantops.data.providers import SyntheticProvider\n"
        f"store = MarketDataStore({str(store_path)!r}, provider=SyntheticProvider(),\n"
        "                        stats_flush_seconds=3600)\n"
        "store.get_bars('AMZN', '2019-01-01', '2019-12-31')\n"
        "store.get_bars('AMZN', '2019-06-01', '2019-06-30')\n"
        "os._exit(0)\n"
    )
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    with MarketDataStore(store_path) as reopened:
        status = reopened.cache_status()
        assert len(reopened.get_bars("AMZN", "2019-01-01", "2019-12-31")) == len(
            pd.bdate_range("2019-01-01", "2019-12-31")
        )
    assert status["per_symbol"][0]["misses"] == 1 and status["per_symbol"][0]["hits"] == 0


def test_second_store_on_one_file_in_one_process_is_reported(store_path: Path, caplog) -> None:
    with MarketDataStore(store_path):
        with MarketDataStore(store_path):
            pass
        assert "second MarketDataStore" in caplog.text
    caplog.clear()
    with MarketDataStore(store_path):  # the earlier ones are closed: no warning
        pass
    assert "second MarketDataStore" not in caplog.text


def test_read_only_store_reads_but_refuses_writes(goog_csv: Path, store_path: Path) -> None:
    with MarketDataStore(store_path) as store:
        store.import_file(goog_csv, symbol="GOOG")
    with MarketDataStore(store_path, read_only=True) as reader:
        assert len(reader.get_bars("GOOG", "2006-01-01", "2006-12-31")) == 251
        assert reader.cache_status()["total_rows"] == 2148
        with pytest.raises(InvalidRequestError, match="read-only"):
            reader.import_file(goog_csv, symbol="GOOG2")


def test_catalogue_is_from_memory_and_knows_synthetic_sources(goog_csv: Path, store_path: Path) -> None:
    """The chat reads the catalogue every turn: it must agree with cache_status, follow writes (version)
    and survive a reopen (loaded from the coverage table)."""
    store = MarketDataStore(store_path)
    try:
        assert store.catalogue() == {}
        before = store.version
        store.import_file(goog_csv, "GOOG")
        store.load_demo(["AAPL"])
        assert store.version > before
        catalogue = store.catalogue()
        assert list(catalogue) == ["AAPL", "GOOG"]
        assert catalogue["AAPL"].synthetic and not catalogue["GOOG"].synthetic
        status = {row["symbol"]: row for row in store.cache_status()["per_symbol"]}  # type: ignore[union-attr]
        for symbol, info in catalogue.items():
            assert (info.first, info.last, info.rows) == (
                status[symbol]["first"],
                status[symbol]["last"],
                status[symbol]["rows"],
            )
            assert info.synthetic == status[symbol]["synthetic"]
        assert store.catalogue("1h") == {}
    finally:
        store.close()
    reopened = MarketDataStore(store_path)
    try:
        assert reopened.catalogue() == catalogue
    finally:
        reopened.close()
