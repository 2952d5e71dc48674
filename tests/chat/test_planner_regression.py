"""The regression set: every failure example of issue #9 (and follow-ups found since) must pass."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from quantops.chat.planner import plan

from .planner_eval import format_report, load, score

TODAY = date(2026, 12, 1)
DEMO = ("AAPL", "MSFT", "NVDA", "GOOG", "AMZN", "TSLA", "META", "SPY", "QQQ", "JPM", "NFLX", "AMD")
ITEMS = load(Path(__file__).parent / "data" / "planner_regression.jsonl")


def test_regression_set_scores_100_percent(capsys: pytest.CaptureFixture[str]) -> None:
    report = score(ITEMS, lambda text, context: plan(text, context, TODAY, known_symbols=DEMO))
    with capsys.disabled():
        print("\nregression set: " + format_report(report))
    assert report["n"] >= 80 and set(report["by_language"]) == {"en", "ko"}
    assert report["failures"] == []
