"""Everything the action says on GitHub after a run, in order: baseline, verdict, summary, outputs,
sticky comment, check. Each write that the token may not do is skipped with a notice, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchaction.github.baseline import BaselineResult, find_baseline
from benchaction.github.client import GitHubClient, GitHubError, PermissionDenied
from benchaction.github.commands import append_summary, set_output
from benchaction.github.publish import (
    Conclusion,
    publish_check,
    pull_request_from_event,
    should_write,
    upsert_comment,
)
from benchaction.report.comment import comment_marker, render_comment, render_summary
from benchaction.stats import Comparison, StatsSettings, compare_documents

__all__ = ["SAME_JOB_NOTE", "GitHubContext", "ReportOutcome", "ReportSettings", "report_to_github"]

SAME_JOB_NOTE = "ran in the same job (A/B), base and head trials interleaved on this runner"


@dataclass(frozen=True)
class GitHubContext:
    """The parts of the runner's environment this step needs; built once by the entrypoint."""

    repository: str
    repository_id: int
    server_url: str
    run_id: str
    sha: str
    event: Mapping[str, Any] | None = None
    ref_name: str | None = None
    output_path: Path | None = None
    summary_path: Path | None = None


@dataclass(frozen=True)
class ReportSettings:
    """What to publish: the baseline artifact to look for, and which writes are wanted."""

    artifact_name: str = "bench-results"
    comment: bool = True
    check: bool = True
    check_name: str = "bench-action"


@dataclass(frozen=True)
class ReportOutcome:
    """What happened, for the exit code and the log."""

    comparison: Comparison
    baseline: BaselineResult | None
    comment: str  # "created" | "updated" | "skipped: <why>"
    check: str  # "check-run" | "status" | "none" | "skipped: <why>"


def _conclusion(c: Comparison) -> Conclusion:
    if c.failed:
        return "failure"
    return "neutral" if c.verdict == "inconclusive" else "success"


def _outputs(c: Comparison, head: Mapping[str, Any]) -> dict[str, str]:
    out = {"verdict": c.verdict, "failed": "true" if c.failed else "false"}
    first = head["scenarios"][0]["name"] if head["scenarios"] else None
    for row in c.rows:
        if row.scenario == first and row.metric in (
            "latency_p50_ms",
            "latency_p99_ms",
            "throughput_rps",
        ):
            out[f"head-{row.metric.replace('_', '-')}"] = f"{row.head_median:.6g}"
            if row.change is not None:
                out[f"change-{row.metric.replace('_', '-')}"] = f"{row.change.estimate:.6g}"
    return out


def _merge_base(
    client: GitHubClient, repository: str, base_ref: str, head_sha: str, log: Callable[[str], None]
) -> str | None:
    """The merge-base commit of the PR (compare API); its base-branch run is the fairest baseline."""
    try:
        data = client.get_json(f"/repos/{repository}/compare/{base_ref}...{head_sha}")
        sha = data["merge_base_commit"]["sha"]
    except (GitHubError, KeyError, TypeError) as exc:
        log(f"baseline: merge base unknown ({exc}); using the newest base-branch run")
        return None
    return str(sha)


def report_to_github(
    head: Mapping[str, Any],
    client: GitHubClient,
    context: GitHubContext,
    stats: StatsSettings,
    settings: ReportSettings,
    *,
    log: Callable[[str], None] = print,
    same_job_base: Mapping[str, Any] | None = None,
) -> ReportOutcome:
    """Find the baseline, compare, and publish; the job summary and outputs are always written.

    `same_job_base` (A/B mode) is a base measured in this job: no artifact is looked up then.
    """
    pr = pull_request_from_event(context.event) if context.event else None
    baseline: BaselineResult | None = None
    if same_job_base is not None:
        baseline = BaselineResult(dict(same_job_base), None, None)
    elif pr is not None:
        merge_base = _merge_base(client, context.repository, pr.base_ref, pr.head_sha, log)
        baseline = find_baseline(
            client,
            repository=context.repository,
            repository_id=context.repository_id,
            base_branch=pr.base_ref,
            artifact_name=settings.artifact_name,
            merge_base_sha=merge_base,
            server_url=context.server_url,
        )
        for line in baseline.skipped:
            log(f"baseline: skipped {line}")
    no_base = (
        baseline.reason if baseline is not None else "not a pull request: nothing to compare with"
    )
    base_doc = baseline.document if baseline is not None else None
    comparison = compare_documents(base_doc, head, stats)
    provenance: dict[str, Any] | None = None
    if same_job_base is not None:
        provenance = {"note": SAME_JOB_NOTE}
    elif baseline is not None and baseline.provenance is not None:
        p = baseline.provenance
        provenance = {
            "run_id": p.run_id,
            "run_url": p.run_url,
            "branch": p.branch,
            "sha": p.sha,
            "created_at": p.created_at,
        }
    head_doc = dict(head)
    no_baseline_reason = None if base_doc else no_base
    summary = render_summary(
        comparison, base_doc, head_doc, provenance=provenance, no_baseline_reason=no_baseline_reason
    )
    if context.summary_path is not None:
        append_summary(context.summary_path, summary)
    if context.output_path is not None:
        for name, value in _outputs(comparison, head).items():
            set_output(context.output_path, name, value)
    writable, why = should_write(pr)
    comment = check = f"skipped: {why}"
    if not writable:
        log(f"not writing to GitHub: {why}")
    if writable and pr is not None and settings.comment:
        body = render_comment(
            comparison,
            base_doc,
            head_doc,
            marker=comment_marker(str(head["config"]["name"])),
            provenance=provenance,
            no_baseline_reason=no_baseline_reason,
            summary_url=f"{context.server_url}/{context.repository}/actions/runs/{context.run_id}",
        )
        try:
            comment, _ = upsert_comment(
                client,
                repository=context.repository,
                pr_number=pr.number,
                marker=comment_marker(str(head["config"]["name"])),
                body=body,
            )
        except PermissionDenied as exc:
            comment = "skipped: no permission"
            log(f"could not comment on the pull request: {exc}")
        except GitHubError as exc:  # 422 and friends: the results still stand in the summary
            comment = f"failed: HTTP {exc.status}"
            log(f"could not comment on the pull request: {exc}")
    if writable and pr is not None and settings.check:
        check = publish_check(
            client,
            repository=context.repository,
            head_sha=pr.head_sha,  # the PR head, not GITHUB_SHA (the merge commit)
            name=settings.check_name,
            conclusion=_conclusion(comparison),
            title=f"bench-action: {comparison.verdict}",
            summary=summary,  # publish_check fits it to the check run's limit
            log=log,
        )
    return ReportOutcome(comparison, baseline, comment, check)
