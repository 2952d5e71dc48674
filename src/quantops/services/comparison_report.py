"""The comparison page of the HTML tear sheet: overlaid equity, correlation heatmap, Monte Carlo fan
chart, regime-shaded price chart and the tables behind them (built with the service core's
`quantops.reports` helpers)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.io as pio
from plotly.colors import qualitative

from quantops.analysis import ComparisonAnalysis, Narrative, Regime
from quantops.reports.pages import ReportSection, html_section, metric_header, table_section, text_section

if TYPE_CHECKING:
    from quantops.services.comparison import ComparedStrategy

PALETTE = qualitative.Plotly
REGIME_COLOURS = {
    Regime.BULL: "rgba(46, 160, 67, 0.15)",
    Regime.BEAR: "rgba(214, 39, 40, 0.15)",
    Regime.SIDEWAYS: "rgba(127, 127, 127, 0.12)",
}
# Figures are plain plotly JSON dicts serialised without validation: building go.Figure objects and
# add_vrect shapes for 5 × 2,520 points took ~1 s, this takes ~20 ms.
Figure = dict[str, Any]


def figure_dict_section(title: str, figure: Figure) -> ReportSection:
    return html_section(title, pio.to_html(figure, full_html=False, include_plotlyjs=False, validate=False))


def _day_strings(timestamps_ns: np.ndarray) -> list[str]:
    days = np.asarray(timestamps_ns, dtype=np.int64).astype("datetime64[ns]").astype("datetime64[D]")
    return np.datetime_as_string(days).tolist()


def _typed(array: np.ndarray, dtype: str = "f4") -> dict[str, str]:
    """plotly.js typed-array spec (what plotly.py itself emits for numpy arrays): base64 of the raw
    little-endian values; NaN shows as a gap. ~100× cheaper to serialise than lists of floats."""
    raw = np.ascontiguousarray(np.asarray(array, dtype=np.dtype(dtype).newbyteorder("<")))
    return {"dtype": dtype, "bdata": base64.b64encode(raw.tobytes()).decode("ascii")}


def _dates_ms(timestamps_ns: np.ndarray) -> dict[str, str]:
    """Epoch milliseconds, which a ``type: date`` axis reads as UTC instants."""
    return _typed(np.asarray(timestamps_ns, dtype=np.int64) // 1_000_000, "f8")


def _values(array: np.ndarray, decimals: int = 4) -> list[float | None]:
    rounded = np.round(np.asarray(array, dtype=np.float64), decimals)
    return [None if not np.isfinite(v) else float(v) for v in rounded]


def _rgba(hex_colour: str, alpha: float) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def equity_figure(analysis: ComparisonAnalysis) -> Figure:
    """Equity of every strategy rebased to 100 on the first common date."""
    dates = _dates_ms(analysis.aligned.timestamps)
    rebased = analysis.aligned.equity / analysis.aligned.equity[0] * 100.0
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": dates,
            "y": _typed(rebased[:, column]),
            "name": name,
            "line": {"color": _colour(column)},
        }
        for column, name in enumerate(analysis.names)
    ]
    layout = {
        "height": 450,
        "margin": {"t": 20, "b": 20},
        # x holds epoch ms as typed arrays: without an explicit date axis plotly shows raw numbers (1.5T)
        "xaxis": {"type": "date"},
        "yaxis": {"title": {"text": "equity (start = 100)"}},
    }
    return {"data": traces, "layout": layout}


def correlation_figure(analysis: ComparisonAnalysis) -> Figure:
    names = list(analysis.names)
    matrix = analysis.correlation
    heatmap = {
        "type": "heatmap",
        "z": [_values(row, 4) for row in matrix],
        "x": names,
        "y": names,
        "zmin": -1,
        "zmax": 1,
        "colorscale": "RdBu",
        "reversescale": True,
        "text": [["" if np.isnan(v) else f"{v:.2f}" for v in row] for row in matrix],
        "texttemplate": "%{text}",
        "colorbar": {"title": {"text": "ρ"}},
    }
    layout = {
        "height": 120 + 70 * len(names),
        "margin": {"t": 20, "b": 20},
        "yaxis": {"autorange": "reversed"},
    }
    return {"data": [heatmap], "layout": layout}


def fan_figure(analysis: ComparisonAnalysis) -> Figure:
    """Per strategy (one panel each): 5–95 % and 25–75 % bands and the median bootstrap cumulative return."""
    mc = analysis.monte_carlo
    names = analysis.names
    steps = mc.fan_steps.tolist()
    q = list(mc.percentiles)
    bands = (
        [(q.index(5.0), q.index(95.0), 0.15), (q.index(25.0), q.index(75.0), 0.3)]
        if {5.0, 25.0, 75.0, 95.0} <= set(q)
        else []
    )
    median = q.index(50.0) if 50.0 in q else len(q) // 2
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "height": 220 * len(names) + 80,
        "margin": {"t": 40, "b": 40},
        "showlegend": False,
        "annotations": [],
    }
    gap = 0.06
    panel = (1.0 - gap * (len(names) - 1)) / len(names)
    for row, name in enumerate(names):
        axis_suffix = "" if row == 0 else str(row + 1)
        colour = _colour(row)
        for low, high, alpha in bands:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": steps,
                    "y": _values(mc.fan[row, low], 2),
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "xaxis": f"x{axis_suffix}",
                    "yaxis": f"y{axis_suffix}",
                }
            )
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": steps,
                    "y": _values(mc.fan[row, high], 2),
                    "fill": "tonexty",
                    "fillcolor": _rgba(colour, alpha),
                    "line": {"width": 0},
                    "name": f"{name} p{q[low]:g}–p{q[high]:g}",
                    "xaxis": f"x{axis_suffix}",
                    "yaxis": f"y{axis_suffix}",
                }
            )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": steps,
                "y": _values(mc.fan[row, median], 2),
                "name": f"{name} median",
                "line": {"color": colour},
                "xaxis": f"x{axis_suffix}",
                "yaxis": f"y{axis_suffix}",
            }
        )
        top = 1.0 - row * (panel + gap)
        layout[f"yaxis{axis_suffix}"] = {"domain": [top - panel, top], "title": {"text": "cum. return %"}}
        layout[f"xaxis{axis_suffix}"] = {"anchor": f"y{axis_suffix}", **({"matches": "x"} if row else {})}
        layout["annotations"].append(
            {
                "text": name,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": top,
                "yanchor": "bottom",
                "showarrow": False,
            }
        )
    last_suffix = "" if len(names) == 1 else str(len(names))
    layout[f"xaxis{last_suffix}"]["title"] = {"text": "days into the resampled path"}
    return {"data": traces, "layout": layout}


def regime_runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Contiguous runs (start index, end index inclusive, regime code) of a label array."""
    if labels.size == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change - 1, [labels.size - 1]))
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends, strict=True)]


