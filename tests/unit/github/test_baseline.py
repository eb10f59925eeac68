"""Baseline lookup against the validating stand-in: filtering, preference, download, failures."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from functools import cache
from typing import Any

import pytest

import benchaction.results.schema
from benchaction.errors import ResultsError
from benchaction.github.baseline import BaselineResult, Provenance, find_baseline
from benchaction.github.client import GitHubClient
from benchaction.results import RESULTS_MIGRATIONS, upgrade_results
from tests.support.documents import two_scenario_doc
from tests.support.standin import Reply, StandIn

TOKEN = "ghs_SECRETtoken1234567890"
REPO = "octo/bench"
REPO_ID = 1296269
FORK_ID = 999
ARTIFACTS = f"/repos/{REPO}/actions/artifacts"
NAME = "bench-results"
MERGE_BASE = "c" * 40


@cache
def _base_doc() -> dict[str, Any]:
    return two_scenario_doc("predict", 1.0, 1.0, "a" * 40)


def results_doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_base_doc())
    doc.update(changes)
    return doc


def zip_of(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def good_zip(**changes: Any) -> bytes:
    return zip_of({"results.json": json.dumps(results_doc(**changes)), "bench.log": "ok\n"})


def artifact(
    server: StandIn,
    artifact_id: int,
    *,
    run_id: int | None = None,
    branch: str = "main",
    sha: str | None = None,
    head_repository_id: int = REPO_ID,
    expired: bool = False,
    day: int = 20,
) -> dict[str, Any]:
    """An artifact object with the fields `GET /repos/{o}/{r}/actions/artifacts` returns."""
    run_id = run_id if run_id is not None else artifact_id * 100
    return {
        "id": artifact_id,
        "node_id": f"MDg6QXJ0aWZhY3Qx{artifact_id}",
        "name": NAME,
        "size_in_bytes": 4096,
        "url": f"{server.url}{ARTIFACTS}/{artifact_id}",
        "archive_download_url": f"{server.url}{ARTIFACTS}/{artifact_id}/zip",
        "expired": expired,
        "digest": None,
        "created_at": f"2026-11-{day:02d}T10:00:00Z",
        "expires_at": f"2027-02-{day:02d}T10:00:00Z",
        "updated_at": f"2026-11-{day:02d}T10:00:05Z",
        "workflow_run": {
            "id": run_id,
            "repository_id": REPO_ID,
            "head_repository_id": head_repository_id,
            "head_branch": branch,
            "head_sha": sha or f"{artifact_id:040x}",
        },
    }


def page(*artifacts: dict[str, Any], total: int | None = None) -> dict[str, Any]:
    return {
        "total_count": total if total is not None else len(artifacts),
        "artifacts": list(artifacts),
    }


def next_link(server: StandIn, number: int) -> dict[str, str]:
    return {"Link": f'<{server.url}{ARTIFACTS}?name={NAME}&per_page=100&page={number}>; rel="next"'}


def serve_zip(server: StandIn, artifact_id: int, *storage: Reply) -> str:
    """Program the API's 302 and the storage answer(s); returns the storage path."""
    path = f"/storage/{artifact_id}.zip"
    signed = f"{server.url}{path}?sig=SIGNATURE&se=2026-11-22"
    server.route("GET", f"{ARTIFACTS}/{artifact_id}/zip", Reply(302, headers={"Location": signed}))
    server.route("GET", path, *storage, external=True)
    return path


def lookup(server: StandIn, **kwargs: Any) -> BaselineResult:
    client = GitHubClient(server.url, TOKEN, sleep=lambda _s: None, max_retries=1)
    options: dict[str, Any] = {
        "repository": REPO,
        "repository_id": REPO_ID,
        "base_branch": "main",
        "artifact_name": NAME,
    }
    options.update(kwargs)
    return find_baseline(client, **options)


