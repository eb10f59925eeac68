"""Sequential trials against a running endpoint: more A/B rounds, or more head trials against a
stored base (artifact mode), while undecided, within a count and a time budget."""

from __future__ import annotations

import io
from pathlib import Path

from benchaction.config import load_config
from benchaction.flow.ab import run_ab
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.flow.sequential import Sequential, add_head_trials
from benchaction.progress import ProgressDisplay
from benchaction.results import ResultsDocument, load_results
from tests.support.httpserver import Behaviour, serving

CONFIG = """
version: 1
name: ab
server:
  url: http://127.0.0.1:{port}
  ready: {{path: /health, timeout: 5s}}
scenarios:
  - name: ping
    path: /ping
    concurrency: 1
    requests: 150
    warmup: {{requests: 10}}
trials: 2
"""


def _run(tmp_path: Path, sequential: Sequential | None) -> tuple[int, int, list[str]]:
    logs: list[str] = []
    with serving(Behaviour()) as server:
        (tmp_path / "bench.yml").write_text(CONFIG.format(port=server.port))
        config = load_config(tmp_path / "bench.yml")
        out = run_ab(
            config,
            config,
            RunOptions(output_dir=tmp_path / "out", run_id="ab"),
            ProgressDisplay(io.StringIO()),
            log=logs.append,
            sequential=sequential,
        )
    assert out.error is None and out.base is not None and out.head is not None
    return len(out.base["instances"]), len(out.head["instances"]), logs


def test_undecided_comparisons_get_rounds_up_to_the_maximum(tmp_path: Path) -> None:
    looked: list[int] = []

    def never(base: ResultsDocument, head: ResultsDocument) -> bool:
        looked.append(len(head["scenarios"][0]["trials"]))
        return False

    base_n, head_n, logs = _run(tmp_path, Sequential(max_rounds=4, budget_s=None, decided=never))
    assert (base_n, head_n) == (4, 4)
    assert looked == [2, 3]  # after the minimum, then after each added round but the last
    assert any("A/B round 4/4" in line for line in logs)


def test_a_decided_comparison_stops_at_the_minimum(tmp_path: Path) -> None:
    done = Sequential(max_rounds=6, budget_s=None, decided=lambda b, h: True)
    base_n, head_n, logs = _run(tmp_path, done)
    assert (base_n, head_n) == (2, 2)
    assert any("every deciding metric is decided" in line for line in logs)


def test_the_time_budget_stops_added_rounds(tmp_path: Path) -> None:
    tight = Sequential(max_rounds=6, budget_s=0.01, decided=lambda b, h: False)
    base_n, head_n, logs = _run(tmp_path, tight)
    assert (base_n, head_n) == (2, 2)
    assert any("time budget" in line for line in logs)


def test_without_sequential_the_trial_count_is_fixed(tmp_path: Path) -> None:
    assert _run(tmp_path, None)[:2] == (2, 2)


def _add(tmp_path: Path, sequential: Sequential) -> tuple[ResultsDocument, list[str], Path]:
    """Artifact mode: a stored base of two trials, then the head with sequential trials."""
    logs: list[str] = []
    with serving(Behaviour()) as server:
        (tmp_path / "bench.yml").write_text(CONFIG.format(port=server.port))
        config = load_config(tmp_path / "bench.yml")
        display = ProgressDisplay(io.StringIO())
        base = run_benchmark(config, RunOptions(tmp_path / "base", "base"), display).document
        out = add_head_trials(
            config,
            lambda head: base,
            RunOptions(tmp_path / "head", "head"),
            display,
            sequential,
            log=logs.append,
        )
    assert out.error is None
    return out.document, logs, out.results_path


def test_artifact_mode_adds_head_trials_while_undecided(tmp_path: Path) -> None:
    looked: list[tuple[int, int]] = []

    def never(base: ResultsDocument, head: ResultsDocument) -> bool:
        looked.append((len(base["scenarios"][0]["trials"]), len(head["scenarios"][0]["trials"])))
        return False

    head, logs, path = _add(tmp_path, Sequential(max_rounds=4, budget_s=None, decided=never))
    trials = head["scenarios"][0]["trials"]
    assert [t["trial"] for t in trials] == [0, 1, 2, 3]
    assert len({t["instance"] for t in trials}) == 4  # a fresh server for every added trial
    assert looked == [(2, 2), (2, 3)]  # the stored base never changes
    assert load_results(path)["scenarios"][0]["trials"] == trials  # written as merged
    assert head["config"]["settings"]["trials"] == 4
    assert any("maximum of 4 trials" in line for line in logs)


def test_artifact_mode_stops_when_decided(tmp_path: Path) -> None:
    head, logs, _ = _add(
        tmp_path, Sequential(max_rounds=6, budget_s=None, decided=lambda b, h: True)
    )
    assert len(head["scenarios"][0]["trials"]) == 2
    assert any("stopping after 2: every deciding metric is decided" in line for line in logs)
