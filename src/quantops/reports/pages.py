"""HTML tear sheets with plotly. Reusable: any page is a list of sections (figures or tables).

The backtest tear sheet is written by the job worker (CPU work off the event loop) into the reports
directory and served by the API, authenticated. plotly.js is not inlined (4 MB per file): pages load it
from ``/static/plotly.min.js``, which the API serves from the installed plotly package.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.subplots import make_subplots

from quantops.engine import catalogue

PLOTLY_JS_URL = "/static/plotly.min.js"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# jinja2 with autoescape: every text put into a page (titles, strategy names, table cells, LLM prose) is
# escaped; only section bodies built here or by plotly (``Markup``) go in as HTML.
_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
_PAGE = _ENV.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<script src="{{ plotly_src }}"></script>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
section { margin: 2rem 0; } table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
th { background: #f5f5f5; } td:first-child, th:first-child { text-align: left; }
.scroll { max-height: 480px; overflow: auto; }
.notice { background: #fff4d6; border: 1px solid #e0b84c; padding: 0.6rem 1rem; font-weight: 600; }
</style></head>
<body><h1>{{ title }}</h1><p class="sub">{{ subtitle }}</p>
{% if notice %}<p class="notice" role="note">{{ notice }}</p>
{% endif %}
{% for s in sections %}
<section><h2>{{ s.title }}</h2>{{ s.body_html }}</section>
{% endfor %}
</body></html>
"""
)
_TABLE = _ENV.from_string(
    '<div class="scroll"><table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>'
    "{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}"
    "</table></div>{% if total > rows|length %}<p>first {{ rows|length }} of {{ total }}</p>{% endif %}"
)
_PARAGRAPHS = _ENV.from_string(
    "{% for lead, text in paragraphs %}<p>{% if lead %}<strong>{{ lead }}.</strong> {% endif %}"
    "{{ text }}</p>{% endfor %}"
)


@dataclass(frozen=True, slots=True)
class ReportSection:
    title: str
    body_html: Markup  # trusted HTML (a template's output or plotly's); plain text is escaped


def figure_section(title: str, figure: go.Figure) -> ReportSection:
    return ReportSection(title, Markup(figure.to_html(full_html=False, include_plotlyjs=False)))


def html_section(title: str, body_html: str) -> ReportSection:
    """A section from HTML this code (or plotly) generated — never from user or LLM text."""
    return ReportSection(title, Markup(body_html))


def _unit(key: str) -> str:
    entry = catalogue.lookup(key)
    return entry.unit if entry else ""


def metric_header(key: str) -> str:
    """A table header for a metric: its catalogue label and unit ("max drawdown (%)", "Sharpe")."""
    entry = catalogue.lookup(key)
    if entry is None:
        return key
    return f"{entry.label.en} (%)" if entry.percent else entry.label.en


def _format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.2f}"
    return str(value)


def table_section(title: str, rows: Sequence[Mapping[str, Any]], max_rows: int = 500) -> ReportSection:
    if not rows:
        return html_section(title, "<p>none</p>")
    columns = list(rows[0].keys())
    cells = [[_format_cell(row.get(c)) for c in columns] for row in rows[:max_rows]]
    return ReportSection(title, Markup(_TABLE.render(columns=columns, rows=cells, total=len(rows))))


def text_section(title: str, paragraphs: Sequence[tuple[str, str]]) -> ReportSection:
    """Paragraphs of plain text (escaped), each with an optional bold lead ("Summary")."""
    return ReportSection(title, Markup(_PARAGRAPHS.render(paragraphs=paragraphs)))


def render_page(
    title: str,
    sections: Sequence[ReportSection],
    subtitle: str = "",
    plotly_src: str = PLOTLY_JS_URL,
    notice: str = "",
) -> str:
    """`notice`: a highlighted line under the title (e.g. that the data is synthetic), escaped."""
    return _PAGE.render(
        title=title, subtitle=subtitle, notice=notice, sections=sections, plotly_src=plotly_src
    )


