"""bench.yml `trials: {min, max}`, `budget` and a scenario's `verdict`, and their errors."""

from __future__ import annotations

import pytest

from benchaction.config import VerdictSpec, load_config
from benchaction.flow.sweep import sweep_points
from tests.support.config_files import ONE_SCENARIO, Write, only_problem

BASE = ONE_SCENARIO


def test_sequential_trials_and_budget(write: Write) -> None:
    config = load_config(write(BASE + "trials: {min: 4, max: 12}\nbudget: 20m\n"))
    assert (config.trials, config.max_trials, config.budget_s) == (4, 12, 1200.0)
    fixed = load_config(write(BASE + "trials: 5\n"))
    assert (fixed.trials, fixed.max_trials, fixed.budget_s) == (5, None, None)
    # How many trials run is not how one is measured: the hash stays the same.
    assert config.hash() == fixed.hash()


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("trials: {min: 6, max: 4}\n", "bench.yml:7: trials.max: expected at least min (6), got 4"),
        ("trials: {min: 4}\n", "bench.yml:7: trials.max: required key is missing"),
        ("trials: {min: 1, max: 4}\n", "bench.yml:7: trials.min: expected an integer >= 2, got 1"),
        ("trials: {mni: 2, max: 4}\n", "did you mean 'min'?"),
        ("budget: 5m\n", "bench.yml:7: budget: only limits added trials"),
        ("trials: {min: 2, max: 4}\nbudget: soon\n", "bench.yml:8: budget: expected a duration"),
    ],
)
def test_sequential_trial_errors(write: Write, tail: str, message: str) -> None:
    assert message in only_problem(write(BASE + tail))


def test_a_scenario_verdict_is_read_and_reaches_its_results_section(write: Write) -> None:
    text = BASE + "    verdict: {metrics: [latency_p99_ms, throughput_rps], threshold: 3%}\n"
    config = load_config(write(text))
    spec = config.scenarios[0].verdict
    assert spec == VerdictSpec(("latency_p99_ms", "throughput_rps"), 0.03)
    (point,) = sweep_points(config.scenarios[0])
    assert point.section({})["verdict"] == {
        "metrics": ["latency_p99_ms", "throughput_rps"],
        "threshold": 0.03,
    }
    assert "verdict" not in load_config(write(BASE)).to_dict()["scenarios"][0]


@pytest.mark.parametrize(
    ("verdict", "message"),
    [
        ("{metrics: [latency_p50]}", "expected one of: throughput_rps"),
        ("{metrics: [latency_p50]}", "did you mean 'latency_p50_ms'?"),
        ("{metrics: []}", "verdict.metrics: expected a non-empty list of metric names"),
        ("{threshold: 0}", "verdict.threshold"),
        ("{threshold: 100%}", "expected a margin below 100 %"),
        ("{}", "expected metrics and/or threshold"),
        ("{metric: [x]}", "did you mean 'metrics'?"),
    ],
)
def test_verdict_errors_name_the_key(write: Write, verdict: str, message: str) -> None:
    problem = only_problem(write(BASE + f"    verdict: {verdict}\n"))
    assert problem.startswith("bench.yml:7: scenarios[0].verdict")
    assert message in problem


def test_a_scenario_verdict_may_name_resource_metrics(write: Write) -> None:
    text = BASE + "    verdict: {metrics: [latency_p50_ms, image_size_mib, memory_peak_mib]}\n"
    spec = load_config(write(text)).scenarios[0].verdict
    assert spec == VerdictSpec(("latency_p50_ms", "image_size_mib", "memory_peak_mib"), None)
    assert "did you mean 'cold_start_s'?" in only_problem(
        write(BASE + "    verdict: {metrics: [cold_start]}\n")
    )
