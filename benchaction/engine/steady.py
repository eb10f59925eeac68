"""Warmup until steady: back-to-back windows of load until the server's rate and p50 settle.

The rule (docs/metrics.md, "Warmup"): after each window of `window` seconds, its rate (successful
answers ending in it / its length) and its p50 latency are compared with the previous window's.
Warmup ends after the first window, at least `min` in, whose rate and p50 are both within
`tolerance` of the previous window's (relative to the previous value); after `max` it stops
regardless, not steady. `steady_after` is the rule alone, `warm_until_steady` runs it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from benchaction.config import Steady
from benchaction.engine.loop import Progress
from benchaction.engine.plan import LoadPlan
from benchaction.engine.result import LoadResult
from benchaction.engine.trial_metrics import trial_metrics
from benchaction.engine.workers import run_load

__all__ = [
    "SteadyWarmup",
    "Window",
    "steady_after",
    "warm_until_steady",
    "warmup_record",
    "window_bounds",
]

_S = 1e9


class Window(NamedTuple):
    """One warmup window: its completion rate (req/s) and p50 latency (None: nothing succeeded)."""

    rate: float
    p50_ms: float | None


@dataclass(frozen=True)
class SteadyWarmup:
    """How a steady warmup went: every window run, its wall time, and whether it ended steady."""

    windows: tuple[Window, ...]
    seconds: float
    steady: bool


def _within(value: float | None, previous: float | None, tolerance: float) -> bool:
    if value is None or previous is None:
        return False
    return abs(value - previous) <= tolerance * abs(previous)


def steady_after(
    windows: Sequence[tuple[float, float | None]], tolerance: float, first: int = 2
) -> int | None:
    """The number of windows after which warmup is steady, or None if it never was.

    That is the smallest n >= max(first, 2) whose window n has rate and p50 both within
    `tolerance` (relative) of window n - 1's. A window without a p50 is never steady.
    """
    for n in range(max(first, 2), len(windows) + 1):
        (rate, p50), (previous_rate, previous_p50) = windows[n - 1], windows[n - 2]
        if _within(rate, previous_rate, tolerance) and _within(p50, previous_p50, tolerance):
            return n
    return None


def window_bounds(rule: Steady) -> tuple[int, int]:
    """(first, last): the fewest windows that may end warmup (`min`, rounded up to whole windows)
    and the most that are run (`max`, rounded down); both at least two, first at most last."""
    last = max(2, math.floor(rule.max_s / rule.window_s + 1e-9))
    first = max(2, math.ceil(rule.min_s / rule.window_s - 1e-9))
    return min(first, last), last


def _window(result: LoadResult) -> Window:
    """A window's numbers, as docs/metrics.md defines them for a trial whose W is the window."""
    metrics = trial_metrics(result)
    return Window(metrics["throughput_rps"], metrics["latency_ms"]["p50"])


def warm_until_steady(
    plan: LoadPlan,
    rule: Steady,
    progress: Callable[[Progress], None] | None = None,
    on_window: Callable[[int, Window], None] | None = None,
) -> SteadyWarmup:
    """Run windows of the plan's load against its server until steady by the rule, or `max`.

    Each window is a run of its own: the plan's users (or arrival rate, with the same schedule
    each time), for `window` seconds, in this process (one worker, so no process start-up
    leaves the server idle between windows), cut off at the window's end.
    """
    window_plan = replace(
        plan,
        duration_s=rule.window_s,
        count=None,
        warmup_s=0.0,
        warmup_requests=0,
        max_run_s=rule.window_s,
        workers=1,
    )
    first, last = window_bounds(rule)
    windows: list[Window] = []
    start = time.perf_counter()
    steady = False
    while len(windows) < last and not steady:
        report = None
        if progress is not None:
            report = _as_warmup(progress, time.perf_counter() - start)
        window = _window(run_load(window_plan, report))
        windows.append(window)
        if on_window is not None:
            on_window(len(windows), window)
        steady = steady_after(windows, rule.tolerance, first) is not None
    return SteadyWarmup(tuple(windows), time.perf_counter() - start, steady)


def _as_warmup(progress: Callable[[Progress], None], offset_s: float) -> Callable[[Progress], None]:
    def report(p: Progress) -> None:
        progress(Progress(offset_s + p.elapsed_s, False, p.completed, p.errors))

    return report


def warmup_record(result: LoadResult, pre: SteadyWarmup | None) -> dict[str, Any]:
    """A trial's `warmup`: fixed or steady, its seconds before W opened, and the steady windows.

    `seconds` is the windows' wall time (steady) plus the measured run's own warmup up to w0;
    None when the measurement window never opened.
    """
    fixed_s = None if result.window_start_ns is None else result.window_start_ns / _S
    if pre is None:
        return {"mode": "fixed", "seconds": fixed_s, "steady": None, "windows": []}
    return {
        "mode": "steady",
        "seconds": None if fixed_s is None else pre.seconds + fixed_s,
        "steady": pre.steady,
        "windows": [{"rate": w.rate, "p50_ms": w.p50_ms} for w in pre.windows],
    }
