"""Main's history under a matrix over runners: one history file, its series kept apart by runner,
and an alert that another runner's run cannot close."""

from __future__ import annotations

from typing import Any

from benchaction.flow.main_history import HistorySettings, MainHistory
from benchaction.flow.verdict import Baseline, GitHubTarget, judge
from benchaction.github.client import GitHubClient
from benchaction.history import RunLinks
from benchaction.stats import StatsSettings
from tests.support.fake_repo import FakeRepo
from tests.support.github_payloads import REPO, answer_as_job_token
from tests.support.history import run_doc
from tests.support.standin import StandIn

STATS = StatsSettings()
WOBBLE = (0.0, 0.012, -0.01, 0.006, -0.004, 0.009, -0.012, 0.003)


def _main_run(client: GitHubClient, i: int, factor: float, cpu: str) -> list[str]:
    """Main-branch run `i` on the runner whose CPU is `cpu`: compared with main's runs, kept."""
    logs: list[str] = []
    target = GitHubTarget(client, REPO, 1296269, "https://github.com", str(5000 + i), None)
    history = MainHistory(
        target, HistorySettings(), main_branch="main", artifact_name="b", log=logs.append
    )
    head: Any = run_doc(i, factor * (1 + WOBBLE[i % len(WOBBLE)]))
    head["host"]["cpu_model"] = cpu
    base = history.baseline(head, STATS.primary) or Baseline.none("first run")
    links: RunLinks = {"key": f"gh-{5000 + i}", "url": f"https://x/runs/{5000 + i}"}
    history.keep_run(head, judge(head, base, STATS), STATS, links)
    return logs


def test_another_runners_fast_run_does_not_close_the_alert(
    github: StandIn, client: GitHubClient
) -> None:
    answer_as_job_token(github)
    repo = FakeRepo(github, REPO)
    for i in range(8):
        _main_run(client, i, 1.0, "Xeon")
    _main_run(client, 8, 1.3, "Xeon")  # the Xeon runner regresses: the alert opens
    (issue,) = repo.issues.values()
    assert issue["state"] == "open"
    # The same push on the other runner of the matrix, twice as fast as the Xeon ever was.
    logs = _main_run(client, 9, 0.5, "EPYC")
    assert issue["state"] == "open", logs
    assert any("stays open: it is about another runner" in line for line in logs)
    _main_run(client, 10, 1.0, "Xeon")  # the Xeon runner recovers: now it closes
    assert issue["state"] == "closed"
