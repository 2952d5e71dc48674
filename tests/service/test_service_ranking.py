"""GET /backtests?sort_by=&order= ranks the caller's completed backtests by a metric's direction, and
every backtest says the period its data covered (data_start/data_end) — both DBs, real local workers."""

from __future__ import annotations

from typing import Any

CONFIGS = [
    {"config_type": "buy_and_hold"},
    {"config_type": "sma_crossover", "fast": 5, "slow": 20},
    {"config_type": "momentum"},
]


async def _run(api: Any, config: dict[str, Any], user: str = "alice") -> dict[str, Any]:
    body = {"symbol": "AAPL", "strategy_config": config, "start": "2019-01-01", "end": "2021-12-31"}
    submitted = await api.client.post("/api/v1/backtests", json=body, headers=api.auth(user))
    assert submitted.status_code == 202, submitted.text
    out = submitted.json()
    # Known at submit time (the bars the job will run on), and equal to the stats' first/last bar later.
    assert out["data_start"] and out["data_end"] and out["data_start"] < out["data_end"]
    done = await api.client.get(f"/api/v1/backtests/{out['id']}?wait=60", headers=api.auth(user))
    result = done.json()
    assert result["status"] == "completed", result
    assert (
        (result["data_start"][:10], result["data_end"][:10])
        == (
            result["stats"]["start"][:10],
            result["stats"]["end"][:10],
        )
        == (out["data_start"][:10], out["data_end"][:10])
    )
    return result


async def test_rank_backtests_by_metric_over_rest(api: Any) -> None:
    runs = [await _run(api, config) for config in CONFIGS]
    await _run(api, {"config_type": "breakout"}, user="bob")  # never in alice's ranking

    async def ranked(**params: Any) -> list[str]:
        response = await api.client.get("/api/v1/backtests", params=params, headers=api.auth("alice"))
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(runs)
        return [item["id"] for item in page["items"]]

    def by(key: Any) -> list[str]:
        return [r["id"] for r in sorted(runs, key=key)]

    assert await ranked(sort_by="total_return") == by(lambda r: -r["stats"]["total_return"])
    assert await ranked(sort_by="total_return", order="worst") == by(lambda r: r["stats"]["total_return"])
    assert await ranked(sort_by="volatility") == by(lambda r: r["stats"]["annual_volatility"])
    assert await ranked(sort_by="max_drawdown") == by(lambda r: abs(r["stats"]["max_drawdown"]))
    assert await ranked(sort_by="sharpe_ratio", limit=1) == by(lambda r: -r["stats"]["sharpe_ratio"])[:1]
    assert await ranked(sort_by="cagr", limit=1, offset=1) == by(lambda r: -r["stats"]["cagr"])[1:2]

    bad = await api.client.get("/api/v1/backtests", params={"sort_by": "luck"}, headers=api.auth("alice"))
    assert bad.status_code == 422 and "sort_by" in bad.json()["detail"][0]["loc"]
    order = await api.client.get(
        "/api/v1/backtests", params={"sort_by": "cagr", "order": "up"}, headers=api.auth("alice")
    )
    assert order.status_code == 422 and "order" in order.json()["detail"][0]["loc"]
