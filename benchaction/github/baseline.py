"""Find the base branch's latest results document among the repository's workflow artifacts.

One `?name=` listing (newest first, paginated, stopped early) narrows the artifacts to the
base branch of this repository (not forks) that have not expired; the chosen artifact's zip
is downloaded through its pre-signed redirect and its results file is read and checked.

An older results schema is migrated as it is read; every expected failure (no access, expired,
missing, corrupt, another tool's JSON, a newer bench-action's schema, nothing found) becomes a
one-line `reason` instead of an exception: a pull request without a baseline still gets its
numbers, only without a comparison.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from benchaction.errors import ResultsError
from benchaction.github.client import (
    PER_PAGE,
    GitHubClient,
    GitHubError,
    Gone,
    NotFound,
    PermissionDenied,
    permission_hint,
)
from benchaction.results import ResultsDocument, unfinished, upgrade_results

__all__ = [
    "MAX_CANDIDATES",
    "BaselineResult",
    "Provenance",
    "RecentResults",
    "find_baseline",
    "recent_results",
]

# How many matching artifacts to try before giving up (each costs a download).
MAX_CANDIDATES = 3
# A results file is tens of kB to a few MB; refuse to inflate anything far larger.
MAX_RESULTS_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Provenance:
    """Where the baseline came from, for the PR comment's "compared against" line."""

    run_id: int
    run_url: str
    branch: str
    sha: str
    created_at: str
    artifact_id: int
    artifact_name: str


@dataclass(frozen=True)
class BaselineResult:
    """The baseline document and its provenance, or `reason` when there is none.

    `skipped` lists candidates that were passed over (one line each), also when a later one was
    used, so the summary can say why the baseline is older than expected.
    """

    document: ResultsDocument | None
    provenance: Provenance | None
    reason: str | None
    skipped: tuple[str, ...] = ()


class _Unusable(Exception):
    """This candidate cannot serve as a baseline; the next one may."""


def find_baseline(
    client: GitHubClient,
    *,
    repository: str,
    repository_id: int,
    base_branch: str,
    artifact_name: str,
    merge_base_sha: str | None = None,
    server_url: str = "https://github.com",
    results_file: str = "results.json",
    max_pages: int = 5,
) -> BaselineResult:
    """The newest usable results document of `base_branch`, preferring the merge-base commit.

    Lists at most `max_pages` pages and tries at most MAX_CANDIDATES artifacts; never raises for
    a GitHub or artifact problem, it returns `BaselineResult(None, None, reason)` instead.
    """
    skipped: list[str] = []
    seen = {"pages": 0, "artifacts": 0}
    listing = _matching_artifacts(
        client, repository, repository_id, base_branch, artifact_name, max_pages, seen
    )
    candidates = _ordered_candidates(listing, merge_base_sha)
    tried = 0
    try:
        for artifact in candidates:
            tried += 1
            label = _label(artifact)
            try:
                document = _read_artifact(client, repository, artifact, results_file)
                _finished(document)
            except _Unusable as exc:
                skipped.append(f"{label}: {exc}")
                if tried >= MAX_CANDIDATES:
                    break
                continue
            provenance = _provenance(artifact, repository, server_url, artifact_name)
            return BaselineResult(document, provenance, None, tuple(skipped))
    except GitHubError as exc:
        return _no_baseline(_api_reason(exc, repository), skipped)
    if skipped:
        stop = f" (stopped after {MAX_CANDIDATES} tries)" if tried >= MAX_CANDIDATES else ""
        return _no_baseline(
            f"no usable baseline artifact named {artifact_name!r} on branch {base_branch!r}{stop}",
            skipped,
        )
    return _no_baseline(
        f"no non-expired artifact named {artifact_name!r} from a run on branch "
        f"{base_branch!r} of this repository (looked at {seen['artifacts']} artifact(s) "
        f"on {seen['pages']} page(s))",
        skipped,
    )


@dataclass(frozen=True)
class RecentResults:
    """A branch's latest results documents, newest first, with what was passed over and why."""

    found: tuple[tuple[ResultsDocument, Provenance], ...]
    skipped: tuple[str, ...]
    reason: str | None  # set when the listing itself failed


