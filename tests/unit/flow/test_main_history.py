"""Main's history in the action against the stand-in playing a repository: runs added to the
history branch, pull requests pooled from it, the alert issue opened, updated and closed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from benchaction.flow.main_history import HistorySettings, MainHistory
from benchaction.flow.verdict import Baseline, GitHubTarget, Verdict, judge
from benchaction.github.client import GitHubClient
from benchaction.history import RunLinks, parse_history
from benchaction.results import ResultsDocument
from benchaction.stats import StatsSettings
from tests.support.fake_repo import FakeRepo
from tests.support.github_payloads import BASE, REPO, answer_as_job_token
from tests.support.history import run_doc
from tests.support.standin import Reply, StandIn

STATS = StatsSettings()
FILE = "numpy-mlp.json"
BRANCH = "bench-history"
WOBBLE = (0.0, 0.012, -0.01, 0.006, -0.004, 0.009, -0.012, 0.003)


@pytest.fixture
def repo(github: StandIn) -> FakeRepo:
    answer_as_job_token(github)
    return FakeRepo(github, REPO)


def _target(client: GitHubClient, run: int) -> GitHubTarget:
    return GitHubTarget(client, REPO, 1296269, "https://github.com", str(run), None)


def _links(i: int) -> RunLinks:
    return {"key": f"gh-{5000 + i}", "url": f"https://github.com/{REPO}/actions/runs/{5000 + i}"}


Run = Callable[[int, float], tuple[Verdict, list[str]]]


@pytest.fixture
def main_run(client: GitHubClient, repo: FakeRepo) -> Run:
    """One main-branch run `i` at latency `factor`: compared with main's runs, then kept."""

    def run(i: int, factor: float) -> tuple[Verdict, list[str]]:
        logs: list[str] = []
        history = MainHistory(
            _target(client, 5000 + i),
            HistorySettings(),
            main_branch="main",
            artifact_name="bench-results",
            log=logs.append,
        )
        head = run_doc(i, factor * (1 + WOBBLE[i % len(WOBBLE)]))
        base = history.baseline(head, STATS.primary) or Baseline.none("first run")
        verdict = judge(head, base, STATS)
        history.keep_run(head, verdict, STATS, _links(i))
        return verdict, logs

    return run


def _stored(repo: FakeRepo) -> list[str]:
    text = repo.file(BRANCH, FILE)
    assert text is not None
    return [r["key"] for r in parse_history(text, FILE)["runs"]]


def _open_issues(repo: FakeRepo) -> list[dict[str, object]]:
    return [i for i in repo.issues.values() if i["state"] == "open"]


def test_main_runs_fill_the_branch_and_a_regression_opens_one_issue_until_recovery(
    repo: FakeRepo, main_run: Run
) -> None:
    for i in range(8):
        verdict, logs = main_run(i, 1.0)
        assert verdict.comparison.verdict != "regression", logs
    assert _stored(repo) == [f"gh-{5000 + i}" for i in range(8)]
    assert repo.history(BRANCH)[-1].parents == ()  # an orphan branch: no shared history
    assert len(repo.history(BRANCH)) == 8 and not repo.issues

    verdict, logs = main_run(8, 1.3)
    assert verdict.comparison.verdict == "regression"
    (issue,) = _open_issues(repo)
    body = str(issue["body"])
    assert issue["title"] == "bench-action: numpy-mlp regressed on main"
    assert body.startswith("<!-- bench-action-alert:numpy-mlp -->")
    assert "a regression against main's earlier runs: predict throughput -23" in body
    assert "predict latency p50 +30" in body and "a new change point: latency p50 is 30" in body
    assert "Compared with: 8 main run(s) 0000000..0000007 pooled" in body
    assert "actions/runs/5008" in body and "| predict | **latency p50** |" in body
    assert any("alert: issue #" in line and "opened" in line for line in logs)

    for i in range(9, 14):  # main stays slow: one issue, still measured against the old level
        verdict, logs = main_run(i, 1.3)
        assert any("stays open: regression against the 8 run(s) before it" in x for x in logs)
    (still,) = _open_issues(repo)
    assert '"before": ["gh-5000", ' in str(still["body"]) and still["number"] == issue["number"]

    verdict, logs = main_run(14, 1.0)
    assert not _open_issues(repo), logs
    (closed,) = repo.issues.values()
    assert closed["state"] == "closed"
    (recovery,) = repo.comments[int(str(closed["number"]))]
    assert "recovered at `" in recovery["body"] and "**unchanged**" in recovery["body"]


