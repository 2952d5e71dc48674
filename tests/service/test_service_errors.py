"""One helper turns pydantic errors into ValidationFailed / FastAPI-shaped details (was five copies)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from quantops.services.errors import ValidationFailed, validation_details, validation_summary


class Inner(BaseModel):
    fast: int


class Outer(BaseModel):
    symbol: str
    inner: Inner


def _error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate(data)
    return caught.value


def test_from_pydantic_names_the_field_and_the_rule() -> None:
    exc = _error({"symbol": "AAPL", "inner": {"fast": "x", "secret": 1}})
    failed = ValidationFailed.from_pydantic(exc)
    assert (failed.field, failed.rule) == ("inner.fast", "int_parsing")
    prefixed = ValidationFailed.from_pydantic(exc, "strategy_config", field_in_message=True)
    assert prefixed.field == "strategy_config.inner.fast"
    assert prefixed.message.startswith(prefixed.field + ": ")
    missing = _error({"inner": {"fast": 1}})
    top = ValidationFailed.from_pydantic(missing, "strategy_config", unprefixed=("symbol",))
    assert (top.field, top.rule) == ("symbol", "missing")
    root = ValidationFailed.from_pydantic(_error("not an object"))
    assert root.field == "request" and root.to_detail()[0]["loc"] == ["body", "request"]


def test_details_and_summary_never_echo_the_input() -> None:
    exc = _error({"symbol": 5, "inner": {"fast": "sk-secret"}})
    details = validation_details(exc)
    assert [d["loc"] for d in details] == [["symbol"], ["inner", "fast"]]
    assert all(set(d) == {"loc", "msg", "type"} for d in details)
    assert "sk-secret" not in str(details)
    assert validation_details(exc, 1) == details[:1]
    expected = f"symbol: Input should be a valid string; inner.fast: {details[1]['msg']}"
    assert validation_summary(exc) == expected
