"""Rendering results for people: the run report, the comparison table, the PR comment and summary,
and the history dashboard (a static site).

Jinja2 templates under report/templates; every function takes data and returns text.
"""

from benchaction.report.alert import alert_state, render_alert, render_recovery
from benchaction.report.comment import (
    Provenance,
    comment_marker,
    render_comment,
    render_failure,
    render_summary,
)
from benchaction.report.comparison import render_comparison
from benchaction.report.dashboard import (
    DashboardChangePoint,
    DashboardConfig,
    DashboardData,
    DashboardPoint,
    DashboardSeries,
    LatestChange,
    write_site,
)
from benchaction.report.joined import (
    RunnerSection,
    render_joined_comment,
    render_joined_summary,
)
from benchaction.report.markdown import render_markdown, summarize_scenarios

__all__ = [
    "DashboardChangePoint",
    "DashboardConfig",
    "DashboardData",
    "DashboardPoint",
    "DashboardSeries",
    "LatestChange",
    "Provenance",
    "RunnerSection",
    "alert_state",
    "comment_marker",
    "render_alert",
    "render_comment",
    "render_comparison",
    "render_failure",
    "render_joined_comment",
    "render_joined_summary",
    "render_markdown",
    "render_recovery",
    "render_summary",
    "summarize_scenarios",
    "write_site",
]
