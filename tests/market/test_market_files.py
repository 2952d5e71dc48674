"""CSV/Parquet import: column normalisation and whole-file rejection naming the rows at fault."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantops.data import DataFileError, MarketDataStore

HEADER = "Date,Open,High,Low,Close,Volume\n"
GOOD_ROWS = [
    "2024-01-02,10,11,9,10.5,1000",
    "2024-01-03,10.5,11.5,10,11,1200",
    "2024-01-04,11,11.2,10.1,10.2,900",
    "2024-01-05,10.2,10.8,10,10.6,1100",
]


def _write(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def _with_row(index: int, row: str) -> list[str]:
    rows = list(GOOD_ROWS)
    rows[index] = row
    return rows


@pytest.mark.parametrize(
    ("rows", "rule", "bad_rows"),
    [
        (_with_row(1, "2024-01-03,10.5,10.9,10,11,1200"), "high < max(open, close)", [2]),
        (_with_row(2, "2024-01-04,11,11.2,10.5,10.2,900"), "low > min(open, close)", [3]),
        (_with_row(0, "2024-01-02,0,11,0,10.5,1000"), "non-positive open", [1]),
        (_with_row(3, "2024-01-05,10.2,10.8,-1,10.6,1100"), "non-positive low", [4]),
        (_with_row(1, "2024-01-03,10.5,11.5,10,11,-5"), "negative volume", [2]),
        (_with_row(2, "2024-01-03,11,11.2,10.1,10.2,900"), "duplicate timestamp", [3]),
        (_with_row(3, "2024-01-01,10.2,10.8,10,10.6,1100"), "earlier than previous row", [4]),
        (_with_row(1, "not a date,10.5,11.5,10,11,1200"), "unparsable timestamp", [2]),
        (_with_row(2, "2024-01-04,11,abc,10.1,10.2,900"), "non-numeric high", [3]),
        (_with_row(0, "2024-01-02,10,11,9,,1000"), "non-numeric close", [1]),
    ],
)
def test_each_kind_of_bad_row_is_rejected_whole(
    tmp_path: Path, empty_store: MarketDataStore, rows: list[str], rule: str, bad_rows: list[int]
) -> None:
    empty_store.import_file(_write(tmp_path, GOOD_ROWS, name="OK.csv"))  # store already holds data
    with pytest.raises(DataFileError) as error:
        empty_store.import_file(_write(tmp_path, rows), symbol="OK")
    assert rule in str(error.value) and error.value.rows == bad_rows
    assert error.value.field == "path" and isinstance(error.value, ValueError)
    # Nothing half-written: the earlier good import is untouched.
    np.testing.assert_array_equal(empty_store.get_bars("OK").close, [10.5, 11, 10.2, 10.6])


def test_many_problems_are_all_reported(tmp_path: Path, empty_store: MarketDataStore) -> None:
    rows = [*GOOD_ROWS, "2024-01-08,5,4,3,6,-1", "2024-01-08,5,6,3,4,10"]
    with pytest.raises(DataFileError) as error:
        empty_store.import_file(_write(tmp_path, rows), symbol="X")
    message = str(error.value)
    assert "high < max(open, close) at row(s) 5" in message
    assert "negative volume at row(s) 5" in message and "duplicate timestamp at row(s) 6" in message
    assert error.value.rows == [5, 6] and empty_store.is_empty()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Date,Open,High,Low,Volume\n", "missing column(s) close"),
        ("Open,High,Low,Close\n", "no date/timestamp column"),
    ],
)
def test_structural_problems(tmp_path: Path, empty_store: MarketDataStore, header: str, message: str) -> None:
    columns = header.strip().split(",")
    rows = [",".join(r.split(",")[: len(columns)]) for r in GOOD_ROWS]
    with pytest.raises(DataFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        empty_store.import_file(_write(tmp_path, rows, header=header), symbol="X")


def test_unsupported_and_missing_files(tmp_path: Path, empty_store: MarketDataStore) -> None:
    (tmp_path / "prices.xlsx").write_text("x")
    with pytest.raises(DataFileError, match="unsupported file type"):
        empty_store.import_file(tmp_path / "prices.xlsx", symbol="X")
    with pytest.raises(DataFileError, match="not found"):
        empty_store.import_file(tmp_path / "absent.csv", symbol="X")
    with pytest.raises(DataFileError, match="no data rows"):
        empty_store.import_file(_write(tmp_path, [], name="empty.csv"), symbol="X")


def test_column_names_are_normalised_and_unnamed_index_is_the_date(
    tmp_path: Path, empty_store: MarketDataStore
) -> None:
    # pandas' DataFrame.to_csv() writes the index as an unnamed first column; extra columns are ignored.
    frame = pd.DataFrame(
        {
            " OPEN ": [10.0, 10.5],
            "high": [11.0, 11.5],
            "Low": [9.0, 10.0],
            "CLOSE": [10.5, 11.0],
            "Adj Close": [10.4, 10.9],
            "vol": [1000, 1200],
        },
        index=pd.to_datetime(["2024-01-02", "2024-01-03"]),
    )
    path = tmp_path / "weird.csv"
    frame.to_csv(path)
    assert path.read_text().startswith(",")
    result = empty_store.import_file(path)
    assert result.symbol == "WEIRD" and result.rows_written == 2
    bars = empty_store.get_bars("weird")
    np.testing.assert_array_equal(bars.close, [10.5, 11.0])
    np.testing.assert_array_equal(bars.volume, [1000, 1200])


def test_parquet_with_datetime_index_and_timezone(tmp_path: Path, empty_store: MarketDataStore) -> None:
    index = pd.date_range("2024-03-01 14:30", periods=3, freq="h", tz="America/New_York", name="Datetime")
    frame = pd.DataFrame(
        {"Open": [1.0, 2.0, 3.0], "High": [1.5, 2.5, 3.5], "Low": [0.5, 1.5, 2.5], "Close": [1.2, 2.2, 3.2],
         "Volume": [10, 20, 30]},
        index=index,
    )  # fmt: skip
    path = tmp_path / "spy_hourly.parquet"
    frame.to_parquet(path)
    empty_store.import_file(path, symbol="SPY", interval="1h")
    bars = empty_store.get_bars("SPY", interval="1h")
    np.testing.assert_array_equal(bars.timestamps, index.tz_convert("UTC").as_unit("ns").asi8)
    assert pd.Timestamp(int(bars.timestamps[0]), unit="ns", tz="UTC").hour == 19  # 14:30 EST = 19:30 UTC
    with pytest.raises(Exception, match="unknown symbol"):
        empty_store.get_bars("SPY", interval="1d")  # other interval is another series


def test_epoch_second_timestamps(tmp_path: Path, empty_store: MarketDataStore) -> None:
    seconds = [int(pd.Timestamp(d, tz="UTC").timestamp()) for d in ("2024-01-02", "2024-01-03")]
    rows = [f"{seconds[0]},10,11,9,10.5,1000", f"{seconds[1]},10.5,11.5,10,11,1200"]
    empty_store.import_file(
        _write(tmp_path, rows, header="timestamp,open,high,low,close,volume\n"), symbol="E"
    )
    assert empty_store.get_bars("E").timestamps[0] == pd.Timestamp("2024-01-02", tz="UTC").value


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Tokyo", "UTC"])
def test_daily_bars_are_keyed_by_local_trading_date(
    tmp_path: Path, empty_store: MarketDataStore, tz: str
) -> None:
    # yfinance-style frames carry exchange-local midnights; Tokyo's midnight is the previous day in UTC.
    index = pd.DatetimeIndex(pd.to_datetime(["2024-01-04", "2024-01-05"]), name="Date").tz_localize(tz)
    frame = pd.DataFrame(
        {"Open": [1.0, 2.0], "High": [1.5, 2.5], "Low": [0.5, 1.5], "Close": [1.2, 2.2], "Volume": [1, 2]},
        index=index,
    )
    path = tmp_path / "local.parquet"
    frame.to_parquet(path)
    empty_store.import_file(path, symbol="LOC")
    bars = empty_store.get_bars("LOC", "2024-01-04", "2024-01-05")
    assert bars.index.strftime("%Y-%m-%d %H:%M").tolist() == ["2024-01-04 00:00", "2024-01-05 00:00"]


def test_epoch_nanosecond_timestamps_keep_full_precision(
    tmp_path: Path, empty_store: MarketDataStore
) -> None:
    first = pd.Timestamp("2024-01-02 14:30:00.000000123", tz="UTC").value  # not representable in float64
    rows = [f"{first},10,11,9,10.5,1000", f"{first + 60 * 10**9},10.5,11.5,10,11,1200"]
    path = _write(tmp_path, rows, header="ts,open,high,low,close,volume\n")
    empty_store.import_file(path, symbol="NS", interval="1m")
    assert int(empty_store.get_bars("NS", interval="1m").timestamps[0]) == first
