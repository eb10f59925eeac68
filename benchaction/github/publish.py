"""Publish results on a pull request: one sticky comment, and a check run or commit status.

Every write here needs a permission that the job's `GITHUB_TOKEN` may lack (and never has on a
pull request from a fork). Comments raise on errors, because the caller decides whether a
missing comment fails the job. Check publishing never raises for permissions: it falls back from
a check run to a commit status and then to nothing, and says so through `log`. The job's exit
code still carries the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from benchaction.github import commands
from benchaction.github.client import GitHubClient, PermissionDenied, repo_path
from benchaction.github.identity import JOB_TOKEN_LOGIN, token_login

__all__ = [
    "ANNOTATIONS_PER_REQUEST",
    "BOT_LOGIN",
    "COMMENT_LIMIT",
    "FORK_REASON",
    "STATUS_DESCRIPTION_LIMIT",
    "SUMMARY_LIMIT",
    "PullRequest",
    "publish_check",
    "pull_request_from_event",
    "should_write",
    "upsert_comment",
]

BOT_LOGIN = JOB_TOKEN_LOGIN  # the job token's author; kept for callers that name it
COMMENT_LIMIT = 65_536  # characters GitHub accepts in an issue comment body
SUMMARY_LIMIT = 65_535  # characters in a check run's output.summary
ANNOTATIONS_PER_REQUEST = 50
STATUS_DESCRIPTION_LIMIT = 140
TRUNCATED_NOTE = "\n\n> [!WARNING]\n> This summary was truncated; see the job summary for the rest."
FORK_REASON = (
    "pull request from a fork: the token is read-only; results are in the job summary and artifact"
)

Conclusion = Literal["success", "failure", "neutral"]


@dataclass(frozen=True)
class PullRequest:
    """The facts about a pull request that publishing needs, from the event payload."""

    number: int
    head_sha: str
    head_repo: str  # owner/name the head branch lives in
    base_repo: str  # owner/name the pull request targets (the workflow's repository)
    base_ref: str

    @property
    def is_fork(self) -> bool:
        """True when the head branch lives in another repository: the token is read-only then."""
        return self.head_repo != self.base_repo


def _full_name(side: Any) -> str | None:
    """`repo.full_name` of a PR side (`head`/`base`); None when GitHub sent `repo: null`."""
    if not isinstance(side, Mapping):
        return None
    repo = side.get("repo")
    if not isinstance(repo, Mapping):
        return None
    name = repo.get("full_name")
    return name if isinstance(name, str) else None


def pull_request_from_event(event: Mapping[str, Any]) -> PullRequest | None:
    """The pull request in a `pull_request`-style event payload (GITHUB_EVENT_PATH), else None.

    A head repository that was deleted arrives as `repo: null`; it counts as a fork, since the
    head is not in the base repository.
    """
    pr = event.get("pull_request")
    if not isinstance(pr, Mapping):
        return None
    head, base = pr.get("head"), pr.get("base")
    number = pr.get("number", event.get("number"))
    if (
        not isinstance(head, Mapping)
        or not isinstance(base, Mapping)
        or not isinstance(number, int)
    ):
        return None
    repository = event.get("repository")
    base_repo = _full_name(base)
    if base_repo is None and isinstance(repository, Mapping):
        base_repo = repository.get("full_name")
    if not isinstance(base_repo, str):
        return None
    return PullRequest(
        number=number,
        head_sha=str(head.get("sha", "")),
        head_repo=_full_name(head) or "",
        base_repo=base_repo,
        base_ref=str(base.get("ref", "")),
    )


def should_write(pr: PullRequest | None) -> tuple[bool, str]:
    """Whether to try writing to the pull request, and why not when the answer is no."""
    if pr is None:
        return False, "not a pull request event: there is no pull request to comment on"
    if pr.is_fork:
        return False, FORK_REASON
    return True, f"pull request #{pr.number} from {pr.head_repo}"


def upsert_comment(
    client: GitHubClient,
    *,
    repository: str,
    pr_number: int,
    marker: str,
    body: str,
    bot_login: str | None = None,
) -> tuple[str, int]:
    """Update our earlier comment on the pull request, or create one: ("updated"|"created", id).

    Ours is the first comment that contains `marker` and was written by the token's own login
    (`bot_login`, else `token_login`, asked only once a marked comment turns up). Anyone can
    paste the marker, so a look-alike from another user is left alone.
    """
    if len(body) > COMMENT_LIMIT:
        raise ValueError(
            f"comment body has {len(body)} characters; GitHub accepts at most {COMMENT_LIMIT}"
        )
    if not marker:
        raise ValueError("marker must not be empty")
    base = repo_path(repository)
    login, asked = bot_login, bot_login is not None
    for comment in client.paginate(f"{base}/issues/{pr_number}/comments", None, None):
        if marker not in (comment.get("body") or ""):
            continue
        if not asked:
            login, asked = token_login(client), True
        user = comment.get("user") or {}
        if login is not None and user.get("login") == login:
            comment_id = int(comment["id"])
            client.request("PATCH", f"{base}/issues/comments/{comment_id}", json={"body": body})
            return "updated", comment_id
    created = client.request("POST", f"{base}/issues/{pr_number}/comments", json={"body": body})
    return "created", int(created.json()["id"])


def _fit_summary(summary: str) -> str:
    """The summary cut to the check-run limit, ending with a visible note when cut."""
    if len(summary) <= SUMMARY_LIMIT:
        return summary
    return summary[: SUMMARY_LIMIT - len(TRUNCATED_NOTE)] + TRUNCATED_NOTE


def _warning(message: str) -> str:
    """A refused write as a warning annotation on the run, not a plain line in a folded group."""
    return commands.command("warning", message, {"title": "bench-action"})


def _status_description(conclusion: Conclusion, title: str) -> str:
    # A status has no "neutral": say inconclusive, unless the title already does.
    neutral = conclusion == "neutral" and "inconclusive" not in title
    text = f"inconclusive: {title}" if neutral else title
    if len(text) > STATUS_DESCRIPTION_LIMIT:
        text = text[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
    return text


def publish_check(
    client: GitHubClient,
    *,
    repository: str,
    head_sha: str,
    name: str,
    conclusion: Conclusion,
    title: str,
    summary: str,
    annotations: Sequence[Mapping[str, Any]] = (),
    log: Callable[[str], None] = print,
) -> str:
    """Report the result on `head_sha`: "check-run", else "status", else "none".

    A check run carries the summary and the annotations (50 a request: the first batch with the
    POST, the rest as PATCHes). Without `checks: write`, a commit status carries the state; without
    `statuses: write` either, nothing is published and the job's exit code is the result.
    """
    base = repo_path(repository)
    output: dict[str, Any] = {"title": title, "summary": _fit_summary(summary)}
    batches = [
        [dict(a) for a in annotations[i : i + ANNOTATIONS_PER_REQUEST]]
        for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    ]
    first = {**output, "annotations": batches[0]} if batches else output
    try:
        created = client.request(
            "POST",
            f"{base}/check-runs",
            json={
                "name": name,
                "head_sha": head_sha,
                "status": "completed",
                "conclusion": conclusion,
                "output": first,
            },
        )
    except PermissionDenied as exc:
        log(
            _warning(
                f"Could not create a check run (the job needs `permissions: checks: write`): "
                f"{exc.message}. Falling back to a commit status."
            )
        )
        return _publish_status(client, base, head_sha, name, conclusion, title, log)
    run_id = int(created.json()["id"])
    for batch in batches[1:]:
        try:
            client.request(
                "PATCH",
                f"{base}/check-runs/{run_id}",
                json={"output": {**output, "annotations": batch}},
            )
        except PermissionDenied as exc:
            log(
                _warning(
                    f"Check run {run_id} was created, but adding annotations was refused: "
                    f"{exc.message}"
                )
            )
            break
    return "check-run"


def _publish_status(
    client: GitHubClient,
    base: str,
    head_sha: str,
    name: str,
    conclusion: Conclusion,
    title: str,
    log: Callable[[str], None],
) -> str:
    state = "failure" if conclusion == "failure" else "success"
    try:
        client.request(
            "POST",
            f"{base}/statuses/{head_sha}",
            json={
                "state": state,
                "context": name,
                "description": _status_description(conclusion, title),
            },
        )
    except PermissionDenied as exc:
        log(
            _warning(
                "Published neither a check run nor a commit status: the token lacks "
                "`permissions: checks: write` and `permissions: statuses: write` "
                f"({exc.message}). The job's exit code carries the result."
            )
        )
        return "none"
    return "status"
