"""Intent scoring, Plan fields, pending requests and follow-ups (the chat contract), the lexicon."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from quantops.backtest import SETTINGS_CHAT, BacktestSettings
from quantops.chat.planner import context_after, lexicon, plan
from quantops.strategies import STRATEGY_TYPES

from .planner_eval import judge, score

TODAY = date(2026, 12, 1)
DEMO = ("AAPL", "MSFT", "NVDA", "GOOG", "AMZN", "TSLA", "META", "SPY", "QQQ", "JPM", "NFLX", "AMD")
SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 50}


def p(text: str, context: dict[str, Any] | None = None) -> Any:
    return plan(text, context, TODAY, known_symbols=DEMO)


# ---- Plan fields ----------------------------------------------------------------------------------------
def test_stated_says_what_the_user_typed_and_the_rest_is_default() -> None:
    result = p("sma 20/100 on tsla 0.2% commission since 2020")
    assert result.args["strategy_config"] == {"config_type": "sma_crossover", "fast": 20, "slow": 100}
    assert result.stated["strategy_config.fast"] == "20" and result.stated["strategy_config.slow"] == "100"
    assert result.stated["settings.commission"] == "0.2%" and result.stated["start"] == "2020"
    assert result.stated["symbol"] == "tsla"
    assert "settings.slippage_bps" not in result.stated and not result.period_relative
    assert p("buy and hold SPY last 3 years").period_relative


def test_problems_carry_questions_in_both_languages() -> None:
    result = p("sma -5/20 on AAPL")
    assert result.missing == ["strategy_config.fast"]
    problem = result.problems[0]
    assert (problem.field, problem.kind, problem.value) == ("strategy_config.fast", "invalid", "-5")
    assert "-5" in problem.message_en and "-5" in problem.message_ko and "≥ 2" in problem.message_en
    unclaimed = p("rsi 14 30/70/90 on AAPL").problems
    assert [(x.kind, x.value) for x in unclaimed] == [("unclaimed", "90")]
    assert "90" in unclaimed[0].message_ko


def test_intents_are_scored_and_a_tie_asks() -> None:
    result = p("backtest sma 10/50 on AAPL")
    assert result.intent == "run_backtest" and result.score is not None
    assert result.alternatives and result.alternatives[0][1] < result.score
    # nothing recognisable → help, never a guess
    assert p("tell me a joke").intent == "help"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("cancel backtest 12", "cancel_backtest"),
        ("show cancelled backtests", "list_backtests"),
        ("stop loss 5% on sma 10/50 AAPL", "run_backtest"),
        ("show backtest 12", "get_backtest"),
        ("which backtest had the best sharpe?", "list_backtests"),
        ("which did better, 7 or 9?", "compare_strategies"),
        ("AAPL", "market_data"),
        ("AAPL price", "market_data"),
        ("cache status", "cache_status"),
        ("list strategies", "list_strategies"),
        ("save strategy sma 10/50", "create_strategy"),
    ],
)
def test_intent_table(text: str, intent: str) -> None:
    assert p(text).intent == intent


# ---- pending requests ------------------------------------------------------------------------------------
PENDING = {
    "pending": {
        "intent": "run_backtest",
        "args": {"strategy_config": {"config_type": "sma_crossover", "fast": 20, "slow": 100}},
        "missing": ["symbol"],
        "stated": {"strategy_config.fast": "20"},
    }
}


def test_a_reply_completes_the_pending_request() -> None:
    result = p("AAPL", PENDING)
    assert result.intent == "run_backtest" and result.missing == []
    assert result.args == {
        "strategy_config": {"config_type": "sma_crossover", "fast": 20, "slow": 100},
        "symbol": "AAPL",
    }
    assert "pending" in result.from_context and result.stated["strategy_config.fast"] == "20"
    with_period = p("on MSFT from 2019", PENDING)
    assert with_period.args["symbol"] == "MSFT" and with_period.args["start"] == "2019-01-01"


def test_a_new_request_replaces_the_pending_one() -> None:
    assert p("AAPL price", PENDING).intent == "market_data"
    assert p("list my backtests", PENDING).intent == "list_backtests"
    fresh = p("rsi on NVDA", PENDING)
    assert (
        fresh.args["strategy_config"] == {"config_type": "rsi_mean_reversion"}
        and fresh.args["symbol"] == "NVDA"
    )


def test_a_number_answers_a_parameter_or_id_question() -> None:
    args = {"symbol": "AAPL", "strategy_config": {"config_type": "sma_crossover", "slow": 50}}
    context = {"pending": {"intent": "run_backtest", "args": args, "missing": ["strategy_config.fast"]}}
    assert p("20", context).args["strategy_config"] == {
        "config_type": "sma_crossover",
        "fast": 20,
        "slow": 50,
    }
    ids = {"pending": {"intent": "get_backtest", "args": {}, "missing": ["backtest_id"]}}
    assert p("12", ids).args == {"backtest_id": "12"} and p("12", ids).missing == []


def test_two_numbers_or_labels_answer_a_question_about_two_parameters() -> None:
    args = {"symbol": "MSFT", "strategy_config": {"config_type": "ema_crossover"}}
    missing = ["strategy_config.fast", "strategy_config.slow"]
    context = {"pending": {"intent": "run_backtest", "args": args, "missing": missing}}
    for reply in ("15/45", "fast 15 slow 45", "빠른선 15 느린선 45"):
        result = p(reply, context)
        assert result.intent == "run_backtest" and result.missing == [], reply
        assert result.args["strategy_config"] == {"config_type": "ema_crossover", "fast": 15, "slow": 45}
    # a reply that breaks the rule again is asked again, never run
    again = p("45/15", context)
    assert again.missing == missing and "fast" not in again.args["strategy_config"]
    # still one number for two: the request is kept and asked again (was dropped for help)
    one = p("25", context)
    assert one.intent == "run_backtest" and one.missing == missing and one.args == args


def test_a_reversed_period_asks_for_both_dates() -> None:
    result = p("buy and hold nvda from 2023 to 2017")
    assert result.missing == ["start", "end"] and "start" not in result.args and "end" not in result.args
    assert "after the start" in result.problems[0].message_en


# ---- follow-ups ------------------------------------------------------------------------------------------
def test_follow_ups_use_the_last_run_only() -> None:
    first = p("sma 10/50 on AAPL 2018-2022 commission 0.2%")
    context = context_after(first.intent, first.args, {"id": "77"})
    assert context["last_run"]["settings"] == {"commission": 0.002}
    # an unrelated later turn leaves another period behind; the follow-up ignores it
    context.update(context_after("market_data", {"symbol": "SPY", "start": "2010-01-01"}, {}))
    context["last_start"] = "2010-01-01"
    again = p("run it again on NVDA", context)
    assert again.args == {**first.args, "symbol": "NVDA"}
    assert set(again.from_context) == {"strategy_config", "start", "end", "settings"}


def test_without_last_run_the_period_is_kept_only_when_referred_to() -> None:
    context = {
        "last_symbol": "AAPL",
        "last_strategy_config": SMA,
        "last_start": "2018-01-01",
        "last_end": "2022-12-31",
    }
    assert "start" not in p("run it again on NVDA", context).args
    same = p("same period on MSFT", context)
    assert (same.args["start"], same.args["end"]) == ("2018-01-01", "2022-12-31")


def test_references_after_a_list_and_a_backtest() -> None:
    one = {"last_intent": "list_backtests", "last_list_ids": ["abc12345"], "last_backtest_id": "42"}
    several = {**one, "last_list_ids": ["abc12345", "def67890"]}
    assert p("show that result", one).args == {"backtest_id": "abc12345"}
    asked = p("show that result", several)
    assert asked.intent == "get_backtest" and asked.missing == ["backtest_id"]
    after_run = {"last_backtest_id": "42", "last_strategy_config": SMA, "last_symbol": "AAPL"}
    assert p("cancel it", after_run).args == {"backtest_id": "42"}
    assert p("그거 취소해", after_run).intent == "cancel_backtest"
    bad = p("show backtest zzz", after_run)
    assert bad.intent == "get_backtest" and bad.missing == ["backtest_id"] and bad.problems[0].value == "zzz"
    best = p("which was best?", after_run)
    assert best.intent == "list_backtests" and best.args == {
        "sort_by": "total_return",
        "order": "best",
        "limit": 1,
    }


def test_context_after_records_the_list() -> None:
    update = context_after("list_backtests", {}, {"items": [{"id": "a1"}, {"id": "b2"}]})
    assert update["last_list_ids"] == ["a1", "b2"] and update["last_intent"] == "list_backtests"


# ---- the lexicon comes from the registry and BacktestSettings -------------------------------------
def test_every_strategy_type_has_chat_words_and_model_aliases_are_labels() -> None:
    assert set(lexicon.STRATEGIES) == set(STRATEGY_TYPES)
    for config_type, spec in STRATEGY_TYPES.items():
        assert spec.chat.names, config_type
        words = lexicon.STRATEGIES[config_type]
        assert words.fields == tuple(name for name in spec.model.model_fields if name != "config_type")
    # "short_window"/"long_window" are the pydantic aliases of fast/slow
    assert p("sma short_window=5 long_window=20 on AAPL").args["strategy_config"] == {
        "config_type": "sma_crossover", "fast": 5, "slow": 20,
    }  # fmt: skip
    assert set(SETTINGS_CHAT) <= set(BacktestSettings.model_fields)


# ---- the scorer ------------------------------------------------------------------------------------------
def test_scorer_fills_defaults_and_matches_asks_by_suffix() -> None:
    config = {"config_type": "sma_crossover", "fast": 10, "slow": 30}
    args = {"symbol": "AAPL", "strategy_config": config, "settings": {"commission": 0.001}}
    item = {
        "id": "x",
        "lang": "en",
        "text": "sma on AAPL",
        "expect": {"intent": "run_backtest", "args": args},
    }
    assert judge(item, p(item["text"])) is None  # defaults on both sides
    wrong = {**item, "expect": {**item["expect"], "args": {**item["expect"]["args"], "start": "2020-01-01"}}}
    assert judge(wrong, p(item["text"])) == "args differ: ['start']"
    expect = {"intent": "run_backtest", "args": {"symbol": "AAPL"}, "ask": ["fast"]}
    ask = {"id": "y", "lang": "en", "text": "sma -5/20 on AAPL", "expect": expect}
    assert judge(ask, p(ask["text"])) is None
    not_asked = {**ask, "expect": {**ask["expect"], "ask": ["symbol"]}}
    assert judge(not_asked, p(ask["text"])).startswith("did not ask")
    report = score([item, wrong, ask], lambda text, ctx: p(text, ctx))
    assert (
        report["n"] == 3
        and report["correct"] == 2
        and report["by_language"]["en"]["accuracy"] == pytest.approx(2 / 3)
    )


def test_a_strategy_answers_a_pending_create() -> None:
    pending = {"pending": {"intent": "create_strategy", "args": {}, "missing": ["config"]}}
    result = p("rsi 14 25/75", pending)
    # the config is filled; the name is the user's to give, so it is asked next (never invented)
    assert result.intent == "create_strategy" and result.missing == ["name"]
    assert result.args == {
        "config": {"config_type": "rsi_mean_reversion", "rsi_period": 14, "oversold": 25, "overbought": 75},
    }
    named = p("Swing25", {"pending": {"intent": "create_strategy", "args": result.args, "missing": ["name"]}})
    assert named.missing == [] and named.args["name"] == "Swing25"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("new strategy: name=TrendZ, ema 15/45", "TrendZ"),
        ("create a strategy called FastCross using sma 5/20", "FastCross"),
        ("새 전략: 이름 추세20, 이동평균 20/60", "추세20"),
        ("전략 저장: 이름은 볼밴스윙, 볼린저 20일 2표준편차", "볼밴스윙"),
        ("단기돌파라는 이름으로 돌파 30일 전략 저장해줘", "단기돌파"),
        ("돌파 40일 전략 저장해줘", None),
    ],
)
def test_a_new_strategy_has_the_name_the_user_gave_or_asks_for_one(text: str, name: str | None) -> None:
    result = p(text)
    assert result.intent == "create_strategy" and result.args.get("name") == name
    assert result.missing == ([] if name else ["name"])


def test_context_after_a_run_without_a_period_forgets_the_older_period() -> None:
    first = context_after(
        "run_backtest", {"symbol": "AAPL", "strategy_config": SMA, "start": "2018-01-01"}, {"id": "1"}
    )
    second = context_after("run_backtest", {"symbol": "MSFT", "strategy_config": SMA}, {"id": "2"})
    context = {**first, **second}
    assert context["last_start"] is None and context["last_settings"] is None
    assert "start" not in p("same period on NVDA", context).args


@pytest.mark.parametrize(
    ("first", "reply", "expected"),
    [
        ("sma 10/50 on AAPL commission 0.1", "0.1%", {"settings": {"commission": 0.001}}),
        ("sma 10/50 on AAPL from 1600 to 1700", "2016 to 2017", {"start": "2016-01-01", "end": "2017-12-31"}),
        ("show backtest zzz", "3f2a9c1e", {"backtest_id": "3f2a9c1e"}),
        ("rsi on AAPL with a stop loss", "3%", {"settings": {"stop_loss_pct": 3.0}}),
        ("buy and hold", "테슬라", {"symbol": "TSLA"}),
        ("compare strategies by sharpe", "3 and 5", {"strategy_ids": ["3", "5"]}),
        ("sma 10/50 on AAPL and MSFT", "MSFT", {"symbol": "MSFT"}),
        ("backtest sma 10/50 on IBM", "AAPL", {"symbol": "AAPL"}),
    ],
)
def test_the_question_of_a_plan_is_answered_by_the_next_turn(
    first: str, reply: str, expected: dict[str, Any]
) -> None:
    asked = p(first)
    assert asked.missing
    context = {"pending": {"intent": asked.intent, "args": asked.args, "missing": asked.missing}}
    answered = p(reply, context)
    assert answered.intent == asked.intent and answered.missing == []
    assert {key: answered.args.get(key) for key in expected} == expected