def _provenance(
    artifact: dict[str, Any], repository: str, server_url: str, name: str
) -> Provenance:
    run = artifact["workflow_run"]
    return Provenance(
        run_id=int(run["id"]),
        run_url=f"{server_url.rstrip('/')}/{repository}/actions/runs/{int(run['id'])}",
        branch=str(run["head_branch"]),
        sha=str(run["head_sha"]),
        created_at=str(artifact.get("created_at") or ""),
        artifact_id=int(artifact["id"]),
        artifact_name=str(artifact.get("name") or name),
    )


def recent_results(
    client: GitHubClient,
    *,
    repository: str,
    repository_id: int,
    branch: str,
    artifact_name: str,
    limit: int,
    server_url: str = "https://github.com",
    results_file: str = "results.json",
    max_pages: int = 10,
) -> RecentResults:
    """Up to `limit` usable results documents of `branch` runs (one a run, newest first): the
    read-only history, rebuilt from artifacts. Never raises for a GitHub or artifact problem."""
    found: list[tuple[ResultsDocument, Provenance]] = []
    skipped: list[str] = []
    runs: set[int] = set()
    seen = {"pages": 0, "artifacts": 0}
    listing = _matching_artifacts(
        client, repository, repository_id, branch, artifact_name, max_pages, seen
    )
    try:
        for artifact in listing:
            run_id = int(artifact["workflow_run"]["id"])
            if run_id in runs:
                continue
            try:
                document = _read_artifact(client, repository, artifact, results_file)
                _finished(document)
            except _Unusable as exc:
                skipped.append(f"{_label(artifact)}: {exc}")
                continue
            runs.add(run_id)
            found.append((document, _provenance(artifact, repository, server_url, artifact_name)))
            if len(found) >= limit:
                break
    except GitHubError as exc:
        return RecentResults(tuple(found), tuple(skipped), _api_reason(exc, repository))
    return RecentResults(tuple(found), tuple(skipped), None)


def _finished(document: ResultsDocument) -> None:
    """A run that was cancelled or crashed keeps its partial results; they are no baseline."""
    why = unfinished(document)
    if why is not None:
        raise _Unusable(why)


def _no_baseline(reason: str, skipped: list[str]) -> BaselineResult:
    """A BaselineResult without a document; the skipped candidates are folded into the reason."""
    if skipped:
        reason = f"{reason}: skipped " + "; ".join(skipped)
    return BaselineResult(None, None, _one_line(reason), tuple(skipped))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _label(artifact: dict[str, Any]) -> str:
    run = artifact.get("workflow_run") or {}
    return (
        f"artifact {artifact.get('id')} from run {run.get('id')} "
        f"(commit {str(run.get('head_sha') or '?')[:12]})"
    )


def _api_reason(exc: GitHubError, repository: str) -> str:
    """A reviewer-readable reason for an API failure that ends the search."""
    if isinstance(exc, PermissionDenied):
        message = exc.message.removesuffix(f"; {permission_hint(exc.path)}")
        if "/actions/" in exc.path:
            return (
                f"no access to the workflow artifacts of {repository} (HTTP 403: {message}); "
                "the job needs `permissions: actions: read`"
            )
        return f"artifact storage refused the download (HTTP 403: {message})"
    if isinstance(exc, NotFound):
        return (
            f"cannot list the artifacts of {repository} (HTTP 404: {exc.message}); the repository "
            "does not exist or the token may not see it (the job needs `permissions: actions: read`)"
        )
    return f"could not look up the baseline: {exc}"


