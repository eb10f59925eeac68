"""The second half of a run, in order: baseline -> comparison -> rendered texts -> publish.

The one place that orders it. `benchaction compare` calls `judge`; the action calls `judge`
(or `failure` when the run did not finish) and then `publish`. The GitHub calls made here post
the texts they are given; a write the token may not do is skipped with a notice, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchaction.github import (
    COMMENT_LIMIT,
    Conclusion,
    GitHubClient,
    GitHubError,
    PermissionDenied,
    PullRequest,
    commands,
    find_baseline,
    publish_check,
    should_write,
    upsert_comment,
)
from benchaction.report import (
    Provenance,
    comment_marker,
    render_comment,
    render_failure,
    render_summary,
)
from benchaction.results import OUTPUT_METRICS, ResultsDocument, metric_by_name
from benchaction.stats import Comparison, StatsSettings, compare_documents, side_center

__all__ = [
    "SAME_JOB_NOTE",
    "Baseline",
    "Channels",
    "GitHubTarget",
    "PublishSettings",
    "Published",
    "Texts",
    "Verdict",
    "failure",
    "github_baseline",
    "judge",
    "output_values",
    "publish",
]

SAME_JOB_NOTE = "ran in the same job (A/B), base and head trials interleaved on this runner"

Log = Callable[[str], None]


@dataclass(frozen=True)
class Baseline:
    """The base side of a comparison: a document, where it came from, or why there is none."""

    document: ResultsDocument | None
    provenance: Provenance | None = None
    missing: str | None = None

    @classmethod
    def same_job(cls, document: ResultsDocument) -> Baseline:
        """A/B mode: the base was measured in this job, interleaved with the head."""
        return cls(document, {"note": SAME_JOB_NOTE})

    @classmethod
    def none(cls, reason: str) -> Baseline:
        return cls(None, None, reason)


@dataclass(frozen=True)
class GitHubTarget:
    """Where on GitHub the texts go: the repository, its pull request, and the client to use."""

    client: GitHubClient
    repository: str
    repository_id: int
    server_url: str
    run_id: str
    pr: PullRequest | None

    @property
    def run_url(self) -> str:
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


@dataclass(frozen=True)
class PublishSettings:
    """What to publish: the baseline artifact to look for, and which writes are wanted."""

    artifact_name: str = "bench-results"
    comment: bool = True
    check: bool = True
    check_name: str = "bench-action"


@dataclass(frozen=True)
class Texts:
    """Everything a run says, rendered: the same for a verdict and for a failure."""

    marker: str  # finds the sticky comment: one per pull request and config
    summary: str
    comment: str
    outputs: Mapping[str, str]
    conclusion: Conclusion
    title: str


@dataclass(frozen=True)
class Verdict:
    """A comparison and its texts; `failed` is the gate's decision (the exit code)."""

    comparison: Comparison
    baseline: Baseline
    texts: Texts

    @property
    def failed(self) -> bool:
        return self.comparison.failed


@dataclass(frozen=True)
class Channels:
    """Where texts are published; each is optional, so the CLI and local runs use the same path."""

    summary_path: Path | None = None
    output_path: Path | None = None
    github: GitHubTarget | None = None
    settings: PublishSettings = field(default_factory=PublishSettings)


@dataclass(frozen=True)
class Published:
    """What happened to the GitHub writes, for the log and the tests."""

    comment: str  # "created" | "updated" | "skipped: <why>" | "failed: ..."
    check: str  # "check-run" | "status" | "none" | "skipped: <why>" | "failed: ..."


def _merge_base(target: GitHubTarget, pr: PullRequest, log: Log) -> str | None:
    """The merge-base commit of the PR (compare API); its base-branch run is the fairest baseline."""
    try:
        data = target.client.get_json(
            f"/repos/{target.repository}/compare/{pr.base_ref}...{pr.head_sha}"
        )
        sha = data["merge_base_commit"]["sha"]
    except (GitHubError, KeyError, TypeError) as exc:
        log(f"baseline: merge base unknown ({exc}); using the newest base-branch run")
        return None
    return str(sha)


def github_baseline(target: GitHubTarget, artifact_name: str, log: Log = print) -> Baseline:
    """The newest base-branch results artifact (the merge base's run preferred), or why none."""
    pr = target.pr
    if pr is None:
        return Baseline.none("not a pull request: nothing to compare with")
    found = find_baseline(
        target.client,
        repository=target.repository,
        repository_id=target.repository_id,
        base_branch=pr.base_ref,
        artifact_name=artifact_name,
        merge_base_sha=_merge_base(target, pr, log),
        server_url=target.server_url,
    )
    for line in found.skipped:
        log(f"baseline: skipped {line}")
    if found.document is None:
        return Baseline.none(found.reason or "no baseline found")
    p = found.provenance
    provenance: Provenance | None = None
    if p is not None:
        provenance = {
            "run_id": p.run_id,
            "run_url": p.run_url,
            "branch": p.branch,
            "sha": p.sha,
            "created_at": p.created_at,
        }
    return Baseline(found.document, provenance)


