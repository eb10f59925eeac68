"""The runner's GITHUB_* variables and event payload, read once into a frozen GitHubContext."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchaction.github import PullRequest, pull_request_from_event

__all__ = ["GitHubContext", "read_context", "read_event"]


@dataclass(frozen=True)
class GitHubContext:
    """Where the job runs and what triggered it; None fields are ones the runner did not set."""

    repository: str
    repository_id: int
    server_url: str
    api_url: str
    run_id: str
    run_attempt: str
    sha: str
    event: Mapping[str, Any] | None = None
    ref_name: str | None = None
    event_name: str | None = None
    ref: str | None = None

    @property
    def pull_request(self) -> PullRequest | None:
        return pull_request_from_event(self.event) if self.event else None

    @property
    def default_branch(self) -> str:
        """The repository's default branch, from the event (main when the event lacks it)."""
        repo = (self.event or {}).get("repository") or {}
        return str(repo.get("default_branch") or "main")

    @property
    def on_main(self) -> bool:
        """A run of the default branch itself (a push, the manual full run, a schedule): the
        runs that join the history."""
        return (
            self.event_name in ("push", "workflow_dispatch", "schedule")
            and self.ref == f"refs/heads/{self.default_branch}"
        )


def read_event(env: Mapping[str, str], problems: list[str]) -> dict[str, Any] | None:
    """The event payload the runner wrote to GITHUB_EVENT_PATH; a problem if it is unreadable."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(
            f"GITHUB_EVENT_PATH={path}: the event payload could not be read ({exc}); "
            "the runner writes it, so run this action in a GitHub Actions job"
        )
        return None
    return data if isinstance(data, dict) else None


def read_context(
    env: Mapping[str, str], event: Mapping[str, Any] | None
) -> tuple[GitHubContext | None, str | None]:
    """The GitHub context, or None and why (outside a workflow nothing is published)."""
    missing = [
        k for k in ("GITHUB_REPOSITORY", "GITHUB_API_URL", "GITHUB_RUN_ID") if not env.get(k)
    ]
    if missing:
        return (
            None,
            f"not in a GitHub Actions job ({', '.join(missing)} unset): nothing is published",
        )
    repo_id = env.get("GITHUB_REPOSITORY_ID", "")
    if not repo_id.isdigit() and event is not None:
        repo_id = str((event.get("repository") or {}).get("id", ""))
    context = GitHubContext(
        repository=env["GITHUB_REPOSITORY"],
        repository_id=int(repo_id) if repo_id.isdigit() else 0,
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
        api_url=env["GITHUB_API_URL"].rstrip("/"),
        run_id=env["GITHUB_RUN_ID"],
        run_attempt=env.get("GITHUB_RUN_ATTEMPT", "1"),
        sha=env.get("GITHUB_SHA", ""),
        event=event,
        ref_name=env.get("GITHUB_REF_NAME") or None,
        event_name=env.get("GITHUB_EVENT_NAME") or None,
        ref=env.get("GITHUB_REF") or None,
    )
    return context, None
