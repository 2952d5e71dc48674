"""'compare my last three strategies — which is most stable?' end to end over real HTTP, and the
compare tool's own rules (latest_n, asking for a symbol, the run_backtest role) on a real store."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from quantops.chat.tools import ROLE_TOOLS, ToolContext, build_registry
from quantops.config import get_settings
from quantops.services.container import build_container
from quantops.services.schemas import StrategyCreate, UserContext

from .conftest import ChatServer

pytestmark = pytest.mark.timeout(240)

STABLE = ["volatility", "max_drawdown", "sharpe_ratio"]


@pytest.fixture
def http() -> httpx.Client:
    with httpx.Client(timeout=180) as client:
        yield client


def _session(http: httpx.Client, server: ChatServer, user: str) -> str:
    response = http.post(f"{server.api}/session/create", headers=server.headers(user))
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def _ask(http: httpx.Client, server: ChatServer, sid: str, question: str, user: str) -> dict[str, Any]:
    body = {"question": question, "user_roles": ["analyst"]}
    response = http.post(f"{server.api}/session/{sid}/chat", json=body, headers=server.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def _ask_streamed(
    http: httpx.Client, server: ChatServer, sid: str, question: str, user: str
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:
    """One turn over SSE: (all events in order, the final response)."""
    events: list[tuple[str, dict[str, Any]]] = []
    body = {"question": question, "user_roles": ["analyst"]}
    url = f"{server.api}/session/{sid}/chat/stream"
    with http.stream("POST", url, json=body, headers=server.headers(user)) as response:
        assert response.status_code == 200
        event = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line.split(":", 1)[1])))
    assert events and events[-1][0] == "done", events[-3:]
    return events, events[-1][1]


def _create(http: httpx.Client, server: ChatServer, sid: str, user: str, phrases: list[str]) -> list[str]:
    ids = []
    tag = uuid.uuid4().hex[:6]
    for phrase in phrases:
        reply = _ask(http, server, sid, f'create strategy {phrase} named "{phrase} {tag}"', user)
        call = reply["tool_calls"][0]
        assert call["tool"] == "create_strategy" and call["ok"], reply
        ids.append(call["result"]["id"])
    return ids


def _backtests_of(http: httpx.Client, server: ChatServer, strategy_id: str, user: str) -> list[dict]:
    response = http.get(
        f"{server.url}/api/v1/backtests", params={"strategy_id": strategy_id}, headers=server.headers(user)
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _assert_numbers_in(answer: str, endpoint: dict[str, Any], percent: str = "%") -> None:
    for strategy in endpoint["strategies"]:
        metrics = strategy["metrics"]
        line = next(line for line in answer.splitlines() if f"({strategy['strategy_id']})" in line)
        for name in STABLE:
            value = metrics[name]
            formatted = f"{value:.2f}" + (percent if name != "sharpe_ratio" else "")
            assert formatted in line, (name, formatted, line)


def test_compare_my_last_three_strategies_most_stable(offline_server: ChatServer, http: httpx.Client) -> None:
    user = "alice"
    sid = _session(http, offline_server, user)
    # A symbol in the session context: the comparison runs the missing backtests on it.
    price = _ask(http, offline_server, sid, "AAPL price", user)
    assert price["tool_calls"][0]["tool"] == "market_data" and price["tool_calls"][0]["ok"]
    ids = _create(http, offline_server, sid, user, ["sma 10/50", "rsi 14 30/70", "momentum 60"])

    reply = _ask(http, offline_server, sid, "compare my last three strategies — which is most stable?", user)
    call = reply["tool_calls"][0]
    assert call["tool"] == "compare_strategies" and call["ok"], reply
    assert call["arguments"]["latest_n"] == 3 and call["arguments"]["metrics"] == STABLE
    assert call["arguments"]["fallback_symbol"] == "AAPL"
    result = call["result"]
    assert result["strategy_ids"] == ids and result["symbol"] == "AAPL"
    assert len(result["ran_backtests"]) == 3  # fresh strategies: one AAPL backtest each, awaited
    assert sorted(entry["strategy_id"] for entry in result["ranking_details"]) == sorted(ids)
    assert reply["metadata"]["slots_from_context"] == ["fallback_symbol"]

    # The same comparison through its own endpoint (the backtests now exist): same ranking, same numbers.
    response = http.post(
        f"{offline_server.api}/strategies/compare",
        json={"strategy_ids": ids, "metrics": STABLE, "symbol": "AAPL"},
        headers=offline_server.headers(user),
    )
    assert response.status_code == 200, response.text
    endpoint = response.json()
    assert endpoint["ran_backtests"] == []
    assert endpoint["ranking"] == result["ranking"]  # the strategy ids, best first
    assert endpoint["ranking"] == [e["strategy_id"] for e in endpoint["ranking_details"]]
    assert [e["composite_score"] for e in endpoint["ranking_details"]] == [
        e["composite_score"] for e in result["ranking_details"]
    ]
    by_id = {s["strategy_id"]: s for s in result["strategies"]}
    for strategy in endpoint["strategies"]:
        assert by_id[strategy["strategy_id"]]["backtest_id"] == strategy["backtest_id"]
        for name in STABLE:
            assert by_id[strategy["strategy_id"]]["metrics"][name] == pytest.approx(
                strategy["metrics"][name], rel=1e-12, abs=1e-12
            )

    answer = reply["answer"]
    lines = answer.splitlines()
    first = endpoint["ranking_details"][0]
    assert lines[0].startswith("Compared 3 strategies (AAPL) by volatility, max drawdown, Sharpe")
    assert lines[1].startswith(f"1. {first['name']} ({first['strategy_id']}): volatility ")
    _assert_numbers_in(answer, endpoint)
    assert "Ran 3 new backtests on AAPL first." in answer
    assert result["recommendation"] in answer and result["report_url"] in answer
    # report_url follows the host and port this test server serves on.
    report_path = urlsplit(result["report_url"]).path
    report = http.get(offline_server.url + report_path, headers=offline_server.headers(user))
    assert report.status_code == 200 and "Strategy comparison" in report.text

    # Korean, same session: every strategy has a completed backtest now, so nothing new runs.
    korean = _ask(http, offline_server, sid, "최근 전략 3개 비교해줘, 어떤 게 가장 안정적이야?", user)
    ko_call = korean["tool_calls"][0]
    assert korean["language"] == "ko" and ko_call["ok"], korean
    assert ko_call["result"]["strategy_ids"] == ids and ko_call["result"]["ran_backtests"] == []
    assert korean["answer"].startswith("전략 3개 비교 (AAPL) — 순위 기준: 변동성, 최대 낙폭, 샤프")
    assert [e["strategy_id"] for e in ko_call["result"]["ranking_details"]] == [
        e["strategy_id"] for e in endpoint["ranking_details"]
    ]
    _assert_numbers_in(korean["answer"], endpoint)
    assert ko_call["result"]["recommendation"] in korean["answer"]
    assert "리포트: " + ko_call["result"]["report_url"] in korean["answer"]
    # The session remembers what was compared: "compare them again by sharpe" reuses the ids.
    again = _ask(http, offline_server, sid, "compare them again by sharpe", user)
    assert again["tool_calls"][0]["arguments"]["strategy_ids"] == ids and again["tool_calls"][0]["ok"]


def test_compare_latest_asks_for_a_symbol_when_none_is_known(
    offline_server: ChatServer, http: httpx.Client
) -> None:
    user = "bob"
    sid = _session(http, offline_server, user)  # fresh session: no symbol in context
    ids = _create(http, offline_server, sid, user, ["ema 12/26", "breakout 20"])
    reply = _ask(http, offline_server, sid, "compare my last two strategies — which is most stable?", user)
    call = reply["tool_calls"][0]
    assert call["tool"] == "compare_strategies" and not call["ok"]
    assert reply["metadata"]["missing_slots"] == ["symbol"]
    assert "Which symbol should I run them on?" in reply["answer"]
    assert "'compare my last 2 strategies on AAPL'" in reply["answer"]
    assert "ema 12/26" in reply["answer"] and "breakout 20" in reply["answer"]
    korean = _ask(http, offline_server, sid, "마지막 두 전략 비교해줘", user)
    assert korean["language"] == "ko" and "어떤 종목으로 백테스트해서 비교할까요?" in korean["answer"]
    assert "'최근 전략 2개를 AAPL로 비교해줘'" in korean["answer"]
    # Nothing was invented and nothing ran.
    assert "%" not in reply["answer"] and all(not _backtests_of(http, offline_server, i, user) for i in ids)
    # Answering the question with a symbol completes the pending comparison.
    events, answered = _ask_streamed(http, offline_server, sid, "MSFT", user)
    progress = [data["message"] for kind, data in events if kind == "progress"]
    assert progress == ["Running 2 backtest(s) on MSFT first, then comparing…"]
    assert [kind for kind, _ in events].index("progress") < [kind for kind, _ in events].index("chunk")
    call = answered["tool_calls"][0]
    assert call["tool"] == "compare_strategies" and call["ok"], answered
    assert call["arguments"]["latest_n"] == 2 and call["arguments"]["symbol"] == "MSFT"
    assert call["result"]["strategy_ids"] == ids and len(call["result"]["ran_backtests"]) == 2
    assert answered["metadata"]["slots_from_context"] == ["pending"]
    assert "Compared 2 strategies (MSFT)" in answered["answer"]
    # The question is answered once: a bare symbol later is a price question again.
    assert _ask(http, offline_server, sid, "MSFT", user)["tool_calls"][0]["tool"] == "market_data"
    done = _ask(http, offline_server, sid, "compare my last two strategies on MSFT by sharpe", user)
    assert done["tool_calls"][0]["ok"], done
    assert done["tool_calls"][0]["result"]["strategy_ids"] == ids
    assert done["tool_calls"][0]["result"]["ran_backtests"] == []  # the MSFT backtests exist now


def test_compare_tool_rules_on_a_real_store(tmp_path: Path) -> None:
    settings = get_settings(
        data_dir=tmp_path, database_url=None, redis_url=None, job_backend="local", llm_api_key=None,
        llm_base_url=None, market_data_provider="none",
    )  # fmt: skip

    async def scenario() -> None:
        container = build_container(settings, with_market_data=False)
        try:
            await container.db.upgrade()
            created = await container.users.create("carol", ["analyst"])
            user = UserContext(id=created.id, name="carol", roles=frozenset({"analyst"}))
            for name, config in (("a", {"config_type": "momentum"}), ("b", {"config_type": "buy_and_hold"})):
                await container.strategies.create(user, StrategyCreate(name=name, config=config))
            registry = build_registry()
            ctx = ToolContext(user, container)
            analyst = ROLE_TOOLS["analyst"]

            too_many = await registry.call("compare_strategies", {"latest_n": 3}, ctx, analyst)
            assert not too_many.ok and too_many.status_code == 422
            assert "last 3 strategies but have 2" in (too_many.error or "")
            out_of_range = await registry.call("compare_strategies", {"latest_n": 6}, ctx, analyst)
            assert out_of_range.status_code == 422 and "latest_n" in (out_of_range.error or "")
            both = await registry.call(
                "compare_strategies", {"latest_n": 2, "strategy_ids": ["x", "y"]}, ctx, analyst
            )
            assert both.status_code == 422
            assert "exactly one of strategy_ids, latest_n or strategy_names" in (both.error or "")

            no_symbol = await registry.call("compare_strategies", {"latest_n": 2}, ctx, analyst)
            assert no_symbol.missing == "symbol" and no_symbol.missing_details == ["a", "b"]

            # Comparing would run backtests: refused when the roles may not run them, nothing started.
            no_runs = analyst - {"run_backtest"}
            refused = await registry.call(
                "compare_strategies", {"latest_n": 2, "fallback_symbol": "AAPL"}, ctx, no_runs
            )
            assert not refused.ok and refused.denied_tools == ["run_backtest"]
            assert (await container.backtests.list(user)).total == 0

            foreign = await registry.call(
                "compare_strategies", {"strategy_ids": ["0" * 32, "1" * 32]}, ctx, analyst
            )
            assert foreign.status_code == 404
        finally:
            await container.aclose()

    asyncio.run(scenario())
