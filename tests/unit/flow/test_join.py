"""A matrix over two runners against the validating stand-in: each leg finds its own runner's
base-branch artifact and records it; the action in `mode: join` posts one comment with a section
per runner, each compared with its own runner's base, and one check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from benchaction.action.main import _Run, main  # _Run: the leg's verdict step, without Docker
from benchaction.action.placement import Placement
from benchaction.action.settings import read_settings
from benchaction.errors import ConfigError, ResultsError
from benchaction.flow.join import join_legs, read_legs, runner_key, write_leg
from benchaction.flow.verdict import Baseline, judge
from benchaction.history import pooled_base
from benchaction.results import write_results
from benchaction.stats import PRIMARY_METRICS, StatsSettings
from tests.support.artifacts import serve_runner_baselines
from tests.support.documents import runner_doc
from tests.support.github_payloads import CHECK_RUNS, COMMENTS, check_run, comment
from tests.support.history import run_doc, stored
from tests.support.standin import Reply, StandIn

A100 = ("self-hosted", "a100")
L4 = ("self-hosted", "l4")
SETUPS = {A100: ("Xeon", "NVIDIA A100-SXM4-80GB"), L4: ("EPYC", "NVIDIA L4")}


def _doc(runner: tuple[str, ...], factor: float, sha: str) -> dict[str, Any]:
    cpu, gpu = SETUPS[runner]
    return runner_doc(factor, sha, cpu_model=cpu, gpu=gpu)


def _leg(folder: Path, runner: tuple[str, ...], head: dict[str, Any], baseline: Baseline) -> None:
    """What the action leaves in a leg's results folder (its `verdict` step), as downloaded."""
    write_results(head, folder / "results.json")
    write_leg(folder, runner, verdict=judge(head, baseline, StatsSettings()))


def _env(tmp_path: Path, github: StandIn, event: dict[str, Any], **inputs: str) -> dict[str, str]:
    """The runner's variables and the step's inputs, as the action container gets them."""
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event))
    env = {
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
    }
    env.update({f"INPUT_{k.replace('_', '-').upper()}": v for k, v in inputs.items()})
    return env


def _run_leg(
    tmp_path: Path,
    github: StandIn,
    event: dict[str, Any],
    runner: tuple[str, ...],
    head: dict[str, Any],
) -> Path:
    """One matrix job's second half as the action runs it (its measuring needs Docker: the head
    is given), with the workflow's inputs; returns the results folder it would upload."""
    workspace = tmp_path / f"leg-{runner_key(runner)}"
    workspace.mkdir()
    (workspace / "bench.yml").write_text("version: 1\n")
    env = _env(
        workspace,
        github,
        event,
        baseline_artifact=f"bench-results-{runner_key(runner)}",
        runner=json.dumps(list(runner), indent=2),  # toJSON(matrix.runner) is pretty-printed
        comment="false",
        check="false",
        history="off",
    )
    settings = read_settings(env)
    write_results(head, settings.results_dir / "results.json")
    code = _Run(settings, Placement(), None, env).verdict(head, None)
    assert code == (1 if runner == A100 else 0)
    return settings.results_dir


def _sections(body: str) -> dict[str, str]:
    """The comment's runner sections, by heading."""
    parts = body.split("\n## Runner: ")[1:]
    return {p.split("\n", 1)[0]: p for p in parts}


def test_two_runners_one_comment_each_section_against_its_own_runners_base(
    github: StandIn, event: dict[str, Any], tmp_path: Path
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
    for runner, head in heads.items():  # each runner's job, then its upload and the download
        folder = _run_leg(tmp_path, github, event, runner, head)
        recorded = json.loads((folder / "verdict.json").read_text())
        assert recorded["runner"] == list(runner) and recorded["baseline"] == "baseline.json"
        base = json.loads((folder / "baseline.json").read_text())
        assert base["host"] == head["host"]  # its own runner's base-branch artifact
        shutil.copytree(folder, tmp_path / ".bench-join" / f"bench-results-{runner_key(runner)}")
    assert not github.calls(COMMENTS) and not github.calls(CHECK_RUNS)  # legs do not comment
    github.route("GET", COMMENTS, Reply(json=[]))
    github.route("POST", COMMENTS, Reply(201, comment(21, "x")))
    github.route("POST", CHECK_RUNS, Reply(201, check_run(81, "failure")))

    runners = json.dumps([list(A100), list(L4)])
    code = main(_env(tmp_path, github, event, mode="join", join_dir=".bench-join", runners=runners))

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
    assert joined.ignored == ()
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


def test_a_runner_not_expected_is_left_out_and_named(tmp_path: Path) -> None:
    _leg(tmp_path / "a", A100, _doc(A100, 1.0, "b" * 40), Baseline.none("none"))
    _leg(tmp_path / "l", L4, _doc(L4, 1.0, "b" * 40), Baseline.none("none"))
    joined = join_legs(read_legs(tmp_path), [L4], StatsSettings())
    assert list(joined.verdicts) == [L4] and joined.ignored == (tmp_path / "a",)
    assert "self-hosted, a100" not in joined.texts.comment


def test_a_base_pooled_from_mains_history_is_joined_as_the_leg_judged_it(tmp_path: Path) -> None:
    # The default base of a pull request: main's comparable runs, pooled into a compact document.
    head = run_doc(9, 1.12)
    pooled = pooled_base([stored(i) for i in range(6)], head, deciding=PRIMARY_METRICS, max_runs=10)
    assert pooled is not None
    leg = Baseline(pooled.document, {"note": pooled.note()})
    _leg(tmp_path, A100, head, leg)
    joined = join_legs(read_legs(tmp_path), [A100], StatsSettings())
    assert joined.texts.outputs["verdict"] == "regression"
    assert f"Baseline: {pooled.note()}" in joined.texts.comment


def test_an_unreadable_baseline_names_the_file(tmp_path: Path) -> None:
    _leg(tmp_path, A100, _doc(A100, 1.0, "b" * 40), Baseline(_doc(A100, 1.0, "c" * 40), {}))
    (tmp_path / "baseline.json").write_text('{"scenarios": []}')
    with pytest.raises(ResultsError, match=r"baseline.json: not a results document \(needs"):
        read_legs(tmp_path)
