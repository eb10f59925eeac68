"""The sticky alert issue against the stand-in playing a small repository."""

from __future__ import annotations

import json

import pytest

from benchaction.github.client import GitHubClient, PermissionDenied
from benchaction.github.issues import BODY_LIMIT, IssueRef, StickyIssue, alert_marker
from benchaction.github.publish import BOT_LOGIN
from tests.support.fake_repo import FakeRepo
from tests.support.github_payloads import (
    BASE,
    REPO,
    USER,
    answer_as_job_token,
    answer_as_user,
)
from tests.support.standin import Reply, StandIn

MARKER = alert_marker("llama-8b")
LABELS = ("bench-regression",)
ISSUES = f"{BASE}/issues"


@pytest.fixture
def repo(github: StandIn) -> FakeRepo:
    answer_as_job_token(github)
    return FakeRepo(github, REPO)


@pytest.fixture
def sticky(client: GitHubClient) -> StickyIssue:
    return StickyIssue(client, REPO)


def open_alert(sticky: StickyIssue, body: str = "p50 latency +12 % since abc123") -> IssueRef:
    return sticky.open_or_update(MARKER, "main regressed: llama-8b", body, LABELS)


def where(ref: IssueRef) -> tuple[int, str, bool]:
    """The fields that say which issue was written and how (IssueRef may carry more)."""
    return ref.number, ref.url, ref.created


def test_the_marker_names_the_config() -> None:
    assert MARKER == "<!-- bench-action-alert:llama-8b -->"
    with pytest.raises(ValueError, match="one line without '--'"):
        alert_marker("a-->b")


def test_first_alert_opens_an_issue(github: StandIn, repo: FakeRepo, sticky: StickyIssue) -> None:
    ref = open_alert(sticky)
    assert where(ref) == (1, f"https://github.com/{REPO}/issues/1", True)
    issue = repo.issues[1]
    assert issue["body"] == f"{MARKER}\np50 latency +12 % since abc123"  # marker put on top
    assert issue["user"]["login"] == BOT_LOGIN
    assert [label["name"] for label in issue["labels"]] == ["bench-regression"]
    listed = github.calls(ISSUES)[0]
    assert listed.operation == "issues/list-for-repo"
    assert listed.query["state"] == ["open"] and listed.query["labels"] == ["bench-regression"]


def test_a_second_alert_updates_the_same_issue(
    github: StandIn, repo: FakeRepo, sticky: StickyIssue
) -> None:
    first = open_alert(sticky)
    again = sticky.open_or_update(MARKER, "main regressed again", f"{MARKER}\nworse", LABELS)
    assert where(again) == (first.number, first.url, False)
    assert list(repo.issues) == [1]  # no second issue
    assert repo.issues[1]["title"] == "main regressed again"
    assert repo.issues[1]["body"] == f"{MARKER}\nworse"
    (patched,) = github.calls(f"{ISSUES}/1")
    assert patched.operation == "issues/update"
    assert json.loads(patched.body) == {"title": "main regressed again", "body": f"{MARKER}\nworse"}
    assert len(github.calls(USER)) == 1  # the login is asked once per StickyIssue


def test_comment_and_close_when_main_recovers(
    github: StandIn, repo: FakeRepo, sticky: StickyIssue
) -> None:
    ref = open_alert(sticky)
    comment_id = sticky.comment(ref.number, "still slow on def456")
    sticky.close(ref.number, "recovered on 0a1b2c: p50 back within 1 %")
    assert [c["body"] for c in repo.comments[ref.number]] == [
        "still slow on def456",
        "recovered on 0a1b2c: p50 back within 1 %",
    ]
    assert comment_id == repo.comments[ref.number][0]["id"]
    assert repo.issues[ref.number]["state"] == "closed"
    assert repo.issues[ref.number]["state_reason"] == "completed"
    assert sticky.find(MARKER, LABELS) is None  # closed issues are not ours any more
    assert open_alert(sticky).number == 2  # a later regression opens a new issue


def test_an_issue_by_another_author_with_the_marker_is_ignored(
    repo: FakeRepo, sticky: StickyIssue
) -> None:
    theirs = repo.add_issue("copy", f"> {MARKER}\n> pasted", "mallory", LABELS)
    pull = repo.add_issue("a PR", MARKER, BOT_LOGIN, LABELS, pr=True)
    ref = open_alert(sticky)
    assert ref.created and ref.number not in (theirs, pull)
    assert repo.issues[theirs]["body"] == f"> {MARKER}\n> pasted"
    assert repo.issues[pull]["body"] == MARKER


def test_a_personal_token_finds_its_own_issue_only(github: StandIn, client: GitHubClient) -> None:
    answer_as_user(github, "octocat")
    repo = FakeRepo(github, REPO, login="octocat")
    repo.add_issue("bot's", MARKER, BOT_LOGIN, LABELS)
    mine = repo.add_issue("mine", MARKER, "octocat", LABELS)
    ref = StickyIssue(client, REPO).open_or_update(MARKER, "t", "b", LABELS)
    assert where(ref) == (mine, f"https://github.com/{REPO}/issues/{mine}", False)


def test_our_issue_is_found_on_a_later_page(
    github: StandIn, repo: FakeRepo, sticky: StickyIssue
) -> None:
    ours = repo.add_issue("ours", MARKER, BOT_LOGIN)
    for n in range(150):
        repo.add_issue(f"other {n}", "unrelated", "Codertocat")
    found = sticky.find(MARKER)
    assert found is not None and found.number == ours
    assert len(github.calls(ISSUES)) == 1  # oldest first: ours is on page one
    repo.issues[ours]["state"] = "closed"
    assert sticky.find(MARKER) is None
    pages = github.calls(ISSUES)[1:]
    assert [r.query.get("page") for r in pages] == [None, ["2"]]


def test_a_refused_issue_names_issues_write(
    github: StandIn, repo: FakeRepo, sticky: StickyIssue
) -> None:
    github.route("POST", ISSUES, Reply(403, {"message": "Resource not accessible by integration"}))
    with pytest.raises(PermissionDenied, match="permissions: issues: write"):
        open_alert(sticky)


def test_a_body_over_the_limit_is_refused_before_any_call(
    github: StandIn, sticky: StickyIssue
) -> None:
    with pytest.raises(ValueError, match=f"at most {BODY_LIMIT}"):
        sticky.open_or_update(MARKER, "t", "x" * BODY_LIMIT, LABELS)
    with pytest.raises(ValueError, match=f"at most {BODY_LIMIT}"):
        sticky.comment(1, "x" * (BODY_LIMIT + 1))
    assert github.requests == []
