"""The verdict flow with a base measured in the same job (A/B): no artifact lookup, and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchaction.flow.verdict import SAME_JOB_NOTE
from benchaction.github.client import GitHubClient
from tests.support.documents import two_scenario_doc
from tests.support.github_payloads import CHECK_RUNS, COMMENTS, check_run, comment
from tests.support.standin import Reply, StandIn
from tests.support.verdict import report


def test_same_job_base_is_compared_without_any_artifact_call(
    github: StandIn, client: GitHubClient, event: dict[str, Any], tmp_path: Path
) -> None:
    github.route("GET", COMMENTS, Reply(json=[]))
    github.route("POST", COMMENTS, Reply(201, comment(21, "x")))
    github.route("POST", CHECK_RUNS, Reply(201, check_run(22, "failure")))
    out = report(
        two_scenario_doc("predict", 1.15, 1.0, "b" * 40),
        client,
        event,
        tmp_path,
        run_id="5",
        same_job_base=two_scenario_doc("predict", 1.0, 1.0, "a" * 40),
        log=lambda _: None,
        outputs=False,
    )
    assert out.comparison.verdict == "regression"
    assert out.baseline.provenance == {"note": SAME_JOB_NOTE}
    assert [r.path for r in github.requests if "/actions/" in r.path or "/compare/" in r.path] == []
    body = json.loads(github.calls(COMMENTS)[-1].body)["body"]
    assert f"\nBaseline: {SAME_JOB_NOTE}.\n" in body
    assert f"Baseline: {SAME_JOB_NOTE}." in (tmp_path / "summary.md").read_text()
