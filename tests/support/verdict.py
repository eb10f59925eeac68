"""The second half of the action's flow as the action runs it: baseline, judge, publish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchaction.flow.verdict import (
    Baseline,
    Channels,
    GitHubTarget,
    github_baseline,
    judge,
    publish,
)
from benchaction.github import GitHubClient, pull_request_from_event
from benchaction.results import ResultsDocument
from benchaction.stats import Comparison, StatsSettings


@dataclass(frozen=True)
class Reported:
    """The verdict's comparison and baseline, and what became of the comment and the check."""

    comparison: Comparison
    baseline: Baseline
    comment: str
    check: str


def report(
    head: ResultsDocument,
    client: GitHubClient,
    event: dict[str, Any],
    tmp_path: Path,
    *,
    run_id: str = "99",
    log: Callable[[str], None] = print,
    same_job_base: ResultsDocument | None = None,
    outputs: bool = True,
) -> Reported:
    """Judge `head` against the artifact baseline (or a same-job base) and publish it all."""
    target = GitHubTarget(
        client=client,
        repository=event["repository"]["full_name"],
        repository_id=event["repository"]["id"],
        server_url="https://github.com",
        run_id=run_id,
        pr=pull_request_from_event(event),
    )
    baseline = (
        Baseline.same_job(same_job_base)
        if same_job_base is not None
        else github_baseline(target, "bench-results", log)
    )
    verdict = judge(head, baseline, StatsSettings(), run_url=target.run_url)
    channels = Channels(
        summary_path=tmp_path / "summary.md",
        output_path=tmp_path / "output" if outputs else None,
        github=target,
    )
    published = publish(verdict.texts, channels, log)
    return Reported(verdict.comparison, verdict.baseline, published.comment, published.check)
