"""GitHubClient against the validating stand-in: headers, retries, errors, pagination, downloads."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from benchaction.github.client import (
    GitHubClient,
    GitHubError,
    Gone,
    NotFound,
    PermissionDenied,
    RateLimited,
    permission_hint,
)
from tests.support.standin import OpenAPIIndex, Reply, StandIn, serve

TOKEN = "ghs_SECRETtoken1234567890"
ARTIFACTS = "/repos/octo/bench/actions/artifacts"
ZIP = "/repos/octo/bench/actions/artifacts/5/zip"
NOW = 1_700_000_000.0


class Sleeps:
    """An injected `sleep` that records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(server: StandIn, sleeps: Sleeps, **kwargs: Any) -> GitHubClient:
    return GitHubClient(server.url, TOKEN, sleep=sleeps, clock=lambda: NOW, **kwargs)


def artifacts_page(*ids: int) -> dict[str, Any]:
    return {"total_count": 3, "artifacts": [{"id": i, "name": "bench"} for i in ids]}


def test_sends_github_headers_and_bearer_token(github: StandIn, sleeps: Sleeps) -> None:
    github.route("GET", ARTIFACTS, Reply(json=artifacts_page(1)))
    body = make_client(github, sleeps).get_json(ARTIFACTS, params={"name": "bench"})
    assert body["artifacts"][0]["id"] == 1
    (seen,) = github.requests
    assert seen.headers["accept"] == "application/vnd.github+json"
    assert seen.headers["x-github-api-version"] == "2022-11-28"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.operation == "actions/list-artifacts-for-repo"


def test_no_token_sends_no_authorization(github: StandIn, sleeps: Sleeps) -> None:
    github.route("GET", ARTIFACTS, Reply(json=artifacts_page()))
    GitHubClient(github.url, None, sleep=sleeps).get_json(ARTIFACTS)
    assert "authorization" not in github.requests[0].headers


def test_retries_502_with_backoff(github: StandIn, sleeps: Sleeps) -> None:
    github.route("GET", ARTIFACTS, Reply(502), Reply(502), Reply(json=artifacts_page(1)))
    assert make_client(github, sleeps).get_json(ARTIFACTS)["artifacts"][0]["id"] == 1
    assert sleeps.calls == [1.0, 2.0]
    assert len(github.calls(ARTIFACTS)) == 3


def test_429_waits_retry_after_seconds(github: StandIn, sleeps: Sleeps) -> None:
    github.route(
        "GET",
        ARTIFACTS,
        Reply(429, {"message": "Too Many Requests"}, headers={"Retry-After": "7"}),
        Reply(json=artifacts_page(1)),
    )
    make_client(github, sleeps).get_json(ARTIFACTS)
    assert sleeps.calls == [7.0]


def test_secondary_rate_limit_403_is_retried(github: StandIn, sleeps: Sleeps) -> None:
    limited = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}
    github.route("GET", ARTIFACTS, Reply(403, limited), Reply(json=artifacts_page(1)))
    make_client(github, sleeps).get_json(ARTIFACTS)
    assert sleeps.calls == [60.0]  # no header: GitHub asks for at least a minute


def test_primary_rate_limit_waits_until_reset(github: StandIn, sleeps: Sleeps) -> None:
    github.route(
        "GET",
        ARTIFACTS,
        Reply(
            403,
            {"message": "API rate limit exceeded for installation ID 1."},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)},
        ),
        Reply(json=artifacts_page(1)),
    )
    make_client(github, sleeps).get_json(ARTIFACTS)
    assert sleeps.calls == [30.0]


def test_gives_up_after_max_retries(github: StandIn, sleeps: Sleeps) -> None:
    github.route("GET", ARTIFACTS, Reply(502, {"message": "Server Error"}))
    with pytest.raises(GitHubError) as caught:
        make_client(github, sleeps, max_retries=2).get_json(ARTIFACTS)
    assert caught.value.status == 502
    assert str(caught.value) == (
        f"GitHub API GET {ARTIFACTS} failed (HTTP 502): Server Error (gave up after 3 attempts)"
    )
    assert len(github.calls(ARTIFACTS)) == 3
    assert sleeps.calls == [1.0, 2.0]


def test_rate_limit_longer_than_max_wait_fails_at_once(github: StandIn, sleeps: Sleeps) -> None:
    github.route(
        "GET",
        ARTIFACTS,
        Reply(429, {"message": "Too Many Requests"}, headers={"Retry-After": "3600"}),
    )
    with pytest.raises(RateLimited, match="asks to wait 3600s, more than the 60s"):
        make_client(github, sleeps).get_json(ARTIFACTS)
    assert sleeps.calls == []


