"""Files on a branch against the stand-in playing a small repository: read, create, retry, refuse."""

from __future__ import annotations

import base64
import hashlib
import json
import random

import pytest

from benchaction.github.branch_files import RAW_MEDIA_TYPE, BranchFiles, FileVersion, WriteConflict
from benchaction.github.client import GitHubClient, PermissionDenied
from tests.support.fake_repo import FakeRepo
from tests.support.github_payloads import BASE, REPO
from tests.support.standin import Reply, StandIn

BRANCH = "bench-history"
PATH = "history/llama-8b.json"
CONTENTS = f"{BASE}/contents/{PATH}"
DENIED = Reply(403, {"message": "Resource not accessible by integration", "status": "403"})


class BrokenHistory(Exception):
    """What a caller's change function raises to abort a write."""


def git_blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.fixture
def repo(github: StandIn) -> FakeRepo:
    return FakeRepo(github, REPO)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def files(client: GitHubClient, waits: list[float]) -> BranchFiles:
    return BranchFiles(client, REPO, BRANCH, sleep=waits.append, rng=random.Random(7))


def writes(github: StandIn) -> list[str]:
    """Method and path of every request that would change the repository."""
    return [f"{r.method} {r.path}" for r in github.requests if r.method != "GET"]


# -- read -----------------------------------------------------------------------------------------


