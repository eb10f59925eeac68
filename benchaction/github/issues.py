"""The sticky "main regressed" issue: one open issue per config, found by marker and author.

The caller words the issue; this module only finds, opens, edits, comments on and closes it.
Like the sticky comment, ours is the open issue whose body holds the hidden marker *and* whose
author is the token's own login: anyone can paste the marker into an issue of their own.
A 403 raises PermissionDenied whose message names `issues: write`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from benchaction.github.client import GitHubClient, repo_path
from benchaction.github.identity import token_login
from benchaction.github.publish import COMMENT_LIMIT

__all__ = ["BODY_LIMIT", "IssueRef", "StickyIssue", "alert_marker"]

BODY_LIMIT = COMMENT_LIMIT  # GitHub takes 65,536 characters in an issue body, as in a comment
MAX_PAGES = 10  # 1,000 open issues (or open issues with the labels) looked at, at most


def alert_marker(config_name: str) -> str:
    """The hidden marker of the alert issue for one config: `<!-- bench-action-alert:NAME -->`."""
    if not config_name or "--" in config_name or "\n" in config_name:
        raise ValueError(f"config name must be one line without '--'; got {config_name!r}")
    return f"<!-- bench-action-alert:{config_name} -->"


@dataclass(frozen=True)
class IssueRef:
    """The issue we wrote: its number, its page, and whether this call opened it."""

    number: int
    url: str
    created: bool
    body: str = ""  # as found or written: the caller's hidden state travels in it


def _ref(issue: Any, created: bool) -> IssueRef:
    body = issue.get("body")
    return IssueRef(
        int(issue["number"]), str(issue.get("html_url", "")), created, body if body else ""
    )


def _check_body(body: str) -> None:
    if len(body) > BODY_LIMIT:
        raise ValueError(
            f"issue body has {len(body)} characters; GitHub accepts at most {BODY_LIMIT}"
        )


class StickyIssue:
    """Open issues of `repository` ("owner/name") written as `login` (default: `token_login`).

    The login is asked of GitHub once, the first time it is needed.
    """

    def __init__(
        self,
        client: GitHubClient,
        repository: str,
        *,
        login: str | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._client = client
        self._base = repo_path(repository)
        self._login = login
        self._asked = login is not None
        self.max_pages = max_pages

    @property
    def login(self) -> str | None:
        """The token's login; None when the token has none (no token, or a revoked one)."""
        if not self._asked:
            self._login, self._asked = token_login(self._client), True
        return self._login

    def find(self, marker: str, labels: Sequence[str] = ()) -> IssueRef | None:
        """Our open issue carrying `marker` (and all of `labels`, when given), if any."""
        if not marker:
            raise ValueError("marker must not be empty")
        login = self.login
        if login is None:
            return None
        params: dict[str, str] = {"state": "open", "sort": "created", "direction": "asc"}
        if labels:
            params["labels"] = ",".join(labels)
        # `creator` is not sent: whether it matches `[bot]` logins is not documented, so the
        # author is checked here, on the `user.login` GitHub returns.
        listed = self._client.paginate(f"{self._base}/issues", params, None)
        for issue in islice(listed, self.max_pages * 100):
            if "pull_request" in issue:  # the issues listing includes pull requests
                continue
            user = issue.get("user") or {}
            if user.get("login") == login and marker in (issue.get("body") or ""):
                return _ref(issue, created=False)
        return None

    def open_or_update(
        self, marker: str, title: str, body: str, labels: Sequence[str] = ()
    ) -> IssueRef:
        """Edit our open issue's title and body, or open one with `labels`.

        `marker` is put at the top of the body when the body lacks it. Labels are set only when
        the issue is opened, so labels people add later stay.
        """
        text = body if marker in body else f"{marker}\n{body}"
        _check_body(text)
        found = self.find(marker, labels)
        if found is not None:
            self._client.request(
                "PATCH", f"{self._base}/issues/{found.number}", json={"title": title, "body": text}
            )
            return found
        payload: dict[str, Any] = {"title": title, "body": text}
        if labels:
            payload["labels"] = list(labels)
        created = self._client.request("POST", f"{self._base}/issues", json=payload).json()
        return _ref(created, created=True)

    def comment(self, number: int, body: str) -> int:
        """Add a comment to issue `number`; returns the comment id."""
        _check_body(body)
        answer = self._client.request(
            "POST", f"{self._base}/issues/{number}/comments", json={"body": body}
        ).json()
        return int(answer["id"])

    def close(self, number: int, body: str) -> None:
        """Say why (a comment), then close issue `number` as completed: main recovered."""
        self.comment(number, body)
        self._client.request(
            "PATCH",
            f"{self._base}/issues/{number}",
            json={"state": "closed", "state_reason": "completed"},
        )
