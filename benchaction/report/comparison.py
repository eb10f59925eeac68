"""The comparison as markdown: one actionable line, then the table, gates and setup differences."""

from __future__ import annotations

from typing import Any

from benchaction.report.markdown import ENV
from benchaction.results import ResultsDocument
from benchaction.stats import SERVER_ROWS, Comparison, MetricComparison

__all__ = ["EMOJI", "comparison_context", "render_comparison", "tradeoffs"]

_SPEED = ("throughput_rps", "latency_p50_ms", "output_tokens_per_s", "ttft_p50_ms")
"""The rows that say faster or slower, for the speed-versus-accuracy sentence."""
EMOJI = {"regression": "🔴", "improvement": "🟢", "unchanged": "⚪", "inconclusive": "🟡"}


def _value(row: MetricComparison, v: float | None) -> str:
    if v is None:
        return "–"
    if row.scope == "example":  # accuracy: a rate as a percentage, an error as measured
        return f"{v:.4g}" if row.change is not None and row.change.log_scale else f"{v * 100:.1f} %"
    if row.metric == "error_rate":
        return f"{v * 100:.2f} %"
    if 0 < abs(v) < 0.01:  # energy per token, say: three significant digits, not "0.00"
        return f"{v:.3g} {row.unit}".strip()
    return f"{v:,.2f} {row.unit}".strip()


def _change(row: MetricComparison) -> str:
    if row.delta is not None:  # exact: no interval to show
        return f"{row.delta * 100:+.1f} % exact"
    c = row.change
    if c is None:
        return "–"
    if c.log_scale:
        return f"{c.estimate * 100:+.1f} % [{c.ci_low * 100:+.1f}, {c.ci_high * 100:+.1f}]"
    return f"{c.estimate * 100:+.2f} pp [{c.ci_low * 100:+.2f}, {c.ci_high * 100:+.2f}]"


def _headline(comparison: Comparison) -> MetricComparison | None:
    """The row a reviewer should look at first: among the primary rows that carry the verdict,
    the largest change for its threshold."""
    rows = [
        r
        for r in comparison.rows
        if r.estimate is not None and r.primary and r.verdict == comparison.verdict
    ]
    if not rows:
        return None

    def size(r: MetricComparison) -> float:
        return abs(r.estimate or 0.0) / max(r.threshold, 1e-12)

    return max(rows, key=size)


def _pct(row: MetricComparison) -> str:
    return f"{(row.estimate or 0.0) * 100:+.1f} %"


def tradeoffs(comparison: Comparison) -> list[str]:
    """Per scenario, in plain words, a change that is faster but less accurate (or the reverse):
    throughput or latency improved while the accuracy row regressed, or the other way round."""
    out = []
    for acc in (r for r in comparison.rows if r.scope == "example" and r.change is not None):
        speed = [
            r
            for r in comparison.rows
            if r.scenario == acc.scenario and r.metric in _SPEED and r.verdict != "unchanged"
        ]
        if not speed or acc.verdict not in ("regression", "improvement"):
            continue
        faster = [r for r in speed if r.verdict == "improvement"]
        slower = [r for r in speed if r.verdict == "regression"]
        shown = _change(acc).split(" [")[0]
        if acc.verdict == "regression" and faster and not slower:
            parts = ", ".join(f"{r.label} {_pct(r)}" for r in faster)
            out.append(f"{acc.scenario}: faster but less accurate: {parts}, {acc.label} {shown}")
        elif acc.verdict == "improvement" and slower and not faster:
            parts = ", ".join(f"{r.label} {_pct(r)}" for r in slower)
            out.append(f"{acc.scenario}: more accurate but slower: {parts}, {acc.label} {shown}")
    return out


def comparison_context(
    comparison: Comparison, base: ResultsDocument | None, head: ResultsDocument
) -> dict[str, Any]:
    """What the comparison templates read; shared by the CLI report, the comment and the summary."""
    rows = [
        {
            "row": r,
            "emoji": EMOJI[r.verdict],
            "base": _value(r, r.base_center),
            "head": _value(r, r.head_center),
            "change": _change(r),
        }
        for r in comparison.rows
    ]
    worst = _headline(comparison)
    # Rows whose threshold is their own (resource metrics, overrides), for the footnote.
    own: dict[str, str] = {}
    for r in comparison.rows:
        if r.scope == "example":
            continue  # the footnote's accuracy sentence says how those are decided
        if r.metric != "error_rate" and r.threshold != comparison.settings.threshold:
            exact = ", exact" if r.exact else ""
            own.setdefault(r.label, f"{r.label} {r.threshold * 100:g} %{exact}")
    return {
        "c": comparison,
        "emoji": EMOJI,
        "rows": rows,
        "worst": None if worst is None else {"row": worst, "change": _change(worst)},
        "base": base,
        "head": head,
        "confidence": f"{comparison.settings.confidence:.0%}",
        "own_thresholds": list(own.values()),
        "server_rows": SERVER_ROWS
        if any(r.scenario == SERVER_ROWS for r in comparison.rows)
        else None,
        "hidden_rows": 0,
        "summary_url": None,
        "tradeoffs": tradeoffs(comparison),
        "accuracy_rows": any(r.scope == "example" for r in comparison.rows),
    }


def render_comparison(
    comparison: Comparison, base: ResultsDocument | None, head: ResultsDocument
) -> str:
    """The comparison report; `base` None means there was no baseline to compare with."""
    return ENV.get_template("comparison.md.j2").render(**comparison_context(comparison, base, head))
