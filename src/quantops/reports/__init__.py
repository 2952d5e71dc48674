"""HTML report pages (plotly figures and tables): the backtest tear sheet and any page built from
sections. Its own layer (of quantops it imports only the engine's metric catalogue), used by the job
runner, the services and the comparison page. See ``quantops.reports.pages``."""

from quantops.reports.pages import (
    PLOTLY_JS_URL,
    ReportSection,
    ReportWriter,
    backtest_sections,
    equity_series,
    figure_section,
    html_section,
    monthly_returns,
    render_page,
    table_section,
    text_section,
    write_atomic,
    write_backtest_report,
)

__all__ = [
    "PLOTLY_JS_URL",
    "ReportSection",
    "ReportWriter",
    "backtest_sections",
    "equity_series",
    "figure_section",
    "html_section",
    "monthly_returns",
    "render_page",
    "table_section",
    "text_section",
    "write_atomic",
    "write_backtest_report",
]
