"""REST comparison of "my last N strategies" (latest_n) and fallback_symbol — the rule lives in
ComparisonService, so REST and the chat tool behave the same (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

COMPARE = "/api/v1/chatops-advanced/strategies/compare"
HOLD = {"config_type": "buy_and_hold"}
SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 30}
EMA = {"config_type": "ema_crossover", "fast": 12, "slow": 26}


async def test_latest_n_and_fallback_symbol_over_rest(live_server_any_db: Any) -> None:
    live = live_server_any_db
    async with live.client() as client:
        oldest = await live.create_strategy(client, "oldest", SMA)
        hold = await live.create_strategy(client, "hold", HOLD)
        ema = await live.create_strategy(client, "ema", EMA)
        for sid in (hold, ema):
            await live.run_backtest(client, sid, "AAPL", "2016-01-01", "2020-12-31")

        # The two newest, in the order they were made; both have a completed backtest: nothing runs.
        response = await client.post(COMPARE, json={"latest_n": 2, "metrics": ["sharpe_ratio"]})
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["strategy_ids"] == [hold, ema]
        assert [s["strategy_id"] for s in result["strategies"]] == [hold, ema]
        assert result["ran_backtests"] == [] and result["strategies_without_backtest"] == []
        assert result["symbol"] is None and result["symbol_source"] is None

        # Three newest include one never run: with no symbol at all that is a 409 naming it …
        response = await client.post(COMPARE, json={"latest_n": 3})
        assert response.status_code == 409, response.text
        assert "oldest" in response.json()["detail"] and oldest in response.json()["detail"]
        assert "fallback_symbol" in response.json()["detail"]

        # … and with fallback_symbol the comparison runs every strategy on it (common ground).
        response = await client.post(COMPARE, json={"latest_n": 3, "fallback_symbol": "MSFT"})
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["strategy_ids"] == [oldest, hold, ema]
        assert result["symbol"] == "MSFT" and result["symbol_source"] == "fallback"
        assert result["strategies_without_backtest"] == ["oldest"]
        assert len(result["ran_backtests"]) == 3
        assert {s["symbol"] for s in result["strategies"]} == {"MSFT"}

        # An explicit symbol wins over the fallback and reuses those MSFT backtests.
        response = await client.post(
            COMPARE, json={"strategy_ids": [oldest, ema], "symbol": "MSFT", "fallback_symbol": "AAPL"}
        )
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["symbol"] == "MSFT" and result["symbol_source"] == "request"
        assert result["ran_backtests"] == [] and result["strategies_without_backtest"] == []

        # The fallback is not used when every strategy has a completed backtest.
        response = await client.post(COMPARE, json={"latest_n": 2, "fallback_symbol": "GOOG"})
        assert response.status_code == 200, response.text
        assert response.json()["symbol"] is None and response.json()["ran_backtests"] == []

        # More than you have → 422 naming latest_n.
        response = await client.post(COMPARE, json={"latest_n": 4})
        assert response.status_code == 422, response.text
        [detail] = response.json()["detail"]
        assert detail["loc"] == ["body", "latest_n"] and detail["type"] == "too_few_strategies"
        assert "have 3" in detail["msg"]

    # Another user's "last 2" are their own (bob has none), never alice's.
    async with live.client(live.bob_key) as bob:
        response = await bob.post(COMPARE, json={"latest_n": 2, "fallback_symbol": "AAPL"})
        assert response.status_code == 422 and "have 0" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"latest_n": 1}, "latest_n", "greater than or equal to 2"),
        ({"latest_n": 6}, "latest_n", "less than or equal to 5"),
        (
            {"latest_n": 2, "strategy_ids": ["a", "b"]},
            "body",
            "exactly one of strategy_ids, latest_n or strategy_names",
        ),
        ({}, "body", "exactly one of strategy_ids, latest_n or strategy_names"),
        ({"latest_n": 2, "fallback_symbol": "X" * 40}, "fallback_symbol", "at most 32"),
    ],
)
async def test_latest_n_bad_requests_are_422_naming_the_field(
    live_server: Any, body: dict[str, Any], field: str, fragment: str
) -> None:
    async with live_server.client() as client:
        response = await client.post(COMPARE, json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(field in [str(p) for p in d["loc"]] and fragment in d["msg"] for d in detail), detail


async def test_openapi_documents_latest_n_and_fallback_symbol(live_server: Any) -> None:
    async with live_server.client() as client:
        schema = (await client.get("/openapi.json")).json()
    request = schema["components"]["schemas"]["StrategyComparisonRequest"]
    assert {"latest_n", "fallback_symbol", "strategy_ids"} <= set(request["properties"])
    assert "required" not in request or "strategy_ids" not in request["required"]
    assert any("latest_n" in example and "fallback_symbol" in example for example in request["examples"])
    result = schema["components"]["schemas"]["StrategyComparisonResult"]
    assert {"strategy_ids", "symbol", "symbol_source", "strategies_without_backtest"} <= set(
        result["properties"]
    )
