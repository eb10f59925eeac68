"""A matrix over two runners against the validating stand-in: each leg finds its own runner's
base-branch artifact and records it; the action in `mode: join` posts one comment with a section
per runner, each compared with its own runner's base, and one check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchaction.action.main import main
from benchaction.errors import ConfigError, ResultsError
from benchaction.flow.join import join_legs, read_legs, runner_key, write_leg
from benchaction.flow.verdict import Baseline, GitHubTarget, github_baseline, judge
from benchaction.github import pull_request_from_event
from benchaction.github.client import GitHubClient
from benchaction.results import write_results
from benchaction.stats import StatsSettings
from tests.support.artifacts import serve_runner_baselines
from tests.support.documents import runner_doc
from tests.support.github_payloads import CHECK_RUNS, COMMENTS, check_run, comment
from tests.support.standin import Reply, StandIn

A100 = ("self-hosted", "a100")
L4 = ("self-hosted", "l4")
SETUPS = {A100: ("Xeon", "NVIDIA A100-SXM4-80GB"), L4: ("EPYC", "NVIDIA L4")}


def _doc(runner: tuple[str, ...], factor: float, sha: str) -> dict[str, Any]:
    cpu, gpu = SETUPS[runner]
    return runner_doc(factor, sha, cpu_model=cpu, gpu=gpu)


def _target(client: GitHubClient, event: dict[str, Any]) -> GitHubTarget:
    return GitHubTarget(
        client=client,
        repository=event["repository"]["full_name"],
        repository_id=event["repository"]["id"],
        server_url="https://github.com",
        run_id="99",
        pr=pull_request_from_event(event),
    )


def _leg(folder: Path, runner: tuple[str, ...], head: dict[str, Any], baseline: Baseline) -> None:
    """What the action leaves in a leg's results folder (its `verdict` step), as downloaded."""
    write_results(head, folder / "results.json")
    write_leg(folder, runner, verdict=judge(head, baseline, StatsSettings()))


def _join_env(
    tmp_path: Path, github: StandIn, event: dict[str, Any], runners: str
) -> dict[str, str]:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event))
    return {
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_REPOSITORY": event["repository"]["full_name"],
        "GITHUB_REPOSITORY_ID": str(event["repository"]["id"]),
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "99",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "INPUT_GITHUB-TOKEN": "ghs_token",
        "INPUT_MODE": "join",
        "INPUT_JOIN-DIR": ".bench-join",
        "INPUT_RUNNERS": runners,
    }


def _sections(body: str) -> dict[str, str]:
    """The comment's runner sections, by heading."""
    parts = body.split("\n## Runner: ")[1:]
    return {p.split("\n", 1)[0]: p for p in parts}


def test_two_runners_one_comment_each_section_against_its_own_runners_base(
    github: StandIn, client: GitHubClient, event: dict[str, Any], tmp_path: Path
) -> None:
    # Base-branch runs uploaded one artifact a runner; the L4 is three times slower than the A100.
    serve_runner_baselines(
        github,
        event,
        {
            f"bench-results-{runner_key(A100)}": _doc(A100, 1.0, "c" * 40),
            f"bench-results-{runner_key(L4)}": _doc(L4, 3.0, "c" * 40),
        },
    )
    heads = {A100: _doc(A100, 1.12, "b" * 40), L4: _doc(L4, 3.0, "b" * 40)}
    target = _target(client, event)
    for runner, head in heads.items():  # each leg, as the action runs it on its runner
        name = f"bench-results-{runner_key(runner)}"
        baseline = github_baseline(target, name, lambda _: None)
        assert baseline.document is not None and baseline.document["host"] == head["host"]
        _leg(tmp_path / ".bench-join" / name, runner, head, baseline)
    github.route("GET", COMMENTS, Reply(json=[]))
    github.route("POST", COMMENTS, Reply(201, comment(21, "x")))
    github.route("POST", CHECK_RUNS, Reply(201, check_run(81, "failure")))

    runners = json.dumps([list(A100), list(L4)])
    code = main(_join_env(tmp_path, github, event, runners))

    assert code == 1  # the A100's regression fails the gate
    posts = github.calls(COMMENTS)
    assert [p.method for p in posts].count("POST") == 1  # one comment for both runners
    body = json.loads(posts[-1].body)["body"]
    assert body.startswith("<!-- bench-action:numpy-mlp -->\n## 🔴 bench-action: regression on 2")
    sections = _sections(body)
    assert list(sections) == ["self-hosted, a100", "self-hosted, l4"]
    a100, l4 = sections.values()
    assert "NVIDIA A100-SXM4-80GB; Xeon, 2 cores" in a100 and "### 🔴 Regression: predict" in a100
    assert "NVIDIA L4; EPYC, 2 cores" in l4 and "### ⚪ Unchanged" in l4
    # Compared with its own runner's base: no setup difference in either section.
    assert "different setups" not in body
    assert body.count("[run 700](https://github.com/") == 2
    check = json.loads(github.calls(CHECK_RUNS)[-1].body)
    assert check["conclusion"] == "failure" and check["name"] == "bench-action"
    assert len(github.calls(CHECK_RUNS)) == 1
    outputs = (tmp_path / "output").read_text()
    assert "verdict<<" in outputs and "\nregression\n" in outputs
    runners_out = outputs.split("runners<<", 1)[1].split("\n", 2)[1]
    per_runner = json.loads(runners_out)
    assert per_runner["self-hosted-a100"]["verdict"] == "regression"
    assert per_runner["self-hosted-l4"]["verdict"] == "unchanged"
    summary = (tmp_path / "summary.md").read_text()
    assert "## Runner: self-hosted, a100" in summary and "## Runner: self-hosted, l4" in summary