def regime_figure(analysis: ComparisonAnalysis) -> Figure | None:
    """The underlying's close over the common window, shaded by regime."""
    underlying, labels = analysis.underlying, analysis.underlying_regime_labels
    if underlying is None or labels is None:
        return None
    first, last = analysis.aligned.timestamps[0], analysis.aligned.timestamps[-1]
    timestamps = np.asarray(underlying.timestamps, dtype=np.int64)
    window = (timestamps >= first) & (timestamps <= last)
    if not window.any():
        return None
    dates = _day_strings(timestamps[window])  # for the shapes' edges
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": dates[start],
            "x1": dates[end],
            "y0": 0,
            "y1": 1,
            "fillcolor": REGIME_COLOURS[Regime(code)],
            "line": {"width": 0},
            "layer": "below",
        }
        for start, end, code in regime_runs(labels[window])
        if Regime(code) in REGIME_COLOURS
    ]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": _dates_ms(timestamps[window]),
            "y": _typed(np.asarray(underlying.close)[window]),
            "name": underlying.symbol,
            "line": {"color": "#222"},
        }
    ]
    # Legend entries for the shading (shapes have none).
    traces.extend(
        {
            "type": "scatter",
            "mode": "markers",
            "x": [None],
            "y": [None],
            "marker": {"size": 12, "color": colour, "symbol": "square"},
            "name": regime.label,
        }
        for regime, colour in REGIME_COLOURS.items()
    )
    layout = {
        "height": 400,
        "margin": {"t": 20, "b": 20},
        "shapes": shapes,
        "xaxis": {"type": "date"},
        "yaxis": {"title": {"text": f"{underlying.symbol} close"}},
    }
    return {"data": traces, "layout": layout}


