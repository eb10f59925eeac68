"""report_to_github with a base measured in the same job (A/B): no artifact lookup, and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchaction.github.client import GitHubClient
from benchaction.github.reporting import (
    SAME_JOB_NOTE,
    GitHubContext,
    ReportSettings,
    report_to_github,
)
from benchaction.stats import StatsSettings
from tests.github.standin import Reply, StandIn
from tests.github.test_publish import (  # noqa: F401 - fixtures used by name
    CHECK_RUNS,
    COMMENTS,
    check_run,
    client,
    comment,
    event,
    pr_opened_event,
)
from tests.unit.test_comment import _doc


def test_same_job_base_is_compared_without_any_artifact_call(
    github: StandIn, client: GitHubClient, event: dict[str, Any], tmp_path: Path
) -> None:
    github.route("GET", COMMENTS, Reply(json=[]))
    github.route("POST", COMMENTS, Reply(201, comment(21, "x")))
    github.route("POST", CHECK_RUNS, Reply(201, check_run(22, "failure")))
    context = GitHubContext(
        repository=event["repository"]["full_name"],
        repository_id=event["repository"]["id"],
        server_url="https://github.com",
        run_id="5",
        sha="f" * 40,
        event=event,
        summary_path=tmp_path / "summary.md",
    )
    out = report_to_github(
        _doc("predict", 1.15, 1.0, "b" * 40),
        client,
        context,
        StatsSettings(),
        ReportSettings(),
        same_job_base=_doc("predict", 1.0, 1.0, "a" * 40),
        log=lambda _: None,
    )
    assert out.comparison.verdict == "regression"
    assert out.baseline is not None and out.baseline.provenance is None
    assert [r.path for r in github.requests if "/actions/" in r.path or "/compare/" in r.path] == []
    body = json.loads(github.calls(COMMENTS)[-1].body)["body"]
    assert f"\nBaseline: {SAME_JOB_NOTE}.\n" in body
    assert f"Baseline: {SAME_JOB_NOTE}." in (tmp_path / "summary.md").read_text()
