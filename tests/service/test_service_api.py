"""REST API on SQLite and PostgreSQL (in-process ASGI, real local job workers)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import quantops

DATA = Path(__file__).resolve().parents[1] / "data"
SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 20}
# Reference run of the same strategy by backtesting.py 0.6.6 (tests/data/sma_cross_10_20_GOOG.json).
REFERENCE = json.loads((DATA / "sma_cross_10_20_GOOG.json").read_text())["backtesting.py_finalize_trades"]


async def test_auth_required_and_both_header_styles(api) -> None:
    c = api.client
    assert (await c.get("/healthz")).json() == {"status": "ok"}
    ready = await c.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "duckdb": "ok"}
    missing = await c.get("/api/v1/users/me")
    assert missing.status_code == 401 and "API key" in missing.json()["detail"]
    assert (await c.get("/api/v1/users/me", headers={"X-API-Key": "qo_wrong"})).status_code == 401
    by_header = await c.get("/api/v1/users/me", headers=api.auth("alice"))
    by_bearer = await c.get("/api/v1/users/me", headers={"Authorization": f"Bearer {api.keys['alice']}"})
    assert by_header.json()["name"] == by_bearer.json()["name"] == "alice"
    assert api.keys["alice"] not in by_header.text  # the key never comes back
    assert (await c.get("/api/v1/users", headers=api.auth("alice"))).status_code == 403
    listed = await c.get("/api/v1/users", headers=api.auth("root"))
    assert {u["name"] for u in listed.json()} >= {"alice", "bob", "vera", "root"}


async def test_strategy_crud_validation_and_ownership(api) -> None:
    c, alice, bob = api.client, api.auth("alice"), api.auth("bob")
    created = await c.post("/api/v1/strategies", json={"name": "golden", "config": SMA}, headers=alice)
    assert created.status_code == 201, created.text
    strategy = created.json()
    assert strategy["config"] == SMA and strategy["description"] == ""
    sid = strategy["id"]

    dup = await c.post("/api/v1/strategies", json={"name": "golden", "config": SMA}, headers=alice)
    assert dup.status_code == 409
    # Another user's strategy is simply not there.
    for method, url in [("GET", f"/api/v1/strategies/{sid}"), ("DELETE", f"/api/v1/strategies/{sid}")]:
        assert (await c.request(method, url, headers=bob)).status_code == 404
    assert (await c.patch(f"/api/v1/strategies/{sid}", json={"name": "x"}, headers=bob)).status_code == 404
    assert (await c.get("/api/v1/strategies", headers=bob)).json() == []

    patched = await c.patch(
        f"/api/v1/strategies/{sid}",
        json={"config": {"config_type": "ema_crossover", "fast": 5, "slow": 30}},
        headers=alice,
    )
    assert patched.status_code == 200 and patched.json()["config"]["config_type"] == "ema_crossover"
    assert (await c.patch(f"/api/v1/strategies/{sid}", json={"name": None}, headers=alice)).status_code == 422

    viewer = await c.post("/api/v1/strategies", json={"name": "v", "config": SMA}, headers=api.auth("vera"))
    assert viewer.status_code == 403

    ok = await c.post("/api/v1/strategies/validate", json=SMA, headers=alice)
    assert ok.status_code == 200 and ok.json()["min_bars"] == 22 and "SMA" in ok.json()["description"]
    bad = await c.post(
        "/api/v1/strategies/validate",
        json={"config_type": "sma_crossover", "fast": 30, "slow": 20},
        headers=alice,
    )
    assert bad.status_code == 422
    error = bad.json()["detail"][0]
    assert error["loc"][-1] == "slow" and error["type"] == "greater_than_field"
    unknown = await c.post("/api/v1/strategies/validate", json={"config_type": "astrology"}, headers=alice)
    assert unknown.status_code == 422 and "config_type" in unknown.text

    assert (await c.delete(f"/api/v1/strategies/{sid}", headers=alice)).status_code == 204
    assert (await c.get(f"/api/v1/strategies/{sid}", headers=alice)).status_code == 404


async def test_backtest_runs_and_matches_engine_and_reference(api) -> None:
    c, alice = api.client, api.auth("alice")
    costs = {"initial_cash": 10_000, "commission": 0.0, "slippage_bps": 0.0}
    body = {"strategy_config": SMA, "symbol": "goog", "settings": costs}
    submitted = await c.post("/api/v1/backtests", json=body, headers=alice)
    assert submitted.status_code == 202, submitted.text
    out = submitted.json()
    assert out["status"] == "pending" and out["symbol"] == "GOOG" and out["n_bars"] == 2148
    assert out["estimated_duration_seconds"] > 0

    done = (await c.get(f"/api/v1/backtests/{out['id']}", params={"wait": 60}, headers=alice)).json()
    assert done["status"] == "completed", done
    assert done["started_at"] >= done["created_at"] and done["finished_at"] >= done["started_at"]
    assert done["run_seconds"] > 0 and done["attempts"] == 1

    result = (await c.get(f"/api/v1/backtests/{out['id']}/result", headers=alice)).json()
    bars = pd.read_csv(DATA / "GOOG.csv", index_col=0, parse_dates=True)
    direct = quantops.backtest(bars, SMA, costs)
    values = np.array([v for _, v in result["equity"]])
    np.testing.assert_allclose(values, direct.equity.to_numpy(), rtol=1e-12)
    assert len(result["trades"]) == len(direct.trades) == REFERENCE["n_trades"]
    assert result["trades"][0]["entry_time"].startswith("2004-12-06")
    stats = done["stats"]
    assert stats == result["stats"]
    assert stats["max_drawdown"] == pytest.approx(REFERENCE["max_drawdown_pct"], abs=1e-9)
    assert stats["win_rate"] == pytest.approx(REFERENCE["win_rate_pct"], abs=1e-9)

    # Another user cannot see it, its result or its report.
    for suffix in ("", "/result", "/report"):
        assert (
            await c.get(f"/api/v1/backtests/{out['id']}{suffix}", headers=api.auth("bob"))
        ).status_code == 404
    assert (await c.post(f"/api/v1/backtests/{out['id']}/cancel", headers=api.auth("bob"))).status_code == 404
    assert (await c.post(f"/api/v1/backtests/{out['id']}/cancel", headers=alice)).status_code == 409


async def test_saved_strategy_backtest_with_report(api) -> None:
    c, alice = api.client, api.auth("alice")
    sid = (await c.post("/api/v1/strategies", json={"name": "s", "config": SMA}, headers=alice)).json()["id"]
    body = {
        "strategy_id": sid,
        "symbol": "AAPL",
        "start": "2016-01-01",
        "end": "2020-12-31",
        "generate_report": True,
    }
    out = (await c.post("/api/v1/backtests", json=body, headers=alice)).json()
    done = (await c.get(f"/api/v1/backtests/{out['id']}", params={"wait": 60}, headers=alice)).json()
    assert done["status"] == "completed" and done["strategy_id"] == sid
    assert done["report_url"].endswith(f"/api/v1/backtests/{out['id']}/report")
    report = await c.get(f"/api/v1/backtests/{out['id']}/report", headers=alice)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    html = report.text
    for section in ("Equity and drawdown", "Monthly returns (%)", "Metrics", "Trades ("):
        assert section in html
    assert "max_drawdown" in html and "/static/plotly.min.js" in html
    # Five calendar years of monthly returns in the heatmap (2016..2020).
    assert all(f'"{year}"' in html for year in range(2016, 2021))
    browser = await c.get(f"/api/v1/backtests/{out['id']}/report", params={"api_key": api.keys["alice"]})
    assert browser.status_code == 200
    assert (await c.get(f"/api/v1/backtests/{out['id']}/report")).status_code == 401
    assert (await c.get("/static/plotly.min.js")).status_code == 200


async def test_list_filters_pagination_and_cancel(api) -> None:
    c, alice = api.client, api.auth("alice")
    ids = []
    for symbol in ("GOOG", "AAPL", "GOOG"):
        r = await c.post("/api/v1/backtests", json={"strategy_config": SMA, "symbol": symbol}, headers=alice)
        ids.append(r.json()["id"])
    page = (await c.get("/api/v1/backtests", params={"limit": 2}, headers=alice)).json()
    assert page["total"] == 3 and [b["id"] for b in page["items"]] == ids[::-1][:2]
    page2 = (await c.get("/api/v1/backtests", params={"limit": 2, "offset": 2}, headers=alice)).json()
    assert [b["id"] for b in page2["items"]] == [ids[0]]
    goog = (await c.get("/api/v1/backtests", params={"symbol": "GOOG"}, headers=alice)).json()
    assert {b["id"] for b in goog["items"]} == {ids[0], ids[2]}
    for bid in ids:
        await c.get(f"/api/v1/backtests/{bid}", params={"wait": 60}, headers=alice)
    completed = (await c.get("/api/v1/backtests", params={"status": "completed"}, headers=alice)).json()
    assert completed["total"] == 3
    assert (await c.get("/api/v1/backtests", headers=api.auth("bob"))).json()["total"] == 0
    assert (await c.get("/api/v1/backtests", params={"status": "nope"}, headers=alice)).status_code == 422


async def test_cancel_pending_backtest(api) -> None:
    c, alice = api.client, api.auth("alice")
    # Fill the single worker's queue so the last submission is still pending when cancelled.
    bodies = [{"strategy_config": SMA, "symbol": "AAPL", "generate_report": True} for _ in range(4)]
    ids = [(await c.post("/api/v1/backtests", json=b, headers=alice)).json()["id"] for b in bodies]
    cancelled = await c.post(f"/api/v1/backtests/{ids[-1]}/cancel", headers=alice)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    for bid in ids[:-1]:
        assert (await c.get(f"/api/v1/backtests/{bid}", params={"wait": 60}, headers=alice)).json()[
            "status"
        ] == ("completed")
    final = (await c.get(f"/api/v1/backtests/{ids[-1]}", headers=alice)).json()
    assert final["status"] == "cancelled" and final["error"] == "cancelled by user"
    assert (await c.get(f"/api/v1/backtests/{ids[-1]}/result", headers=alice)).status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"strategy_config": SMA, "symbol": "NOPE"}, 422, "unknown symbol"),
        ({"strategy_config": SMA, "symbol": "GOOG", "start": "2012-01-01", "end": "2011-01-01"}, 422, "end"),
        (
            {"strategy_config": SMA, "symbol": "GOOG", "start": "2012-01-02", "end": "2012-01-20"},
            422,
            "too_few_bars",
        ),
        ({"strategy_config": {"config_type": "astrology"}, "symbol": "GOOG"}, 422, "config_type"),
        ({"strategy_config": {**SMA, "fast": "ten"}, "symbol": "GOOG"}, 422, "fast"),
        ({"strategy_config": SMA, "symbol": "GOOG", "settings": {"commission": -1}}, 422, "commission"),
        ({"symbol": "GOOG"}, 422, "exactly one of strategy_id or strategy_config"),
        ({"strategy_id": "does-not-exist", "symbol": "GOOG"}, 404, "strategy"),
        ({"strategy_config": SMA, "symbol": "GOOG", "surprise": 1}, 422, "surprise"),
        (
            {"strategy_config": SMA, "symbol": "GOOG", "start": "1890-01-01", "end": "1895-01-01"},
            422,
            "start",
        ),
    ],
)
async def test_bad_backtest_input_is_a_clear_4xx(api, body, status, needle) -> None:
    response = await api.client.post("/api/v1/backtests", json=body, headers=api.auth("alice"))
    assert response.status_code == status, response.text
    assert needle in response.text


async def test_malformed_and_oversized_bodies(api) -> None:
    c, alice = api.client, {**api.auth("alice"), "content-type": "application/json"}
    malformed = await c.post("/api/v1/backtests", content=b'{"symbol": "GOOG",', headers=alice)
    assert malformed.status_code == 422 and "json" in malformed.text.lower()
    big = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    oversized = await c.post("/api/v1/strategies", content=big, headers=alice)
    assert oversized.status_code == 413 and "too large" in oversized.text
    wrong_type = await c.post("/api/v1/strategies", json={"name": 5, "config": SMA}, headers=alice)
    assert wrong_type.status_code == 422 and "name" in wrong_type.text


async def test_market_data_endpoints(api) -> None:
    c, alice = api.client, api.auth("alice")
    symbols = (await c.get("/api/v1/market-data/symbols", headers=alice)).json()
    assert set(symbols) >= {"GOOG", "AAPL", "MSFT"}
    bars = (await c.get("/api/v1/market-data/bars/GOOG", params={"limit": 5}, headers=alice)).json()
    assert bars["count"] == 5 and bars["bars"][-1]["close"] == pytest.approx(806.19, abs=0.01)
    assert bars["bars"][-1]["timestamp"].startswith("2013-03-01")
    ranged = (
        await c.get(
            "/api/v1/market-data/bars/GOOG",
            params={"start": "2004-08-19", "end": "2004-08-24"},
            headers=alice,
        )
    ).json()
    assert [b["open"] for b in ranged["bars"]] == [100.0, 101.01, 110.75, 111.24]
    assert (await c.get("/api/v1/market-data/bars/NOPE", headers=alice)).status_code == 404
    reversed_range = await c.get(
        "/api/v1/market-data/bars/GOOG", params={"start": "2010-01-01", "end": "2009-01-01"}, headers=alice
    )
    assert reversed_range.status_code == 422
    status = (await c.get("/api/v1/market-data/status", headers=alice)).json()
    assert status and json.dumps(status)


async def test_user_webhook_setting(api) -> None:
    c, alice = api.client, api.auth("alice")
    # A public address (loopback/private ones are refused: test_service_security.py).
    ok = await c.patch("/api/v1/users/me", json={"webhook_url": "http://93.184.215.14/hook"}, headers=alice)
    assert ok.status_code == 200 and ok.json()["webhook_url"] == "http://93.184.215.14/hook"
    bad = await c.patch("/api/v1/users/me", json={"webhook_url": "not a url"}, headers=alice)
    assert bad.status_code == 422 and "webhook_url" in bad.text
    cleared = await c.patch("/api/v1/users/me", json={"webhook_url": None}, headers=alice)
    assert cleared.json()["webhook_url"] is None
