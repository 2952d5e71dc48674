"""The one json_safe, utcnow and LLM client factory."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from pydantic import SecretStr

from quantops.common import json_safe, utcnow
from quantops.config import Settings
from quantops.llm_client import make_llm_client


def test_json_safe_converts_numpy_nan_and_times() -> None:
    value = {
        "nan": float("nan"), "inf": np.float64("inf"), "i": np.int64(3), "f": np.float32(0.5),
        "b": np.bool_(True), "arr": np.array([1.0, np.nan]), "t": (1, "x"), 2: date(2024, 1, 2),
        "ts": pd.Timestamp("2024-01-02T03:04:05Z"), "none": None, "nested": [{"x": np.nan}],
    }  # fmt: skip
    out = json_safe(value)
    assert out == {
        "nan": None, "inf": None, "i": 3, "f": 0.5, "b": True, "arr": [1.0, None], "t": [1, "x"],
        "2": "2024-01-02", "ts": "2024-01-02T03:04:05+00:00", "none": None, "nested": [{"x": None}],
    }  # fmt: skip
    json.dumps(out, allow_nan=False)
    assert type(out["i"]) is int and type(out["b"]) is bool


def test_utcnow_is_aware_utc() -> None:
    now = utcnow()
    assert now.tzinfo is UTC and abs((datetime.now(UTC) - now).total_seconds()) < 60


def test_one_llm_client_factory_without_sdk_retries() -> None:
    settings = Settings(
        llm_api_key=SecretStr("sk-test"), llm_base_url="http://127.0.0.1:9/v1", llm_timeout_seconds=7
    )
    client = make_llm_client(settings)
    assert client.max_retries == 0 and client.api_key == "sk-test"
    assert str(client.base_url).startswith("http://127.0.0.1:9/v1") and client.timeout == 7


def test_the_api_prefix_is_written_once() -> None:
    """Every route and link is built from ``quantops.urls.API_PREFIX``: no other "/api/v1…" literal."""
    import ast
    from pathlib import Path

    import quantops

    package = Path(quantops.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "urls.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and text.startswith("/api/"):
                found.append(f"{path.relative_to(package)}:{node.lineno} {node.value!r}")
    assert found == []
