"""Tiny helpers every layer may use (this module imports nothing else of quantops): the one ``utcnow``
and the one ``json_safe``."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the store's, chat's and events' clock)."""
    return datetime.now(UTC)


def json_safe(value: Any) -> Any:
    """numpy/pandas scalars and arrays → Python; NaN/±inf → None (JSON has no NaN); dates/times → ISO-8601;
    dict keys → str. Containers are converted recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
