"""The display: a live rich bar on a terminal, else plain lines (no control codes) for CI logs;
each scenario trial is a phase, shown with the run's position (`[3/12]`) and its ETA."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from benchaction.engine import Progress as LoadProgress
from benchaction.progress.eta import Phase, PhaseClock, format_eta
from benchaction.results import Trial

__all__ = ["ProgressDisplay"]


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressDisplay:
    """Receives run events from the pipeline; never affects what is measured."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        plain_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        # Not a terminal: plain lines whatever FORCE_COLOR or TTY_COMPATIBLE say, since a
        # live bar's cursor codes would garble a CI log.
        self.console = Console(
            file=self.stream,
            highlight=False,
            soft_wrap=True,
            force_terminal=None if _is_tty(self.stream) else False,
        )
        self.live = self.console.is_terminal
        self.plain_every_s = plain_every_s
        self._clock = clock
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._label = ""
        self._expected_s: float | None = None
        self._last_plain = 0.0
        self._phases: PhaseClock | None = None

    def plan(self, phases: Sequence[Phase]) -> None:
        """A run begins: the phases it will measure, in order, for positions and the ETA."""
        self._phases = PhaseClock(phases, self._clock)

    def skip(self, names: Iterable[str]) -> None:
        """Planned phases that will not run after all (sweep levels past saturation)."""
        if self._phases is not None:
            self._phases.skip(names)

    def _eta(self) -> str:
        return "" if self._phases is None else f"ETA {self._phases.eta()}"

    def log(self, message: str) -> None:
        """A line of build/pull/server output or a notice."""
        if self._progress is not None:
            self._progress.console.print(message, markup=False)
        else:
            self.console.print(message, markup=False)

    def load_started(
        self, label: str, expected_s: float | None, phase: tuple[str, int] | None = None
    ) -> None:
        """A scenario trial begins; `expected_s` is its planned wall time when known, `phase`
        its (name, trial) in the plan given to plan()."""
        self._label = label
        self._expected_s = expected_s
        self._last_plain = self._clock()
        if self._phases is not None and phase is not None:
            position = self._phases.start(*phase)
            self._label = f"[{position}/{self._phases.total}] {label}"
        eta = self._eta()
        if self.live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[eta]}"),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                self._label, total=expected_s, status="starting", eta=eta
            )
        else:
            about = "" if expected_s is None else f" (about {format_eta(expected_s)})"
            tail = f", {eta}" if eta else ""
            self.console.print(f"{self._label}: started{about}{tail}", markup=False)

    def load_update(self, p: LoadProgress) -> None:
        """Called a few times a second by the load engine."""
        status = f"{'measuring' if p.measuring else 'warmup'}  ok {p.completed}  errors {p.errors}"
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=p.elapsed_s, status=status, eta=self._eta())
            return
        now = self._clock()
        if now - self._last_plain >= self.plain_every_s:
            self._last_plain = now
            self.console.print(f"{self._label}: {p.elapsed_s:.0f}s {status}", markup=False)

    def load_finished(self, metrics: Trial) -> None:
        """One summary line per scenario trial, kept in the log."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
        if self._phases is not None:
            self._phases.finish()
        lat = metrics["latency_ms"]
        p50 = "-" if lat["p50"] is None else f"{lat['p50']:.2f}"
        p99 = "-" if lat["p99"] is None else f"{lat['p99']:.2f}"
        valid = "" if metrics["valid"] else "  INVALID: " + "; ".join(metrics["invalid_reasons"])
        self.console.print(
            f"{self._label}: {metrics['throughput_rps']:.1f} req/s  p50 {p50} ms  p99 {p99} ms  "
            f"errors {metrics['counts']['failed']}{valid}",
            markup=False,
        )
