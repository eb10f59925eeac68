"""The markdown report: per scenario, trials aggregated to the comparison's center (the geometric
mean) and their spread; sweeps as a throughput-latency table and chart."""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from typing import Any

import jinja2

from benchaction.report.server_metrics import server_metric_notes, server_metric_rows
from benchaction.results import (
    ERROR_RATE,
    THROUGHPUT,
    MetricDef,
    ResultsDocument,
    ScenarioResults,
    Trial,
    describe_accuracy,
    metric_by_name,
)
from benchaction.stats import center
from benchaction.stats.repetitions import recommend

__all__ = [
    "ENV",
    "MetricRow",
    "md_escape",
    "render_markdown",
    "summarize_scenarios",
    "summarize_sweeps",
]

# (label, unit, where in a trial, digits, shown even when no trial has it). Where: a compared
# metric's catalogue entry (so the table reads what the verdict reads), or a path to a stored value.
_ROWS: tuple[tuple[str, str, MetricDef | tuple[str, ...], int, bool], ...] = (
    ("throughput", "req/s", THROUGHPUT, 1, True),
    ("offered rate", "req/s", ("offered_rps",), 1, False),
    ("achieved send rate", "req/s", ("achieved_send_rps",), 1, False),
    ("output tokens", "tok/s", ("output_tokens_per_s",), 1, False),
    ("goodput", "req/s", ("goodput_rps",), 1, False),
    ("SLO attainment", "%", ("slo_attainment",), 2, False),
    ("latency p50", "ms", ("latency_ms", "p50"), 2, True),
    ("latency p90", "ms", ("latency_ms", "p90"), 2, True),
    ("latency p99", "ms", ("latency_ms", "p99"), 2, True),
    ("latency mean", "ms", ("latency_ms", "mean"), 2, True),
    ("latency max", "ms", ("latency_ms", "max"), 2, True),
    ("TTFT p50", "ms", ("ttft_ms", "p50"), 2, False),
    ("TTFT p99", "ms", ("ttft_ms", "p99"), 2, False),
    ("TPOT p50", "ms", ("tpot_ms", "p50"), 3, False),
    ("TPOT p99", "ms", ("tpot_ms", "p99"), 3, False),
    ("ITL p99 per event", "ms", ("itl_ms", "p99"), 3, False),
    ("service time p50", "ms", ("service_time_ms", "p50"), 2, True),
    ("dispatch lag p99", "ms", ("dispatch_lag_ms", "p99"), 3, True),
    ("error rate", "%", ERROR_RATE, 3, True),
    (
        "GPU utilisation",
        "% of time",
        ("telemetry", "gpu", "total", "utilization_gpu_mean_pct"),
        1,
        False,
    ),
    ("GPU power mean", "W", ("telemetry", "gpu", "total", "power_mean_w"), 1, False),
    ("GPU memory peak", "MiB", metric_by_name("gpu_memory_peak_mib"), 1, False),
    ("GPU energy per request", "J", metric_by_name("energy_per_request_j"), 3, False),
    ("GPU energy per output token", "J", metric_by_name("energy_per_output_token_j"), 4, False),
    ("server CPU mean", "% of a core", ("telemetry", "container", "cpu_mean_pct"), 1, False),
    ("server memory peak", "MiB", metric_by_name("memory_peak_mib"), 1, False),
)


@dataclass(frozen=True)
class MetricRow:
    """One metric across the valid trials of a scenario."""

    label: str
    unit: str
    center: float | None  # as the comparison reads a side: geometric mean (mean if any is 0)
    low: float | None
    high: float | None
    cv_percent: float | None
    digits: int


def _dig(data: Trial, path: MetricDef | tuple[str, ...]) -> float | None:
    if isinstance(path, MetricDef):
        return path.read(data)
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
    middle = center(values, log_scale=min(values) > 0)
    return MetricRow(label, unit, middle, min(values), max(values), cv, digits)


def _reason(skipped: str | None) -> str | None:
    """Why a sweep level was not run, without the "not run:" the report already says."""
    return None if skipped is None else skipped.removeprefix("not run: ")


def _span(values: list[float], digits: int) -> str:
    low, high = min(values), max(values)
    return f"{low:.{digits}f}" if high == low else f"{low:.{digits}f}–{high:.{digits}f}"


def _warmup(trials: list[Trial]) -> str | None:
    """How the trials' steady warmups ended, in words (None when no trial warmed up until steady)."""
    runs = [w for t in trials if (w := t.get("warmup")) is not None and w["mode"] == "steady"]
    parts = []
    for ended, words in ((True, "steady"), (False, "not steady, stopped at the maximum")):
        these = [w for w in runs if bool(w["steady"]) is ended]
        if not these:
            continue
        seconds = [w["seconds"] for w in these if w["seconds"] is not None]
        after = f" after {_span(seconds, 1)} s" if seconds else ""
        windows = _span([float(len(w["windows"])) for w in these], 0)
        of = f" in {len(these)} of {len(trials)} trials" if len(trials) > 1 else ""
        parts.append(f"{words}{of}{after} ({windows} windows)")
    return "; ".join(parts) or None


