"""Publishing on a pull request against the validating stand-in: sticky comment, check, status."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchaction.github.client import GitHubClient
from benchaction.github.publish import (
    COMMENT_LIMIT,
    FORK_REASON,
    SUMMARY_LIMIT,
    PullRequest,
    publish_check,
    pull_request_from_event,
    should_write,
    upsert_comment,
)
from benchaction.report.comment import comment_marker
from tests.support.github_payloads import (
    BASE,
    CHECK_RUNS,
    COMMENTS,
    REPO,
    SHA,
    USER,
    answer_as_job_token,
    answer_as_user,
    check_run,
    comment,
)
from tests.support.standin import Recorded, Reply, StandIn

STATUSES = f"{BASE}/statuses/{SHA}"
MARKER = comment_marker("llama-8b")
DENIED = Reply(
    403,
    {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest",
        "status": "403",
    },
)


def annotation(line: int) -> dict[str, Any]:
    return {
        "path": "bench/config.yaml",
        "start_line": line,
        "end_line": line,
        "annotation_level": "warning",
        "message": f"scenario {line}: p99 latency regressed",
    }


def body_of(recorded: Recorded) -> Any:
    return json.loads(recorded.body)


def upsert_marked_comment(client: GitHubClient, body: str) -> tuple[str, int]:
    """The sticky comment with MARKER on pull request #2 of REPO, set to `body`."""
    return upsert_comment(client, repository=REPO, pr_number=2, marker=MARKER, body=body)


def publish_bench_check(client: GitHubClient, **fields: Any) -> str:
    """The "bench" check on SHA of REPO; `fields` are publish_check's conclusion, title, ..."""
    return publish_check(client, repository=REPO, head_sha=SHA, name="bench", **fields)


# -- the event payload --------------------------------------------------------------------------


def test_pull_request_from_real_event(event: dict[str, Any]) -> None:
    pr = pull_request_from_event(event)
    assert pr == PullRequest(
        number=2, head_sha=SHA, head_repo=REPO, base_repo=REPO, base_ref="master"
    )
    assert not pr.is_fork
    assert should_write(pr) == (True, f"pull request #2 from {REPO}")


def test_fork_pull_request_is_read_only(event: dict[str, Any]) -> None:
    event["pull_request"]["head"]["repo"]["full_name"] = "contributor/Hello-World"
    pr = pull_request_from_event(event)
    assert pr is not None and pr.is_fork
    assert pr.head_repo == "contributor/Hello-World" and pr.base_repo == REPO
    assert should_write(pr) == (False, FORK_REASON)


def test_deleted_head_repository_counts_as_fork(event: dict[str, Any]) -> None:
    event["pull_request"]["head"]["repo"] = None
    pr = pull_request_from_event(event)
    assert pr is not None and pr.is_fork


def test_other_events_have_no_pull_request(event: dict[str, Any]) -> None:
    push = {"ref": "refs/heads/main", "after": SHA, "repository": event["repository"]}
    assert pull_request_from_event(push) is None
    ok, reason = should_write(None)
    assert not ok and "not a pull request event" in reason


# -- the sticky comment -------------------------------------------------------------------------


def test_first_run_creates_the_comment(github: StandIn, client: GitHubClient) -> None:
    body = f"{MARKER}\n## Benchmark\nall good"
    github.route("GET", COMMENTS, Reply(json=[comment(10, "LGTM", login="Codertocat")]))
    github.route("POST", COMMENTS, Reply(201, comment(11, body)))
    result = upsert_marked_comment(client, body)
    assert result == ("created", 11)
    assert github.calls(USER) == []  # no marked comment: no need to ask who the token is
    listed, posted = github.calls(COMMENTS)
    assert listed.operation == "issues/list-comments"
    assert posted.operation == "issues/create-comment"
    assert body_of(posted) == {"body": body}


def test_second_run_updates_the_bots_comment(github: StandIn, client: GitHubClient) -> None:
    old, new = f"{MARKER}\nold numbers", f"{MARKER}\nnew numbers"
    answer_as_job_token(github)
    github.route(
        "GET",
        COMMENTS,
        Reply(json=[comment(10, "LGTM", login="Codertocat"), comment(11, old)]),
    )
    github.route("PATCH", f"{BASE}/issues/comments/11", Reply(json=comment(11, new)))
    result = upsert_marked_comment(client, new)
    assert result == ("updated", 11)
    (patched,) = github.calls(f"{BASE}/issues/comments/11")
    assert patched.operation == "issues/update-comment"
    assert body_of(patched) == {"body": new}
    assert [r.method for r in github.calls(COMMENTS)] == ["GET"]  # no new comment