def test_rate_limit_retries_exhausted_is_rate_limited(github: StandIn, sleeps: Sleeps) -> None:
    github.route(
        "GET", ARTIFACTS, Reply(429, {"message": "slow down"}, headers={"Retry-After": "1"})
    )
    with pytest.raises(RateLimited, match="gave up after 2 attempts"):
        make_client(github, sleeps, max_retries=1).get_json(ARTIFACTS)


@pytest.mark.parametrize(
    ("method", "path", "body", "permission"),
    [
        ("GET", ARTIFACTS, None, "actions: read"),
        ("POST", "/repos/octo/bench/issues/7/comments", {"body": "hi"}, "pull-requests: write"),
        ("PATCH", "/repos/octo/bench/issues/comments/9", {"body": "hi"}, "pull-requests: write"),
        (
            "POST",
            "/repos/octo/bench/check-runs",
            {"name": "bench", "head_sha": "abc123"},
            "checks: write",
        ),
        ("POST", "/repos/octo/bench/statuses/abc123", {"state": "success"}, "statuses: write"),
    ],
)
def test_403_names_the_permission(
    github: StandIn, sleeps: Sleeps, method: str, path: str, body: Any, permission: str
) -> None:
    github.route(method, path, Reply(403, {"message": "Resource not accessible by integration"}))
    with pytest.raises(PermissionDenied) as caught:
        make_client(github, sleeps).request(method, path, json=body)
    text = str(caught.value)
    assert "Resource not accessible by integration" in text
    assert f"`permissions: {permission}" in text
    assert "forks get a read-only GITHUB_TOKEN" in text
    assert sleeps.calls == []  # a permission error is not retried


def test_permission_hint_for_unknown_path() -> None:
    assert "job's `permissions:`" in permission_hint("/repos/o/r/releases")


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [(404, "Not Found", NotFound), (410, "Artifact has expired", Gone)],
)
def test_404_and_410_classes(
    github: StandIn, sleeps: Sleeps, status: int, message: str, error: type[GitHubError]
) -> None:
    github.route("GET", ZIP, Reply(status, {"message": message}))
    with pytest.raises(error, match=message) as caught:
        make_client(github, sleeps).download(github.url + ZIP)
    assert caught.value.status == status
    assert sleeps.calls == []


def test_paginate_follows_link_next(github: StandIn, sleeps: Sleeps) -> None:
    following = f'<{github.url}{ARTIFACTS}?name=bench&per_page=100&page=2>; rel="next"'
    github.route(
        "GET",
        ARTIFACTS,
        Reply(json=artifacts_page(1, 2), headers={"Link": following}),
        Reply(json=artifacts_page(3)),
    )
    items = list(make_client(github, sleeps).paginate(ARTIFACTS, {"name": "bench"}, "artifacts"))
    assert [a["id"] for a in items] == [1, 2, 3]
    first, second = github.calls(ARTIFACTS)
    assert first.query == {"name": ["bench"], "per_page": ["100"]}
    assert second.query == {"name": ["bench"], "per_page": ["100"], "page": ["2"]}


def test_paginate_list_answer_stops_when_consumer_stops(github: StandIn, sleeps: Sleeps) -> None:
    comments = "/repos/octo/bench/issues/7/comments"
    following = f'<{github.url}{comments}?per_page=100&page=2>; rel="next"'
    github.route("GET", comments, Reply(json=[{"id": 1}, {"id": 2}], headers={"Link": following}))
    pages = make_client(github, sleeps).paginate(comments, None, None)
    assert next(pages) == {"id": 1}
    assert len(github.calls(comments)) == 1


def test_download_drops_authorization_on_redirect(github: StandIn, sleeps: Sleeps) -> None:
    storage = "/storage/artifact.zip"
    signed = f"{github.url}{storage}?sig=SIGNATURE&se=2024"
    github.route("GET", ZIP, Reply(302, headers={"Location": signed}))
    github.route("GET", storage, Reply(body=b"PK\x03\x04zip"), external=True)
    assert make_client(github, sleeps).download(github.url + ZIP) == b"PK\x03\x04zip"
    api, blob = github.requests
    assert api.headers["authorization"] == f"Bearer {TOKEN}"
    assert blob.path == storage
    assert "authorization" not in blob.headers
    assert blob.query["sig"] == ["SIGNATURE"]


