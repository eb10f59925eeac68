"""Rendering results for people: Jinja2 templates under report/templates."""

from benchaction.report.markdown import render_markdown, summarize_scenarios

__all__ = ["render_markdown", "summarize_scenarios"]
