"""Warmup until steady: the rule on synthetic window sequences, the loop's bounds, the record."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchaction.config import Steady
from benchaction.engine import LoadPlan, Progress
from benchaction.engine import steady as steady_module
from benchaction.engine.records import COLUMNS, Records
from benchaction.engine.result import LoadResult
from benchaction.engine.steady import (
    SteadyWarmup,
    Window,
    steady_after,
    warm_until_steady,
    warmup_record,
    window_bounds,
)

# --- the rule ------------------------------------------------------------------------------------


def test_a_ramp_that_settles_is_steady_at_the_first_window_within_tolerance() -> None:
    windows = [(100, 40.0), (300, 20.0), (480, 12.0), (500, 10.4), (505, 10.2), (500, 10.3)]
    assert steady_after(windows, 0.05) == 5  # 500 -> 505 (1 %), 10.4 -> 10.2 (1.9 %)
    assert steady_after(windows, 0.20) == 4  # 480 -> 500 (4 %), 12.0 -> 10.4 (13 %)


def test_noise_within_tolerance_is_steady_after_two_windows() -> None:
    rng = np.random.default_rng(7)
    windows = [(1000 * (1 + e), 5.0 * (1 + f)) for e, f in rng.uniform(-0.01, 0.01, (10, 2))]
    assert steady_after(windows, 0.05) == 2


def test_a_ramp_that_never_settles_is_never_steady() -> None:
    windows = [(100 * 1.1**n, 50.0 / 1.1**n) for n in range(30)]  # 10 % a window, every window
    assert steady_after(windows, 0.05) is None
    assert steady_after(windows, 0.11) == 2  # a tolerance above its step accepts it
    assert steady_after([(100, 10.0), (125, 12.5)], 0.25) == 2  # at the tolerance is within


def test_one_window_or_none_is_never_steady() -> None:
    assert steady_after([(100, 1.0)], 0.5) is None
    assert steady_after([], 0.5) is None


def test_both_rate_and_p50_must_be_within_tolerance() -> None:
    assert steady_after([(100, 10.0), (100, 12.0)], 0.05) is None  # p50 moved 20 %
    assert steady_after([(100, 10.0), (120, 10.0)], 0.05) is None  # rate moved 20 %


def test_a_window_without_answers_is_never_steady() -> None:
    assert steady_after([(0, None), (0, None), (0, None)], 0.05) is None
    assert steady_after([(0, None), (50, 10.0), (50, 10.0)], 0.05) == 3


def test_min_holds_off_the_decision() -> None:
    windows = [(100, 10.0)] * 6
    assert steady_after(windows, 0.05, first=4) == 4
    assert steady_after(windows, 0.05, first=7) is None
    assert steady_after(windows, 0.05, first=0) == 2  # never before two windows


@pytest.mark.parametrize(
    ("rule", "bounds"),
    [
        (Steady(), (2, 30)),  # min 1 s is one window: the decision needs two anyway
        (Steady(window_s=0.1, max_s=1.0, min_s=0.35), (4, 10)),  # min up, max down
        (Steady(window_s=0.3, max_s=1.0, min_s=0.9), (3, 3)),
        (Steady(window_s=1.0, max_s=2.5, min_s=2.5), (2, 2)),  # min within the last window
        (Steady(window_s=0.2, max_s=0.6, min_s=0.0), (2, 3)),  # 0.6 / 0.2 is not quite 3
    ],
)
def test_window_bounds(rule: Steady, bounds: tuple[int, int]) -> None:
    assert window_bounds(rule) == bounds


# --- the loop, with runs replaced by a script of windows -----------------------------------------


class Script:
    """Stands in for run_load and the window's metrics: hands out the next scripted window."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, windows: list[Window]) -> None:
        self.windows = list(windows)
        self.plans: list[LoadPlan] = []
        monkeypatch.setattr(steady_module, "run_load", self.run)
        monkeypatch.setattr(steady_module, "_window", lambda result: result)

    def run(self, plan: LoadPlan, progress: Any = None) -> Window:
        self.plans.append(plan)
        if progress is not None:
            progress(Progress(0.25, True, 3, 1))
        return self.windows.pop(0)


PLAN = LoadPlan(
    host="127.0.0.1",
    port=9,
    requests=(b"GET / HTTP/1.1\r\n\r\n",),
    concurrency=4,
    count=1000,
    warmup_s=2.0,
    warmup_requests=50,
    workers=2,
)


def test_the_loop_stops_at_the_first_steady_window(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script(monkeypatch, [Window(100, 40.0), Window(200, 20.0), Window(210, 20.5)] * 3)
    seen: list[tuple[int, Window]] = []
    progress: list[Progress] = []
    rule = Steady(window_s=0.5, tolerance=0.1, max_s=10.0, min_s=0.0)
    warm = warm_until_steady(PLAN, rule, progress.append, lambda n, w: seen.append((n, w)))
    assert warm.steady is True
    assert warm.windows == (Window(100, 40.0), Window(200, 20.0), Window(210, 20.5))
    assert [n for n, _ in seen] == [1, 2, 3]
    # Each window: the plan's users for one window, in this process, no warmup of its own.
    window_plan = script.plans[0]
    assert (window_plan.duration_s, window_plan.count, window_plan.max_run_s) == (0.5, None, 0.5)
    assert (window_plan.warmup_s, window_plan.warmup_requests, window_plan.workers) == (0, 0, 1)
    assert (window_plan.concurrency, window_plan.requests) == (PLAN.concurrency, PLAN.requests)
    assert all(not p.measuring for p in progress) and len(progress) == 3
    assert progress[2].elapsed_s >= progress[0].elapsed_s


def test_the_loop_stops_at_max_not_steady(monkeypatch: pytest.MonkeyPatch) -> None:
    ramp = [Window(100 * 2**n, 40.0 / 2**n) for n in range(20)]
    script = Script(monkeypatch, ramp)
    warm = warm_until_steady(PLAN, Steady(window_s=0.25, tolerance=0.05, max_s=1.0, min_s=0.0))
    assert warm.steady is False
    assert warm.windows == tuple(ramp[:4])
    assert len(script.plans) == 4


def test_the_loop_waits_for_min(monkeypatch: pytest.MonkeyPatch) -> None:
    Script(monkeypatch, [Window(100, 10.0)] * 10)
    warm = warm_until_steady(PLAN, Steady(window_s=0.25, tolerance=0.05, max_s=2.0, min_s=1.0))
    assert (warm.steady, len(warm.windows)) == (True, 4)


# --- the record ----------------------------------------------------------------------------------


def _result(w0_ns: int | None) -> LoadResult:
    rows = Records(np.zeros((0, len(COLUMNS)), dtype=np.int64))
    return LoadResult(rows, w0_ns, None if w0_ns is None else w0_ns + 10**9, True, 0)


def test_the_record_of_a_fixed_and_of_a_steady_warmup() -> None:
    assert warmup_record(_result(2 * 10**9), None) == {
        "mode": "fixed",
        "seconds": 2.0,
        "steady": None,
        "windows": [],
    }
    warm = SteadyWarmup((Window(10.0, None), Window(500.0, 8.0), Window(505.0, 8.1)), 3.25, True)
    assert warmup_record(_result(0), warm) == {
        "mode": "steady",
        "seconds": 3.25,
        "steady": True,
        "windows": [
            {"rate": 10.0, "p50_ms": None},
            {"rate": 500.0, "p50_ms": 8.0},
            {"rate": 505.0, "p50_ms": 8.1},
        ],
    }
    assert warmup_record(_result(None), warm)["seconds"] is None  # W never opened
