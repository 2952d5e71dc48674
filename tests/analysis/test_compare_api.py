"""POST /api/v1/chatops-advanced/strategies/compare end to end on a real server (SQLite, DuckDB, jobs)."""

from __future__ import annotations

from typing import Any

import empyrical
import numpy as np
import pandas as pd
import pytest

COMPARE = "/api/v1/chatops-advanced/strategies/compare"
CONFIGS: dict[str, dict[str, Any]] = {
    "hold": {"config_type": "buy_and_hold"},
    "sma": {"config_type": "sma_crossover", "fast": 10, "slow": 50},
    "rsi": {"config_type": "rsi_mean_reversion", "rsi_period": 14, "oversold": 30, "overbought": 70},
}


async def test_compare_three_strategies_end_to_end(live_server_any_db: Any) -> None:
    live_server = live_server_any_db
    async with live_server.client() as client:
        ids = {name: await live_server.create_strategy(client, name, cfg) for name, cfg in CONFIGS.items()}
        backtests = {
            name: await live_server.run_backtest(client, sid, "AAPL", "2016-01-01", "2023-12-31")
            for name, sid in ids.items()
        }
        response = await client.post(
            COMPARE,
            json={
                "strategy_ids": list(ids.values()),
                "metrics": ["sharpe_ratio", "max_drawdown", "total_return"],
                "natural_language_query": "Which of these is the best risk-adjusted choice?",
            },
        )
        assert response.status_code == 200, response.text
        result = response.json()

        assert result["language"] == "en" and result["narrative_source"] == "deterministic"
        assert 50 <= len(result["summary"]) <= 500
        assert 50 <= len(result["recommendation"]) <= 500
        assert 50 <= len(result["reasoning"]) <= 1000
        assert [r["rank"] for r in result["ranking_details"]] == [1, 2, 3]
        assert {r["strategy_id"] for r in result["ranking_details"]} == set(ids.values())
        assert {s["backtest_id"] for s in result["strategies"]} == {b["id"] for b in backtests.values()}
        assert result["ran_backtests"] == []

        # The comparison's figures are each strategy's own backtest stats (same engine functions, same
        # starting cash, periods_per_year and risk-free rate), and agree with empyrical on the equity
        # the API serves (its first return measured from the starting cash, as the backtest does).
        for strategy in result["strategies"]:
            served = (await client.get(f"/api/v1/backtests/{strategy['backtest_id']}/result")).json()
            stats = served["stats"]
            for metric in ("sharpe_ratio", "sortino_ratio", "cagr", "max_drawdown", "total_return"):
                assert strategy["metrics"][metric] == pytest.approx(stats[metric], abs=1e-6), metric
            assert strategy["metrics"]["volatility"] == pytest.approx(stats["annual_volatility"], abs=1e-6)
            equity = served["equity"]
            series = pd.Series([v for _, v in equity], index=pd.to_datetime([t for t, _ in equity]))
            common = result["analysis"]["common_dates"]
            assert common["count"] == len(series)  # same symbol and period: every date is common
            returns = pd.concat([pd.Series([stats["initial_cash"]]), series]).pct_change().iloc[1:]
            sharpe = empyrical.sharpe_ratio(returns)
            assert strategy["metrics"]["sharpe_ratio"] == pytest.approx(sharpe, rel=1e-5)
            assert strategy["metrics"]["max_drawdown"] == pytest.approx(
                empyrical.max_drawdown(returns) * 100, rel=1e-5
            )
        best = result["ranking_details"][0]["name"]
        assert best in result["summary"]
        mc = result["analysis"]["monte_carlo"]
        assert mc["n_resamples"] == 1000
        for figures in mc["strategies"].values():
            values = list(figures["final_return_pct"].values())
            assert values == sorted(values)
        regimes = result["analysis"]["regimes"]
        assert regimes["symbol"] == "AAPL"
        shares = sum(r["share"] for r in regimes["regimes"].values()) + regimes["unclassified_share"]
        assert shares == pytest.approx(1.0, abs=1e-6)
        corr = np.array(result["analysis"]["correlation"]["matrix"], dtype=float)
        np.testing.assert_allclose(np.diag(corr), 1.0)

        page = await client.get(result["report_url"])
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for text in ("Equity curves", "Correlation", "Monte Carlo fan chart", "Market regimes", "hold"):
            assert text in page.text

    # Another user sees neither the comparison page nor can compare alice's strategies.
    async with live_server.client(live_server.bob_key) as bob:
        assert (await bob.get(result["report_url"])).status_code == 404
        response = await bob.post(COMPARE, json={"strategy_ids": list(ids.values())})
        assert response.status_code == 404