def _noise(doc: ResultsDocument, section: ScenarioResults) -> str | None:
    """Where more repetitions would help most, from the slices of the valid trials (Kalibera
    and Jones); None without two valid trials that carry slices."""
    valid = [t for t in section["trials"] if t["valid"] and t.get("slices")]
    if len(valid) < 2:
        return None
    starts = [i["cold_start_s"] for i in doc["instances"] if i["cold_start_s"] is not None]
    overhead = (statistics.median(starts) if starts else 0.0) + float(
        section["load"].get("warmup_s") or 0.0
    )
    slice_s = float(valid[0]["slices"]["seconds"])
    parts = []
    for key, label in (("latency_p50_ms", "p50"), ("throughput_rps", "throughput")):
        rec = recommend(key, [t["slices"][key] for t in valid], slice_s, overhead)
        if rec is None:
            continue
        parts.append(
            f"{label} varies {rec.between_cv * 100:.1f} % between trials and "
            f"{rec.within_cv * 100:.1f} % between {slice_s:.2g} s slices of one; a "
            f"{rec.window_s:.3g} s window{' (10x today: longer helps most)' if rec.capped else ''} "
            f"and {rec.trials} trials a side would resolve ±5 % "
            f"(now {rec.current_window_s:.3g} s, {rec.current_trials})"
        )
    return "; ".join(parts) or None


def _accuracy(section: ScenarioResults) -> str | None:
    """The labelled set's score, beside the speed rows: value, examples, failed answers."""
    acc = section.get("accuracy")
    if acc is None:
        return None
    failures = "; ".join(f"example {f['example']}: {f['reason']}" for f in acc["failures"][:3])
    text = describe_accuracy(acc).split(";")[0]
    if acc["failed"]:
        text += (
            f"; {acc['failed']} answer(s) failed ({failures}{', …' if acc['failed'] > 3 else ''})"
        )
    return f"{text} (file {acc['file']}, scored after the trials in {acc['duration_s']:.2g} s)"


def summarize_scenarios(doc: ResultsDocument) -> list[dict[str, Any]]:
    """Per scenario: the aggregated rows, trial counts, and why any trial was invalid."""
    out = []
    for scenario in doc["scenarios"]:
        trials = scenario["trials"]
        valid = [t for t in trials if t["valid"]]
        rows = [
            _row(label, unit, [v for t in valid if (v := _dig(t, path)) is not None], digits)
            for label, unit, path, digits, always in _ROWS
            if always or any(_dig(t, path) is not None for t in trials)
        ]
        errors: dict[str, int] = {}
        for t in valid:
            for name, n in t["errors"].items():
                errors[name] = errors.get(name, 0) + n
        out.append(
            {
                "name": scenario["name"],
                "load": scenario["load"],
                "sweep": scenario.get("sweep"),
                "skipped": _reason(scenario.get("skipped")),
                "warmup": _warmup(trials),
                "noise": _noise(doc, scenario),
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
                "server_metrics": server_metric_rows(valid),
                "server_metric_notes": server_metric_notes(trials),
                "accuracy": _accuracy(scenario),
            }
        )
    return out


def _sweep_chart(name: str, points: list[dict[str, Any]], y_label: str) -> str | None:
    """A Mermaid xychart of a tail latency against the throughput each load level reached."""
    drawn = [p for p in points if p["throughput"] is not None and p["y"] is not None]
    if len(drawn) < 2:
        return None
    labels = ", ".join(f'"{p["throughput"]:.3g} at {p["level"]}"' for p in drawn)
    ys = ", ".join(f"{p['y']:.3g}" for p in drawn)
    top = max(p["y"] for p in drawn) * 1.15
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'    title "{re.sub(r"[^A-Za-z0-9._ -]", "_", name)}: {y_label} vs throughput"',
            f'    x-axis "throughput (req/s) at each level" [{labels}]',
            f'    y-axis "{y_label} (ms)" 0 --> {top:.3g}',
            f"    line [{ys}]",
            "```",
        ]
    )


def summarize_sweeps(scenarios: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scenarios run at several load levels, grouped: one row per level, and a chart."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in scenarios:
        if s["sweep"] is not None:
            groups.setdefault(s["sweep"]["of"], []).append(s)
    out = []
    for name, members in groups.items():
        key = members[0]["sweep"]["key"]
        streaming = any(r.label == "TTFT p99" for s in members for r in s["rows"])
        y_label = "TTFT p99" if streaming else "latency p99"
        points = []
        for s in members:
            by = {r.label: r.center for r in s["rows"]}
            value = s["sweep"]["value"]
            points.append(
                {
                    "value": value,
                    "level": f"c={value:g}" if key == "concurrency" else f"{value:g}/s",
                    "throughput": by["throughput"],
                    "p50": by["latency p50"],
                    "p99": by["latency p99"],
                    "ttft_p99": by.get("TTFT p99"),
                    "error_rate": by["error rate"],
                    "y": by.get(y_label),
                    "valid": s["valid"],
                    "trials": s["trials"],
                    "skipped": s["skipped"],
                }
            )
        chart = _sweep_chart(name, points, y_label)
        out.append(
            {"name": name, "key": key, "streaming": streaming, "points": points, "chart": chart}
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


def _significant(value: float | None) -> str:
    """Four significant digits; whole numbers from 1,000 up with separators, no exponents."""
    if value is None or math.isnan(value):
        return "–"
    if 1000 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.4g}"


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
ENV.filters["sig"] = _significant


def render_markdown(doc: ResultsDocument) -> str:
    """The human report of one results document (complete or partial)."""
    cold = [i["cold_start_s"] for i in doc["instances"] if i["cold_start_s"] is not None]
    scenarios = summarize_scenarios(doc)
    return ENV.get_template("report.md.j2").render(
        doc=doc,
        scenarios=scenarios,
        sweeps=summarize_sweeps(scenarios),
        streaming=any(r.label == "TTFT p50" for s in scenarios for r in s["rows"]),
        cold_start=_row("cold start", "s", cold, 2) if cold else None,
    )
