"""A stored baseline on the GitHub stand-in: the artifact list, its zip and the merge base."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.support.github_payloads import BASE, SHA
from tests.support.standin import Recorded, Reply, StandIn

ARTIFACTS = f"{BASE}/actions/artifacts"


def artifact_zip(doc: dict[str, Any]) -> bytes:
    """The zip GitHub serves for an uploaded results artifact."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("results.json", json.dumps(doc))
    return buf.getvalue()


def serve_compare(github: StandIn, event: dict[str, Any], merge_base: str) -> None:
    """The compare call that names the merge base of the pull request."""
    base_ref = event["pull_request"]["base"]["ref"]
    github.route(
        "GET",
        f"{BASE}/compare/{base_ref}...{SHA}",
        Reply(json={"merge_base_commit": {"sha": merge_base}, "status": "ahead"}),
    )


def _serve_artifact(
    github: StandIn, event: dict[str, Any], artifact_id: int, name: str, doc: dict[str, Any]
) -> dict[str, Any]:
    """One base-branch run's artifact holding `doc`, served as GitHub does (a 302 to storage);
    returns its entry for the listing."""
    repo_id = event["repository"]["id"]
    github.route(
        "GET",
        f"{ARTIFACTS}/{artifact_id}/zip",
        Reply(302, headers={"Location": f"{github.url}/storage/{artifact_id}.zip?sig=s"}),
    )
    storage = f"/storage/{artifact_id}.zip"
    github.route("GET", storage, Reply(body=artifact_zip(doc)), external=True)
    return {
        "id": artifact_id,
        "node_id": f"A{artifact_id}",
        "name": name,
        "size_in_bytes": 1000,
        "url": f"{github.url}{ARTIFACTS}/{artifact_id}",
        "archive_download_url": f"{github.url}{ARTIFACTS}/{artifact_id}/zip",
        "expired": False,
        "digest": None,
        "created_at": "2026-11-20T10:00:00Z",
        "expires_at": "2027-02-20T10:00:00Z",
        "updated_at": "2026-11-20T10:00:05Z",
        "workflow_run": {
            "id": 700,
            "repository_id": repo_id,
            "head_repository_id": repo_id,
            "head_branch": event["pull_request"]["base"]["ref"],
            "head_sha": "c" * 40,
        },
    }


def serve_baseline(github: StandIn, event: dict[str, Any], doc: dict[str, Any]) -> None:
    """A base-branch run whose `bench-results` artifact holds `doc`, at the merge base."""
    serve_compare(github, event, "c" * 40)
    art = _serve_artifact(github, event, 5, "bench-results", doc)
    github.route("GET", ARTIFACTS, Reply(json={"total_count": 1, "artifacts": [art]}))


def serve_runner_baselines(
    github: StandIn, event: dict[str, Any], docs: dict[str, dict[str, Any]]
) -> None:
    """Base-branch runs of several runners, each artifact (`docs`: name -> document) its own;
    the listing answers the `name` query as GitHub does, so a lookup finds only its runner's."""
    serve_compare(github, event, "c" * 40)
    listed = [
        _serve_artifact(github, event, 10 + n, name, doc)
        for n, (name, doc) in enumerate(sorted(docs.items()), start=1)
    ]

    def listing(request: Recorded) -> Reply:
        wanted = request.query.get("name", [None])[0]
        found = [a for a in listed if wanted is None or a["name"] == wanted]
        return Reply(json={"total_count": len(found), "artifacts": found})

    github.route("GET", ARTIFACTS, listing)