def test_look_alike_from_another_user_is_left_alone(github: StandIn, client: GitHubClient) -> None:
    body = f"{MARKER}\nreal results"
    quoted = f"> {MARKER}\n> copied from the bot's comment"
    answer_as_job_token(github)
    github.route("GET", COMMENTS, Reply(json=[comment(10, quoted, login="mallory")]))
    github.route("POST", COMMENTS, Reply(201, comment(12, body)))
    result = upsert_marked_comment(client, body)
    assert result == ("created", 12)
    assert github.calls(f"{BASE}/issues/comments/10") == []


def test_a_personal_token_updates_its_own_comment_not_the_bots(
    github: StandIn, client: GitHubClient
) -> None:
    """With a PAT the author is the PAT's user; the job token's earlier comment is not ours."""
    mine, new = f"{MARKER}\nposted with my token", f"{MARKER}\nnew numbers"
    answer_as_user(github, "octocat")
    github.route(
        "GET",
        COMMENTS,
        Reply(json=[comment(10, f"{MARKER}\nold"), comment(11, mine, login="octocat")]),
    )
    github.route("PATCH", f"{BASE}/issues/comments/11", Reply(json=comment(11, new)))
    assert upsert_marked_comment(client, new) == ("updated", 11)
    assert github.calls(f"{BASE}/issues/comments/10") == []
    assert len(github.calls(USER)) == 1  # asked once, at the first marked comment


def test_an_app_token_matches_its_own_bot(github: StandIn, client: GitHubClient) -> None:
    """An app installation token writes as `<slug>[bot]`, which GraphQL's viewer names."""
    answer_as_job_token(github, bot="bench-app[bot]")
    github.route(
        "GET",
        COMMENTS,
        Reply(json=[comment(10, f"{MARKER}\nold"), comment(12, MARKER, login="bench-app[bot]")]),
    )
    github.route("PATCH", f"{BASE}/issues/comments/12", Reply(json=comment(12, "x")))
    assert upsert_marked_comment(client, MARKER) == ("updated", 12)


def test_finds_the_comment_on_the_second_page(github: StandIn, client: GitHubClient) -> None:
    page_one = [comment(i, f"chatter {i}", login="Codertocat") for i in range(1, 101)]
    following = f'<{github.url}{COMMENTS}?per_page=100&page=2>; rel="next"'
    github.route(
        "GET",
        COMMENTS,
        Reply(json=page_one, headers={"Link": following}),
        Reply(json=[comment(150, f"{MARKER}\nold")]),
    )
    answer_as_job_token(github)
    github.route("PATCH", f"{BASE}/issues/comments/150", Reply(json=comment(150, "x")))
    result = upsert_marked_comment(client, MARKER)
    assert result == ("updated", 150)
    first, second = github.calls(COMMENTS)
    assert first.query == {"per_page": ["100"]}
    assert second.query == {"per_page": ["100"], "page": ["2"]}


def test_body_over_the_limit_is_refused(github: StandIn, client: GitHubClient) -> None:
    body = MARKER + "x" * (COMMENT_LIMIT - len(MARKER) + 1)
    with pytest.raises(ValueError, match="at most 65536"):
        upsert_marked_comment(client, body)
    assert github.requests == []  # refused before any call


def test_body_at_the_limit_is_sent(github: StandIn, client: GitHubClient) -> None:
    body = MARKER + "x" * (COMMENT_LIMIT - len(MARKER))
    github.route("GET", COMMENTS, Reply(json=[]))
    github.route("POST", COMMENTS, Reply(201, comment(13, body)))
    assert upsert_marked_comment(client, body) == ("created", 13)


# -- check run and commit status ----------------------------------------------------------------


def test_check_run_created_with_conclusion(github: StandIn, client: GitHubClient) -> None:
    github.route("POST", CHECK_RUNS, Reply(201, check_run(77, "failure")))
    logs: list[str] = []
    result = publish_bench_check(
        client,
        conclusion="failure",
        title="2 regressions",
        summary="| scenario | p99 |\n| --- | --- |",
        annotations=[annotation(3)],
        log=logs.append,
    )
    assert result == "check-run"
    (posted,) = github.calls(CHECK_RUNS)
    assert posted.operation == "checks/create"
    assert body_of(posted) == {
        "name": "bench",
        "head_sha": SHA,
        "status": "completed",
        "conclusion": "failure",
        "output": {
            "title": "2 regressions",
            "summary": "| scenario | p99 |\n| --- | --- |",
            "annotations": [annotation(3)],
        },
    }
    assert logs == []


