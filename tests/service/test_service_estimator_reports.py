"""Duration model (fit, prior, calibration on real runs) and the tear-sheet writer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantops.jobs.estimator import (
    PRIOR_INTERCEPT_S,
    PRIOR_SLOPE_S_PER_BAR,
    DurationEstimator,
    fit_duration_model,
)
from quantops.reports import (
    backtest_sections,
    equity_series,
    monthly_returns,
    render_page,
    table_section,
)
from quantops.services.schemas import BacktestCreate
from quantops.store.repositories import RunSample


def test_fit_recovers_a_line_and_falls_back_to_the_prior() -> None:
    rng = np.random.default_rng(7)
    bars = rng.integers(200, 20_000, 60)
    seconds = 0.02 + 4e-6 * bars + rng.normal(0, 0.002, bars.size)
    model = fit_duration_model([RunSample(int(b), float(s)) for b, s in zip(bars, seconds, strict=True)])
    assert model.n_samples == 60
    # The prior (worth one run) pulls the intercept a little towards 50 ms; predictions stay close.
    assert model.intercept_s == pytest.approx(0.02, abs=0.008)
    assert model.slope_s_per_bar == pytest.approx(4e-6, rel=0.08)
    for n_bars, tolerance in ((1_000, 0.10), (10_000, 0.03)):
        assert model.predict(n_bars) == pytest.approx(0.02 + 4e-6 * n_bars, rel=tolerance)
    prior = fit_duration_model([])
    assert prior.intercept_s == pytest.approx(PRIOR_INTERCEPT_S)
    assert prior.slope_s_per_bar == pytest.approx(PRIOR_SLOPE_S_PER_BAR)
    assert prior.predict(2_520) == pytest.approx(PRIOR_INTERCEPT_S + PRIOR_SLOPE_S_PER_BAR * 2_520)


async def test_estimate_adds_queue_wait_and_refits_after_invalidate() -> None:
    samples: list[RunSample] = []

    async def load(config_type: str) -> list[RunSample]:
        return list(samples)

    estimator = DurationEstimator(load, ttl_seconds=3600)
    alone = await estimator.estimate("sma_crossover", 2_000, jobs_ahead=0, workers=2)
    queued = await estimator.estimate("sma_crossover", 2_000, jobs_ahead=4, workers=2)
    assert queued == pytest.approx(3 * alone, rel=1e-3)
    samples.extend(RunSample(2_000, 1.0) for _ in range(30))
    assert await estimator.estimate("sma_crossover", 2_000, 0, 2) == alone  # cached
    estimator.invalidate("sma_crossover")
    assert await estimator.estimate("sma_crossover", 2_000, 0, 2) == pytest.approx(0.92, abs=0.1)


async def test_estimates_are_calibrated_on_measured_runs(service_container) -> None:
    container = service_container
    alice = await container.users.authenticate(container.test_users["alice"].api_key)
    request = BacktestCreate(strategy_config={"config_type": "rsi_mean_reversion"}, symbol="AAPL")
    first = await container.backtests.submit(alice, request)
    for _ in range(3):
        done = await container.backtests.wait(
            alice, (await container.backtests.submit(alice, request)).id, 60
        )
        assert done.status == "completed"
    await container.backtests.wait(alice, first.id, 60)
    model = await container.estimator.model("rsi_mean_reversion")
    assert model.n_samples == 4  # fitted on the runs just measured
    runs = await container.estimator._load_samples("rsi_mean_reversion")
    later = await container.backtests.submit(alice, request)
    assert later.estimated_duration_seconds == pytest.approx(model.predict(later.n_bars), abs=1e-4)
    assert later.estimated_duration_seconds != first.estimated_duration_seconds
    assert all(r.n_bars == later.n_bars and r.run_seconds > 0 for r in runs)


def test_monthly_returns_and_tear_sheet() -> None:
    days = pd.date_range("2020-01-01", "2020-03-31", freq="D", tz="UTC")
    values = np.where(days < pd.Timestamp("2020-02-01", tz="UTC"), 100.0, 200.0)
    values[days >= pd.Timestamp("2020-03-01", tz="UTC")] = 150.0
    values[0] = 80.0  # January measured from the first bar: 80 -> 100 = +25 %
    equity = {"t": days.as_unit("ms").asi8.tolist(), "v": values.tolist()}
    table = monthly_returns(equity_series(equity))
    assert list(table.index) == [2020]
    assert table.loc[2020, "Jan"] == pytest.approx(25.0)
    assert table.loc[2020, "Feb"] == pytest.approx(100.0)
    assert table.loc[2020, "Mar"] == pytest.approx(-25.0)
    assert np.isnan(table.loc[2020, "Apr"])

    trades = {"entry_time": ["2020-01-02"], "exit_reason": ["<script>alert(1)</script>"], "pnl": [12.5]}
    html = render_page("SMA <b>", backtest_sections({"total_return": 87.5}, equity, trades), "sub")
    assert "Monthly returns (%)" in html and "Trades (1)" in html and "total_return" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "SMA &lt;b&gt;" in html
    # metrics table: the catalogue's label and unit beside the key
    assert "<td>total return</td><td>total_return</td><td>%</td><td>87.5</td>" in html
    assert "first 2 of 3" in table_section("t", [{"a": 1}, {"a": 2}, {"a": 3}], max_rows=2).body_html


def test_report_pages_escape_every_text_through_jinja2_autoescape() -> None:
    """Titles, subtitles, section titles, table cells and prose are escaped; section HTML is not."""
    from quantops.reports import html_section, text_section

    evil = "<script>alert(1)</script>"
    page = render_page(
        evil,
        [
            table_section(evil, [{evil: evil, "n": 1.5}]),
            text_section(evil, [("Summary", evil), ("", "plain & simple")]),
            html_section("ok", "<p id='kept'>generated</p>"),
        ],
        subtitle=evil,
    )
    assert "<script>alert(1)</script>" not in page
    # <title> and <h1>, subtitle, two section titles, a header cell, a cell, the summary
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 8
    assert "<p id='kept'>generated</p>" in page and "plain &amp; simple" in page
    assert "<strong>Summary.</strong>" in page and "<td>1.5</td>" in page
