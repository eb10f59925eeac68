"""The progress display off a terminal (CI logs): one plain line per phase with the run's
position and ETA, and no control codes even when the environment asks for colour."""

from __future__ import annotations

import io

import pytest

from benchaction.engine import Progress as LoadProgress
from benchaction.progress import ProgressDisplay, plan_phases
from benchaction.results import Trial


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _metrics(rps: float) -> Trial:
    return {
        "throughput_rps": rps,
        "latency_ms": {"p50": 1.25, "p99": 4.5},
        "counts": {"failed": 0},
        "valid": True,
        "invalid_reasons": [],
    }


def test_plain_lines_carry_position_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich would draw a live bar: a log must not get one
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    out, clock = io.StringIO(), FakeClock()
    display = ProgressDisplay(out, plain_every_s=5.0, clock=clock)
    assert not display.live
    display.plan(plan_phases([("predict", 6.0), ("health", 2.0)], trials=2))
    display.log("building benchaction/numpy-mlp:1 [step 1/3]")  # brackets are not markup
    clock.now = 4.0
    display.load_started("trial 1/2 predict", 6.0, phase=("predict", 0))
    clock.now = 9.5
    display.load_update(LoadProgress(elapsed_s=5.5, measuring=True, completed=100, errors=0))
    clock.now = 10.0
    display.load_finished(_metrics(812.5))
    clock.now = 10.5
    display.load_started("trial 1/2 health", 2.0, phase=("health", 0))
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text
    assert text.splitlines() == [
        "building benchaction/numpy-mlp:1 [step 1/3]",
        "[1/4] trial 1/2 predict: started (about 6s), ETA 16s",
        "[1/4] trial 1/2 predict: 6s measuring  ok 100  errors 0",
        "[1/4] trial 1/2 predict: 812.5 req/s  p50 1.25 ms  p99 4.50 ms  errors 0",
        # health 2 + predict 6 (its measured time) + health 2, gaps of 0.5 s before the last two.
        "[2/4] trial 1/2 health: started (about 2s), ETA 11s",
    ]


def test_without_a_plan_lines_stay_as_before() -> None:
    out = io.StringIO()
    display = ProgressDisplay(out)
    display.load_started("trial 1/1 predict", None)
    display.load_finished(_metrics(10.0))
    assert out.getvalue().splitlines() == [
        "trial 1/1 predict: started",
        "trial 1/1 predict: 10.0 req/s  p50 1.25 ms  p99 4.50 ms  errors 0",
    ]
