"""Reading the action's inputs: defaults, hyphenated names, and one clear message per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchaction.action.settings import INPUT_DEFAULTS, input_env_name, read_settings
from benchaction.errors import ConfigError
from benchaction.stats import PRIMARY_METRICS


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "bench.yml").write_text("version: 1\n")
    (tmp_path / "base").mkdir()
    (tmp_path / "server").mkdir()
    return tmp_path


def _env(workspace: Path, **inputs: str) -> dict[str, str]:
    env = {"GITHUB_WORKSPACE": str(workspace)}
    env.update({input_env_name(k.replace("_", "-")): v for k, v in inputs.items()})
    return env


def _problems(workspace: Path, **inputs: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        read_settings(_env(workspace, **inputs))
    return caught.value.problems


def test_env_names_keep_hyphens() -> None:
    assert input_env_name("build-context") == "INPUT_BUILD-CONTEXT"
    assert input_env_name("github-token") == "INPUT_GITHUB-TOKEN"


def test_defaults(workspace: Path) -> None:
    s = read_settings({"GITHUB_WORKSPACE": str(workspace)})
    assert s.config_path == (workspace / "bench.yml").resolve()
    assert (s.mode, s.profile, s.base_image, s.base_dir) == ("artifact", None, None, None)
    assert s.overrides == {}
    assert (s.stats.threshold, s.stats.fail_on) == (0.05, "regression")
    assert (s.publish.artifact_name, s.publish.comment, s.publish.check) == (
        "bench-results",
        True,
        True,
    )
    assert s.results_rel == ".bench-action"
    assert s.token is None  # the default `${{ github.token }}` arrived unevaluated
    assert s.github is None and s.not_github_reason is not None
    assert "GITHUB_REPOSITORY" in s.not_github_reason


def test_values_are_read_and_turned_into_overrides(workspace: Path) -> None:
    s = read_settings(
        _env(
            workspace,
            profile="pr",
            build_context="server",
            dockerfile="Dockerfile.gpu",
            mode="ab",
            base_ref="base",
            threshold="10%",
            fail_on="regression-or-inconclusive",
            trials="7",
            sweep="1, 2,4",
            comment="false",
            check="True",
            github_token="ghs_x",
            results_dir="out/bench",
        )
    )
    assert s.profile == "pr"
    assert s.overrides == {
        "server": {
            "build": {
                "context": str((workspace / "server").resolve()),
                "dockerfile": "Dockerfile.gpu",
            }
        },
        "trials": 7,
        "scenarios": {"*": {"sweep": {"concurrency": [1, 2, 4]}}},
    }
    assert s.mode == "ab" and s.base_dir == (workspace / "base").resolve()
    assert s.stats.threshold == pytest.approx(0.10)
    assert s.stats.fail_on == "regression-or-inconclusive"
    assert (s.publish.comment, s.publish.check, s.token) == (False, True, "ghs_x")
    assert s.results_rel == "out/bench"


def test_image_and_rate_sweep(workspace: Path) -> None:
    s = read_settings(_env(workspace, image="registry.example/o/m:1", sweep="rate:10,50.5"))
    assert s.overrides == {
        "server": {"image": "registry.example/o/m:1"},
        "scenarios": {"*": {"sweep": {"rate": [10.0, 50.5]}}},
    }


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (
            {"config": "missing.yml"},
            "input `config` (INPUT_CONFIG) names a file that does not exist: missing.yml",
        ),
        ({"config": ""}, "input `config` (INPUT_CONFIG) is required but empty"),
        ({"config": "../bench.yml"}, "input `config` (INPUT_CONFIG) points outside the workspace"),
        (
            {"mode": "compare"},
            "input `mode` (INPUT_MODE) must be one of artifact, ab, join, got 'compare'",
        ),
        ({"mode": "ab"}, "needs exactly one of `base-image` and `base-ref` (neither is set)"),
        ({"mode": "ab", "base_image": "x:1", "base_ref": "base"}, "(both are set)"),
        ({"base_image": "x:1"}, "is `artifact`, so `base-image`/`base-ref` would be ignored"),
        (
            {"mode": "ab", "base_ref": "nope"},
            "input `base-ref` (INPUT_BASE-REF) names a folder that does not exist: nope",
        ),
        (
            {"fail_on": "always"},
            "input `fail-on` (INPUT_FAIL-ON) must be one of regression, regression-or-inconclusive, never",
        ),
        (
            {"threshold": "abc"},
            "input `threshold` (INPUT_THRESHOLD) must be a fraction between 0 and 1 (or a percentage), got 'abc'",
        ),
        ({"threshold": "1.5"}, "got '1.5'"),
        ({"threshold": "0"}, "got '0'"),
        ({"comment": "yes"}, "input `comment` (INPUT_COMMENT) must be true or false, got 'yes'"),
        ({"check": "1"}, "input `check` (INPUT_CHECK) must be true or false, got '1'"),
        (
            {"results_dir": "/elsewhere"},
            "input `results-dir` (INPUT_RESULTS-DIR) points outside the workspace",
        ),
        ({"results_dir": ".git/bench"}, "input `results-dir` (INPUT_RESULTS-DIR) is inside .git"),
        (
            {"baseline_artifact": "a/b"},
            "input `baseline-artifact` (INPUT_BASELINE-ARTIFACT) is not a valid artifact name: 'a/b'",
        ),
        (
            {"image": "x:1", "build_context": "server"},
            "input `image` (INPUT_IMAGE) and `build-context` are both set",
        ),
        (
            {"build_context": "nope"},
            "input `build-context` (INPUT_BUILD-CONTEXT) names a folder that does not exist",
        ),
        (
            {"trials": "0"},
            "input `trials` (INPUT_TRIALS) must be a whole number of at least 1, got '0'",
        ),
        ({"trials": "three"}, "got 'three'"),
        ({"sweep": "a,b"}, "input `sweep` (INPUT_SWEEP) must list load levels, got 'a,b'"),
        ({"mode": "join"}, "input `join-dir` (INPUT_JOIN-DIR) is required with `mode: join`"),
        ({"join_dir": "j"}, "input `join-dir` (INPUT_JOIN-DIR) is only used with `mode: join`"),
        ({"runners": '["a"]'}, "input `runners` (INPUT_RUNNERS) is only used with `mode: join`"),
        (
            {"mode": "join", "join_dir": "j", "runners": '[["a", "b"'},
            "input `runners` (INPUT_RUNNERS) is not valid JSON",
        ),
        (
            {"mode": "join", "join_dir": "j", "runners": "[]"},
            "input `runners` (INPUT_RUNNERS) must be a non-empty list of runners, got []",
        ),
        (
            {"mode": "join", "join_dir": "j", "runners": '[["a", 1]]'},
            "must be a non-empty list of runners, got [['a', 1]]",
        ),
        (
            {"mode": "join", "join_dir": "j", "runners": '[["a"], "a"]'},
            "input `runners` (INPUT_RUNNERS) names a runner twice: a",
        ),
        (
            {"mode": "join", "join_dir": "j", "runners": '[["gpu/a100"]]'},
            "has labels that cannot be part of an artifact name: 'gpu/a100'",
        ),
        ({"runner": "[1]"}, "input `runner` (INPUT_RUNNER) must be a runner label or a JSON list"),
        ({"join_dir": "../j", "mode": "join"}, "input `join-dir` (INPUT_JOIN-DIR) points outside"),
    ],
)
def test_each_mistake_has_its_message(
    workspace: Path, inputs: dict[str, str], expected: str
) -> None:
    problems = _problems(workspace, **inputs)
    assert any(expected in p for p in problems), problems
    assert all("; " in p for p in problems if p.startswith("input")), (
        "every message says how to fix it"
    )


def test_every_problem_is_reported_at_once(workspace: Path) -> None:
    problems = _problems(workspace, mode="x", threshold="2", comment="maybe", trials="-1")
    assert len(problems) == 4
    assert str(ConfigError(problems)).startswith("invalid configuration")


def test_underscored_names_are_not_read(workspace: Path) -> None:
    env = _env(workspace)
    env["INPUT_RESULTS_DIR"] = "/elsewhere"  # not how the runner names it: ignored
    assert read_settings(env).results_rel == INPUT_DEFAULTS["results-dir"]


def test_github_context_from_the_runner_variables(workspace: Path) -> None:
    event = {"repository": {"id": 42, "full_name": "o/r"}, "pull_request": None}
    path = workspace / "event.json"
    path.write_text(json.dumps(event))
    env = _env(workspace) | {
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_API_URL": "http://127.0.0.1:1/",
        "GITHUB_RUN_ID": "77",
        "GITHUB_SHA": "a" * 40,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_OUTPUT": "/github/file_commands/out",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/summary",
    }
    s = read_settings(env)
    assert s.github is not None
    assert (s.github.repository, s.github.repository_id, s.github.run_id) == ("o/r", 42, "77")
    assert s.github.event == event and s.github.api_url == "http://127.0.0.1:1"
    assert s.output_path == Path("/github/file_commands/out")
    env["GITHUB_EVENT_PATH"] = str(workspace / "gone.json")
    with pytest.raises(
        ConfigError, match=r"GITHUB_EVENT_PATH=.*gone\.json: the event payload could not be read"
    ):
        read_settings(env)


def test_sequential_trials_and_deciding_metrics(workspace: Path) -> None:
    s = read_settings(
        _env(
            workspace,
            **{
                "max-trials": "12",
                "budget": "20m",
                "deciding-metrics": "latency_p99_ms, throughput_rps",
            },
        )
    )
    assert (s.max_trials, s.budget_s) == (12, 1200.0)
    assert s.stats.primary == ("latency_p99_ms", "throughput_rps")
    assert read_settings(_env(workspace)).stats.primary == PRIMARY_METRICS


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"max-trials": "0"},
            "input `max-trials` (INPUT_MAX-TRIALS) must be a whole number of at least 1",
        ),
        (
            {"trials": "6", "max-trials": "4"},
            "input `max-trials` (INPUT_MAX-TRIALS) is below `trials` (6)",
        ),
        (
            {"budget": "10m"},
            "input `budget` (INPUT_BUDGET) only limits added trials; set `max-trials`",
        ),
        (
            {"max-trials": "8", "budget": "later"},
            "input `budget` (INPUT_BUDGET) expected a duration",
        ),
        (
            {"deciding-metrics": "p50"},
            "input `deciding-metrics` (INPUT_DECIDING-METRICS) names an unknown metric 'p50'",
        ),
    ],
)
def test_sequential_and_deciding_input_errors(
    workspace: Path, inputs: dict[str, str], message: str
) -> None:
    assert any(message in p for p in _problems(workspace, **inputs)), _problems(workspace, **inputs)


def test_join_needs_no_config_and_reads_its_runners(tmp_path: Path) -> None:
    # The join job has no checkout: no bench.yml, and the download folder may not exist yet.
    s = read_settings(
        _env(
            tmp_path, mode="join", join_dir=".bench-join", runners='[["self-hosted", "a100"], "l4"]'
        )
    )
    assert s.mode == "join" and s.join_dir == (tmp_path / ".bench-join").resolve()
    assert s.runners == (("self-hosted", "a100"), ("l4",))


@pytest.mark.parametrize(
    ("given", "labels"),
    [
        ('[\n  "self-hosted",\n  "a100"\n]', ("self-hosted", "a100")),  # toJSON's layout
        ('"ubuntu-latest"', ("ubuntu-latest",)),  # toJSON of a single label
        ("gpu", ("gpu",)),
        ("", ()),
    ],
)
def test_runner_labels_as_the_workflow_passes_them(
    workspace: Path, given: str, labels: tuple[str, ...]
) -> None:
    assert read_settings(_env(workspace, runner=given)).runner == labels