def reason_for_no_baseline(server: StandIn) -> str:
    """Look the baseline up where none can be had: the reason the lookup gives."""
    result = lookup(server)
    assert result.document is None
    assert result.reason is not None
    return result.reason


def zip_calls(server: StandIn) -> list[str]:
    return [r.path for r in server.requests if r.path.endswith("/zip")]


def test_picks_newest_matching_artifact_and_skips_others(github: StandIn) -> None:
    listing = page(
        artifact(github, 40, branch="feature/x", day=25),
        artifact(github, 39, head_repository_id=FORK_ID, day=24),  # a fork's own `main`
        artifact(github, 38, expired=True, day=23),
        artifact(github, 37, run_id=4242, sha="d" * 40, day=22),
        artifact(github, 36, day=21),
    )
    github.route("GET", ARTIFACTS, Reply(json=listing))
    nested = zip_of({"out/run/results.json": json.dumps(results_doc()), "results.txt": "x"})
    serve_zip(github, 37, Reply(body=nested))

    result = lookup(github)

    assert result.reason is None
    assert result.skipped == ()
    assert result.document == results_doc()
    assert result.provenance == Provenance(
        run_id=4242,
        run_url=f"https://github.com/{REPO}/actions/runs/4242",
        branch="main",
        sha="d" * 40,
        created_at="2026-11-22T10:00:00Z",
        artifact_id=37,
        artifact_name=NAME,
    )
    (listed,) = github.calls(ARTIFACTS)
    assert listed.query == {"name": [NAME], "per_page": ["100"]}
    assert listed.operation == "actions/list-artifacts-for-repo"
    assert zip_calls(github) == [f"{ARTIFACTS}/37/zip"]


def test_download_follows_302_without_authorization(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 7))))
    storage = serve_zip(github, 7, Reply(body=good_zip()))
    result = lookup(github, server_url="https://ghe.example.com/")
    assert result.provenance is not None
    assert result.provenance.run_url == f"https://ghe.example.com/{REPO}/actions/runs/700"
    _, api, blob = github.requests
    assert api.operation == "actions/download-artifact"
    assert api.headers["authorization"] == f"Bearer {TOKEN}"
    assert blob.path == storage
    assert "authorization" not in blob.headers
    assert blob.query["sig"] == ["SIGNATURE"]


def test_prefers_the_merge_base_sha(github: StandIn) -> None:
    first = page(artifact(github, 9, day=28), artifact(github, 8, day=27), total=3)
    second = page(artifact(github, 5, sha=MERGE_BASE, day=20), total=3)
    github.route(
        "GET", ARTIFACTS, Reply(json=first, headers=next_link(github, 2)), Reply(json=second)
    )
    serve_zip(github, 5, Reply(body=good_zip()))
    result = lookup(github, merge_base_sha=MERGE_BASE)
    assert result.provenance is not None
    assert result.provenance.artifact_id == 5
    assert result.provenance.sha == MERGE_BASE
    assert len(github.calls(ARTIFACTS)) == 2
    assert github.calls(ARTIFACTS)[1].query == {"name": [NAME], "per_page": ["100"], "page": ["2"]}
    assert zip_calls(github) == [f"{ARTIFACTS}/5/zip"]


def test_without_merge_base_match_falls_back_to_newest(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 9), artifact(github, 8))))
    serve_zip(github, 9, Reply(body=good_zip()))
    result = lookup(github, merge_base_sha=MERGE_BASE)
    assert result.provenance is not None
    assert result.provenance.artifact_id == 9


def test_pagination_stops_at_the_first_hit(github: StandIn) -> None:
    github.route(
        "GET",
        ARTIFACTS,
        Reply(json=page(artifact(github, 3), total=250), headers=next_link(github, 2)),
    )
    serve_zip(github, 3, Reply(body=good_zip()))
    assert lookup(github).document is not None
    assert len(github.calls(ARTIFACTS)) == 1


