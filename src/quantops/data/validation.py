"""Whole-batch validation of OHLCV arrays; every broken rule is reported with its 1-based row numbers."""

from __future__ import annotations

import numpy as np

from quantops.data.bars import Bars
from quantops.data.errors import DataFileError, RowProblem

# Rounding in vendor files can put close a hair above high; anything beyond this relative slack is an error.
_RELATIVE_TOLERANCE = 1e-9


def _rows(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in np.flatnonzero(mask))


def find_problems(bars: Bars, missing_timestamp: np.ndarray | None = None) -> list[RowProblem]:
    """All rule violations of ``bars`` (row numbers are 1-based positions in the batch)."""
    problems: list[RowProblem] = []

    def add(rule: str, mask: np.ndarray) -> None:
        if mask.any():
            problems.append(RowProblem(rule, _rows(mask)))

    if missing_timestamp is not None:
        add("missing or unparsable timestamp", missing_timestamp)
    columns = {"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close}
    for name, values in {**columns, "volume": bars.volume}.items():
        add(f"missing or non-numeric {name}", ~np.isfinite(values))
    with np.errstate(invalid="ignore"):
        for name, values in columns.items():
            add(f"non-positive {name}", values <= 0)
        add("negative volume", bars.volume < 0)
        body_top = np.maximum(bars.open, bars.close)
        body_bottom = np.minimum(bars.open, bars.close)
        add("high < max(open, close)", bars.high < body_top * (1 - _RELATIVE_TOLERANCE))
        add("low > min(open, close)", bars.low > body_bottom * (1 + _RELATIVE_TOLERANCE))
    ts = bars.timestamps
    if ts.shape[0] > 1:
        valid_pair = np.ones(ts.shape[0] - 1, dtype=bool)
        if missing_timestamp is not None:
            valid_pair = ~(missing_timestamp[1:] | missing_timestamp[:-1])
        step = np.diff(ts)
        duplicate = np.concatenate([[False], (step == 0) & valid_pair])
        unsorted = np.concatenate([[False], (step < 0) & valid_pair])
        add("duplicate timestamp", duplicate)
        add("timestamp earlier than previous row (unsorted)", unsorted)
    return problems


def validate_bars(bars: Bars, source: str, missing_timestamp: np.ndarray | None = None) -> None:
    """Raise ``DataFileError`` naming every offending row; returns silently for a clean batch."""
    problems = find_problems(bars, missing_timestamp)
    if problems:
        raise DataFileError(source, problems)
