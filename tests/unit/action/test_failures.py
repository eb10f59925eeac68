"""A run that fails on its config, driven through the action without Docker: the comment's
marker, its wording, and the outputs every way out sets."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from benchaction.action.main import run_action
from benchaction.action.outcome import failure_words, final_outputs, in_workspace
from benchaction.action.placement import Placement
from benchaction.action.settings import read_settings
from benchaction.errors import ConfigError, ExitCode, ServingError
from tests.support.action_runner import read_outputs
from tests.support.github_payloads import CHECK_RUNS, COMMENTS, check_run, comment
from tests.support.standin import Reply, StandIn

GOOD = """version: 1
name: numpy-mlp
server: {image: "example/model:1", port: 8080}
profiles:
  pr: {trials: 2}
scenarios:
  - name: predict
    path: /predict
    duration: 2s
"""
BAD = GOOD.replace("duration: 2s", "duration: two seconds")
BROKEN = GOOD.replace("profiles:", "profiles: [")  # not YAML at all


def _run(
    tmp_path: Path, github: StandIn, event: dict[str, Any], config: str, **inputs: str
) -> tuple[int, dict[str, str], str]:
    """Run the action on a workspace holding `config` as bench.yml: (exit code, outputs, summary)."""
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    (workspace / "bench.yml").write_text(config)
    (tmp_path / "event.json").write_text(json.dumps(event))
    env = {
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": event["repository"]["full_name"],
        "GITHUB_REPOSITORY_ID": str(event["repository"]["id"]),
        "GITHUB_API_URL": github.url,
        "GITHUB_RUN_ID": "700",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "INPUT_GITHUB-TOKEN": "ghs_token",
        "INPUT_HISTORY": "off",
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    }
    (tmp_path / "output").unlink(missing_ok=True)
    settings = read_settings(env)
    code = run_action(settings, Placement(note="test: no container"), None, env)
    return code, read_outputs(tmp_path / "output"), (tmp_path / "summary.md").read_text()


def _serve_comment_and_check(github: StandIn) -> None:
    github.route("GET", COMMENTS, Reply(json=[]))
    github.route("POST", COMMENTS, Reply(201, comment(11, "x")))
    github.route("POST", CHECK_RUNS, Reply(201, check_run(77, "failure")))


def _posted(github: StandIn) -> str:
    return str(json.loads(github.calls(COMMENTS)[-1].body)["body"])


def test_an_invalid_config_posts_under_its_name_in_the_repository_s_words(
    tmp_path: Path, github: StandIn, event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _serve_comment_and_check(github)
    code, outputs, summary = _run(tmp_path, github, event, BAD)
    assert code == ExitCode.USAGE
    annotation = next(s for s in capsys.readouterr().out.splitlines() if s.startswith("::error"))
    assert annotation.endswith("::bench.yml:9: scenarios[0].duration: expected a duration: a "
                               "number of seconds or a string like 250ms, 1.5s, 2m (units: ns, "
                               "us, ms, s, m, h), got 'two seconds'")  # fmt: skip
    body = _posted(github)
    # The good runs of this config post under <!-- bench-action:numpy-mlp -->: the same comment.
    assert body.startswith("<!-- bench-action:numpy-mlp -->\n### ❌ bench-action: the benchmark")
    assert str(tmp_path) not in body and str(tmp_path) not in summary
    problem = next(line for line in body.splitlines() if line.startswith("- "))
    assert problem.startswith("- bench.yml:9: scenarios\\[0\\].duration:"), problem
    assert "```" not in body  # a wrapping list, not a one-line block behind a scroll bar
    assert outputs == {"verdict": "error", "failed": "true"}  # no results file: no results-path
    assert json.loads(github.calls(CHECK_RUNS)[-1].body)["conclusion"] == "failure"


def test_a_config_that_is_not_yaml_still_posts_under_its_name(
    tmp_path: Path, github: StandIn, event: dict[str, Any]
) -> None:
    _serve_comment_and_check(github)
    code, outputs, _ = _run(tmp_path, github, event, BROKEN)
    assert code == ExitCode.USAGE
    body = _posted(github)
    assert body.startswith("<!-- bench-action:numpy-mlp -->\n")
    assert "YAML syntax error" in body
    assert outputs == {"verdict": "error", "failed": "true"}


def test_an_unknown_profile_sets_no_results_path_and_ignores_a_stale_file(
    tmp_path: Path, github: StandIn, event: dict[str, Any]
) -> None:
    _serve_comment_and_check(github)
    stale = tmp_path / "workspace" / ".bench-action" / "results.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    old = stale.stat().st_mtime - 3600
    os.utime(stale, (old, old))
    code, outputs, _ = _run(tmp_path, github, event, GOOD, profile="nightly")
    assert code == ExitCode.USAGE
    assert outputs == {"verdict": "error", "failed": "true"}
    assert "no profile named 'nightly'" in _posted(github)


def test_a_profile_that_renames_the_config_keeps_that_name_when_invalid(
    tmp_path: Path, github: StandIn, event: dict[str, Any]
) -> None:
    _serve_comment_and_check(github)
    config = BAD.replace("pr: {trials: 2}", "pr: {trials: 2, name: mlp-pr}")
    _run(tmp_path, github, event, config, profile="pr")
    assert _posted(github).startswith("<!-- bench-action:mlp-pr -->\n")


def test_outputs_follow_the_exit_code_and_name_only_a_fresh_results_file(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    told = {"verdict": "regression", "failed": "false", "head-throughput-rps": "12"}
    assert final_outputs(told, ExitCode.FAILED, results, ".bench-action", 0.0) == {
        "verdict": "regression",
        "failed": "true",  # publishing failed after the verdict: the step fails, and says so
        "head-throughput-rps": "12",
    }
    results.write_text("{}")
    since = results.stat().st_mtime
    got = final_outputs({}, ExitCode.OK, results, "out", since)
    assert got == {"verdict": "error", "failed": "false", "results-path": "out/results.json"}
    assert "results-path" not in final_outputs({}, ExitCode.OK, results, "out", since + 10)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/github/workspace/bench.yml:3: bad", "bench.yml:3: bad"),
        ("build context /github/workspace/server/ not found", "build context server/ not found"),
        ("the workspace /github/workspace is empty", "the workspace . is empty"),
        (
            "/github/workspace2/x and /github/workspace-b",
            "/github/workspace2/x and /github/workspace-b",
        ),
    ],
)
def test_paths_are_shown_relative_to_the_workspace(text: str, shown: str) -> None:
    assert in_workspace(text, Path("/github/workspace")) == shown


def test_failure_words_name_the_first_problem_and_count_the_rest() -> None:
    ws = Path("/github/workspace")
    exc = ConfigError(["/github/workspace/b.yml:1: a", "/github/workspace/b.yml:2: b", "c"])
    detail, problems, first = failure_words(exc, "the benchmark config is invalid", ws)
    assert problems == ["b.yml:1: a", "b.yml:2: b", "c"]
    assert first == "b.yml:1: a (and 2 more)"
    assert "/github/workspace" not in detail
    crashed = ServingError("the server exited with code 3\nlast lines: ...")
    assert failure_words(crashed, "the benchmark failed", ws)[1:] == (
        [],
        "the server exited with code 3",
    )
    assert failure_words(None, "the benchmark failed", ws)[2] == "the benchmark failed"
