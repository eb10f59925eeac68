"""Where a run stands and when it will end: the plan's phases (scenario trials) and an ETA from
what the plan says each phase takes, corrected by what finished phases actually took."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Phase", "PhaseClock", "Remaining", "format_eta", "plan_phases", "remaining_s"]


@dataclass(frozen=True)
class Phase:
    """One scenario (or sweep level) on one trial: the unit a run reports progress in."""

    name: str
    trial: int  # 0-based
    planned_s: float | None  # warmup + duration when the scenario is timed; None: count-based


def plan_phases(points: Sequence[tuple[str, float | None]], trials: int) -> tuple[Phase, ...]:
    """The phases in the order a run measures them: every point of trial 1, then of trial 2..."""
    return tuple(Phase(name, t, planned) for t in range(trials) for name, planned in points)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _estimate(phase: Phase, took: Mapping[str, Sequence[float]]) -> float | None:
    """A phase's expected time: its own earlier trials, else the plan, else any finished phase."""
    if took.get(phase.name):
        return _mean(took[phase.name])
    if phase.planned_s is not None:
        return phase.planned_s
    every = [s for durations in took.values() for s in durations]
    return _mean(every) if every else None


@dataclass(frozen=True)
class Remaining:
    """Seconds until the run ends; a lower bound when some phase has no estimate yet."""

    seconds: float
    complete: bool  # False: phases with neither a plan nor a measured peer are left out

    def __str__(self) -> str:
        if not self.complete:
            return f"{format_eta(self.seconds)}+" if self.seconds >= 0.5 else "?"
        return format_eta(self.seconds)


def remaining_s(
    current: Phase | None,
    in_phase_s: float,
    upcoming: Sequence[Phase],
    took: Mapping[str, Sequence[float]],
    gap_s: float,
) -> Remaining:
    """Seconds until the run ends, from the plan corrected by what finished phases took.

    `took`: the measured durations of finished phases, by name; `gap_s`: the mean time between
    phases so far (server restarts, result writes), added before each upcoming phase;
    `in_phase_s`: how long `current` has run (its estimate never goes below zero). A phase with
    neither a plan nor a measured peer (count-based, first trial) is left out: a lower bound.
    """
    total, complete = 0.0, True
    if current is not None:
        estimate = _estimate(current, took)
        if estimate is None:
            complete = False
        else:
            total += max(0.0, estimate - in_phase_s)
    for phase in upcoming:
        estimate = _estimate(phase, took)
        if estimate is None:
            complete = False
        else:
            total += estimate
        total += gap_s
    return Remaining(total, complete)


def format_eta(seconds: float) -> str:
    """`45s`, `1m20s`, `2h05m`."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class PhaseClock:
    """The run's progress through its planned phases, timed with `clock` (monotonic seconds)."""

    def __init__(
        self, phases: Iterable[Phase], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._upcoming = list(phases)
        self.total = len(self._upcoming)
        self.done = 0
        self._clock = clock
        self._current: Phase | None = None
        self._started_at = 0.0
        self._last_end = clock()
        self._gaps: list[float] = []
        self._took: dict[str, list[float]] = {}

    def start(self, name: str, trial: int) -> int:
        """Phase (name, trial) begins; returns its 1-based position. Phases planned before it
        that did not run (sweep levels skipped once the server saturated) leave the plan."""
        index = next(
            (i for i, p in enumerate(self._upcoming) if (p.name, p.trial) == (name, trial)), None
        )
        if index is None:  # not in the plan: count it rather than fail a measurement
            self._current = Phase(name, trial, None)
            self.total += 1
        else:
            self._current = self._upcoming[index]
            self.total -= index
            del self._upcoming[: index + 1]
        now = self._clock()
        self._gaps.append(now - self._last_end)
        self._started_at = now
        return self.done + 1

    def finish(self) -> None:
        """The current phase ended; its duration corrects the estimates of its later trials."""
        if self._current is None:
            return
        now = self._clock()
        self._took.setdefault(self._current.name, []).append(now - self._started_at)
        self._current, self._last_end = None, now
        self.done += 1

    def skip(self, names: Iterable[str]) -> None:
        """Planned phases of these names will not run (a sweep stopped at saturation)."""
        dropped = set(names)
        kept = [p for p in self._upcoming if p.name not in dropped]
        self.total -= len(self._upcoming) - len(kept)
        self._upcoming = kept

    def eta(self) -> Remaining:
        """Time until the last planned phase ends, from now."""
        # The first gap (image build, first server start) happens once: not a per-phase cost.
        later = self._gaps[1:]
        gap = _mean(later) if later else 0.0
        in_phase = self._clock() - self._started_at if self._current is not None else 0.0
        return remaining_s(self._current, in_phase, self._upcoming, self._took, gap)