def output_values(comparison: Comparison | None, head: ResultsDocument) -> dict[str, str]:
    """The action's outputs: verdict, failed, and head value and change of the first scenario."""
    out: dict[str, str] = {}
    if comparison is not None:
        out = {"verdict": comparison.verdict, "failed": "true" if comparison.failed else "false"}
    if not head["scenarios"]:
        return out
    first = head["scenarios"][0]
    for name in OUTPUT_METRICS:
        value = side_center(first["trials"], metric_by_name(name))  # the table's head column
        if value is not None:
            out[f"head-{name.replace('_', '-')}"] = f"{value:.6g}"
    for row in comparison.rows if comparison is not None else []:
        if row.scenario == first["name"] and row.metric in OUTPUT_METRICS and row.change:
            out[f"change-{row.metric.replace('_', '-')}"] = f"{row.change.estimate:.6g}"
    return out


def _conclusion(c: Comparison) -> Conclusion:
    if c.failed:
        return "failure"
    return "neutral" if c.verdict == "inconclusive" else "success"


def judge(
    head: ResultsDocument,
    baseline: Baseline,
    stats: StatsSettings,
    *,
    run_url: str | None = None,
) -> Verdict:
    """Compare head with the baseline and render every text the verdict is told in."""
    base = baseline.document
    comparison = compare_documents(base, head, stats)
    marker = comment_marker(str(head["config"]["name"]))
    missing = None if base else baseline.missing
    summary = render_summary(
        comparison, base, head, provenance=baseline.provenance, no_baseline_reason=missing
    )
    comment = render_comment(
        comparison,
        base,
        head,
        marker=marker,
        provenance=baseline.provenance,
        no_baseline_reason=missing,
        summary_url=run_url,
        limit=COMMENT_LIMIT,
    )
    texts = Texts(
        marker=marker,
        summary=summary,
        comment=comment,
        outputs=output_values(comparison, head),
        conclusion=_conclusion(comparison),
        title=f"bench-action: {comparison.verdict}",
    )
    return Verdict(comparison, baseline, texts)


def failure(
    title: str,
    detail: str,
    partial: ResultsDocument | None,
    config_name: str,
    *,
    run_url: str | None = None,
    problems: Sequence[str] = (),
) -> Texts:
    """The texts of a run that did not finish: what failed, in its own words, and what was kept.

    The marker is the config's name, as on its good runs, so one comment per config is updated.
    """
    marker = comment_marker(config_name)
    return Texts(
        marker=marker,
        summary=render_failure("", title, detail, partial, None, problems=problems),
        comment=render_failure(marker, title, detail, partial, run_url, problems=problems),
        outputs={"verdict": "error", "failed": "true"},
        conclusion="failure",
        title=f"bench-action: {title}",
    )


def _comment(texts: Texts, target: GitHubTarget, pr: PullRequest, log: Log) -> str:
    try:
        how, _ = upsert_comment(
            target.client,
            repository=target.repository,
            pr_number=pr.number,
            marker=texts.marker,
            body=texts.comment,
        )
    except GitHubError as exc:  # refused (403) or rejected (422): the summary still has it all
        warning = f"could not comment on the pull request: {exc}"
        log(commands.command("warning", warning, {"title": "bench-action"}))
        if isinstance(exc, PermissionDenied):
            return "skipped: no permission"
        return f"failed: HTTP {exc.status}"
    return how


def _check(texts: Texts, target: GitHubTarget, pr: PullRequest, name: str, log: Log) -> str:
    """The check run (or a commit status); a GitHubError after retries reaches the caller."""
    return publish_check(
        target.client,
        repository=target.repository,
        head_sha=pr.head_sha,  # the PR head, not GITHUB_SHA (the merge commit)
        name=name,
        conclusion=texts.conclusion,
        title=texts.title,
        summary=texts.summary,  # publish_check fits it to the check run's limit
        log=log,
    )


def publish(texts: Texts, channels: Channels, log: Log = print) -> Published:
    """Job summary and outputs always; then the sticky comment and the check, where allowed.

    Refused writes are skipped with a notice; a check that GitHub keeps failing raises GitHubError.
    """
    if channels.summary_path is not None:
        commands.append_summary(channels.summary_path, texts.summary)
    if channels.output_path is not None:
        for name, value in texts.outputs.items():
            commands.set_output(channels.output_path, name, value)
    target = channels.github
    if target is None:
        return Published("skipped: not in a GitHub Actions job", "skipped: not in a GitHub job")
    pr = target.pr
    writable, why = should_write(pr)
    if not writable or pr is None:
        log(f"not writing to GitHub: {why}")
        return Published(f"skipped: {why}", f"skipped: {why}")
    s = channels.settings
    comment = _comment(texts, target, pr, log) if s.comment else "skipped: comment: false"
    check = _check(texts, target, pr, s.check_name, log) if s.check else "skipped: check: false"
    return Published(comment, check)