def _narrative_section(narrative: Narrative) -> ReportSection:
    return text_section(
        "Verdict",
        [
            ("Summary", narrative.summary),
            ("Recommendation", narrative.recommendation),
            ("Reasoning", narrative.reasoning),
        ],
    )


def _tables(data: dict[str, Any], compared: Sequence[ComparedStrategy]) -> list[ReportSection]:
    ranking_rows = [
        {
            "rank": r["position"],
            "strategy": r["name"],
            "composite score": r["composite_score"],
            **{f"{metric_header(key)} rank": rank for key, rank in r["metric_ranks"].items()},
        }
        for r in data["ranking"]
    ]
    metric_rows = [
        {
            "strategy": c.label,
            "symbol": c.symbol,
            "backtest": c.backtest_id,
            **{metric_header(key): value for key, value in c.metrics.items()},
        }
        for c in compared
    ]
    mc_rows: list[dict[str, Any]] = []
    for name, figures in data["monte_carlo"]["strategies"].items():
        row: dict[str, Any] = {"strategy": name}
        row.update({f"final {k} %": v for k, v in figures["final_return_pct"].items()})
        row.update({f"max DD {k} %": v for k, v in figures["max_drawdown_pct"].items()})
        row["P(loss)"] = figures["probability_of_loss"]
        mc_rows.append(row)
    risk_rows = [{"strategy": name, **values} for name, values in data["risk"]["strategies"].items()]
    sections = [
        table_section("Ranking", ranking_rows),
        table_section("Metrics on the common dates", metric_rows),
        table_section(
            f"Monte Carlo ({data['monte_carlo']['n_resamples']} resamples, "
            f"block {data['monte_carlo']['block_size'] or 'i.i.d.'})",
            mc_rows,
        ),
        table_section("One-day VaR / CVaR (loss %, positive = loss)", risk_rows),
    ]
    if data["regimes"] is not None:
        regime_rows = [
            {"regime": regime, "share of days": figures["share"], "strategy": name, **values}
            for regime, figures in data["regimes"]["regimes"].items()
            for name, values in figures["strategies"].items()
        ]
        sections.append(table_section("Performance by market regime", regime_rows))
    return sections


def comparison_sections(
    analysis: ComparisonAnalysis,
    narrative: Narrative,
    compared: Sequence[ComparedStrategy],
    analysis_dict: dict[str, Any] | None = None,
) -> list[ReportSection]:
    sections = [
        _narrative_section(narrative),
        figure_dict_section("Equity curves (rebased to 100)", equity_figure(analysis)),
        figure_dict_section("Correlation of daily returns", correlation_figure(analysis)),
        figure_dict_section("Monte Carlo fan chart (bootstrap cumulative return)", fan_figure(analysis)),
    ]
    regimes = regime_figure(analysis)
    if regimes is not None:
        rule = analysis.options.regime_rule
        sections.append(
            figure_dict_section(
                f"Market regimes of {analysis.underlying.symbol if analysis.underlying else ''} "
                f"({rule.sma_window}-day SMA slope over {rule.slope_lookback} days, "
                f"±{rule.band_pct:g}% band)",
                regimes,
            )
        )
    sections.extend(_tables(analysis_dict or analysis.to_dict(), compared))
    return sections
