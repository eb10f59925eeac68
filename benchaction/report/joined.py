"""One comment for several runners: a table of their verdicts, then each runner's own comparison,
the whole kept under GitHub's comment limit by giving each section an equal share of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchaction.report.comment import Provenance, render_comment, render_summary
from benchaction.report.comparison import EMOJI
from benchaction.report.markdown import ENV
from benchaction.results import ResultsDocument
from benchaction.stats import Comparison

__all__ = ["RunnerSection", "render_joined_comment", "render_joined_summary"]

JOINED_EMOJI = {**EMOJI, "error": "❌"}
_CUT = "\n\n(cut to GitHub's comment size limit; see the job summary)\n"


@dataclass(frozen=True)
class RunnerSection:
    """One runner's part: its comparison, or the text of a run that did not finish (`failure`)."""

    runner: str  # its labels, as the heading names it
    setup: str  # its GPU and CPU, from the head's fingerprint
    verdict: str  # a comparison verdict, or "error"
    failed: bool = False
    comparison: Comparison | None = None
    base: ResultsDocument | None = None
    head: ResultsDocument | None = None
    provenance: Provenance | None = None
    no_baseline_reason: str | None = None
    failure: str | None = None


def _body(section: RunnerSection, limit: int, summary_url: str | None, *, full: bool) -> str:
    if section.comparison is None or section.head is None:
        text = section.failure or ""
        return text if len(text) <= limit else text[: max(0, limit - len(_CUT))] + _CUT
    if full:
        return render_summary(
            section.comparison,
            section.base,
            section.head,
            provenance=section.provenance,
            no_baseline_reason=section.no_baseline_reason,
        )
    return render_comment(
        section.comparison,
        section.base,
        section.head,
        marker="",
        provenance=section.provenance,
        no_baseline_reason=section.no_baseline_reason,
        summary_url=summary_url,
        limit=limit,
    ).strip()


def _render(
    sections: Sequence[RunnerSection], bodies: Sequence[str], marker: str, verdict: str
) -> str:
    return ENV.get_template("joined.md.j2").render(
        marker=marker,
        verdict=verdict,
        failed=any(s.failed for s in sections),
        sections=sections,
        bodies=list(zip(sections, bodies, strict=True)),
        emoji=JOINED_EMOJI,
    )


def render_joined_comment(
    sections: Sequence[RunnerSection],
    *,
    verdict: str,
    marker: str,
    summary_url: str | None,
    limit: int,
) -> str:
    """The PR comment for several runners under the overall `verdict`, never longer than
    `limit` characters: past it, each section gets an equal share (and drops details first)."""
    bodies = [_body(s, limit, summary_url, full=False) for s in sections]
    text = _render(sections, bodies, marker, verdict)
    if len(text) <= limit:
        return text
    frame = len(_render(sections, [""] * len(sections), marker, verdict))
    share = max(0, (limit - frame) // max(1, len(sections)))
    bodies = [_body(s, share, summary_url, full=False) for s in sections]
    return _render(sections, bodies, marker, verdict)


def render_joined_summary(sections: Sequence[RunnerSection], *, verdict: str) -> str:
    """The job summary for several runners: every section with all its details."""
    bodies = [_body(s, 1 << 20, None, full=True).strip() for s in sections]
    return _render(sections, bodies, "", verdict)
