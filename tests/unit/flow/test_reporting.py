"""The whole GitHub step against the validating stand-in: baseline, summary, outputs, comment, check."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from benchaction.github.client import GitHubClient
from tests.support.artifacts import ARTIFACTS, serve_baseline, serve_compare
from tests.support.documents import two_scenario_doc
from tests.support.github_payloads import BASE, CHECK_RUNS, COMMENTS, SHA, check_run, comment
from tests.support.standin import Reply, StandIn
from tests.support.verdict import report


def test_regression_reaches_summary_outputs_comment_and_check(
    github: StandIn,
    client: GitHubClient,
    event: dict[str, Any],
    tmp_path: Path,
) -> None:
    serve_baseline(github, event, two_scenario_doc("predict", 1.0, 1.0, "a" * 40))
    github.route("GET", COMMENTS, Reply(json=[]))
    github.route("POST", COMMENTS, Reply(201, comment(11, "x")))
    github.route("POST", CHECK_RUNS, Reply(201, check_run(77, "failure")))
    head = two_scenario_doc("predict", 1.12, 1.0, "b" * 40)
    logs: list[str] = []
    out = report(head, client, event, tmp_path, log=logs.append)
    assert out.comparison.verdict == "regression"
    assert out.baseline is not None and out.baseline.provenance is not None
    assert (out.comment, out.check) == ("created", "check-run")
    summary = (tmp_path / "summary.md").read_text()
    assert "🔴 Regression: predict" in summary and "[run 700](https://github.com/" in summary
    outputs = (tmp_path / "output").read_text()
    assert "verdict<<" in outputs and "regression" in outputs and "head-latency-p99-ms<<" in outputs
    posted = json.loads(github.calls(COMMENTS)[-1].body)
    assert posted["body"].startswith("<!-- bench-action:numpy-mlp -->\n### 🔴 Regression")
    check = json.loads(github.calls(CHECK_RUNS)[-1].body)
    assert check["head_sha"] == SHA == event["pull_request"]["head"]["sha"]
    assert check["conclusion"] == "failure"


def test_fork_pr_writes_nothing_but_the_summary(
    github: StandIn,
    client: GitHubClient,
    event: dict[str, Any],
    tmp_path: Path,
) -> None:
    fork = copy.deepcopy(event)
    fork["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"
    serve_baseline(github, fork, two_scenario_doc("predict", 1.0, 1.0, "a" * 40))
    logs: list[str] = []
    out = report(
        two_scenario_doc("predict", 1.0, 1.0, "b" * 40), client, fork, tmp_path, log=logs.append
    )
    assert out.comment.startswith("skipped: pull request from a fork")
    assert out.check.startswith("skipped")
    assert not github.calls(COMMENTS) and not github.calls(CHECK_RUNS)
    assert (tmp_path / "summary.md").exists()
    assert any("fork" in line for line in logs)


def test_no_baseline_is_inconclusive_and_neutral(
    github: StandIn,
    client: GitHubClient,
    event: dict[str, Any],
    tmp_path: Path,
) -> None:
    serve_compare(github, event, "d" * 40)
    github.route("GET", ARTIFACTS, Reply(json={"total_count": 0, "artifacts": []}))
    github.route("GET", COMMENTS, Reply(json=[]))
    github.route("POST", COMMENTS, Reply(201, comment(12, "x")))
    github.route("POST", CHECK_RUNS, Reply(201, check_run(78, "neutral")))
    out = report(two_scenario_doc("predict", 1.0, 1.0, "b" * 40), client, event, tmp_path)
    assert out.comparison.verdict == "inconclusive"
    assert json.loads(github.calls(CHECK_RUNS)[-1].body)["conclusion"] == "neutral"
    body = json.loads(github.calls(COMMENTS)[-1].body)["body"]
    assert "No baseline: no non-expired artifact named" in body


def test_merge_base_is_preferred_and_a_422_comment_does_not_fail_the_step(
    github: StandIn,
    client: GitHubClient,
    event: dict[str, Any],
    tmp_path: Path,
) -> None:
    merge = "c" * 40  # _serve_baseline answers the compare call with the artifact's sha
    serve_baseline(github, event, two_scenario_doc("predict", 1.0, 1.0, "a" * 40))
    github.route("GET", COMMENTS, Reply(json=[]))
    too_long = {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": "IssueComment",
                "code": "custom",
                "field": "body",
                "message": "body is too long (maximum is 65536 characters)",
            }
        ],
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
    }
    github.route("POST", COMMENTS, Reply(422, too_long))
    github.route("POST", CHECK_RUNS, Reply(201, check_run(79)))
    logs: list[str] = []
    out = report(
        two_scenario_doc("predict", 1.0, 1.0, "b" * 40), client, event, tmp_path, log=logs.append
    )
    assert out.baseline is not None and out.baseline.provenance is not None
    assert out.baseline.provenance["sha"] == merge
    base_ref = event["pull_request"]["base"]["ref"]
    assert len(github.calls(f"{BASE}/compare/{base_ref}...{SHA}")) == 1  # asked for the merge base
    assert out.comment == "failed: HTTP 422"
    assert any("Validation Failed" in line for line in logs)
    assert out.check == "check-run"