def test_pagination_is_bounded_by_max_pages(github: StandIn) -> None:
    other = page(artifact(github, 1, branch="dev"), total=1000)
    github.route("GET", ARTIFACTS, Reply(json=other, headers=next_link(github, 2)))
    result = lookup(github, max_pages=3)
    assert len(github.calls(ARTIFACTS)) == 3
    assert result.document is None
    assert result.reason is not None
    assert result.reason.endswith("(looked at 3 artifact(s) on 3 page(s))")


def test_none_found_gives_a_reason(github: StandIn) -> None:
    listing = page(
        artifact(github, 4, branch="release"),
        artifact(github, 3, head_repository_id=FORK_ID),
        artifact(github, 2, expired=True),
    )
    github.route("GET", ARTIFACTS, Reply(json=listing))
    result = lookup(github)
    assert result == BaselineResult(None, None, result.reason)
    assert result.reason is not None
    assert result.reason.startswith(
        f"no non-expired artifact named '{NAME}' from a run on branch 'main' of this repository"
    )
    assert zip_calls(github) == []


def test_expired_on_download_gives_a_reason(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 6))))
    github.route("GET", f"{ARTIFACTS}/6/zip", Reply(410, {"message": "Artifact has expired"}))
    reason = reason_for_no_baseline(github)
    assert "expired" in reason
    assert "HTTP 410" in reason
    assert "artifact 6 from run 600" in reason
    assert "\n" not in reason


def test_list_404_gives_a_reason(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(404, {"message": "Not Found"}))
    reason = reason_for_no_baseline(github)
    assert "HTTP 404" in reason
    assert REPO in reason


def test_list_403_names_the_actions_read_permission(github: StandIn) -> None:
    denied = {"message": "Resource not accessible by integration"}
    github.route("GET", ARTIFACTS, Reply(403, denied))
    reason = reason_for_no_baseline(github)
    assert "actions: read" in reason
    assert "Resource not accessible by integration" in reason
    assert TOKEN not in reason


def test_download_403_names_the_actions_read_permission(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 6))))
    github.route("GET", f"{ARTIFACTS}/6/zip", Reply(403, {"message": "Forbidden"}))
    result = lookup(github)
    assert result.reason is not None
    assert "actions: read" in result.reason


def test_server_errors_give_a_reason_not_an_exception(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(502, {"message": "Server Error"}))
    reason = reason_for_no_baseline(github)
    assert "HTTP 502" in reason
    assert len(github.calls(ARTIFACTS)) == 2  # max_retries=1


def test_corrupt_zip_tries_the_next_candidate(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 12), artifact(github, 11))))
    serve_zip(github, 12, Reply(body=b"PK\x03\x04 this is not a zip"))
    serve_zip(github, 11, Reply(body=good_zip()))
    result = lookup(github)
    assert result.reason is None
    assert result.provenance is not None
    assert result.provenance.artifact_id == 11
    (note,) = result.skipped
    assert note.startswith("artifact 12 from run 1200")
    assert "not a readable zip" in note


def test_gives_up_after_three_unusable_candidates(github: StandIn) -> None:
    listing = page(*(artifact(github, i) for i in (24, 23, 22, 21)))
    github.route("GET", ARTIFACTS, Reply(json=listing))
    serve_zip(github, 24, Reply(body=b"garbage"))
    serve_zip(github, 23, Reply(body=zip_of({"other.json": "{}"})))
    serve_zip(github, 22, Reply(body=zip_of({"results.json": "{not json"})))
    serve_zip(github, 21, Reply(body=good_zip()))
    result = lookup(github)
    assert result.document is None
    assert zip_calls(github) == [f"{ARTIFACTS}/{i}/zip" for i in (24, 23, 22)]
    assert len(result.skipped) == 3
    assert result.reason is not None
    assert "(stopped after 3 tries): skipped artifact 24 from run 2400" in result.reason
    assert "not a readable zip" in result.reason
    assert "no results.json in the artifact (it holds other.json)" in result.reason
    assert "not valid JSON" in result.reason