def test_long_summary_is_truncated_with_a_note(github: StandIn, client: GitHubClient) -> None:
    github.route("POST", CHECK_RUNS, Reply(201, check_run(78)))
    publish_bench_check(
        client, conclusion="success", title="ok", summary="y" * (SUMMARY_LIMIT + 500)
    )
    output = body_of(github.calls(CHECK_RUNS)[0])["output"]
    assert len(output["summary"]) == SUMMARY_LIMIT
    assert output["summary"].endswith("see the job summary for the rest.")
    assert "annotations" not in output


def test_120_annotations_go_in_batches_of_50(github: StandIn, client: GitHubClient) -> None:
    github.route("POST", CHECK_RUNS, Reply(201, check_run(79)))
    github.route("PATCH", f"{CHECK_RUNS}/79", Reply(json=check_run(79)))
    notes = [annotation(i) for i in range(1, 121)]
    result = publish_bench_check(
        client, conclusion="neutral", title="t", summary="s", annotations=notes
    )
    assert result == "check-run"
    (posted,) = github.calls(CHECK_RUNS)
    patches = github.calls(f"{CHECK_RUNS}/79")
    assert [r.operation for r in patches] == ["checks/update", "checks/update"]
    sent = [body_of(posted)["output"]["annotations"]] + [
        body_of(p)["output"]["annotations"] for p in patches
    ]
    assert [len(batch) for batch in sent] == [50, 50, 20]
    assert [a for batch in sent for a in batch] == notes
    assert all(body_of(p)["output"]["title"] == "t" for p in patches)


def test_denied_check_run_falls_back_to_status(github: StandIn, client: GitHubClient) -> None:
    github.route("POST", CHECK_RUNS, DENIED)
    github.route("POST", STATUSES, Reply(201, {"id": 1, "state": "success", "context": "bench"}))
    logs: list[str] = []
    result = publish_bench_check(
        client,
        conclusion="neutral",
        title="no baseline to compare against " + "z" * 200,
        summary="s",
        log=logs.append,
    )
    assert result == "status"
    (status,) = github.calls(STATUSES)
    assert status.operation == "repos/create-commit-status"
    sent = body_of(status)
    assert sent["state"] == "success" and sent["context"] == "bench"
    assert sent["description"].startswith("inconclusive: no baseline to compare against")
    assert len(sent["description"]) == 140
    (line,) = logs
    assert line.startswith("::warning title=bench-action::")  # an annotation, not a plain line
    assert "checks: write" in line and "Resource not accessible by integration" in line


def test_an_inconclusive_title_is_not_prefixed_twice(github: StandIn, client: GitHubClient) -> None:
    github.route("POST", CHECK_RUNS, DENIED)
    github.route("POST", STATUSES, Reply(201, {"id": 3, "state": "success", "context": "bench"}))
    publish_bench_check(
        client,
        conclusion="neutral",
        title="bench-action: inconclusive",
        summary="s",
        log=lambda _: None,
    )
    assert body_of(github.calls(STATUSES)[0])["description"] == "bench-action: inconclusive"


def test_failure_status_state(github: StandIn, client: GitHubClient) -> None:
    github.route("POST", CHECK_RUNS, DENIED)
    github.route("POST", STATUSES, Reply(201, {"id": 2, "state": "failure", "context": "bench"}))
    result = publish_bench_check(
        client, conclusion="failure", title="1 regression", summary="s", log=lambda _: None
    )
    assert result == "status"
    assert body_of(github.calls(STATUSES)[0]) == {
        "state": "failure",
        "context": "bench",
        "description": "1 regression",
    }


def test_both_denied_publishes_nothing(github: StandIn, client: GitHubClient) -> None:
    github.route("POST", CHECK_RUNS, DENIED)
    github.route("POST", STATUSES, DENIED)
    logs: list[str] = []
    result = publish_bench_check(
        client, conclusion="success", title="ok", summary="s", log=logs.append
    )
    assert result == "none"
    assert logs[-1].startswith("::warning title=bench-action::")
    assert "checks: write" in logs[-1] and "statuses: write" in logs[-1]
    assert "exit code" in logs[-1]
