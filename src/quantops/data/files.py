"""CSV and Parquet readers: column names normalised, timestamps parsed to UTC ns, whole-file validation."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from quantops.data.bars import Bars
from quantops.data.errors import DataFileError
from quantops.data.timeutil import DAILY_INTERVALS, NS_PER_DAY
from quantops.data.validation import validate_bars

_TIMESTAMP_ALIASES = {"", "date", "datetime", "timestamp", "time", "ts", "index", "unnamed0", "day"}
_VOLUME_ALIASES = {"volume", "vol"}
_REQUIRED_PRICES = ("open", "high", "low", "close")
_SUPPORTED_SUFFIXES = {".csv", ".txt", ".parquet", ".pq"}


def _normalise_name(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).strip().lower())


def read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix not in _SUPPORTED_SUFFIXES:
        raise DataFileError(str(path), message=f"unsupported file type {suffix!r} (use .csv or .parquet)")
    if not path.is_file():
        raise DataFileError(str(path), message="file not found")
    try:
        if suffix in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
            # A DatetimeIndex written by pandas carries the timestamps; make it a column like in CSVs.
            if not isinstance(frame.index, pd.RangeIndex):
                frame = frame.reset_index()
            return frame
        return pd.read_csv(path, engine="pyarrow")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataFileError(str(path), message=f"cannot be parsed ({exc})") from exc


def _daily_dates(column: pd.Series, utc_values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Daily bars are keyed by trading date at 00:00 UTC. An offset-aware stamp keeps its local date
    (Tokyo midnight is the previous day in UTC), a naive/UTC one its UTC date."""
    local: object = None
    if not pd.api.types.is_numeric_dtype(column):
        try:
            local = pd.to_datetime(column, errors="coerce")
        except (ValueError, TypeError):  # mixed offsets: fall back to UTC dates
            local = None
    if isinstance(local, pd.Series) and isinstance(local.dtype, pd.DatetimeTZDtype):
        wall = pd.DatetimeIndex(local).tz_localize(None).as_unit("ns").asi8.copy()
        wall[missing] = 0
        return (wall // NS_PER_DAY) * NS_PER_DAY
    return (utc_values // NS_PER_DAY) * NS_PER_DAY


def _parse_timestamps(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """→ (int64 ns UTC, missing mask). Numbers are epoch seconds/ms/ns by magnitude."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        numbers = pd.to_numeric(column, errors="coerce")
        finite = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        largest = np.nanmax(np.abs(finite)) if np.isfinite(finite).any() else 0.0
        unit = "s" if largest < 1e11 else "ms" if largest < 1e14 else "ns"
        # Integers stay integers: float64 would round ns epochs to ~256 ns.
        parsed = pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce")
    else:
        parsed = pd.to_datetime(column, utc=True, errors="coerce")
    index = pd.DatetimeIndex(parsed)
    missing = np.asarray(index.isna())
    values = index.as_unit("ns").asi8.copy()
    values[missing] = 0
    return values, missing


def frame_to_bars(frame: pd.DataFrame, symbol: str, interval: str, source: str) -> Bars:
    """Normalise column names (Open/open/OPEN, Adj Close ignored, unnamed index → timestamp) and validate."""
    names = {_normalise_name(c): c for c in frame.columns}
    missing_cols = [c for c in _REQUIRED_PRICES if c not in names]
    if missing_cols:
        raise DataFileError(
            source, message=f"missing column(s) {', '.join(missing_cols)}; found {list(frame.columns)}"
        )
    ts_col = next((names[a] for a in names if a in _TIMESTAMP_ALIASES), None)
    if ts_col is None:
        # Fall back to the first column that is not a price/volume column (e.g. a custom date header).
        others = [c for c in frame.columns if _normalise_name(c) not in {*_REQUIRED_PRICES, *_VOLUME_ALIASES}]
        if not others:
            raise DataFileError(source, message="no date/timestamp column")
        ts_col = others[0]
    if frame.shape[0] == 0:
        raise DataFileError(source, message="no data rows")
    timestamps, missing_ts = _parse_timestamps(frame[ts_col])
    if interval in DAILY_INTERVALS and np.any(timestamps[~missing_ts] % NS_PER_DAY):
        timestamps = _daily_dates(frame[ts_col], timestamps, missing_ts)

    def numeric(name: str) -> np.ndarray:
        return pd.to_numeric(frame[names[name]], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

    volume_key = next((a for a in _VOLUME_ALIASES if a in names), None)
    volume = numeric(volume_key) if volume_key else np.zeros(frame.shape[0], dtype=np.float64)
    bars = Bars.from_arrays(
        symbol,
        interval,
        timestamps,
        numeric("open"),
        numeric("high"),
        numeric("low"),
        numeric("close"),
        volume,
    )
    validate_bars(bars, source, missing_timestamp=missing_ts)
    return bars


def read_bars_file(path: str | Path, symbol: str, interval: str) -> Bars:
    """Read and validate a CSV/Parquet file; raises ``DataFileError`` (with row numbers) for a bad file."""
    file_path = Path(path)
    return frame_to_bars(read_table(file_path), symbol, interval, source=file_path.name)