def test_read_without_the_branch_is_none(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    assert files.read(PATH) is None
    (asked,) = github.calls(CONTENTS)
    assert asked.operation == "repos/get-content" and asked.query == {"ref": [BRANCH]}


def test_read_a_missing_file_on_the_branch_is_none(repo: FakeRepo, files: BranchFiles) -> None:
    repo.seed(BRANCH, "README.md", "history of main-branch runs\n")
    assert files.read(PATH) is None


def test_read_a_file_gives_text_and_blob_sha(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    text = '{"runs": [{"p50_ms": 12.5, "note": "µs → ms"}]}\n'
    repo.seed(BRANCH, PATH, text)
    assert files.read(PATH) == FileVersion(text, git_blob_sha(text))
    assert [r.operation for r in github.requests] == ["repos/get-content"]  # inline: one call


def test_read_a_file_over_one_megabyte_through_the_blob_api(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    line = json.dumps({"run": 1, "values": list(range(40))}) + "\n"
    text = line * (1_500_000 // len(line))  # about 1.5 MB: the contents API leaves it out
    repo.seed(BRANCH, PATH, text)
    found = files.read(PATH)
    assert found is not None and found.text == text and found.sha == git_blob_sha(text)
    contents, blob = github.requests
    assert contents.operation == "repos/get-content"
    assert blob.operation == "git/get-blob" and blob.path == f"{BASE}/git/blobs/{found.sha}"
    assert blob.headers["accept"] == RAW_MEDIA_TYPE


def test_read_a_directory_says_so(repo: FakeRepo, files: BranchFiles) -> None:
    repo.seed(BRANCH, f"{PATH}/part-1.json", "{}")
    with pytest.raises(ValueError, match=f"{PATH} on branch {BRANCH} of {REPO} is a directory"):
        files.read(PATH)


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../main/secret", "a//b", "a/./b"])
def test_bad_paths_are_refused_before_any_call(
    github: StandIn, files: BranchFiles, path: str
) -> None:
    with pytest.raises(ValueError, match="file path must be relative"):
        files.read(path)
    with pytest.raises(ValueError, match="file path must be relative"):
        files.update(path, lambda _: "x", "never")
    assert github.requests == []


# -- first write: an orphan branch ----------------------------------------------------------------


def test_first_write_creates_an_orphan_branch_holding_the_file(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    main_tip = repo.seed("main", "src/app.py", "print('model server')\n")
    seen: list[str | None] = []

    def change(old: str | None) -> str:
        seen.append(old)
        return '{"runs": [1]}\n'

    commit = files.update(PATH, change, "bench: first run")
    assert seen == [None]
    assert repo.file(BRANCH, PATH) == '{"runs": [1]}\n'
    (only,) = repo.history(BRANCH)
    assert only.sha == commit and only.parents == () and only.message == "bench: first run"
    assert main_tip not in {c.sha for c in repo.history(BRANCH)}
    assert repo.file(BRANCH, "src/app.py") is None  # nothing of main on the branch
    assert [r.operation for r in github.requests] == [
        "repos/get-content",
        "git/get-ref",
        "git/create-blob",
        "git/create-tree",
        "git/create-commit",
        "git/create-ref",
    ]
    commit_body = json.loads(github.calls(f"{BASE}/git/commits")[0].body)
    assert commit_body["parents"] == []
    ref_body = json.loads(github.calls(f"{BASE}/git/refs")[0].body)
    assert ref_body == {"ref": f"refs/heads/{BRANCH}", "sha": commit}


def test_a_file_added_to_an_existing_branch_is_put_without_sha(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    repo.seed(BRANCH, "README.md", "history\n")
    commit = files.update(PATH, lambda old: "first\n", "bench: add config")
    (put,) = [r for r in github.requests if r.method == "PUT"]
    body = json.loads(put.body)
    assert put.operation == "repos/create-or-update-file-contents"
    assert "sha" not in body and body["branch"] == BRANCH
    assert base64.b64decode(body["content"]).decode() == "first\n"
    assert repo.history(BRANCH)[0].sha == commit
    assert repo.file(BRANCH, "README.md") == "history\n"


def test_an_update_names_the_sha_it_read(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    repo.seed(BRANCH, PATH, "run 1\n")
    commit = files.update(PATH, lambda old: f"{old}run 2\n", "bench: run 2")
    (put,) = github.calls(CONTENTS)[1:]
    assert json.loads(put.body)["sha"] == git_blob_sha("run 1\n")
    assert repo.file(BRANCH, PATH) == "run 1\nrun 2\n"
    tip, parent = repo.history(BRANCH)
    assert tip.sha == commit and tip.parents == (parent.sha,)


# -- conflicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [409, 422])
def test_a_conflict_rereads_and_keeps_both_writers(
    github: StandIn, repo: FakeRepo, files: BranchFiles, waits: list[float], status: int
) -> None:
    repo.seed(BRANCH, PATH, "run 1\n")
    repo.interfere(PATH, [lambda old: f"{old}run 2 (other job)\n"], status=status, branch=BRANCH)
    seen: list[str | None] = []

    def append(old: str | None) -> str:
        seen.append(old)
        return f"{old}run 3 (this job)\n"

    files.update(PATH, append, "bench: run 3")
    assert repo.file(BRANCH, PATH) == "run 1\nrun 2 (other job)\nrun 3 (this job)\n"
    assert seen == ["run 1\n", "run 1\nrun 2 (other job)\n"]
    puts = [r for r in github.requests if r.method == "PUT"]
    assert len(puts) == 2
    assert json.loads(puts[1].body)["sha"] == git_blob_sha("run 1\nrun 2 (other job)\n")
    assert len(waits) == 1 and 0.25 <= waits[0] <= 0.75  # 0.5 s with +-50 % jitter


def test_a_file_created_meanwhile_is_merged(repo: FakeRepo, files: BranchFiles) -> None:
    """Another job creates the file between our read and our PUT: 422 "sha wasn't supplied"."""
    repo.seed(BRANCH, "README.md", "history\n")
    calls = 0

    def append(old: str | None) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            repo.seed(BRANCH, PATH, "run 1 (other job)\n", "other job")
        return f"{old or ''}run 2 (this job)\n"

    files.update(PATH, append, "bench: run 2")
    assert repo.file(BRANCH, PATH) == "run 1 (other job)\nrun 2 (this job)\n"
    assert calls == 2


def test_a_branch_created_meanwhile_is_used(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    repo.race_branch_creation(BRANCH, PATH, "run 1 (other job)\n")
    files.update(PATH, lambda old: f"{old or ''}run 2 (this job)\n", "bench: run 2")
    assert repo.file(BRANCH, PATH) == "run 1 (other job)\nrun 2 (this job)\n"
    tip, first = repo.history(BRANCH)
    assert first.message == "another writer's first commit" and first.parents == ()
    assert tip.parents == (first.sha,)
    assert [r.operation for r in github.requests][-3:] == [
        "git/create-ref",  # answered 422 "Reference already exists"
        "repos/get-content",
        "repos/create-or-update-file-contents",
    ]


def test_gives_up_after_the_attempts_with_a_clear_error(
    github: StandIn, repo: FakeRepo, files: BranchFiles, waits: list[float]
) -> None:
    repo.seed(BRANCH, PATH, "")
    others = [lambda old, n=n: f"{old}other {n}\n" for n in range(3)]
    repo.interfere(PATH, others, branch=BRANCH)
    with pytest.raises(WriteConflict) as raised:
        files.update(PATH, lambda old: f"{old}mine\n", "bench: run", attempts=3)
    assert raised.value.status == 409
    assert (
        f"gave up writing {PATH} on branch {BRANCH} of {REPO} after 3 attempts: another writer "
        "changed it between each read and write" in str(raised.value)
    )
    assert repo.file(BRANCH, PATH) == "other 0\nother 1\nother 2\n"  # ours never landed
    assert len(waits) == 2 and 0.5 <= waits[1] <= 1.5  # doubled, with jitter


def test_change_raising_aborts_without_writing(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    repo.seed(BRANCH, PATH, "not json")
    problem = BrokenHistory("history file is not valid JSON")

    def refuse(old: str | None) -> str:
        raise problem

    with pytest.raises(BrokenHistory) as raised:
        files.update(PATH, refuse, "bench: run")
    assert raised.value is problem
    assert writes(github) == []
    assert repo.file(BRANCH, PATH) == "not json"


# -- permissions ----------------------------------------------------------------------------------


def test_a_refused_put_names_contents_write(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    repo.seed(BRANCH, PATH, "run 1\n")
    github.route("PUT", CONTENTS, DENIED)
    with pytest.raises(PermissionDenied, match="permissions: contents: write") as raised:
        files.update(PATH, lambda old: f"{old}run 2\n", "bench: run 2")
    assert "main-branch runs push the history" in str(raised.value)
    assert len(github.calls(CONTENTS)) == 2  # not retried


def test_a_refused_branch_creation_names_contents_write(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    github.route("POST", f"{BASE}/git/blobs", DENIED)
    with pytest.raises(PermissionDenied, match="permissions: contents: write"):
        files.update(PATH, lambda old: "run 1\n", "bench: run 1")
    assert repo.refs == {}


def test_a_404_on_write_is_reported_as_a_missing_permission(
    github: StandIn, repo: FakeRepo, files: BranchFiles
) -> None:
    repo.seed(BRANCH, PATH, "run 1\n")
    github.route("PUT", CONTENTS, Reply(404, {"message": "Not Found"}))
    with pytest.raises(PermissionDenied, match="Not Found; the token likely needs") as raised:
        files.update(PATH, lambda old: f"{old}run 2\n", "bench: run 2")
    assert raised.value.status == 404


def test_bad_branch_and_attempts_are_refused(client: GitHubClient, files: BranchFiles) -> None:
    with pytest.raises(ValueError, match="plain branch name"):
        BranchFiles(client, REPO, "refs/heads/x")
    with pytest.raises(ValueError, match="attempts must be at least 1, got 0"):
        files.update(PATH, lambda old: "x", "m", attempts=0)
