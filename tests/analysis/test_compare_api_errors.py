"""Comparison errors (404/409/422 naming the problem), running missing backtests, Korean, chat-tool args."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from websockets.asyncio.client import connect

COMPARE = "/api/v1/chatops-advanced/strategies/compare"
SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 30}
HOLD = {"config_type": "buy_and_hold"}


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"strategy_ids": ["a"]}, "strategy_ids", "at least 2"),
        ({"strategy_ids": ["a", "b", "c", "d", "e", "f"]}, "strategy_ids", "at most 5"),
        ({"strategy_ids": ["a", "a"]}, "strategy_ids", "unique"),
        ({"strategy_ids": ["a", "b"], "metrics": ["alpha"]}, "metrics", "sharpe_ratio"),
        ({"strategy_ids": ["a", "b"], "metrics": []}, "metrics", "at least 1"),
        (
            {"strategy_ids": ["a", "b"], "symbol": "AAPL", "start": "2020-01-01", "end": "2019-01-01"},
            "body",
            "end must be after start",
        ),
        ({"strategy_ids": ["a", "b"], "start": "2020-01-01"}, "body", "need a symbol"),
        ({"strategy_ids": ["a", "b"], "monte_carlo": {"n_resamples": 5}}, "n_resamples", "greater than"),
        ({"strategy_ids": ["a", "b"], "monte_carlo": {"block_size": 1}}, "block_size", "greater than"),
        ({"strategy_ids": ["a", "b"], "surprise": 1}, "surprise", "Extra inputs"),
    ],
)
async def test_bad_requests_are_422_naming_the_field(
    live_server: Any, body: dict[str, Any], field: str, fragment: str
) -> None:
    async with live_server.client() as client:
        response = await client.post(COMPARE, json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(field in [str(p) for p in d["loc"]] and fragment in d["msg"] for d in detail), detail


async def test_unknown_strategy_is_404_and_missing_backtest_is_409_naming_it(live_server: Any) -> None:
    async with live_server.client() as client:
        with_result = await live_server.create_strategy(client, "with result", HOLD)
        without = await live_server.create_strategy(client, "never run", SMA)
        await live_server.run_backtest(client, with_result, "AAPL", "2018-01-01", "2019-12-31")

        response = await client.post(COMPARE, json={"strategy_ids": [with_result, "f" * 32]})
        assert response.status_code == 404 and "f" * 32 in response.json()["detail"]

        response = await client.post(COMPARE, json={"strategy_ids": [with_result, without]})
        assert response.status_code == 409
        assert "never run" in response.json()["detail"] and without in response.json()["detail"]

    # A viewer may not compare (services.policy), whoever's ids it names; the refusal names the roles.
    async with live_server.client(live_server.viewer_key) as viewer:
        response = await viewer.post(COMPARE, json={"strategy_ids": [with_result, without]})
        assert response.status_code == 403
        assert "analyst, engineer or admin" in response.json()["detail"]


async def test_too_few_overlapping_dates_is_422(live_server: Any) -> None:
    async with live_server.client() as client:
        early = await live_server.create_strategy(client, "early", HOLD)
        late = await live_server.create_strategy(client, "late", SMA)
        await live_server.run_backtest(client, early, "AAPL", "2015-01-01", "2016-06-30")
        await live_server.run_backtest(client, late, "AAPL", "2020-01-01", "2021-06-30")
        response = await client.post(COMPARE, json={"strategy_ids": [early, late]})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "strategy_ids"] and detail["type"] == "too_few_common_dates"
    assert "early" in detail["msg"] and "late" in detail["msg"]


async def test_missing_backtests_are_run_then_reused(live_server: Any) -> None:
    body: dict[str, Any] = {"symbol": "MSFT", "start": "2017-01-01", "end": "2022-12-31"}
    async with live_server.client() as client:
        ids = [
            await live_server.create_strategy(client, "sma", SMA),
            await live_server.create_strategy(client, "hold", HOLD),
        ]
        socket_url = live_server.base_url.replace("http://", "ws://") + "/api/v1/ws/events"
        async with connect(socket_url, additional_headers={"X-API-Key": live_server.alice_key}) as socket:
            assert json.loads(await socket.recv())["type"] == "subscribed"
            first = await client.post(COMPARE, json={"strategy_ids": ids, **body})
            assert first.status_code == 200, first.text
            events = []
            while len(events) < 3:  # start + one per backtest
                event = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
                if event["type"] == "comparison.progress":
                    events.append(event)
        ran = first.json()["ran_backtests"]
        assert len(ran) == 2
        # Progress of the long part: waiting for the backtests it started.
        assert [(e["stage"], e["done"], e["total"]) for e in events] == [
            ("waiting_for_backtests", 0, 2),
            ("backtest_finished", 1, 2),
            ("backtest_finished", 2, 2),
        ]
        assert {e["backtest_ids"][0] for e in events[1:]} == set(ran)
        assert all(e["status"] == "completed" for e in events[1:])
        for backtest_id in ran:
            backtest = (await client.get(f"/api/v1/backtests/{backtest_id}")).json()
            assert backtest["status"] == "completed" and backtest["symbol"] == "MSFT"
            assert backtest["start"] == "2017-01-01"
        assert {s["backtest_id"] for s in first.json()["strategies"]} == set(ran)

        again = await client.post(
            COMPARE, json={"strategy_ids": ids, **body, "monte_carlo": {"block_size": 20}}
        )
        assert again.status_code == 200, again.text
        assert again.json()["ran_backtests"] == []
        assert {s["backtest_id"] for s in again.json()["strategies"]} == set(ran)
        assert again.json()["analysis"]["monte_carlo"]["block_size"] == 20
        # Same data, different resampling scheme: point metrics identical, Monte Carlo not.
        assert again.json()["strategies"] == first.json()["strategies"]
        assert again.json()["analysis"]["monte_carlo"] != first.json()["analysis"]["monte_carlo"]


async def test_korean_query_gets_korean_texts_within_bounds(live_server: Any) -> None:
    async with live_server.client() as client:
        ids = [
            await live_server.create_strategy(client, "골든크로스", SMA),
            await live_server.create_strategy(client, "보유", HOLD),
        ]
        response = await client.post(
            COMPARE,
            json={
                "strategy_ids": ids,
                "metrics": ["sortino_ratio", "volatility", "win_rate", "calmar_ratio", "cagr"],
                "natural_language_query": "두 전략 중 어느 것이 더 안정적인가요?",
                "symbol": "GOOG",
            },
        )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["language"] == "ko"
    hangul = re.compile(r"[\uac00-\ud7a3]")
    for key, (low, high) in {
        "summary": (50, 500),
        "recommendation": (50, 500),
        "reasoning": (50, 1000),
    }.items():
        assert low <= len(result[key]) <= high and hangul.search(result[key]), key
    assert "추천" in result["recommendation"]
    # win_rate comes from the backtests' trade stats; buy-and-hold has no closed trades → null, ranked last.
    by_name = {s["name"]: s for s in result["strategies"]}
    assert by_name["골든크로스"]["metrics"]["win_rate"] is not None
    ranks = {r["name"]: r["metric_ranks"]["win_rate"] for r in result["ranking_details"]}
    if by_name["보유"]["metrics"]["win_rate"] is None:
        assert ranks["보유"] == 2 and ranks["골든크로스"] == 1
    # GOOG (tests/data) ends in 2013; the regime rule still labels most of it.
    assert result["analysis"]["regimes"]["symbol"] == "GOOG"


async def test_service_accepts_other_argument_models_and_names_bad_fields(live_server: Any) -> None:
    """Callers such as chat tools may pass their own pydantic model or a dict with the request fields."""
    from pydantic import BaseModel

    from quantops.services.errors import ValidationFailed

    class ToolArgs(BaseModel):
        strategy_ids: list[str]
        metrics: list[str] = ["sharpe_ratio"]
        symbol: str | None = None

    async with live_server.client() as client:
        ids = [
            await live_server.create_strategy(client, "a", SMA),
            await live_server.create_strategy(client, "b", HOLD),
        ]
    user = await live_server.container.users.authenticate(live_server.alice_key)
    service = live_server.container.comparison
    result = await service.compare(user, ToolArgs(strategy_ids=ids, symbol="AAPL"))
    assert [r.rank for r in result.ranking_details] == [1, 2]
    assert result.report_url and result.report_url.startswith(live_server.base_url)
    with pytest.raises(ValidationFailed) as info:
        await service.compare(user, {"strategy_ids": ids, "metrics": ["alpha"]})
    assert info.value.field == "metrics.0"


async def test_timeout_while_backtests_run_is_409_and_a_retry_reuses_them(live_server: Any) -> None:
    body: dict[str, Any] = {"symbol": "AAPL", "start": "2015-06-01", "end": "2024-06-28"}
    async with live_server.client() as client:
        ids = [
            await live_server.create_strategy(client, "slow one", SMA),
            await live_server.create_strategy(client, "slow two", HOLD),
        ]
        response = await client.post(
            COMPARE, json={"strategy_ids": ids, **body, "wait_timeout_seconds": 0.001}
        )
        assert response.status_code == 409, response.text
        detail = response.json()["detail"]
        assert "still" in detail and "retry" in detail and "slow" in detail
        started = (await client.get("/api/v1/backtests", params={"symbol": "AAPL"})).json()["items"]
        assert len(started) == 2

        retry = await client.post(COMPARE, json={"strategy_ids": ids, **body})
        assert retry.status_code == 200, retry.text
        # The backtests the first call started are awaited or reused, not run again.
        assert retry.json()["ran_backtests"] == []
        assert {s["backtest_id"] for s in retry.json()["strategies"]} == {b["id"] for b in started}
