"""The original platform's documented requests, exactly as written, against a real quantops server (#10).

Each test replays one request of tests/chat/original_contract.py (copied from the original's reference)
with only an API key added, and checks the answer is what the original promised — with real results.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from quantops.data.store import MarketDataStore

from . import original_contract as original
from .conftest import ChatServer, start_chat_server

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """No public_base_url, no symbol configured: the defaults a fresh `make run` has (SPY in the store)."""
    root = tmp_path_factory.mktemp("original")
    store = MarketDataStore(root / "market.duckdb")
    try:
        store.load_demo(["SPY"])
    finally:
        store.close()
    threaded, info = start_chat_server(root)
    with threaded:
        info.url = threaded.url
        yield info


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as client:
        yield client


def _wait(http: httpx.Client, server: ChatServer, backtest_id: str) -> dict:
    response = http.get(f"{server.url}/api/v1/backtests/{backtest_id}?wait=60", headers=server.headers())
    assert response.status_code == 200, response.text
    return response.json()


def test_trigger_with_the_original_body_runs_on_the_default_symbol(
    server: ChatServer, http: httpx.Client
) -> None:
    response = http.post(
        server.api + original.TRIGGER_PATH, json=original.TRIGGER_BODY, headers=server.headers()
    )
    assert response.status_code == 202, response.text
    out = response.json()
    assert set(out) >= original.TRIGGER_RESPONSE_KEYS
    assert out["status"] == "pending"
    assert isinstance(out["estimated_duration_seconds"], int) and out["estimated_duration_seconds"] >= 1
    # It says what it assumed: the default symbol, over the full stored range.
    assert out["symbol"] == "SPY" and out["start"] is None and out["end"] is None
    assert (
        "SPY" in out["note"]
        and "QUANTOPS_DEFAULT_SYMBOL" in out["note"]
        and "full stored range" in out["note"]
    )
    assert out["strategy_name"] == "Test RSI Strategy"

    done = _wait(http, server, out["backtest_id"])
    assert done["status"] == "completed", done
    assert done["symbol"] == "SPY" and done["config"]["config_type"] == "rsi_mean_reversion"
    assert done["config"]["rsi_period"] == 14 and done["config"]["oversold"] == 30
    stored = http.get(f"{server.url}/api/v1/market-data/bars/SPY", headers=server.headers()).json()
    assert done["n_bars"] == stored["count"]  # the full stored range
    assert done["stats"]["num_trades"] > 0
    # the report asked for exists where report_url says
    assert done["report_url"] == out["report_url"]
    report = http.get(done["report_url"], headers=server.headers())
    assert report.status_code == 200 and "text/html" in report.headers["content-type"]


def test_trigger_other_forms_still_work_and_errors_name_the_field(
    server: ChatServer, http: httpx.Client
) -> None:
    created = http.post(
        f"{server.url}/api/v1/strategies",
        json={"name": "trigger by id", "config": {"config_type": "sma_crossover", "fast": 10, "slow": 30}},
        headers=server.headers(),
    )
    assert created.status_code == 201, created.text
    by_id = http.post(
        server.api + "/backtest/trigger",
        json={
            "strategy_config": {"strategy_id": created.json()["id"], "symbol": "AAPL"},
            "trigger_reason": "saved strategy",
            "generate_report": False,
            "notify_on_completion": False,
        },
        headers=server.headers(),
    )
    assert by_id.status_code == 202, by_id.text
    assert (
        by_id.json()["symbol"] == "AAPL"
        and by_id.json()["note"] == "no period given: the full stored range of AAPL"
    )
    assert _wait(http, server, by_id.json()["backtest_id"])["status"] == "completed"

    # the StrategyCreate form may name a symbol and a period inside it, the original's date names too
    placed = {
        **original.TRIGGER_BODY,
        "strategy_config": {
            **original.TRIGGER_BODY["strategy_config"],
            "symbol": "MSFT",
            "start_date": "2018-01-01",
            "end_date": "2020-12-31",
        },
    }
    response = http.post(server.api + "/backtest/trigger", json=placed, headers=server.headers())
    assert response.status_code == 202, response.text
    assert response.json()["symbol"] == "MSFT" and response.json()["note"] is None
    assert response.json()["start"] == "2018-01-01" and response.json()["end"] == "2020-12-31"

    bad = {
        **original.TRIGGER_BODY,
        "strategy_config": {
            **original.TRIGGER_BODY["strategy_config"],
            "config": {
                "config_type": "rsi_mean_reversion",
                "rsi_period": 14,
                "oversold": 80,
                "overbought": 70,
            },
        },
    }
    rejected = http.post(server.api + "/backtest/trigger", json=bad, headers=server.headers())
    assert rejected.status_code == 422, rejected.text
    assert rejected.json()["detail"][0]["loc"][:3] == ["body", "strategy_config", "config"]
    unnamed = {
        **original.TRIGGER_BODY,
        "strategy_config": {"name": "", "config": {"config_type": "buy_and_hold"}},
    }
    rejected = http.post(server.api + "/backtest/trigger", json=unnamed, headers=server.headers())
    assert rejected.status_code == 422 and rejected.json()["detail"][0]["loc"] == [
        "body",
        "strategy_config",
        "name",
    ]


def test_default_symbol_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from quantops.config import get_settings

    assert get_settings().default_symbol == "SPY"
    monkeypatch.setenv("QUANTOPS_DEFAULT_SYMBOL", "QQQ")
    assert get_settings().default_symbol == "QQQ"


def test_session_create_and_chat_with_the_original_bodies(server: ChatServer, http: httpx.Client) -> None:
    created = http.post(server.api + original.SESSION_CREATE, headers=server.headers())
    assert created.status_code == 201, created.text
    # ?user_id= is the original's caller id: accepted, but the key decides who the user is
    assert created.json()["user_id"] == server.user_ids["alice"]
    sid = created.json()["session_id"]
    response = http.post(
        f"{server.api}/session/{sid}/chat", json=original.CHAT_BODY, headers=server.headers()
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["session_id"] == sid and reply["query"] == original.CHAT_BODY["question"]
    assert reply["conversation_turn"] == 1 and reply["denied_tools"] == []
    assert reply["tool_calls"][0]["tool"] == "cache_status" and reply["tool_calls"][0]["ok"]
    # user_roles [] = every role the server granted (alice: analyst), so a backtest runs too
    backtest = http.post(
        f"{server.api}/session/{sid}/chat",
        json={**original.CHAT_BODY, "question": "AAPL에 sma 10/50 백테스트 해줘"},
        headers=server.headers(),
    ).json()
    assert backtest["effective_roles"] == ["analyst"] and backtest["denied_tools"] == []
    assert len(backtest["backtest_ids"]) == 1


def test_compare_ranking_is_the_list_of_ids_best_first(server: ChatServer, http: httpx.Client) -> None:
    ids = []
    for name, config in (
        ("cmp sma", {"config_type": "sma_crossover", "fast": 10, "slow": 50}),
        (
            "cmp rsi",
            {"config_type": "rsi_mean_reversion", "rsi_period": 14, "oversold": 30, "overbought": 70},
        ),
        ("cmp hold", {"config_type": "buy_and_hold"}),
    ):
        created = http.post(
            f"{server.url}/api/v1/strategies", json={"name": name, "config": config}, headers=server.headers()
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
        run = http.post(
            f"{server.url}/api/v1/backtests",
            json={"strategy_id": ids[-1], "symbol": "AAPL", "start": "2016-01-01", "end": "2020-12-31"},
            headers=server.headers(),
        )
        assert run.status_code == 202, run.text
        assert _wait(http, server, run.json()["id"])["status"] == "completed"
    body = {**original.COMPARE_BODY, "strategy_ids": ids}
    response = http.post(f"{server.api}/strategies/compare", json=body, headers=server.headers())
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["query"] == "가장 안정적인 전략은?"
    assert isinstance(result["ranking"], list) and all(isinstance(i, str) for i in result["ranking"])
    assert sorted(result["ranking"]) == sorted(ids)
    details = result["ranking_details"]
    assert [d["rank"] for d in details] == [1, 2, 3]
    assert result["ranking"] == [d["strategy_id"] for d in details]
    # each strategy entry carries the requested metrics at the top level, as the original's did
    for entry in result["strategies"]:
        assert {"strategy_id", "name"} <= set(entry)
        for metric in original.COMPARE_BODY["metrics"]:
            assert entry[metric] == entry["metrics"][metric] and isinstance(entry[metric], float)
    for length_key, (low, high) in {
        "summary": (50, 500),
        "recommendation": (50, 500),
        "reasoning": (50, 1000),
    }.items():
        assert low <= len(result[length_key]) <= high


def test_a_401_says_where_the_key_is(server: ChatServer, http: httpx.Client) -> None:
    for method, path in (("GET", "/api/v1/backtests"), ("POST", "/api/v1/chatops-advanced/session/create")):
        response = http.request(method, server.url + path)
        assert response.status_code == 401
        detail = response.json()["detail"]
        assert "X-API-Key" in detail and "make run" in detail
        # the test server's data dir is absolute: its path is not revealed, the file name is
        assert "default_api_key" in detail and str(server.settings.data_dir) not in detail


def test_key_hint_names_var_default_api_key() -> None:
    from quantops.config import get_settings

    assert "var/default_api_key" in get_settings(data_dir=Path("var")).key_hint
    assert "make run" in get_settings(data_dir=Path("var")).key_hint


def test_links_follow_the_host_and_port_the_server_serves_on(server: ChatServer, http: httpx.Client) -> None:
    assert server.settings.public_base_url is None and not server.url.endswith(f":{server.settings.port}")
    body = {**original.TRIGGER_BODY, "strategy_config": {"config_type": "buy_and_hold", "symbol": "AAPL"}}
    out = http.post(server.api + "/backtest/trigger", json=body, headers=server.headers()).json()
    assert out["report_url"] == f"{server.url}/api/v1/backtests/{out['backtest_id']}/report"
    _wait(http, server, out["backtest_id"])
    # Reached under another name (the Host header), the links use that name.
    port = server.url.rsplit(":", 1)[1]
    alias = {"Host": f"localhost:{port}", **server.headers()}
    fetched = http.get(f"{server.url}/api/v1/backtests/{out['backtest_id']}", headers=alias).json()
    assert fetched["report_url"] == f"http://localhost:{port}/api/v1/backtests/{out['backtest_id']}/report"
    assert http.get(fetched["report_url"], headers=server.headers()).status_code == 200


def test_an_explicit_public_base_url_wins() -> None:
    from quantops.urls import Links, request_base_url

    derived = Links(None, "http://127.0.0.1:8500")
    configured = Links("https://quantops.example.com/", "http://127.0.0.1:8500")
    assert derived.backtest_report("b1") == "http://127.0.0.1:8500/api/v1/backtests/b1/report"
    with request_base_url("http://10.0.0.5:9001"):
        assert derived.backtest_report("b1") == "http://10.0.0.5:9001/api/v1/backtests/b1/report"
        assert configured.comparison_report("c1") == (
            "https://quantops.example.com/api/v1/chatops-advanced/strategies/compare/c1/report"
        )
    assert derived.base_url == "http://127.0.0.1:8500"


async def test_links_in_a_websocket_chat_follow_the_host_it_reached(server: ChatServer) -> None:
    import json

    from websockets.asyncio.client import connect

    port = server.url.rsplit(":", 1)[1]
    async with httpx.AsyncClient(timeout=30) as client:
        created = await client.post(server.api + "/session/create", headers=server.headers())
    sid = created.json()["session_id"]
    url = f"ws://localhost:{port}/api/v1/chatops-advanced/ws/chat/{sid}"
    async with connect(url, additional_headers=server.headers()) as ws:
        await ws.send(json.dumps({"question": "backtest sma 10/50 on AAPL 2016-2020", "user_roles": []}))
        while (message := json.loads(await ws.recv()))["type"] not in ("done", "error"):
            pass
    assert message["type"] == "done", message
    result = message["tool_calls"][0]["result"]
    assert result["status"] == "completed"
    expected = f"http://localhost:{port}/api/v1/backtests/{result['id']}/report"
    assert result["report_url"] == expected and expected in message["answer"]
