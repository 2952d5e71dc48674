"""The blind evaluation set is frozen: written from the public interface only, before the planner work.

Failures found on it are never added to it (they go to tests/chat/data/planner_regression.jsonl); this test
fails if the file changes, so a score on it keeps meaning what it says.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

DATA = Path(__file__).parent / "data"
FROZEN_SHA256 = "15382bb3fb83565f02b671f3b996e93346fa5f5b2fca50b648eb959bbe1b68b8"


def test_frozen_blind_set_is_unchanged() -> None:
    body = (DATA / "frozen_blind_set.jsonl").read_bytes()
    assert hashlib.sha256(body).hexdigest() == FROZEN_SHA256
    items = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    langs = Counter(item["lang"] for item in items)
    assert len(items) == 196 and langs["en"] >= 90 and langs["ko"] >= 90
    assert len({item["id"] for item in items}) == len(items)