def test_newer_schema_version_names_the_bench_action_to_use(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 6))))
    newer = {"name": "bench-action", "version": "2.3.0"}
    serve_zip(github, 6, Reply(body=good_zip(schema_version=2, tool=newer)))
    reason = reason_for_no_baseline(github)
    assert "written by bench-action 2.3.0 (results schema 2)" in reason
    assert "reads up to 1; use bench-action >= 2.3.0 to compare with it" in reason


def test_schema_violation_is_reported_on_one_line(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 6))))
    serve_zip(github, 6, Reply(body=good_zip(status="bogus", scenarios="nope")))
    result = lookup(github)
    assert result.reason is not None
    assert "does not match the results schema" in result.reason
    assert "\n" not in result.reason


def test_custom_results_file_path(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 6))))
    body = zip_of({"a/results.json": "{}", "a/gpu/results.json": json.dumps(results_doc())})
    serve_zip(github, 6, Reply(body=body))
    result = lookup(github, results_file="gpu/results.json")
    assert result.document == results_doc()


@pytest.mark.parametrize("status", [404, 410])
def test_storage_answer_errors_are_skipped(github: StandIn, status: int) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 6))))
    serve_zip(github, 6, Reply(status, body=b"BlobNotFound"))
    reason = reason_for_no_baseline(github)
    assert f"HTTP {status}" in reason
    assert "SIGNATURE" not in reason


# An older, a newer or another tool's results file: migrated, or skipped with the message
# `load_results` gives for that file.


def message_for(doc: Any) -> str:
    """What reading `doc` as results.json says, on one line."""
    with pytest.raises(ResultsError) as caught:
        upgrade_results(doc, source="results.json")
    return " ".join(str(caught.value).split())


def serve_results(github: StandIn, artifact_id: int, doc: Any) -> None:
    serve_zip(github, artifact_id, Reply(body=zip_of({"results.json": json.dumps(doc)})))


@pytest.mark.parametrize(
    "doc",
    [
        {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
        {"machine_info": {}, "commit_info": {}, "benchmarks": [], "datetime": "", "version": "5"},
        [1, 2, 3],
    ],
)
def test_another_tools_json_is_skipped_with_the_loaders_message(github: StandIn, doc: Any) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 7))))
    serve_results(github, 7, doc)
    reason = reason_for_no_baseline(github)
    expected = message_for(doc)
    assert expected.startswith("results.json: not a bench-action results document")
    assert f"skipped artifact 7 from run 700 (commit 000000000000): {expected}" in reason
    assert "None" not in reason


def test_a_newer_artifact_is_passed_over_for_an_older_usable_one(github: StandIn) -> None:
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 9), artifact(github, 8))))
    newer = results_doc(schema_version=2, tool={"name": "bench-action", "version": "2.3.0"})
    serve_results(github, 9, newer)
    serve_results(github, 8, results_doc())
    result = lookup(github)
    assert result.document == results_doc()
    assert result.provenance is not None and result.provenance.artifact_id == 8
    assert result.skipped == (
        f"artifact 9 from run 900 (commit 000000000000): {message_for(newer)}",
    )


def test_an_older_artifact_is_migrated_by_a_registered_step(
    github: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def migrate_v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
        doc["scenarios"] = doc.pop("scenario_results")
        return doc

    monkeypatch.setattr(
        benchaction.results.schema,
        "RESULTS_MIGRATIONS",
        RESULTS_MIGRATIONS.with_step(0, migrate_v0_to_v1),
    )
    old = copy.deepcopy(results_doc(schema_version=0))
    old["scenario_results"] = old.pop("scenarios")
    github.route("GET", ARTIFACTS, Reply(json=page(artifact(github, 5))))
    serve_results(github, 5, old)
    result = lookup(github)
    assert result.reason is None
    assert result.document == results_doc()
