"""In-process GPU sampling: a background thread reads every GPU at a fixed rate (10 Hz default).

Memory is bounded: each GPU keeps at most `max_rows` rows (default one hour at 10 Hz) in
preallocated numpy arrays, and beyond that adjacent rows are merged pairwise (see
`series.Series`), so a long run keeps its whole span at a coarser step. Times are
`time.perf_counter_ns()`, the load engine's clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from types import ModuleType, TracebackType
from typing import Any

from .availability import Available, GpuStatus, Unavailable
from .nvml import NvmlSession, NvmlUnavailable, open_session
from .recording import DEFAULT_MAX_ROWS, GpuRecording
from .source import GpuSource

__all__ = ["DEFAULT_MAX_SECONDS", "DEFAULT_RATE_HZ", "GpuSampler", "sample_loop"]

DEFAULT_RATE_HZ = 10.0
DEFAULT_MAX_SECONDS = 24 * 3600.0
"""A sampler never runs longer than this, even when nobody stops it."""

Clock = Callable[[], int]
OnSample = Callable[[int, list[dict[str, Any]]], None]


def sample_loop(
    session: NvmlSession,
    on_sample: OnSample,
    stop: threading.Event,
    *,
    rate_hz: float = DEFAULT_RATE_HZ,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    clock: Clock = time.perf_counter_ns,
) -> str:
    """Sample every live GPU at `rate_hz` until stopped, out of time or out of GPUs; says which.

    Ticks are scheduled on a fixed grid; a tick that runs late is not made up with a burst.
    """
    if rate_hz <= 0 or max_seconds <= 0:
        raise ValueError("rate_hz and max_seconds must be positive")
    period_ns = int(1e9 / rate_hz)
    started = clock()
    deadline = started + int(max_seconds * 1e9)
    due = started
    for _ in range(math.ceil(max_seconds * rate_hz) + 1):
        if stop.is_set():
            return "stopped"
        now = clock()
        if now >= deadline:
            return "max duration"
        on_sample(now, session.sample_all(now))
        if not session.live:
            return "all GPUs lost"
        due = max(due + period_ns, clock())
        if stop.wait((due - clock()) / 1e9):
            return "stopped"
    return "max duration"


class GpuSampler(GpuSource):
    """Samples GPUs in a thread between start() and stop(); summary() per measurement window.

    Without a usable GPU start() returns Unavailable and summary() says why: never an exception.
    """

    source_name = "nvml"

    def __init__(
        self,
        gpus: Sequence[str] | None = None,
        *,
        rate_hz: float = DEFAULT_RATE_HZ,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        nvml: ModuleType | None = None,
        clock: Clock = time.perf_counter_ns,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError("rate_hz must be positive")
        self.gpus = tuple(gpus) if gpus else None
        self.rate_hz = rate_hz
        self.max_seconds = max_seconds
        self.recording = GpuRecording(max_rows=max_rows)
        self.status: GpuStatus | None = None
        self.stopped_because: str | None = None
        self.error: str | None = None
        self._nvml = nvml
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session: NvmlSession | None = None

    def start(self) -> GpuStatus:
        """Open NVML, fingerprint the GPUs and start the thread; Unavailable when there is no GPU."""
        if self.status is not None:
            return self.status
        try:
            session = open_session(self.gpus, nvml=self._nvml)
        except NvmlUnavailable as exc:
            self.status = Unavailable(exc.reason)
            return self.status
        self._session = session
        fingerprint = session.fingerprint()
        self.recording.fingerprint = fingerprint
        self.recording.describe([d.describe() for d in session.devices])
        for device in session.devices:
            if device.lost_at_ns is not None:
                self.recording.mark_lost(device.index, device.lost_at_ns, device.lost_reason or "")
        self.status = Available(len(session.devices), fingerprint.get("driver_version"))
        self._thread = threading.Thread(target=self._run, name="gpu-sampler", daemon=True)
        self._thread.start()
        return self.status

    def _run(self) -> None:
        assert self._session is not None
        try:
            self.stopped_because = sample_loop(
                self._session,
                self.recording.add,
                self._stop,
                rate_hz=self.rate_hz,
                max_seconds=self.max_seconds,
                clock=self._clock,
            )
        except Exception as exc:  # a bug or an NVML surprise must not kill the benchmark
            self.error = f"{type(exc).__name__}: {exc}"
            self.stopped_because = "error"

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and shut NVML down; safe to call twice or without start()."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._session is not None and (self._thread is None or not self._thread.is_alive()):
            self._session.close()

    @property
    def unavailable_reason(self) -> str | None:
        """Why start() found no GPU, for the results' `gpu` section."""
        return self.status.reason if isinstance(self.status, Unavailable) else None

    def health(self) -> tuple[str, str | None]:
        """Unavailable without a GPU or before start(), failed once the thread hit an error."""
        if isinstance(self.status, Unavailable):
            return "unavailable", self.status.reason
        if self.status is None:
            return "unavailable", "the GPU sampler was never started"
        if self.error is not None:
            return "failed", f"the GPU sampler stopped with an error: {self.error}"
        return "ok", None

    def __enter__(self) -> GpuSampler:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
