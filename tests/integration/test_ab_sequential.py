"""Sequential A/B rounds against a running endpoint: more rounds while undecided, within limits."""

from __future__ import annotations

import io
from pathlib import Path

from benchaction.config import load_config
from benchaction.flow.ab import Sequential, run_ab
from benchaction.flow.measure import RunOptions
from benchaction.progress import ProgressDisplay
from benchaction.results import ResultsDocument
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
