"""The markdown report: per scenario, trials aggregated to a median and their spread."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import jinja2

__all__ = ["ENV", "MetricRow", "md_escape", "render_markdown", "summarize_scenarios"]

# (label, unit, path into a trial's metrics, digits)
_ROWS: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    ("throughput", "req/s", ("throughput_rps",), 1),
    ("latency p50", "ms", ("latency_ms", "p50"), 2),
    ("latency p90", "ms", ("latency_ms", "p90"), 2),
    ("latency p99", "ms", ("latency_ms", "p99"), 2),
    ("latency mean", "ms", ("latency_ms", "mean"), 2),
    ("latency max", "ms", ("latency_ms", "max"), 2),
    ("service time p50", "ms", ("service_time_ms", "p50"), 2),
    ("dispatch lag p99", "ms", ("dispatch_lag_ms", "p99"), 3),
    ("error rate", "%", ("error_rate",), 3),
)


@dataclass(frozen=True)
class MetricRow:
    """One metric across the valid trials of a scenario."""

    label: str
    unit: str
    median: float | None
    low: float | None
    high: float | None
    cv_percent: float | None
    digits: int


def _dig(data: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return None if value is None else float(value)


def _row(label: str, unit: str, values: list[float], digits: int) -> MetricRow:
    if unit == "%":
        values = [v * 100 for v in values]
    if not values:
        return MetricRow(label, unit, None, None, None, None, digits)
    mean = statistics.fmean(values)
    cv = statistics.stdev(values) / mean * 100 if len(values) > 1 and mean > 0 else None
    return MetricRow(label, unit, statistics.median(values), min(values), max(values), cv, digits)


def summarize_scenarios(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Per scenario: the aggregated rows, trial counts, and why any trial was invalid."""
    out = []
    for scenario in doc["scenarios"]:
        trials = scenario["trials"]
        valid = [t for t in trials if t["valid"]]
        rows = [
            _row(label, unit, [v for t in valid if (v := _dig(t, path)) is not None], digits)
            for label, unit, path, digits in _ROWS
        ]
        errors: dict[str, int] = {}
        for t in valid:
            for name, n in t["errors"].items():
                errors[name] = errors.get(name, 0) + n
        out.append(
            {
                "name": scenario["name"],
                "load": scenario["load"],
                "rows": rows,
                "trials": len(trials),
                "valid": len(valid),
                "invalid": [
                    {"trial": t["trial"], "reasons": t["invalid_reasons"]}
                    for t in trials
                    if not t["valid"]
                ],
                "errors": errors,
                "requests": sum(t["counts"]["scheduled"] for t in valid),
            }
        )
    return out


def md_escape(value: object) -> str:
    """Make any user-controlled text safe inside a markdown table cell or line."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_{}[]#!|~":
        text = text.replace(ch, "\\" + ch)
    # A zero-width joiner keeps `@name` and `#123` from pinging people or linking issues.
    return text.replace("@", "@\u2060")


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("benchaction", "report/templates"),
    autoescape=False,  # markdown, not HTML: user text goes through md_escape instead
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
ENV.filters["md"] = md_escape
ENV.filters["num"] = _fmt


def render_markdown(doc: dict[str, Any]) -> str:
    """The human report of one results document (complete or partial)."""
    cold = [i["cold_start_s"] for i in doc["instances"] if i["cold_start_s"] is not None]
    return ENV.get_template("report.md.j2").render(
        doc=doc,
        scenarios=summarize_scenarios(doc),
        cold_start=_row("cold start", "s", cold, 2) if cold else None,
    )
