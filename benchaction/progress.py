"""What a person sees while a benchmark runs: a live rich display on a terminal, else a line every few seconds."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from benchaction.engine import Progress as LoadProgress
from benchaction.results import Trial

__all__ = ["ProgressDisplay"]


class ProgressDisplay:
    """Receives run events from the pipeline; never affects what is measured."""

    def __init__(self, stream: TextIO | None = None, *, plain_every_s: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal
        self.plain_every_s = plain_every_s
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._label = ""
        self._expected_s: float | None = None
        self._last_plain = 0.0

    def log(self, message: str) -> None:
        """A line of build/pull/server output or a notice."""
        if self._progress is not None:
            self._progress.console.print(message, markup=False)
        else:
            self.console.print(message, markup=False)

    def load_started(self, label: str, expected_s: float | None) -> None:
        """A scenario trial begins; `expected_s` is its planned wall time when known."""
        self._label = label
        self._expected_s = expected_s
        self._last_plain = time.monotonic()
        if self.live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(label, total=expected_s, status="starting")
        else:
            self.console.print(f"{label}: started", markup=False)

    def load_update(self, p: LoadProgress) -> None:
        """Called a few times a second by the load engine."""
        status = f"{'measuring' if p.measuring else 'warmup'}  ok {p.completed}  errors {p.errors}"
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=p.elapsed_s, status=status)
            return
        now = time.monotonic()
        if now - self._last_plain >= self.plain_every_s:
            self._last_plain = now
            self.console.print(f"{self._label}: {p.elapsed_s:.0f}s {status}", markup=False)

    def load_finished(self, metrics: Trial) -> None:
        """One summary line per scenario trial, kept in the log."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
        lat = metrics["latency_ms"]
        p50 = "-" if lat["p50"] is None else f"{lat['p50']:.2f}"
        p99 = "-" if lat["p99"] is None else f"{lat['p99']:.2f}"
        valid = "" if metrics["valid"] else "  INVALID: " + "; ".join(metrics["invalid_reasons"])
        self.console.print(
            f"{self._label}: {metrics['throughput_rps']:.1f} req/s  p50 {p50} ms  p99 {p99} ms  "
            f"errors {metrics['counts']['failed']}{valid}",
            markup=False,
        )
