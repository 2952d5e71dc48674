"""ChatOps API over real HTTP with the offline planner: sessions, turns, tools, roles, export."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import ChatServer

pytestmark = pytest.mark.timeout(120)


def new_session(client: httpx.Client, server: ChatServer, user: str = "alice") -> str:
    response = client.post(f"{server.api}/session/create", headers=server.headers(user))
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def ask(
    client: httpx.Client,
    server: ChatServer,
    session_id: str,
    question: str,
    roles: list[str] | None = None,
    user: str = "alice",
) -> dict:
    body = {"question": question, "user_roles": ["analyst"] if roles is None else roles}
    response = client.post(f"{server.api}/session/{session_id}/chat", json=body, headers=server.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def client() -> httpx.Client:
    with httpx.Client(timeout=60) as http:
        yield http


def test_backtest_turn_answers_from_real_results_and_references_work(
    offline_server: ChatServer, client: httpx.Client
) -> None:
    sid = new_session(client, offline_server)
    first = ask(client, offline_server, sid, "backtest sma 10/50 on AAPL 2016-2020")
    assert first["engine"] == "offline" and first["language"] == "en"
    assert first["conversation_turn"] == 1 and first["query"] == "backtest sma 10/50 on AAPL 2016-2020"
    assert len(first["backtest_ids"]) == 1
    backtest_id = first["backtest_ids"][0]
    # The numbers in the answer are the stored results of that backtest.
    stored = client.get(
        f"{offline_server.url}/api/v1/backtests/{backtest_id}", headers=offline_server.headers()
    )
    assert stored.status_code == 200
    stats = stored.json()["stats"]
    assert stored.json()["status"] == "completed"
    assert f"total return {stats['total_return']:.2f}%" in first["answer"]
    assert f"Sharpe {stats['sharpe_ratio']:.2f}" in first["answer"]
    assert stored.json()["config"]["fast"] == 10 and stored.json()["config"]["slow"] == 50
    assert stored.json()["start"] == "2016-01-01" and stored.json()["end"] == "2020-12-31"

    again = ask(client, offline_server, sid, "run it again on MSFT")
    assert again["conversation_turn"] == 2
    second_id = again["backtest_ids"][0]
    assert second_id != backtest_id
    second = client.get(
        f"{offline_server.url}/api/v1/backtests/{second_id}", headers=offline_server.headers()
    ).json()
    assert second["symbol"] == "MSFT" and second["config"]["fast"] == 10
    assert (second["start"], second["end"]) == ("2016-01-01", "2020-12-31")
    assert set(again["metadata"]["slots_from_context"]) == {"strategy_config", "start", "end"}

    korean = ask(client, offline_server, sid, "그 결과 보여줘")
    assert korean["language"] == "ko" and korean["tool_calls"][0]["tool"] == "get_backtest"
    assert korean["tool_calls"][0]["arguments"] == {"backtest_id": second_id}
    assert f"백테스트 {second_id}" in korean["answer"] and "완료" in korean["answer"]
    assert f"총 수익률 {second['stats']['total_return']:.2f}%" in korean["answer"]


def test_korean_backtest_request(offline_server: ChatServer, client: httpx.Client) -> None:
    sid = new_session(client, offline_server)
    reply = ask(
        client, offline_server, sid, "GOOG에 RSI 14 30/70 전략으로 2005년부터 2012년까지 백테스트 해줘"
    )
    assert reply["language"] == "ko" and len(reply["backtest_ids"]) == 1
    backtest = client.get(
        f"{offline_server.url}/api/v1/backtests/{reply['backtest_ids'][0]}", headers=offline_server.headers()
    ).json()
    assert backtest["config"]["config_type"] == "rsi_mean_reversion"
    assert (
        backtest["config"]["rsi_period"],
        backtest["config"]["oversold"],
        backtest["config"]["overbought"],
    ) == (14, 30, 70)
    assert "완료" in reply["answer"] and f"{backtest['stats']['total_return']:.2f}%" in reply["answer"]


def test_list_failed_backtests_and_strategies(offline_server: ChatServer, client: httpx.Client) -> None:
    sid = new_session(client, offline_server, "root")
    # A backtest whose period has no data → a question naming the stored range, nothing started.
    bad = ask(
        client, offline_server, sid, "backtest sma 10/50 on AAPL 1990-1991", user="root", roles=["admin"]
    )
    assert bad["backtest_ids"] == [] and bad["tool_calls"] == []
    assert "AAPL data covers only 2015-01-" in bad["answer"] and "Which period" in bad["answer"]
    # A symbol the store does not hold → a question naming it (a new request: the pending one is replaced,
    # AAPL is not silently used), nothing started.
    unknown = ask(
        client, offline_server, sid, "backtest sma 10/50 on ZZZQ 2018-2020", user="root", roles=["admin"]
    )
    assert unknown["backtest_ids"] == [] and unknown["tool_calls"] == []
    assert "'ZZZQ' is not a valid symbol" in unknown["answer"]
    created = ask(
        client, offline_server, sid, "create strategy ema 12/26 named Trendy", user="root", roles=["admin"]
    )
    assert created["tool_calls"][0]["ok"], created
    strategy_id = created["tool_calls"][0]["result"]["id"]
    assert "Trendy" in created["answer"] and strategy_id in created["answer"]
    listed = ask(client, offline_server, sid, "내 전략 목록", user="root", roles=["admin"])
    assert "Trendy" in listed["answer"] and listed["language"] == "ko"
    run = ask(
        client,
        offline_server,
        sid,
        f"backtest strategy {strategy_id} on NVDA from 2018",
        user="root",
        roles=["admin"],
    )
    assert len(run["backtest_ids"]) == 1
    done = ask(client, offline_server, sid, "최근 완료된 백테스트 목록", user="root", roles=["admin"])
    assert run["backtest_ids"][0] in done["answer"]
    failed = ask(client, offline_server, sid, "show failed backtests", user="root", roles=["admin"])
    assert failed["tool_calls"][0]["arguments"] == {"status": "failed"}
    assert run["backtest_ids"][0] not in failed["answer"]


def test_cache_status_market_data_and_help(offline_server: ChatServer, client: httpx.Client) -> None:
    sid = new_session(client, offline_server, "vera")
    cache = ask(client, offline_server, sid, "캐시 상태는?", roles=[], user="vera")
    assert cache["effective_roles"] == ["viewer"] and cache["denied_tools"] == []
    assert "GOOG" in cache["answer"] and "AAPL" in cache["answer"]
    price = ask(client, offline_server, sid, "GOOG price", roles=[], user="vera")
    bars = client.get(
        f"{offline_server.url}/api/v1/market-data/GOOG/bars", headers=offline_server.headers("vera")
    )
    if bars.status_code == 200:
        last_close = bars.json()["bars"][-1]["close"]
        assert f"Last close {last_close:,.2f}" in price["answer"]
    assert re.search(r"GOOG: \d+ daily bars", price["answer"])
    missing = ask(client, offline_server, sid, "ZZZQ 시세 보여줘", roles=[], user="vera")
    assert (
        missing["tool_calls"] == []
        and "'ZZZQ'" in missing["answer"]
        and "알 수 없는 종목" in missing["answer"]
    )
    unknown = ask(client, offline_server, sid, "tell me a joke", roles=[], user="vera")
    assert unknown["tool_calls"] == [] and "Here is what I can do" in unknown["answer"]
    assert not re.search(r"\d+\.\d+%", unknown["answer"])  # no made-up numbers


def test_roles_deny_tools_politely(offline_server: ChatServer, client: httpx.Client) -> None:
    sid = new_session(client, offline_server, "vera")
    # vera is a viewer: asking for the analyst role does not grant it.
    reply = ask(
        client, offline_server, sid, "backtest sma 10/50 on AAPL 2016-2020", roles=["analyst"], user="vera"
    )
    assert reply["effective_roles"] == ["viewer"]
    assert reply["denied_tools"] == ["run_backtest"] and reply["backtest_ids"] == []
    assert "Sorry" in reply["answer"] and "viewer" in reply["answer"]
    # the refusal names the roles that would allow it
    assert "you need the role analyst, engineer, devops or admin" in reply["answer"]
    # user_roles narrows what the server granted: alice (analyst) asking as a viewer is refused …
    alice_sid = new_session(client, offline_server)
    narrowed = ask(client, offline_server, alice_sid, "AAPL에 sma 10/50 백테스트 해줘", roles=["viewer"])
    assert narrowed["denied_tools"] == ["run_backtest"] and "죄송합니다" in narrowed["answer"]
    assert "analyst, engineer, devops 또는 admin 역할이 필요해요" in narrowed["answer"]
    # … and an empty user_roles (the original's body) acts with every granted role
    none = ask(client, offline_server, alice_sid, "AAPL에 sma 10/50 백테스트 해줘", roles=[])
    assert none["effective_roles"] == ["analyst"] and none["denied_tools"] == []
    assert len(none["backtest_ids"]) == 1
    ok = ask(client, offline_server, alice_sid, "list my backtests", roles=["viewer"])
    assert ok["denied_tools"] == [] and ok["tool_calls"][0]["ok"]


def test_one_user_never_sees_another_users_data(offline_server: ChatServer, client: httpx.Client) -> None:
    sid = new_session(client, offline_server)
    started = ask(client, offline_server, sid, "backtest macd on NVDA 2017-2019")
    alice_backtest = started["backtest_ids"][0]
    bob_sid = new_session(client, offline_server, "bob")
    probe = ask(client, offline_server, bob_sid, f"show backtest {alice_backtest}", user="bob")
    assert probe["tool_calls"][0]["ok"] is False and "not found" in probe["answer"]
    assert "NVDA" not in probe["answer"] and "total return" not in probe["answer"]
    for method, path in (
        ("GET", f"/session/{sid}"),
        ("DELETE", f"/session/{sid}"),
        ("GET", f"/session/{sid}/export?format=json"),
    ):
        response = client.request(method, offline_server.api + path, headers=offline_server.headers("bob"))
        assert response.status_code == 404, (method, path, response.text)
    turn = client.post(
        f"{offline_server.api}/session/{sid}/chat",
        json={"question": "list my backtests"},
        headers=offline_server.headers("bob"),
    )
    assert turn.status_code == 404
    assert all(
        s["session_id"] != sid
        for s in client.get(f"{offline_server.api}/sessions", headers=offline_server.headers("bob")).json()
    )
    # alice's session still works
    assert ask(client, offline_server, sid, "그 결과 보여줘")["tool_calls"][0]["ok"]


def test_bad_input_is_rejected_clearly(offline_server: ChatServer, client: httpx.Client) -> None:
    sid = new_session(client, offline_server)
    url = f"{offline_server.api}/session/{sid}/chat"
    for question in ("", "x" * 5001):
        response = client.post(url, json={"question": question}, headers=offline_server.headers())
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "question"]
    wrong_type = client.post(
        url, json={"question": "hi", "include_history": "maybe"}, headers=offline_server.headers()
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["detail"][0]["loc"] == [
        "body",
        "include_history",
    ]
    missing = client.post(
        f"{offline_server.api}/session/{'0' * 32}/chat",
        json={"question": "hi"},
        headers=offline_server.headers(),
    )
    assert missing.status_code == 404
    assert client.post(url, json={"question": "hi"}).status_code == 401
    # ?user_id= (the original's caller id) is accepted, but the API key alone decides who acts
    foreign = client.post(
        f"{offline_server.api}/session/create?user_id=bob", headers=offline_server.headers()
    )
    assert foreign.status_code == 201 and foreign.json()["user_id"] == offline_server.user_ids["alice"]
    own = client.post(f"{offline_server.api}/session/create?user_id=alice", headers=offline_server.headers())
    assert own.status_code == 201
    # the session is still usable after the errors
    assert ask(client, offline_server, sid, "help")["answer"].startswith("Here is what I can do")


def test_session_shape_history_export_delete(offline_server: ChatServer, client: httpx.Client) -> None:
    sid = new_session(client, offline_server)
    ask(client, offline_server, sid, "backtest buy and hold on AAPL 2016-2020")
    ask(client, offline_server, sid, "그 결과 보여줘")
    session = client.get(f"{offline_server.api}/session/{sid}", headers=offline_server.headers()).json()
    assert set(session) >= {
        "session_id",
        "user_id",
        "conversation_history",
        "context",
        "created_at",
        "updated_at",
        "is_active",
    }
    assert session["user_id"] == offline_server.user_ids["alice"] and session["is_active"] is True
    history = session["conversation_history"]
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert all(set(m) >= {"role", "content", "timestamp", "metadata"} for m in history)
    assert history[1]["metadata"]["engine"] == "offline" and history[1]["metadata"]["backtest_ids"]
    assert session["context"]["last_symbol"] == "AAPL"
    listed = client.get(f"{offline_server.api}/sessions", headers=offline_server.headers()).json()
    assert listed[0]["session_id"] == sid  # newest first

    as_json = client.get(
        f"{offline_server.api}/session/{sid}/export?format=json", headers=offline_server.headers()
    )
    assert as_json.status_code == 200
    assert f'filename="chat-{sid}.json"' in as_json.headers["content-disposition"]
    assert as_json.json()["conversation_history"][0]["content"] == "backtest buy and hold on AAPL 2016-2020"
    as_md = client.get(
        f"{offline_server.api}/session/{sid}/export?format=markdown", headers=offline_server.headers()
    )
    assert as_md.headers["content-type"].startswith("text/markdown")
    assert f"# Chat session {sid}" in as_md.text and "그 결과 보여줘" in as_md.text
    bad = client.get(
        f"{offline_server.api}/session/{sid}/export?format=pdf", headers=offline_server.headers()
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "format"]

    assert (
        client.delete(f"{offline_server.api}/session/{sid}", headers=offline_server.headers()).status_code
        == 204
    )
    assert (
        client.get(f"{offline_server.api}/session/{sid}", headers=offline_server.headers()).status_code == 404
    )


def test_trigger_backtest_really_runs(offline_server: ChatServer, client: httpx.Client) -> None:
    body = {
        "strategy_config": {
            "config_type": "sma_crossover",
            "fast": 10,
            "slow": 20,
            "symbol": "GOOG",
            "start_date": "2005-01-01",
            "end_date": "2012-12-31",
        },
        "trigger_reason": "nightly",
        "generate_report": False,
        "notify_on_completion": False,
    }
    response = client.post(
        f"{offline_server.api}/backtest/trigger", json=body, headers=offline_server.headers()
    )
    assert response.status_code == 202, response.text
    out = response.json()
    assert set(out) >= {"backtest_id", "status", "estimated_duration_seconds", "report_url"}
    assert out["status"] == "pending" and out["estimated_duration_seconds"] > 0
    done = client.get(
        f"{offline_server.url}/api/v1/backtests/{out['backtest_id']}?wait=30",
        headers=offline_server.headers(),
    ).json()
    assert done["status"] == "completed" and done["symbol"] == "GOOG" and done["stats"]["num_trades"] > 0
    bad = client.post(
        f"{offline_server.api}/backtest/trigger",
        json={
            **body,
            "strategy_config": {"config_type": "sma_crossover", "fast": 50, "slow": 10, "symbol": "GOOG"},
        },
        headers=offline_server.headers(),
    )
    assert bad.status_code == 422 and "strategy_config" in str(bad.json()["detail"])
    viewer = client.post(
        f"{offline_server.api}/backtest/trigger", json=body, headers=offline_server.headers("vera")
    )
    assert viewer.status_code == 403


def test_metrics_show_session_cache_hits(offline_server: ChatServer, client: httpx.Client) -> None:
    before = client.get(f"{offline_server.api}/metrics", headers=offline_server.headers()).json()
    sid = new_session(client, offline_server)
    ask(client, offline_server, sid, "help")
    ask(client, offline_server, sid, "help")
    after = client.get(f"{offline_server.api}/metrics", headers=offline_server.headers()).json()
    session_cache = after["caches"]["session"]
    assert session_cache["backend"] == "memory"
    assert session_cache["hits"] >= before["caches"]["session"]["hits"] + 2
    assert after["turns"]["offline"] >= before["turns"]["offline"] + 2 and after["llm_enabled"] is False


def test_compare_strategies_through_chat(offline_server: ChatServer, client: httpx.Client) -> None:
    sid = new_session(client, offline_server, "bob")
    ids = []
    for phrase, name in (("sma 10/50", "Slow trend"), ("rsi 14 30/70", "Mean rev")):
        created = ask(client, offline_server, sid, f'create strategy {phrase} named "{name}"', user="bob")
        ids.append(created["tool_calls"][0]["result"]["id"])
        run = ask(client, offline_server, sid, f"backtest strategy {ids[-1]} on AAPL 2016-2020", user="bob")
        assert "completed" in run["answer"], run["answer"]
    reply = ask(
        client, offline_server, sid, f"compare strategies {ids[0]} and {ids[1]} by sharpe", user="bob"
    )
    call = reply["tool_calls"][0]
    assert call["tool"] == "compare_strategies" and call["ok"], call
    assert call["arguments"]["strategy_ids"] == ids and call["arguments"]["metrics"] == ["sharpe_ratio"]
    ranking = call["result"]["ranking_details"]
    assert {entry["strategy_id"] for entry in ranking} == set(ids)
    assert f"1. {ranking[0]['name']}" in reply["answer"] and call["result"]["summary"] in reply["answer"]
    # a viewer may not compare
    denied = ask(
        client, offline_server, sid, f"compare strategies {ids[0]} and {ids[1]}", roles=["viewer"], user="bob"
    )
    assert denied["denied_tools"] == ["compare_strategies"]
