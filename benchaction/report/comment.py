"""The sticky PR comment and the job summary: the comparison first, details after, within size limits.

GitHub refuses comment bodies over 65,536 characters; the comment drops its per-scenario
details first, then table rows, and points to the job summary, which carries everything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypedDict

from benchaction.report.comparison import comparison_context
from benchaction.report.markdown import (
    CHART_COLOURS,
    ENV,
    md_escape,
    mermaid_palette,
    summarize_scenarios,
)
from benchaction.results import ResultsDocument, metric_by_name
from benchaction.stats import Comparison, side_center

__all__ = ["Provenance", "comment_marker", "render_comment", "render_failure", "render_summary"]


class Provenance(TypedDict, total=False):
    """Where the baseline came from: a base-branch run (its link and commit), or a note."""

    note: str
    run_id: int
    run_url: str
    branch: str
    sha: str
    created_at: str
    history: str  # main's last change point, in words ("latency p50 is 12.0 % slower since ...")


DETAIL_LIMIT = 20_000  # characters of an error shown in a comment; the log has all of it
PROBLEM_LIMIT = 50  # config problems listed in a comment; the log has all of them

_CHART_PERCENTILES = ("p50", "p90", "p99")


def comment_marker(config_name: str) -> str:
    """The hidden marker that finds our earlier comment: one sticky comment per PR and config."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", config_name)[:64]
    return f"<!-- bench-action:{safe} -->"


def _latency_centers(doc: ResultsDocument | None) -> dict[str, list[float]]:
    """Per scenario, p50, p90 and p99 latency as the table shows them (only complete sets)."""
    out: dict[str, list[float]] = {}
    for s in doc["scenarios"] if doc is not None else []:
        values = [
            side_center(s["trials"], metric_by_name(f"latency_{p}_ms")) for p in _CHART_PERCENTILES
        ]
        if all(v is not None for v in values):
            out[s["name"]] = [float(v) for v in values if v is not None]
    return out


def _chart(
    scenario: str, base: list[float] | None, head: list[float] | None
) -> dict[str, str] | None:
    """A Mermaid xychart of latency percentiles (the table's centers), bars base and line head,
    and the caption that says which is which."""
    if head is None:
        return None
    top = max(head + (base or [])) * 1.15
    palette = ([CHART_COLOURS["base"]] if base is not None else []) + [CHART_COLOURS["head"]]
    lines = [
        "```mermaid",
        *mermaid_palette(*palette),
        "xychart-beta",
        f'    title "{re.sub(r"[^A-Za-z0-9._ -]", "_", scenario)}: latency (ms)"',
        f"    x-axis [{', '.join(_CHART_PERCENTILES)}]",
        f'    y-axis "ms" 0 --> {top:.3g}',
    ]
    if base is not None:
        lines.append(f"    bar [{', '.join(f'{v:.3g}' for v in base)}]")
    lines.append(f"    line [{', '.join(f'{v:.3g}' for v in head)}]")
    lines.append("```")
    caption = "Grey bars: base, blue line: head" if base is not None else "Blue line: head, no base"
    return {"code": "\n".join(lines), "caption": caption}


def _render(
    template: str,
    comparison: Comparison,
    base: ResultsDocument | None,
    head: ResultsDocument,
    *,
    marker: str,
    provenance: Provenance | None,
    no_baseline_reason: str | None,
    summary_url: str | None,
    details: bool,
    max_rows: int | None,
) -> str:
    ctx = comparison_context(comparison, base, head)
    hidden = 0
    if max_rows is not None and len(ctx["rows"]) > max_rows:
        hidden = len(ctx["rows"]) - max_rows
        ctx["rows"] = ctx["rows"][:max_rows]
    scenarios = summarize_scenarios(head) if details else []
    if scenarios:
        b, h = _latency_centers(base), _latency_centers(head)
        charts = {
            s["name"]: _chart(s["name"], b.get(s["name"]), h.get(s["name"])) for s in scenarios
        }
    else:
        charts = {}
    ctx.update(
        marker=marker,
        provenance=provenance,
        no_baseline_reason=no_baseline_reason,
        summary_url=summary_url,
        scenarios=scenarios,
        charts=charts,
        hidden_rows=hidden,
    )
    return ENV.get_template(template).render(**ctx)


def render_comment(
    comparison: Comparison,
    base: ResultsDocument | None,
    head: ResultsDocument,
    *,
    marker: str,
    provenance: Provenance | None = None,
    no_baseline_reason: str | None = None,
    summary_url: str | None = None,
    limit: int,
) -> str:
    """The PR comment body, never longer than `limit` characters."""
    kw: dict[str, Any] = {
        "marker": marker,
        "provenance": provenance,
        "no_baseline_reason": no_baseline_reason,
        "summary_url": summary_url,
    }
    body = _render("comment.md.j2", comparison, base, head, details=True, max_rows=None, **kw)
    if len(body) <= limit:
        return body
    body = _render("comment.md.j2", comparison, base, head, details=False, max_rows=None, **kw)
    rows = len(comparison.rows)
    while len(body) > limit and rows > 0:
        rows = rows // 2
        body = _render("comment.md.j2", comparison, base, head, details=False, max_rows=rows, **kw)
    if len(body) > limit:  # only hostile input gets here: cut hard, keep the marker
        note = "\n\n(cut to GitHub's comment size limit; see the job summary)\n"
        body = body[: limit - len(note) - len(marker) - 1] + note + marker + "\n"
    return body


def render_summary(
    comparison: Comparison,
    base: ResultsDocument | None,
    head: ResultsDocument,
    *,
    provenance: Provenance | None = None,
    no_baseline_reason: str | None = None,
) -> str:
    """The job summary: the comment's content with every detail (1 MiB allows it)."""
    return _render(
        "comment.md.j2",
        comparison,
        base,
        head,
        marker="",
        provenance=provenance,
        no_baseline_reason=no_baseline_reason,
        summary_url=None,
        details=True,
        max_rows=None,
    )


def render_failure(
    marker: str,
    title: str,
    detail: str,
    partial: ResultsDocument | None,
    run_url: str | None,
    *,
    problems: Sequence[str] = (),
) -> str:
    """The comment and summary of a run that did not finish: what failed, and its own words.

    `problems` (a config's, one a line) are listed as wrapping text; any other detail is a block.
    """
    lines = [marker] if marker else []
    lines += [f"### ❌ bench-action: {title}", ""]
    if problems:
        shown = list(problems[:PROBLEM_LIMIT])
        lines += [f"- {md_escape(p[: DETAIL_LIMIT // PROBLEM_LIMIT])}" for p in shown]
        if len(problems) > len(shown):
            lines.append(f"- … and {len(problems) - len(shown)} more (see the job log)")
        lines.append("")
    else:
        if len(detail) > DETAIL_LIMIT:
            detail = detail[:DETAIL_LIMIT] + "\n… (cut; see the job log)"
        fence = "```"
        while fence in detail:
            fence += "`"
        lines += [f"{fence}text", detail, fence, ""]
    if partial is not None:
        done = sum(len(s["trials"]) for s in partial["scenarios"])
        lines.append(
            f"Scenario trials finished before it stopped: {done} (kept in the results file)."
        )
    if run_url:
        lines.append(f"Details: [job log]({run_url}).")
    return "\n".join(lines) + "\n"
