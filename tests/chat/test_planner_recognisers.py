"""Recognisers one by one: tickers, strategy parameters, settings, ids, counts, metrics, status, names."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from quantops.chat.planner.reading import Reading, read

TODAY = date(2026, 12, 1)
DEMO = {"AAPL", "MSFT", "NVDA", "GOOG", "AMZN", "TSLA", "META", "SPY", "QQQ", "JPM", "NFLX", "AMD"}


def reading(text: str, known: set[str] | None = DEMO, context_type: str | None = None) -> Reading:
    return read(text, TODAY, known_symbols=known, context_type=context_type)


# ---- tickers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("buy and hold amzn 2018-2022", "AMZN"),
        ("sma on Tsla", "TSLA"),
        ("애플 sma 10/50", "AAPL"),
        ("테슬라로 돌려줘", "TSLA"),
        ("엔비디아에 볼린저", "NVDA"),
        ("아마존 바이앤홀드", "AMZN"),
        ("넷플릭스 모멘텀", "NFLX"),
        ("메타에 macd", "META"),
        ("마소 이동평균", "MSFT"),
        ("backtest apple", "AAPL"),
        ("nvidia golden cross", "NVDA"),
        ("facebook rsi", "META"),
        ("the S&P 500 ETF with buy and hold", "SPY"),
        ("나스닥 ETF 모멘텀", "QQQ"),
        ("JPMorgan breakout", "JPM"),
        ("제이피모건 돌파", "JPM"),
        ("AAPL에 RSI", "AAPL"),
        ("sma 10/50 on APPL", "AAPL"),  # one edit from a known symbol
        ("sma 10/50 on nvdia", "NVDA"),  # typo of a company name
        ("microsft buy and hold", "MSFT"),
    ],
)
def test_tickers_and_company_names(text: str, symbol: str) -> None:
    assert [hit.symbol for hit in reading(text).symbols] == [symbol]


@pytest.mark.parametrize(
    "text",
    [
        "rank my backtests on max drawdown",  # not symbol MAX
        "sma 10/50 with a 5% stop loss",
        "show the RSI strategy",
        "apply a 5% stop loss to sma 10/50",  # 'apply' is not Apple
        "what is the CAGR and MDD",
    ],
)
def test_words_that_are_not_tickers(text: str) -> None:
    assert reading(text).symbols == []


def test_unknown_symbol_is_a_problem_when_the_store_is_known() -> None:
    found = reading("backtest sma on IBM")
    assert found.symbols == [] and [(i.field, i.kind, i.value) for i in found.issues] == [
        ("symbol", "invalid", "IBM")
    ]
    # without the store's symbols any plausible ticker is accepted
    assert [hit.symbol for hit in reading("backtest sma on IBM", known=None).symbols] == ["IBM"]
    assert [hit.symbol for hit in reading("sma on 005930.KS", known=None).symbols] == ["005930.KS"]


# ---- strategy parameters ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "config_type", "params"),
    [
        ("sma crossover on aapl fast 10 slow 50", "sma_crossover", {"fast": 10, "slow": 50}),
        (
            "rsi_period=14 oversold=25 overbought=75",
            "rsi_mean_reversion",
            {"rsi_period": 14, "oversold": 25, "overbought": 75},
        ),
        ("MACD fast 8 slow 17 signal 9", "macd_crossover", {"fast": 8, "slow": 17, "signal": 9}),
        ("breakout lookback=20", "breakout", {"lookback": 20}),
        ("이동평균 빠른선 5 느린선 20", "sma_crossover", {"fast": 5, "slow": 20}),
        ("RSI 과매도 25 과매수 75", "rsi_mean_reversion", {"oversold": 25, "overbought": 75}),
        ("모멘텀 기간 10", "momentum", {"momentum_period": 10}),
        ("돌파 룩백 40일", "breakout", {"lookback": 40}),
        ("볼린저 표준편차 1.5", "bollinger_reversion", {"num_std": 1.5}),
        ("MACD 시그널 9", "macd_crossover", {"signal": 9}),
        ("모멘텀 임계값 0.05", "momentum", {"buy_threshold": 0.05, "sell_threshold": -0.05}),
        (
            "momentum buy threshold 3% sell threshold -2%",
            "momentum",
            {"buy_threshold": 0.03, "sell_threshold": -0.02},
        ),
        ("breakout with a 55 day lookback", "breakout", {"lookback": 55}),
        ("a 20/50 ema crossover", "ema_crossover", {"fast": 20, "slow": 50}),
        ("sma crossover aapl 50/200", "sma_crossover", {"fast": 50, "slow": 200}),
        ("moving average cross 5 and 30", "sma_crossover", {"fast": 5, "slow": 30}),
        ("볼린저 20일 2표준편차", "bollinger_reversion", {"period": 20, "num_std": 2.0}),
        ("bollinger 2 std 30 period", "bollinger_reversion", {"period": 30, "num_std": 2.0}),
        ("bollinger bands (20, 2)", "bollinger_reversion", {"period": 20, "num_std": 2.0}),
        ("rsi 30/70", "rsi_mean_reversion", {"oversold": 30, "overbought": 70}),
        (
            "RSI(14) with 30/70 thresholds",
            "rsi_mean_reversion",
            {"rsi_period": 14, "oversold": 30, "overbought": 70},
        ),
        ("rsi(7) 20/80", "rsi_mean_reversion", {"rsi_period": 7, "oversold": 20, "overbought": 80}),
        ("golden cross", "sma_crossover", {"fast": 50, "slow": 200}),
        ("5일선 20일선 골든크로스", "sma_crossover", {"fast": 5, "slow": 20}),
        ("macd 12 26 9", "macd_crossover", {"fast": 12, "slow": 26, "signal": 9}),
        ("buy and hold", "buy_and_hold", {}),
    ],
)
def test_strategy_parameters(text: str, config_type: str, params: dict[str, Any]) -> None:
    found = reading(text)
    assert found.strategy is not None and found.strategy.config_type == config_type
    assert found.strategy.config == params
    assert found.unclaimed == [] and found.issues == []


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("sma -5/20", "strategy_config.fast", "-5"),
        ("sma 50/20", "strategy_config.slow", "20"),
        ("sma 10.5/50", "strategy_config.fast", "10.5"),
        ("rsi 14 80/20", "strategy_config.overbought", "20"),
        ("bollinger 20 -2", "strategy_config.num_std", "-2"),
        ("breakout 1", "strategy_config.lookback", "1"),
    ],
)
def test_invalid_parameters_are_issues_validated_by_the_model(text: str, field: str, value: str) -> None:
    issues = [(i.field, i.kind, i.value) for i in reading(text).issues]
    assert (field, "invalid", value) in issues


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("ema 40/10", ["fast", "slow"]),  # slow > fast: either may be the slip
        ("sma fast 60", ["fast", "slow"]),  # 60 is above the default slow (30)
        ("rsi oversold 75 overbought 25", ["oversold", "overbought"]),
        ("momentum buy threshold -1% sell threshold 2%", ["buy_threshold", "sell_threshold"]),
        ("breakout lookback -20", ["lookback"]),
        ("rsi period 0 30/70", ["rsi_period"]),
    ],
)
def test_an_invalid_value_is_left_out_and_a_conflict_asks_about_both_fields(
    text: str, fields: list[str]
) -> None:
    found = reading(text)
    assert found.strategy is not None
    assert [i.field for i in found.issues] == [f"strategy_config.{name}" for name in fields]
    assert not set(fields) & set(found.strategy.config)  # nothing invalid is passed on


@pytest.mark.parametrize("text", ["sma crossover on jpm 35", "ema 20", "EMA 크로스 35", "macd 12"])
def test_one_number_for_a_pair_of_periods_asks_for_both(text: str) -> None:
    found = reading(text)
    assert found.strategy is not None and "fast" not in found.strategy.config
    assert [(i.field, i.kind) for i in found.issues] == [
        ("strategy_config.fast", "ambiguous"),
        ("strategy_config.slow", "ambiguous"),
    ]
    assert found.unclaimed == []
    # one number per mention, or a labelled second one, is still read
    assert reading("sma 20 with slow 50").strategy.config == {"fast": 20, "slow": 50}  # type: ignore[union-attr]


def test_extra_numbers_are_unclaimed_not_dropped() -> None:
    assert [n.text for n in reading("rsi 14 30/70/90 on AAPL").unclaimed] == ["90"]
    assert [n.text for n in reading("ema 12/26 with 9").unclaimed] == ["9"]  # EMA has no signal


def test_labels_of_the_previous_strategy_type() -> None:
    found = reading("now with slow 100", context_type="sma_crossover")
    assert (
        found.strategy is not None and found.strategy.from_context and found.strategy.config == {"slow": 100}
    )


# ---- settings -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "settings"),
    [
        ("0.1% commission", {"commission": 0.001}),
        ("commission 10bps", {"commission": 0.001}),
        ("5bps slippage", {"slippage_bps": 5.0}),
        ("slippage 0.05%", {"slippage_bps": 5.0}),
        ("수수료 0.2%", {"commission": 0.002}),
        ("슬리피지 0.05%", {"slippage_bps": 5.0}),
        ("initial cash 10000", {"initial_cash": 10000.0}),
        ("$50,000 starting capital", {"initial_cash": 50000.0}),
        ("starting cash 10k", {"initial_cash": 10000.0}),
        ("초기자금 1000만원", {"initial_cash": 10_000_000.0}),
        ("5% stop loss", {"stop_loss_pct": 5.0}),
        ("take profit 10%", {"take_profit_pct": 10.0}),
        ("손절 3% 익절 15%", {"stop_loss_pct": 3.0, "take_profit_pct": 15.0}),
        ("long/short", {"direction": "long_short"}),
        ("롱숏으로", {"direction": "long_short"}),
        ("fill at close", {"fill": "close"}),
        ("fractional shares", {"fractional": True}),
        ("risk-free rate 2%", {"risk_free_rate": 0.02}),
        ("no commission and no slippage", {"commission": 0.0, "slippage_bps": 0.0}),
        ("half my equity", {"size": 0.5}),
        ("25% of equity per trade", {"size": 0.25}),
        ("100 shares per trade", {"size_type": "units", "size": 100.0}),
        ("$5,000 per trade", {"size_type": "cash", "size": 5000.0}),
        ("fixed fee $1 per trade", {"commission_fixed": 1.0}),
        ("0.1% commission, 5bps slippage", {"commission": 0.001, "slippage_bps": 5.0}),
        ("commission 0.1% slippage 5bps", {"commission": 0.001, "slippage_bps": 5.0}),
        ("시작 자금 4만5천달러", {"initial_cash": 45000.0}),
        ("초기 자본 1억 5천만 원", {"initial_cash": 150_000_000.0}),
        ("초기 자본 3천5백만원", {"initial_cash": 35_000_000.0}),
        ("시드 1억5천", {"initial_cash": 150_000_000.0}),
        ("자산의 절반씩", {"size": 0.5}),
        ("putting half the account in", {"size": 0.5}),
        ("거래당 2000달러", {"size_type": "cash", "size": 2000.0}),
        ("per trade $2,500", {"size_type": "cash", "size": 2500.0}),
        ("체결은 종가로", {"fill": "close"}),
        ("orders filled at the close", {"fill": "close"}),
        ("allowing shorts", {"direction": "long_short"}),
    ],
)
def test_settings(text: str, settings: dict[str, Any]) -> None:
    found = reading(text)
    assert found.settings == settings and found.issues == [] and found.unclaimed == []


def test_ambiguous_setting_values_are_asked() -> None:
    # "commission 0.1": 0.1 % or 10 %?
    assert [(i.field, i.kind) for i in reading("sma 10/50 commission 0.1").issues] == [
        ("settings.commission", "ambiguous")
    ]
    assert reading("sma 10/50 with a stop loss").unpaired_labels == ["setting:stop_loss_pct"]
    # "$3 per trade" with no word for it: a fixed fee, or the cash of each trade?
    found = reading("sma 10/50 $3 per trade")
    assert found.settings == {} and [(i.field, i.kind) for i in found.issues] == [
        ("settings.commission_fixed", "ambiguous")
    ]


@pytest.mark.parametrize(
    "text", ["momentum 25 thresholds ±3%", "모멘텀 25 임계값 ±3%", "momentum 25 +/-3%", "모멘텀 25일 ±3%로"]
)
def test_plus_minus_sets_the_symmetric_thresholds(text: str) -> None:
    found = reading(text)
    assert found.strategy is not None and found.unclaimed == [] and found.issues == []
    assert found.strategy.config == {"momentum_period": 25, "buy_threshold": 0.03, "sell_threshold": -0.03}


# ---- ids, counts, metrics, status, names -----------------------------------------------------------------
def test_ids() -> None:
    assert reading("show backtest 3f2a9c1e0b7d4e5f8a6b2c1d0e9f8a7b").hex_ids == [
        "3f2a9c1e0b7d4e5f8a6b2c1d0e9f8a7b"
    ]
    assert reading("what are the results of backtest #31?").backtest_ids == ["31"]
    assert reading("12번 백테스트 상태는?").backtest_ids == ["12"]
    assert reading("전략 7번으로 META 백테스트").strategy_ids == ["7"]
    assert reading("compare strategies 3, 4 and 5").strategy_ids == ["3", "4", "5"]
    assert reading("5번이랑 8번 중에 뭐가 더 나았어?").generic_ids == ["5", "8"]
    assert reading("show backtest zzz").invalid_backtest_id == "zzz"
    assert reading("which backtest had the worst sharpe?").invalid_backtest_id is None
    assert reading("backtest 2020 sma on AAPL").backtest_ids == []  # a year, not an id


def test_counts_metrics_status() -> None:
    assert reading("compare my last three strategies").latest_n == 3
    assert reading("최근 전략 네 개 중에").latest_n == 4
    assert reading("last 5 completed backtests").limit == 5
    assert reading("완료된 백테스트 5개 보여줘").limit == 5
    assert reading("show the last 20 bars of TSLA").bars == 20
    assert reading("rank by max drawdown and sharpe").metrics == ["max_drawdown", "sharpe_ratio"]
    assert reading("연평균 수익률로 비교").metrics == ["cagr"]
    assert reading("which is most stable").focus == ["volatility", "max_drawdown", "sharpe_ratio"]
    assert reading("which makes the most money").focus == ["total_return", "cagr"]
    assert reading("take profit 10%").metrics == []  # a setting, not the metric 'profit'
    assert reading("취소된 백테스트 목록").status == "cancelled"
    assert reading("which backtests are running?").status == "running"


def test_names() -> None:
    assert reading("compare MeanRev and SMA 10/50").strategy_names == ["MeanRev", "SMA 10/50"]
    assert reading('save strategy "Mean rev" rsi 14 30/70').create_name == "Mean rev"
    assert reading("create a strategy named Trend with ema 20/50").create_name == "Trend"
    assert reading("RSI 전략을 평균회귀라는 이름으로 저장").create_name == "평균회귀"
    # numbers inside a quoted name are not parameters
    found = reading('create strategy sma 10/50 named "sma 10/50 v2"')
    assert (
        found.strategy is not None
        and found.strategy.config == {"fast": 10, "slow": 50}
        and found.unclaimed == []
    )


def test_company_typos_win_over_an_unknown_lowercase_ticker_without_the_store() -> None:
    assert [hit.symbol for hit in reading("sma 10/50 on nvdia", known=None).symbols] == ["NVDA"]
    assert [hit.symbol for hit in reading("buy and hold on ibm", known=None).symbols] == ["IBM"]


def test_trader_shorthand_labels_and_numbers_glued_to_korean_labels() -> None:
    found = reading("sma 10/40 on AAPL, comm 4bps, rf 2%")
    assert found.settings == {"commission": 0.0004, "risk_free_rate": 0.02} and found.unclaimed == []
    found = reading("애플 rsi 과매도20 과매수80 손절4")
    assert found.strategy is not None and found.strategy.config == {"oversold": 20, "overbought": 80}
    assert found.settings == {"stop_loss_pct": 4} and found.unclaimed == []