def test_another_runners_base_is_named_and_holds_back_the_regression(tmp_path: Path) -> None:
    # A leg that fell back on another runner's base: the section says the setups differ.
    _leg(
        tmp_path / "a",
        A100,
        _doc(A100, 1.3, "b" * 40),
        Baseline(_doc(L4, 1.0, "c" * 40), {"note": "x"}),
    )
    joined = join_legs(read_legs(tmp_path), [A100], StatsSettings())
    body = joined.texts.comment
    assert "Base and head ran on different setups" in body and "CPU model 'EPYC' vs 'Xeon'" in body
    assert "NVIDIA L4" in body  # the GPU difference is named too
    assert joined.verdicts[A100] is not None
    assert joined.verdicts[A100].comparison.verdict != "regression"


def test_a_runner_without_results_fails_the_join(tmp_path: Path) -> None:
    head = _doc(A100, 1.0, "b" * 40)
    _leg(tmp_path, A100, head, Baseline(_doc(A100, 1.0, "c" * 40), {"note": "x"}))  # one artifact
    legs = read_legs(tmp_path)  # downloaded alone, it sits at the folder's root
    assert [leg.runner for leg in legs] == [A100]
    joined = join_legs(legs, [A100, L4], StatsSettings())
    assert joined.failed and joined.texts.conclusion == "failure"
    assert joined.texts.outputs["verdict"] == "error"
    sections = _sections(joined.texts.comment)
    assert "### ❌ bench-action: no results" in sections["self-hosted, l4"]
    assert "⚪ Unchanged" in sections["self-hosted, a100"]
    assert "| self-hosted, l4 | – | ❌ error |" in joined.texts.comment


def test_a_failed_leg_is_shown_with_its_own_words(tmp_path: Path) -> None:
    write_leg(tmp_path / "l4", L4, failure=("the benchmark failed", "server exited with code 137"))
    _leg(tmp_path / "a100", A100, _doc(A100, 1.0, "b" * 40), Baseline.none("no artifact"))
    joined = join_legs(read_legs(tmp_path), [], StatsSettings())
    assert list(joined.verdicts) == [A100, L4]  # folder order when no runners are expected
    assert "server exited with code 137" in joined.texts.comment
    assert "No baseline: no artifact" in joined.texts.comment
    assert joined.texts.outputs["verdict"] == "error"


def test_two_results_of_one_runner_are_refused(tmp_path: Path) -> None:
    for name in ("bench-results-self-hosted-a100", "bench-results-gen-self-hosted-a100"):
        _leg(tmp_path / name, A100, _doc(A100, 1.0, "b" * 40), Baseline.none("none"))
    with pytest.raises(ConfigError, match="two results for runner self-hosted, a100"):
        join_legs(read_legs(tmp_path), [A100], StatsSettings())


def test_a_leg_without_runner_labels_says_which_input_to_set(tmp_path: Path) -> None:
    _leg(tmp_path, (), _doc(A100, 1.0, "b" * 40), Baseline.none("none"))
    with pytest.raises(ResultsError, match=r"runner: \$\{\{ toJSON\(matrix.runner\) \}\}"):
        read_legs(tmp_path)


def test_nothing_downloaded_is_a_clear_error(tmp_path: Path) -> None:
    assert read_legs(tmp_path / "absent") == []
    with pytest.raises(ConfigError, match="no leg results to join"):
        join_legs([], [], StatsSettings())