def write_atomic(path: Path, text: str) -> Path:
    """Write via a temp file + rename so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path


def equity_series(equity: Mapping[str, Sequence[Any]]) -> pd.Series:
    """Compact {"t": epoch ms, "v": values} → Series indexed by UTC timestamps."""
    index = pd.to_datetime(np.asarray(equity["t"], dtype=np.int64), unit="ms", utc=True)
    return pd.Series(np.asarray(equity["v"], dtype=float), index=index, name="equity")


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Percent return per calendar month (rows: years, columns: Jan..Dec)."""
    if equity.empty:
        return pd.DataFrame(columns=list(MONTHS))
    month_end = equity.resample("ME").last().dropna()
    previous = month_end.shift(1)
    previous.iloc[0] = equity.iloc[0]  # first month measured from the first bar
    returns = (month_end / previous - 1.0) * 100.0
    table = pd.DataFrame({"year": returns.index.year, "month": returns.index.month, "ret": returns.values})
    pivot = table.pivot(index="year", columns="month", values="ret").reindex(columns=range(1, 13))
    pivot.columns = list(MONTHS)
    return pivot


def backtest_sections(
    stats: Mapping[str, Any], equity: Mapping[str, Sequence[Any]], trades: Mapping[str, Sequence[Any]]
) -> list[ReportSection]:
    series = equity_series(equity)
    drawdown = (series / series.cummax() - 1.0) * 100.0

    curves = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    curves.add_trace(go.Scatter(x=series.index, y=series.values, name="equity"), row=1, col=1)
    curves.add_trace(
        go.Scatter(x=drawdown.index, y=drawdown.values, name="drawdown %", fill="tozeroy"), row=2, col=1
    )
    curves.update_yaxes(title_text="portfolio value", row=1, col=1)
    curves.update_yaxes(title_text="drawdown %", row=2, col=1)
    curves.update_layout(height=600, margin={"t": 20, "b": 20}, showlegend=False)

    monthly = monthly_returns(series)
    heatmap = go.Figure(
        go.Heatmap(
            z=monthly.values,
            x=list(monthly.columns),
            y=[str(y) for y in monthly.index],
            colorscale="RdYlGn",
            zmid=0,
            text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.1f}")(monthly.values.astype(float))
            if monthly.size
            else None,
            texttemplate="%{text}",
            colorbar={"title": "%"},
        )
    )
    heatmap.update_layout(height=max(250, 28 * len(monthly) + 120), margin={"t": 20, "b": 20})

    metric_rows = [
        {"metric": catalogue.label(k), "key": k, "unit": _unit(k), "value": v}
        for k, v in stats.items()
        if not isinstance(v, dict | list)
    ]
    trade_columns = list(trades.keys())
    n_trades = len(next(iter(trades.values()))) if trades else 0
    trade_rows = [{c: trades[c][i] for c in trade_columns} for i in range(n_trades)]
    return [
        figure_section("Equity and drawdown", curves),
        figure_section("Monthly returns (%)", heatmap),
        table_section("Metrics", metric_rows),
        table_section(f"Trades ({n_trades})", trade_rows),
    ]


def write_backtest_report(
    path: Path,
    title: str,
    subtitle: str,
    stats: Mapping[str, Any],
    equity: Mapping[str, Sequence[Any]],
    trades: Mapping[str, Sequence[Any]],
    notice: str = "",
) -> Path:
    sections = backtest_sections(stats, equity, trades)
    return write_atomic(path, render_page(title, sections, subtitle, notice=notice))


class ReportWriter:
    """Where reports live and how they are named; `container.reports`."""

    def __init__(self, reports_dir: Path) -> None:
        self.reports_dir = reports_dir

    def backtest_report_path(self, backtest_id: str) -> Path:
        return self.reports_dir / "backtests" / f"{backtest_id}.html"

    def page_path(self, kind: str, name: str) -> Path:
        """Path for another kind of page (e.g. kind="comparisons"); name must be an id, not user text."""
        return self.reports_dir / kind / f"{name}.html"

    def write_page(
        self, path: Path, title: str, sections: Sequence[ReportSection], subtitle: str = ""
    ) -> Path:
        return write_atomic(path, render_page(title, sections, subtitle))