def _matching_artifacts(
    client: GitHubClient,
    repository: str,
    repository_id: int,
    base_branch: str,
    artifact_name: str,
    max_pages: int,
    seen: dict[str, int],
) -> Iterator[dict[str, Any]]:
    """Non-expired artifacts of `base_branch` runs in this repository, newest first, lazily.

    Pages are requested only while the consumer asks for more, and at most `max_pages` of them;
    `seen` counts the pages and artifacts listed, for the "none found" reason.
    """
    url: str | None = f"/repos/{repository}/actions/artifacts"
    params: dict[str, Any] | None = {"name": artifact_name, "per_page": PER_PAGE}
    while url is not None and seen["pages"] < max_pages:
        response = client.request("GET", url, params=params)
        seen["pages"] += 1
        body = response.json()
        items = body.get("artifacts", []) if isinstance(body, dict) else []
        for artifact in items:
            seen["artifacts"] += 1
            if _matches(artifact, repository_id, base_branch, artifact_name):
                yield artifact
        nxt = response.links.get("next", {}).get("url")
        url = str(nxt) if nxt else None
        params = None  # the next link carries the whole query string


def _matches(artifact: Any, repository_id: int, base_branch: str, artifact_name: str) -> bool:
    if not isinstance(artifact, dict) or artifact.get("expired"):
        return False
    if artifact.get("name") not in (None, artifact_name):
        return False
    run = artifact.get("workflow_run")
    if not isinstance(run, dict) or not isinstance(run.get("id"), int):
        return False
    return bool(
        run.get("head_branch") == base_branch and run.get("head_repository_id") == repository_id
    )


def _ordered_candidates(
    artifacts: Iterator[dict[str, Any]], merge_base_sha: str | None
) -> Iterator[dict[str, Any]]:
    """Newest first; with a merge base, its artifact first (scanning on until it turns up)."""
    if merge_base_sha is None:
        yield from artifacts
        return
    passed: list[dict[str, Any]] = []
    for artifact in artifacts:
        if artifact["workflow_run"].get("head_sha") == merge_base_sha:
            yield artifact
            break
        passed.append(artifact)
    yield from passed
    yield from artifacts


def _read_artifact(
    client: GitHubClient, repository: str, artifact: dict[str, Any], results_file: str
) -> ResultsDocument:
    """Download the zip and return its results document, upgraded and checked, or raise _Unusable
    (with the message `load_results` gives for the same file)."""
    url = artifact.get("archive_download_url") or (
        f"/repos/{repository}/actions/artifacts/{int(artifact['id'])}/zip"
    )
    try:
        data = client.download(str(url))
    except Gone as exc:
        raise _Unusable(
            f"expired before it could be downloaded (HTTP 410: {exc.message})"
        ) from None
    except NotFound as exc:
        raise _Unusable(f"gone or not visible to this token (HTTP 404: {exc.message})") from None
    except ValueError as exc:  # archive URL outside the API: never send the token there
        raise _Unusable(str(exc)) from None
    raw = _extract(data, results_file)
    try:
        document = json.loads(raw)
    except UnicodeDecodeError:
        raise _Unusable(f"{results_file} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _Unusable(
            f"{results_file} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    try:
        return upgrade_results(document, source=results_file)
    except ResultsError as exc:
        raise _Unusable(_one_line(str(exc))) from None


def _extract(data: bytes, results_file: str) -> bytes:
    """The bytes of `results_file` (at any depth, shallowest first) inside the zip `data`."""
    wanted = PurePosixPath(results_file).parts
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and PurePosixPath(info.filename).parts[-len(wanted) :] == wanted
            ]
            if not names:
                listed = ", ".join(sorted(archive.namelist())[:5]) or "nothing"
                raise _Unusable(f"no {results_file} in the artifact (it holds {listed})")
            info = min(names, key=lambda i: (len(PurePosixPath(i.filename).parts), i.filename))
            if info.file_size > MAX_RESULTS_BYTES:
                raise _Unusable(f"{info.filename} is {info.file_size} bytes, too large")
            with archive.open(info) as member:
                raw = member.read(MAX_RESULTS_BYTES + 1)
            if len(raw) > MAX_RESULTS_BYTES:
                raise _Unusable(f"{info.filename} is larger than {MAX_RESULTS_BYTES} bytes")
            return raw
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
    ) as exc:
        raise _Unusable(f"the artifact is not a readable zip ({exc})") from None
    except RuntimeError as exc:  # encrypted member
        raise _Unusable(f"the artifact zip cannot be read ({exc})") from None