def test_storage_error_does_not_show_the_signature(github: StandIn, sleeps: Sleeps) -> None:
    storage = "/storage/artifact.zip"
    github.route("GET", ZIP, Reply(302, headers={"Location": f"{storage}?sig=SIGNATURE"}))
    github.route("GET", storage, Reply(403, body=b"AuthenticationFailed"), external=True)
    with pytest.raises(GitHubError) as caught:
        make_client(github, sleeps).download(ZIP)
    assert "SIGNATURE" not in str(caught.value)
    assert caught.value.path == storage


def test_token_never_in_errors_or_repr(github: StandIn, sleeps: Sleeps) -> None:
    client = make_client(github, sleeps, max_retries=0)
    echo = {"message": f"Bad credentials for Bearer {TOKEN}"}
    github.route("GET", "/repos/octo/bench/actions/artifacts/1", Reply(401, echo))
    github.route("GET", "/repos/octo/bench/actions/artifacts/2", Reply(403, echo))
    github.route("GET", "/repos/octo/bench/actions/artifacts/3", Reply(502, echo))
    github.route("GET", "/repos/octo/bench/actions/artifacts/4", Reply(404, echo))
    texts = [repr(client), str(client)]
    for n in range(1, 5):
        with pytest.raises(GitHubError) as caught:
            client.get_json(f"/repos/octo/bench/actions/artifacts/{n}")
        texts += [str(caught.value), repr(caught.value), caught.value.message]
    with pytest.raises(ValueError, match="refusing") as refused:
        client.get_json("https://elsewhere.example/steal")
    texts.append(str(refused.value))
    assert all(TOKEN not in text for text in texts)
    assert "***" in texts[2]


def test_connection_failure_is_retried_then_reported(sleeps: Sleeps) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GitHubClient(f"http://127.0.0.1:{port}", TOKEN, sleep=sleeps, max_retries=2)
    with pytest.raises(GitHubError, match=r"\(no response\): ConnectionError after 3 attempts"):
        client.get_json(ARTIFACTS)
    assert sleeps.calls == [1.0, 2.0]


# -- the stand-in itself must reject what GitHub would reject ------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/repos/octo/bench/no-such-endpoint", None, "no operation"),
        ("DELETE", ARTIFACTS, None, "no operation"),
        ("GET", "/repos/octo/bench/actions/artifacts/abc", None, "path parameter artifact_id"),
        ("POST", "/repos/octo/bench/check-runs", {"name": "bench"}, "'head_sha' is a required"),
        ("POST", "/repos/octo/bench/statuses/abc", {"state": "great"}, "body['state']"),
        ("PATCH", "/repos/octo/bench/issues/comments/9", None, "request body required"),
        ("PUT", "/repos/octo/bench/contents/a/b.json", {"message": "m"}, "'content' is a required"),
        ("POST", "/repos/octo/bench/git/commits", {"message": "m"}, "'tree' is a required"),
        ("POST", "/repos/octo/bench/git/refs", {"ref": "refs/heads/x"}, "'sha' is a required"),
        ("PATCH", "/repos/octo/bench/issues/3", {"state": "gone"}, "body['state']"),
    ],
)
def test_standin_rejects_requests_github_would_reject(
    github_openapi: OpenAPIIndex, sleeps: Sleeps, method: str, path: str, body: Any, expected: str
) -> None:
    with serve(github_openapi) as server:
        server.route(method, path, Reply(200, {}))
        make_client(server, sleeps).request(method, path, json=body)
    assert any(expected in problem for problem in server.problems), server.problems


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/repos/octo/bench/contents/history/runs/a.json", "repos/get-content"),
        ("GET", "/repos/octo/bench/git/ref/heads/bench/history", "git/get-ref"),
        ("GET", "/repos/octo/bench/issues/comments/5", "issues/get-comment"),
    ],
)
def test_standin_matches_file_paths_and_refs_with_slashes(
    github_openapi: OpenAPIIndex, method: str, path: str, operation: str
) -> None:
    assert github_openapi.check(method, path, {}, b"") == (operation, [])


def test_standin_rejects_unknown_query_parameter(
    github_openapi: OpenAPIIndex, sleeps: Sleeps
) -> None:
    with serve(github_openapi) as server:
        server.route("GET", ARTIFACTS, Reply(json=artifacts_page()))
        make_client(server, sleeps).get_json(ARTIFACTS, params={"branch": "main"})
    assert len(server.problems) == 1
    assert "unknown query parameter 'branch'" in server.problems[0]