def test_a_pull_request_compares_with_mains_runs_since_the_last_change(
    client: GitHubClient, repo: FakeRepo, main_run: Run
) -> None:
    for i in range(10):
        main_run(i, 1.0)
    for i in range(10, 20):
        main_run(i, 1.25)
    logs: list[str] = []
    history = MainHistory(
        _target(client, 9999),
        HistorySettings(pool_runs=6),
        main_branch="main",
        artifact_name="bench-results",
        log=logs.append,
    )
    head = run_doc(30, 1.25)
    baseline = history.baseline(head, STATS.primary)
    assert baseline is not None and baseline.provenance is not None
    keys = {t["from_run"] for t in baseline.document["scenarios"][0]["trials"]}  # type: ignore[index]
    assert keys == {f"gh-{5000 + i}" for i in range(14, 20)}
    assert "6 main run(s)" in baseline.provenance["note"]
    assert baseline.provenance["history"].startswith("latency p50 is ")
    assert "slower since" in baseline.provenance["history"]
    verdict = judge(head, baseline, STATS)
    assert verdict.comparison.verdict == "unchanged"
    assert "Main: latency p50 is" in verdict.texts.comment
    slower = judge(run_doc(31, 1.5), baseline, STATS)
    assert slower.comparison.verdict == "regression"


def test_concurrent_main_runs_both_land(
    client: GitHubClient, repo: FakeRepo, main_run: Run
) -> None:
    main_run(0, 1.0)
    other = run_doc(1)
    from benchaction.history import add_record, dump_history, record_of

    def another_writer(text: str | None) -> str:
        assert text is not None
        history, _ = add_record(parse_history(text, FILE), record_of(other, _links(1)))
        return dump_history(history)

    repo.interfere(FILE, [another_writer], status=409, branch=BRANCH)
    main_run(2, 1.0)
    assert _stored(repo) == ["gh-5000", "gh-5001", "gh-5002"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"format": "bench-action-history", "version": 9, "runs": []}', "newer bench-action"),
        ("[1, 2, 3]", "not a bench-action history file"),
        ("{oops", "not valid JSON"),
    ],
)
def test_a_history_file_this_version_cannot_read_is_left_as_it_is(
    repo: FakeRepo, main_run: Run, text: str, words: str
) -> None:
    repo.seed(BRANCH, FILE, text)
    verdict, logs = main_run(0, 1.0)
    assert repo.file(BRANCH, FILE) == text
    warnings = [line for line in logs if line.startswith("::warning")]
    assert warnings and words in warnings[0]
    assert any("not adding the run" in line for line in logs)
    assert verdict.baseline.document is None


def test_a_token_without_contents_write_warns_and_the_run_goes_on(
    github: StandIn, repo: FakeRepo, main_run: Run
) -> None:
    github.route("PUT", f"{BASE}/contents/{FILE}", Reply(403, {"message": "denied"}))
    github.route("POST", f"{BASE}/git/refs", Reply(403, {"message": "denied"}))
    github.route("POST", f"{BASE}/git/trees", Reply(403, {"message": "denied"}))
    github.route("POST", f"{BASE}/git/blobs", Reply(403, {"message": "denied"}))
    verdict, logs = main_run(0, 1.0)
    warning = next(line for line in logs if line.startswith("::warning"))
    assert "contents: write" in warning
    assert repo.file(BRANCH, FILE) is None and verdict.comparison.verdict == "inconclusive"


def test_read_only_history_is_rebuilt_from_main_artifacts(
    client: GitHubClient, github: StandIn
) -> None:
    from tests.support.artifacts import artifact_zip

    docs: list[ResultsDocument] = [run_doc(i) for i in range(4)]
    listing = []
    for n, doc in enumerate(docs):
        listing.append(
            {
                "id": 700 + n,
                "name": "bench-results",
                "expired": False,
                "created_at": doc["created_at"],
                "archive_download_url": f"{github.url}{BASE}/actions/artifacts/{700 + n}/zip",
                "workflow_run": {
                    "id": 9000 + n,
                    "head_branch": "main",
                    "head_sha": doc["git"]["sha"],  # type: ignore[index]
                    "head_repository_id": 1296269,
                    "repository_id": 1296269,
                },
            }
        )
        github.route(
            "GET", f"{BASE}/actions/artifacts/{700 + n}/zip", Reply(body=artifact_zip(doc))
        )
    github.route(
        "GET",
        f"{BASE}/actions/artifacts",
        Reply(json={"total_count": len(listing), "artifacts": listing[::-1]}),
    )
    logs: list[str] = []
    history = MainHistory(
        _target(client, 1),
        HistorySettings(store="artifacts"),
        main_branch="main",
        artifact_name="bench-results",
        log=logs.append,
    )
    runs = history.runs("numpy-mlp")
    assert [r["key"] for r in runs] == [f"gh-{9000 + n}" for n in range(4)]
    assert "4 run(s) of numpy-mlp read back from artifacts" in logs[-1]
    baseline = history.baseline(run_doc(10), STATS.primary)
    assert baseline is not None and "4 main run(s)" in baseline.provenance["note"]  # type: ignore[index]
    assert not [c for c in github.requests if c.method in ("PUT", "POST", "PATCH")]
    assert json.loads(json.dumps(runs))[0]["url"].endswith("/actions/runs/9000")
