"""ChatService against an in-process container (SQLite and PostgreSQL): pending requests, cancel,
best/worst ranking, comparison by strategy names, and the interpretation every run answer states
(issue #9)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from quantops.chat.service import ChatService, build_chat_service
from quantops.chat.tools import ToolContext, allowed_tools, build_registry
from quantops.services.schemas import BacktestCreate, StrategyCreate, UserContext

pytestmark = pytest.mark.timeout(240)

TODAY = date(2026, 12, 1)


def _user(container: Any, name: str = "alice") -> UserContext:
    created = container.test_users[name]
    return UserContext(id=created.id, name=created.name, roles=frozenset(created.roles))


@pytest.fixture
async def chat(service_container: Any) -> AsyncIterator[ChatService]:
    from quantops.services.comparison import install as install_comparison

    install_comparison(service_container)
    service = build_chat_service(service_container)
    service.today = lambda: TODAY
    try:
        yield service
    finally:
        await service.aclose()


async def _turns(chat: ChatService, user: UserContext, *questions: str) -> list[Any]:
    sid = (await chat.create_session(user)).session_id
    return [await chat.chat(user, sid, q, user_roles=sorted(user.roles)) for q in questions]


async def _context(chat: ChatService, user: UserContext, session_id: str) -> dict[str, Any]:
    return (await chat.get_session(user, session_id)).context


async def _completed(container: Any, user: UserContext, config: dict[str, Any], **extra: Any) -> Any:
    body = BacktestCreate.model_validate({"symbol": "AAPL", "strategy_config": config, **extra})
    out = await container.backtests.submit(user, body)
    done = await container.backtests.wait(user, out.id, timeout=120)
    assert done.status == "completed", done.error
    return done


# ---- pending requests ----------------------------------------------------------------------------------
async def test_pending_request_is_completed_by_the_next_reply(
    chat: ChatService, service_container: Any
) -> None:
    user = _user(service_container)
    sid = (await chat.create_session(user)).session_id
    asked = await chat.chat(user, sid, "backtest sma 10/50", user_roles=["analyst"])
    assert asked.tool_calls == [] and "symbol" in asked.answer.lower()
    assert asked.metadata["missing_slots"] == ["symbol"]
    context = await _context(chat, user, sid)
    assert context["pending"]["intent"] == "run_backtest" and context["pending"]["missing"] == ["symbol"]
    sma = {"config_type": "sma_crossover", "fast": 10, "slow": 50}
    assert context["pending"]["args"]["strategy_config"] == sma

    ran = await chat.chat(user, sid, "AAPL", user_roles=["analyst"])
    call = ran.tool_calls[0]
    assert call["tool"] == "run_backtest" and call["ok"], ran.answer
    assert call["arguments"]["symbol"] == "AAPL"
    assert call["result"]["config"] == sma
    context = await _context(chat, user, sid)
    assert "pending" not in context and "pending_compare" not in context
    assert context["last_run"]["symbol"] == "AAPL" and context["last_intent"] == "run_backtest"
    assert context["last_backtest_id"] == call["result"]["id"]


async def test_a_new_request_replaces_the_pending_one(chat: ChatService, service_container: Any) -> None:
    user = _user(service_container)
    asked, other = await _turns(chat, user, "backtest sma 10/50", "list my strategies")
    assert "pending" not in await _context(chat, user, other.session_id)
    assert other.tool_calls[0]["tool"] == "list_strategies"
    assert asked.metadata["missing_slots"] == ["symbol"]


async def test_a_restated_request_is_not_taken_as_the_pending_answer(
    chat: ChatService, service_container: Any
) -> None:
    """A run waits for a period (GOOG has none in the last 3 years); the user types a whole new request
    with an unknown symbol: nothing runs on GOOG with the new dates — the unknown symbol is asked about."""
    user = _user(service_container)
    asked, again = await _turns(
        chat, user, "backtest sma 10/50 on GOOG last 3 years", "backtest sma 20/60 on ZZZQ 2010-2012"
    )
    assert asked.metadata["missing_slots"] == ["start"]
    assert again.tool_calls == [] and again.backtest_ids == []
    assert "'ZZZQ' is not a valid symbol" in again.answer
    assert (await _context(chat, user, again.session_id))["pending"]["args"]["strategy_config"]["fast"] == 20


async def test_a_period_without_data_asks_and_keeps_the_request(
    chat: ChatService, service_container: Any
) -> None:
    """GOOG (the test store's real series) ends in 2013: 'last 3 years' has no bars → a question naming
    the stored range, nothing run, the request pending for a period."""
    user = _user(service_container)
    (reply,) = await _turns(chat, user, "backtest sma 10/50 on GOOG last 3 years")
    assert reply.tool_calls == [] and reply.backtest_ids == []
    assert "GOOG data covers only 2004-08-19 → 2013-03-01" in reply.answer and "2023-12-01" in reply.answer
    pending = (await _context(chat, user, reply.session_id))["pending"]
    assert pending["missing"] == ["start"] and pending["args"]["symbol"] == "GOOG"
    assert "start" not in pending["args"]
    # The reply gives a period the data has: the same request runs on it.
    ran = await chat.chat(user, reply.session_id, "2010-2012", user_roles=["analyst"])
    call = ran.tool_calls[0]
    assert call["tool"] == "run_backtest" and call["ok"], ran.answer
    assert call["arguments"]["symbol"] == "GOOG" and call["result"]["config"]["slow"] == 50
    assert (call["arguments"]["start"], call["arguments"]["end"]) == ("2010-01-01", "2012-12-31")
    assert "pending" not in await _context(chat, user, reply.session_id)
    assert "synthetic" not in ran.answer


# ---- interpretation --------------------------------------------------------------------------------------
async def test_answer_states_the_full_interpretation(chat: ChatService, service_container: Any) -> None:
    user = _user(service_container)
    (reply,) = await _turns(chat, user, "backtest sma 20/100 on AAPL 2017-2019")
    result = reply.tool_calls[0]["result"]
    stats = result["stats"]
    line = next(line for line in reply.answer.splitlines() if line.startswith("Interpretation: "))
    assert "SMA crossover fast=20 slow=100" in line
    # The period the data actually covered: the first and last bar of the run, not the request.
    first, last = stats["start"][:10], stats["end"][:10]
    assert first != "2017-01-01" and first.startswith("2017-01") and last == "2019-12-31"
    assert f"on AAPL {first} → {last}" in line
    assert "commission 0.1% (default)" in line and "slippage 5 bps (default)" in line
    assert "cash 100,000 (default)" in line
    assert "synthetic demo data" in line  # AAPL in the test store is the synthetic demo series
    assert f"total return {stats['total_return']:.2f}%" in reply.answer
    # Showing it later states the same reading (without "you said": the run's own values, defaults marked).
    sid = reply.session_id
    shown = await chat.chat(user, sid, "show that result", user_roles=["analyst"])
    assert (
        shown.tool_calls[0]["tool"] == "get_backtest" and shown.tool_calls[0]["result"]["id"] == result["id"]
    )
    assert f"Interpretation: SMA crossover fast=20 slow=100 on AAPL {first} → {last}" in shown.answer
    assert "commission 0.1% (default)" in shown.answer


async def test_real_data_is_not_labelled_synthetic_and_korean_renders(
    chat: ChatService, service_container: Any
) -> None:
    user = _user(service_container)
    (reply,) = await _turns(chat, user, "GOOG 2006-2010 sma 10/30 백테스트 해줘")
    assert reply.language == "ko" and reply.tool_calls[0]["ok"], reply.answer
    line = next(line for line in reply.answer.splitlines() if line.startswith("해석: "))
    assert (
        "SMA crossover fast=10 slow=30 (입력: 10/30), GOOG 2006-01-03 → 2010-12-31 (입력: 2006, 2010)" in line
    )
    assert "수수료 0.1% (기본값)" in line and "초기 자금 100,000 (기본값)" in line
    assert "합성" not in line and "synthetic" not in reply.answer


async def test_interpretation_marks_what_the_user_said(chat: ChatService, service_container: Any) -> None:
    user = _user(service_container)
    (reply,) = await _turns(
        chat, user, "backtest sma crossover 20/100 on AAPL 2016-2019 with 0.2% commission"
    )
    line = next(line for line in reply.answer.splitlines() if line.startswith("Interpretation: "))
    assert "SMA crossover fast=20 slow=100 (you said 20/100)" in line
    assert "commission 0.2% (you said 0.2%)" in line and "slippage 5 bps (default)" in line
    # Out of order labels: each parameter with what was typed for it (not "30/2").
    (reply,) = await _turns(chat, user, "bollinger 2 std 30 period on msft")
    line = next(line for line in reply.answer.splitlines() if line.startswith("Interpretation: "))
    assert "Bollinger Band reversion period=30 num_std=2 (you said period 30, num_std 2) on MSFT" in line


async def test_relative_period_is_clipped_and_named(chat: ChatService, service_container: Any) -> None:
    user = _user(service_container)
    (reply,) = await _turns(chat, user, "backtest sma 10/50 on AAPL last 3 years")
    call = reply.tool_calls[0]
    assert call["ok"] and call["arguments"]["start"] == "2023-12-01"
    assert "you asked for 2023-12-01 → 2026-12-01" in reply.answer.lower()
    assert "the data covers only 2023-12-01 → 2024-12-31" in reply.answer


# ---- cancel ------------------------------------------------------------------------------------------------
async def _pending_backtest(container: Any, user: UserContext) -> str:
    """A backtest row that is still pending (never enqueued), so a cancel has something to stop."""
    config = {"config_type": "buy_and_hold"}
    row = await container.backtests.repo.create(
        owner_id=user.id, strategy_id=None, config_type="buy_and_hold", config=config, settings={},
        symbol="AAPL", interval="1d", start=None, end=None, n_bars=10, generate_report=False,
        notify_on_completion=False, estimated_duration_seconds=1.0,
    )  # fmt: skip
    return str(row.id)


async def test_cancel_tool_cancels_and_respects_roles(service_container: Any) -> None:
    registry = build_registry()
    alice, vera, bob = (_user(service_container, n) for n in ("alice", "vera", "bob"))
    backtest_id = await _pending_backtest(service_container, alice)
    ctx = ToolContext(alice, service_container)
    args = {"backtest_id": backtest_id}

    denied = await registry.call(
        "cancel_backtest", args, ToolContext(vera, service_container), allowed_tools(["viewer"])
    )
    assert denied.denied and not denied.ok
    other = await registry.call(
        "cancel_backtest", args, ToolContext(bob, service_container), allowed_tools(["analyst"])
    )
    assert not other.ok and other.status_code == 404  # bob never sees alice's backtest

    done = await registry.call(
        "cancel_backtest", {"backtest_id": backtest_id}, ctx, allowed_tools(["analyst"])
    )
    assert done.ok and done.result is not None and done.result["status"] == "cancelled"
    assert (await service_container.backtests.get(alice, backtest_id)).status == "cancelled"
    again = await registry.call(
        "cancel_backtest", {"backtest_id": backtest_id}, ctx, allowed_tools(["analyst"])
    )
    assert not again.ok and again.status_code == 409 and "already cancelled" in (again.error or "")
    assert again.problem == {"kind": "finished", "value": backtest_id, "status": "cancelled"}
    assert "cancel_backtest" in allowed_tools(["devops"])


async def test_cancel_via_chat(chat: ChatService, service_container: Any) -> None:
    user = _user(service_container)
    backtest_id = await _pending_backtest(service_container, user)
    (reply,) = await _turns(chat, user, f"cancel backtest {backtest_id}")
    assert reply.tool_calls[0]["tool"] == "cancel_backtest" and reply.tool_calls[0]["ok"]
    assert f"Cancelled backtest {backtest_id}" in reply.answer
    assert (await service_container.backtests.get(user, backtest_id)).status == "cancelled"
    (missing,) = await _turns(chat, user, "백테스트 12345 취소해줘")
    assert missing.tool_calls[0]["tool"] == "cancel_backtest" and not missing.tool_calls[0]["ok"]
    assert missing.answer == "백테스트 취소 요청을 처리하지 못했어요: 백테스트 '12345'을(를) 찾을 수 없어요"


# ---- follow-ups --------------------------------------------------------------------------------------------
async def test_follow_ups_resolve_against_the_request_they_refer_to(
    chat: ChatService, service_container: Any
) -> None:
    user = _user(service_container)
    sid = (await chat.create_session(user)).session_id

    async def ask(question: str) -> Any:
        return await chat.chat(user, sid, question, user_roles=["analyst"])

    first = await ask("backtest sma 20/100 on AAPL 2017-2019")
    await ask("backtest sma 10/50 on MSFT since 2020")
    again = await ask("run it again on AAPL")  # the last run: SMA 10/50 since 2020, now on AAPL
    call = again.tool_calls[0]
    assert call["tool"] == "run_backtest" and call["ok"], again.answer
    assert call["arguments"]["symbol"] == "AAPL" and call["arguments"]["start"] == "2020-01-01"
    assert "end" not in call["arguments"]
    assert call["result"]["config"] == {"config_type": "sma_crossover", "fast": 10, "slow": 50}
    assert "(from the previous request)" in again.answer

    # "cancel it": the last backtest, which already finished → said so, in the question's language.
    cancel = await ask("cancel it")
    assert cancel.tool_calls[0]["tool"] == "cancel_backtest"
    assert cancel.tool_calls[0]["arguments"]["backtest_id"] == call["result"]["id"]
    assert (
        f"Backtest {call['result']['id']} is already completed; there is nothing to cancel." == cancel.answer
    )
    korean = await ask("그거 취소해")
    assert korean.answer == f"백테스트 {call['result']['id']}는 이미 완료 상태라 취소할 것이 없어요."

    # "show that result" after a list of several: which one? (the listed ids are offered)
    listed = await ask("list my backtests")
    ids = [item["id"] for item in listed.tool_calls[0]["result"]["items"]]
    assert len(ids) == 3
    which = await ask("show that result")
    assert which.tool_calls == [] and which.metadata["missing_slots"] == ["backtest_id"]
    assert "'None'" not in which.answer and all(i in which.answer for i in ids)
    picked = await ask(first.tool_calls[0]["result"]["id"])
    assert picked.tool_calls[0]["tool"] == "get_backtest"
    assert picked.tool_calls[0]["result"]["id"] == first.tool_calls[0]["result"]["id"]
    # ... and after a list of one, that one.
    await ask("list my MSFT backtests")
    only = await ask("show that result")
    assert only.tool_calls[0]["tool"] == "get_backtest" and only.tool_calls[0]["result"]["symbol"] == "MSFT"


# ---- best / worst --------------------------------------------------------------------------------------
async def _three_runs(container: Any, user: UserContext) -> list[Any]:
    configs = [
        {"config_type": "buy_and_hold"},
        {"config_type": "sma_crossover", "fast": 5, "slow": 20},
        {"config_type": "rsi_mean_reversion", "rsi_period": 14, "oversold": 30, "overbought": 70},
    ]
    return [await _completed(container, user, c, start="2018-01-01", end="2022-12-31") for c in configs]


async def test_best_and_worst_ranking_follows_each_metrics_direction(service_container: Any) -> None:
    user = _user(service_container)
    runs = await _three_runs(service_container, user)
    registry, ctx = build_registry(), ToolContext(user, service_container)
    allowed = allowed_tools(["analyst"])

    def order_by(key: Any) -> list[str]:
        return [r.id for r in sorted(runs, key=key)]

    expected = {
        ("total_return", "best"): order_by(lambda r: -r.stats["total_return"]),
        ("total_return", "worst"): order_by(lambda r: r.stats["total_return"]),
        ("volatility", "best"): order_by(lambda r: r.stats["annual_volatility"]),
        ("max_drawdown", "best"): order_by(lambda r: abs(r.stats["max_drawdown"])),
        ("max_drawdown", "worst"): order_by(lambda r: -abs(r.stats["max_drawdown"])),
    }
    for (metric, order), ids in expected.items():
        outcome = await registry.call("list_backtests", {"sort_by": metric, "order": order}, ctx, allowed)
        assert outcome.ok and outcome.result is not None
        assert [item["id"] for item in outcome.result["items"]] == ids, (metric, order)
    # "best" with no metric ranks by total return; limit 1 is the single best one.
    best = await registry.call("list_backtests", {"order": "best", "limit": 1}, ctx, allowed)
    assert (
        best.result is not None
        and [i["id"] for i in best.result["items"]] == expected[("total_return", "best")][:1]
    )
    # The symbol filter: none of them is on MSFT.
    msft = await registry.call("list_backtests", {"sort_by": "cagr", "symbol": "msft"}, ctx, allowed)
    assert msft.ok and msft.result is not None and msft.result["items"] == []
    # Other users' backtests never rank.
    bob = ToolContext(_user(service_container, "bob"), service_container)
    theirs = await registry.call("list_backtests", {"sort_by": "total_return"}, bob, allowed)
    assert theirs.result is not None and theirs.result["items"] == []
    bad = await registry.call("list_backtests", {"sort_by": "luck"}, ctx, allowed)
    assert not bad.ok and "sort_by" in (bad.error or "")


async def test_ranked_list_renders_metric_values(chat: ChatService, service_container: Any) -> None:
    from quantops.chat import render

    user = _user(service_container)
    runs = await _three_runs(service_container, user)
    outcome = await build_registry().call(
        "list_backtests", {"sort_by": "sharpe_ratio", "order": "worst"}, ToolContext(user, service_container),
        allowed_tools(["analyst"]),
    )  # fmt: skip
    assert outcome.result is not None
    text = render.render_result("list_backtests", outcome.result, "en")
    worst = min(runs, key=lambda r: r.stats["sharpe_ratio"])
    assert text.splitlines()[0].startswith("Your worst backtests by Sharpe (3 of 3 ranked)")
    assert (
        text.splitlines()[1].startswith(f"1. {worst.id}")
        and f"Sharpe {worst.stats['sharpe_ratio']:.2f}" in text
    )
    korean = render.render_result("list_backtests", outcome.result, "ko")
    assert korean.startswith("샤프 기준 가장 나쁜 백테스트")


async def test_which_was_best_via_chat(chat: ChatService, service_container: Any) -> None:
    user = _user(service_container)
    runs = await _three_runs(service_container, user)
    (reply,) = await _turns(chat, user, "which of my backtests was best?")
    call = reply.tool_calls[0]
    assert call["tool"] == "list_backtests" and call["arguments"]["sort_by"] == "total_return"
    best = max(runs, key=lambda r: r.stats["total_return"])
    assert call["result"]["items"][0]["id"] == best.id and best.id in reply.answer


# ---- compare by strategy names -------------------------------------------------------------------------
async def _strategies(container: Any, user: UserContext) -> dict[str, str]:
    made = {}
    for name, config in (
        ("MeanRev", {"config_type": "rsi_mean_reversion"}),
        ("SMA 10/50", {"config_type": "sma_crossover", "fast": 10, "slow": 50}),
        ("Momentum fast", {"config_type": "momentum"}),
    ):
        created = await container.strategies.create(user, StrategyCreate(name=name, config=config))
        made[name] = created.id
    return made


async def test_compare_by_strategy_names_case_insensitive(service_container: Any) -> None:
    from quantops.services.comparison import install as install_comparison

    install_comparison(service_container)
    user = _user(service_container)
    ids = await _strategies(service_container, user)
    registry, ctx = build_registry(), ToolContext(user, service_container)
    allowed = allowed_tools(["analyst"])
    outcome = await registry.call(
        "compare_strategies", {"strategy_names": ["meanrev", "sma10/50"], "symbol": "AAPL"}, ctx, allowed
    )
    assert outcome.ok, outcome.error
    assert outcome.result is not None and outcome.result["strategy_ids"] == [ids["MeanRev"], ids["SMA 10/50"]]

    unknown = await registry.call(
        "compare_strategies", {"strategy_names": ["MeanRevv", "SMA 10/50"]}, ctx, allowed
    )
    assert not unknown.ok and unknown.missing == "strategy_names"
    assert unknown.problem == {"kind": "unknown", "value": "MeanRevv", "candidates": ["MeanRev"]}
    nothing = await registry.call(
        "compare_strategies", {"strategy_names": ["Zebra", "MeanRev"]}, ctx, allowed
    )
    assert nothing.problem["kind"] == "unknown" and nothing.problem["value"] == "Zebra"
    # bob's strategies are not alice's
    theirs = await registry.call(
        "compare_strategies", {"strategy_names": ["MeanRev", "SMA 10/50"]},
        ToolContext(_user(service_container, "bob"), service_container), allowed,
    )  # fmt: skip
    assert not theirs.ok and theirs.missing == "strategy_names"
    both = await registry.call(
        "compare_strategies", {"strategy_names": ["MeanRev", "x"], "strategy_ids": ["1", "2"]}, ctx, allowed
    )
    assert not both.ok and both.status_code == 422


async def test_ambiguous_strategy_name(service_container: Any) -> None:
    user = _user(service_container)
    await service_container.strategies.create(
        user, StrategyCreate(name="Trend", config={"config_type": "buy_and_hold"})
    )
    await service_container.strategies.create(
        user, StrategyCreate(name="trend", config={"config_type": "breakout"})
    )
    from quantops.services.strategies import UnresolvedStrategyName

    with pytest.raises(UnresolvedStrategyName) as raised:
        await service_container.strategies.resolve_names(user, ["TREND", "trend"])
    assert raised.value.kind == "ambiguous" and sorted(raised.value.candidates) == ["Trend", "trend"]


async def test_compare_by_names_via_chat_asks_about_an_unknown_name(
    chat: ChatService, service_container: Any
) -> None:
    user = _user(service_container)
    ids = await _strategies(service_container, user)
    ok, unknown, answered = await _turns(
        chat, user, "compare MeanRev and SMA 10/50 on AAPL", "compare MeanRevv and SMA 10/50", "MeanRev"
    )
    call = ok.tool_calls[0]
    assert call["ok"] and call["arguments"]["strategy_names"] == ["MeanRev", "SMA 10/50"]
    assert call["result"]["strategy_ids"] == [ids["MeanRev"], ids["SMA 10/50"]]
    # The answer says what was compared: the common dates of the numbers and each strategy's backtest.
    common = call["result"]["analysis"]["common_dates"]
    basis = next(line for line in ok.answer.splitlines() if line.startswith("Interpretation: "))
    assert (
        f"on their common dates {common['start'][:10]} → {common['end'][:10]} ({common['count']} days)"
        in basis
    )
    for compared in call["result"]["strategies"]:
        assert f"{compared['label']} {compared['backtest_id']} (AAPL)" in basis
    # An unknown name is a question naming it, with the closest of the user's names; nothing compared.
    assert unknown.tool_calls[0]["ok"] is False and unknown.metadata["missing_slots"] == ["strategy_names"]
    assert "no saved strategy named 'MeanRevv'" in unknown.answer and "'MeanRev'" in unknown.answer
    # The reply names the strategy meant: the comparison runs with it in the unknown name's place.
    again = answered.tool_calls[0]
    assert again["tool"] == "compare_strategies" and again["ok"], answered.answer
    assert sorted(again["result"]["strategy_ids"]) == sorted([ids["MeanRev"], ids["SMA 10/50"]])


async def test_korean_question_about_an_ambiguous_name(chat: ChatService, service_container: Any) -> None:
    user = _user(service_container)
    await _strategies(service_container, user)
    for name in ("Trend", "trend"):
        config = {"config_type": "breakout"}
        await service_container.strategies.create(user, StrategyCreate(name=name, config=config))
    (reply,) = await _turns(chat, user, "Trend랑 MeanRev 비교해줘")
    assert reply.language == "ko" and reply.metadata["missing_slots"] == ["strategy_names"]
    assert "'Trend'와(과) 이름이 같은 전략이 여러 개예요" in reply.answer and "'trend'" in reply.answer


def test_ask_about_uses_the_planners_question_in_the_turns_language() -> None:
    from quantops.chat import render

    problems = [
        {"field": "strategy_config.fast", "message_en": "fast must be at least 2 (you said -5)",
         "message_ko": "fast는 2 이상이어야 해요 (입력: -5)"},
    ]  # fmt: skip
    assert render.ask_about(["strategy_config.fast"], problems, "ko") == "fast는 2 이상이어야 해요 (입력: -5)"
    both = render.ask_about(["strategy_config.fast", "symbol"], problems, "en")
    assert both.startswith("fast must be at least 2 (you said -5)") and "which symbol" in both
    assert render.ask_about(["symbol"], [], "en").startswith("I need a bit more")


def test_interpretation_without_provenance_marks_only_defaults() -> None:
    """The LLM brain's runs: values equal to the defaults are said to be defaults, nothing is 'you said'."""
    from quantops.chat import render

    item = {
        "config": {"config_type": "rsi_mean_reversion", "rsi_period": 14, "oversold": 25, "overbought": 75.0},
        "settings": {"initial_cash": 10000.0, "commission": 0.001, "slippage_bps": 5.0, "stop_loss_pct": 5.0},
        "symbol": "TSLA", "data_start": "2015-01-02T00:00:00+00:00", "data_end": "2019-12-31T00:00:00+00:00",
        "start": "2015-01-01", "end": "2019-12-31",
    }  # fmt: skip
    line = render.interpretation_line(item, "en", None, render.DataInfo("2015-01-02", "2024-12-31", True))
    assert line == (
        "Interpretation: RSI mean reversion rsi_period=14 oversold=25 overbought=75 (rsi_period default) on "
        "TSLA 2015-01-02 → 2019-12-31, commission 0.1% (default), slippage 5 bps (default), cash 10,000, "
        "stop loss 5%; synthetic demo data (not real prices)."
    )
    assert not re.search(r"you said", line)


async def test_with_a_read_through_provider_any_ticker_runs(make_settings: Any, database_url: str) -> None:
    """A provider fills symbols the store lacks: the planner is not limited to the stored symbols, the run
    fetches IBM, and the answer says the data is synthetic (the synthetic provider) with its real range."""
    from quantops.services.container import build_container

    container = build_container(make_settings(database_url, market_data_provider="synthetic"), extensions=())
    await container.start()
    try:
        created = await container.users.create("ann", ["analyst"])
        user = UserContext(id=created.id, name=created.name, roles=frozenset({"analyst"}))
        assert "IBM" not in container.market_data.catalogue()
        chat = build_chat_service(container)
        chat.today = lambda: TODAY
        try:
            (reply,) = await _turns(chat, user, "backtest sma 10/50 on IBM 2018-2020")
        finally:
            await chat.aclose()
        call = reply.tool_calls[0]
        assert call["tool"] == "run_backtest" and call["ok"], reply.answer
        assert call["arguments"]["symbol"] == "IBM" and "IBM" in container.market_data.catalogue()
        line = next(line for line in reply.answer.splitlines() if line.startswith("Interpretation: "))
        assert (
            f"on IBM {call['result']['data_start'][:10]} → 2020-12-31" in line
            and "synthetic demo data" in line
        )
    finally:
        await container.aclose()


def test_interpretation_of_a_saved_strategy_does_not_call_its_values_defaults() -> None:
    from quantops.chat import render

    item = {
        "strategy_id": "7f3a", "config": {"config_type": "sma_crossover", "fast": 10, "slow": 30},
        "settings": {}, "symbol": "AAPL", "data_start": "2015-01-02", "data_end": "2024-12-31",
    }  # fmt: skip
    line = render.interpretation(item, "en", render.Provenance({"strategy_id": "7f3a"}))
    assert line.startswith(
        "saved strategy 7f3a: SMA crossover fast=10 slow=30 on AAPL 2015-01-02 → 2024-12-31"
    )
    assert "parameters default" not in line and "commission 0.1% (default)" in line
