"""Text files on a dedicated branch of the user's repository, read and rewritten through REST.

The history store keeps its records on such a branch (as github-action-benchmark keeps its data
on gh-pages). This module moves text and knows nothing of its format: `update` hands the current
text to a function and writes back what it returns, re-reading and re-applying it when another
job wrote in between, so concurrent main-branch runs both land.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from benchaction.github.client import (
    GitHubClient,
    GitHubError,
    NotFound,
    PermissionDenied,
    permission_hint,
    repo_path,
)

__all__ = ["RAW_MEDIA_TYPE", "BranchFiles", "FileVersion", "WriteConflict"]

RAW_MEDIA_TYPE = "application/vnd.github.raw+json"  # raw bytes, blobs up to 100 MB
FILE_MODE = "100644"
BACKOFF_S = 0.5  # first wait after a conflict; doubles per attempt, with jitter
BACKOFF_CAP_S = 4.0
# Parts of GitHub's 422 messages for a write based on an old version of the file.
STALE_SHA_PHRASES = ("does not match", "but expected", "wasn't supplied")


@dataclass(frozen=True)
class FileVersion:
    """A file's text and its blob sha, which a later write names to prove it saw this version."""

    text: str
    sha: str


class WriteConflict(GitHubError):
    """Another writer changed the file between each read and write until the attempts ran out."""


def _is_stale_write(exc: GitHubError) -> bool:
    """409, or a 422 saying the sha sent is not the file's current one (or was missing)."""
    if exc.status == 409:
        return True
    text = exc.message.lower()
    return exc.status == 422 and any(phrase in text for phrase in STALE_SHA_PHRASES)


def _check_path(path: str) -> str:
    """`path` quoted for a URL; refuses empty, absolute and `..` paths with the reason."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(
            f"file path must be relative, like 'data/history.json', with no empty, '.' or '..' "
            f"parts; got {path!r}"
        )
    return quote(path, safe="/")


class BranchFiles:
    """Files on `branch` of `repository` ("owner/name"); the branch is created on first write.

    `sleep` and `rng` are injected so tests neither wait nor depend on chance.
    """

    def __init__(
        self,
        client: GitHubClient,
        repository: str,
        branch: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not branch or branch.startswith(("/", "refs/")) or " " in branch:
            raise ValueError(
                f"branch must be a plain branch name like 'bench-history'; got {branch!r}"
            )
        self._client = client
        self._base = repo_path(repository)
        self.repository = repository
        self.branch = branch
        self._sleep = sleep
        self._rng = rng or random.Random()

    def read(self, path: str) -> FileVersion | None:
        """The file's text and blob sha; None when the file or the branch does not exist.

        The contents API inlines files up to 1 MB; larger ones (to 100 MB) come from the blob
        API as raw bytes, by the sha the contents answer gave, so text and sha always agree.
        """
        quoted = _check_path(path)
        try:
            info = self._client.get_json(
                f"{self._base}/contents/{quoted}", params={"ref": self.branch}
            )
        except NotFound:
            return None
        if not isinstance(info, dict) or info.get("type") != "file":
            kind = "directory" if isinstance(info, list) else info.get("type", "unknown object")
            raise ValueError(f"{path} on branch {self.branch} of {self.repository} is a {kind}")
        sha = str(info["sha"])
        if info.get("encoding") == "base64":
            data = base64.b64decode(info.get("content") or "")
        else:  # "none": over 1 MB, the contents API leaves `content` empty
            data = self._client.request(
                "GET", f"{self._base}/git/blobs/{sha}", headers={"Accept": RAW_MEDIA_TYPE}
            ).content
        try:
            return FileVersion(data.decode("utf-8"), sha)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path} on branch {self.branch} of {self.repository} is not UTF-8 text "
                f"(byte {exc.start}); this store holds text files only"
            ) from None

    def update(
        self,
        path: str,
        change: Callable[[str | None], str],
        message: str,
        *,
        attempts: int = 5,
    ) -> str:
        """Write `change(current text or None)` to `path` as one commit; returns the commit sha.

        When another writer got in first (409, or 422 on a stale sha, or a branch created
        meanwhile), re-read and re-apply `change` after a short jittered wait, up to `attempts`
        times, then raise WriteConflict. Whatever `change` raises propagates and nothing is
        written. 403 and 404 on a write raise PermissionDenied naming `contents: write`.
        """
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        quoted = _check_path(path)
        last: GitHubError | None = None
        for attempt in range(attempts):
            if attempt:
                self._sleep(self._backoff(attempt))
            current = self.read(path)
            text = change(None if current is None else current.text)
            if not isinstance(text, str):
                raise TypeError(f"change must return the new text (str), got {type(text).__name__}")
            try:
                if current is None and not self._branch_exists():
                    commit = self._create_branch(path, text, message)
                else:
                    commit = self._put(quoted, text, message, current)
            except GitHubError as exc:
                if not _is_stale_write(exc):
                    raise
                last = exc
                continue
            return commit
        assert last is not None
        raise WriteConflict(
            last.status,
            f"gave up writing {path} on branch {self.branch} of {self.repository} after "
            f"{attempts} attempts: another writer changed it between each read and write "
            f"(last answer: {last.message})",
            last.method,
            last.path,
        )

    # -- internals ------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return float(
            min(BACKOFF_CAP_S, BACKOFF_S * 2 ** (attempt - 1)) * self._rng.uniform(0.5, 1.5)
        )

    def _write(self, method: str, path: str, body: dict[str, Any]) -> Any:
        """One write; 403/404 become PermissionDenied naming `contents: write`."""
        try:
            return self._client.request(method, path, json=body).json()
        except NotFound as exc:
            hint = permission_hint(exc.path)
            raise PermissionDenied(
                exc.status, f"{exc.message}; {hint}", exc.method, exc.path
            ) from None

    def _put(self, quoted: str, text: str, message: str, current: FileVersion | None) -> str:
        body: dict[str, Any] = {
            "message": message,
            "content": base64.b64encode(text.encode("utf-8")).decode("ascii"),
            "branch": self.branch,
        }
        if current is not None:
            body["sha"] = current.sha
        answer = self._write("PUT", f"{self._base}/contents/{quoted}", body)
        return str(answer["commit"]["sha"])

    def _branch_exists(self) -> bool:
        try:
            self._client.request(
                "GET", f"{self._base}/git/ref/heads/{quote(self.branch, safe='/')}"
            )
        except NotFound:
            return False
        return True

    def _create_branch(self, path: str, text: str, message: str) -> str:
        """An orphan branch (no parent: it shares no history with main) holding just `path`.

        If the ref appeared meanwhile, GitHub's 422 "Reference already exists" reaches `update`
        as a stale write, which re-reads the other writer's branch and goes on from there.
        """
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
        blob = self._write(
            "POST", f"{self._base}/git/blobs", {"content": encoded, "encoding": "base64"}
        )
        entry = {"path": path, "mode": FILE_MODE, "type": "blob", "sha": blob["sha"]}
        tree = self._write("POST", f"{self._base}/git/trees", {"tree": [entry]})
        commit = self._write(
            "POST",
            f"{self._base}/git/commits",
            {"message": message, "tree": tree["sha"], "parents": []},
        )
        ref = {"ref": f"refs/heads/{self.branch}", "sha": commit["sha"]}
        try:
            self._write("POST", f"{self._base}/git/refs", ref)
        except GitHubError as exc:
            if exc.status == 422 and "already exists" in exc.message.lower():
                raise GitHubError(409, exc.message, exc.method, exc.path) from None
            raise
        return str(commit["sha"])
