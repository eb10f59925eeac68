"""The `benchaction gpu-monitor` JSON-lines protocol: the writer, and the reader the action uses.

The action's own container has no GPU, so it runs this monitor in a sibling container that does
and reads its stdout. One JSON object per line, each flushed:

    {"type": "hello", "version": 1, "fingerprint": {...}, "devices": [...], "rate_hz": 10.0}
      or {"type": "unavailable", "version": 1, "reason": "..."} (and nothing more)
    {"type": "sample", "t_ns": <perf_counter_ns>, "gpus": [{...}, ...]}   at the rate
    {"type": "bye", "reason": "stopped", "ticks": N}

`t_ns` is `time.perf_counter_ns()`, i.e. CLOCK_MONOTONIC on Linux. That clock belongs to the
host kernel, not to a container, so a monitor in a sibling container on the same host stamps
samples on the same time line as the load engine, and windows line up without translation.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
import time
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import IO, Any

from .nvml import NvmlUnavailable, open_session
from .recording import DEFAULT_MAX_ROWS, GpuRecording
from .sampler import DEFAULT_MAX_SECONDS, DEFAULT_RATE_HZ, Clock, sample_loop
from .source import GpuSource

__all__ = ["MAX_LINE_BYTES", "PROTOCOL_VERSION", "MonitorReader", "run_monitor", "stop_on_eof"]

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1 << 20
"""A longer line is dropped (counted as garbage): the reader's buffer stays bounded."""


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def run_monitor(
    out: IO[bytes],
    *,
    rate_hz: float = DEFAULT_RATE_HZ,
    max_seconds: float | None = None,
    gpus: Sequence[str] | None = None,
    stop: threading.Event | None = None,
    nvml: ModuleType | None = None,
    clock: Clock = time.perf_counter_ns,
) -> int:
    """Write the protocol to `out` until `stop` is set, time runs out or every GPU is lost.

    Returns the exit code: 0, also when there is no GPU (an "unavailable" line says why). An
    exception raised into it (a signal handler's) still writes "bye" on the way out.
    """
    stop = stop or threading.Event()
    try:
        session = open_session(gpus, nvml=nvml)
    except NvmlUnavailable as exc:
        _write(out, {"type": "unavailable", "version": PROTOCOL_VERSION, "reason": exc.reason})
        return 0
    ticks = 0
    reason = "interrupted"

    def emit(t_ns: int, samples: list[dict[str, Any]]) -> None:
        nonlocal ticks
        ticks += 1
        _write(out, {"type": "sample", "t_ns": t_ns, "gpus": samples})

    try:
        hello = {
            "type": "hello",
            "version": PROTOCOL_VERSION,
            "rate_hz": rate_hz,
            "clock": "perf_counter_ns",
            "fingerprint": session.fingerprint(),
            "devices": [d.describe() for d in session.devices],
            "lost": [
                {"index": d.index, "t_ns": d.lost_at_ns, "reason": d.lost_reason}
                for d in session.devices
                if d.lost_at_ns is not None
            ],
        }
        _write(out, hello)
        reason = sample_loop(
            session,
            emit,
            stop,
            rate_hz=rate_hz,
            max_seconds=max_seconds or DEFAULT_MAX_SECONDS,
            clock=clock,
        )
    except BrokenPipeError:
        return 0  # nobody reads any more: nothing to say goodbye to
    finally:
        session.close()
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            _write(out, {"type": "bye", "reason": reason, "ticks": ticks})
    return 0


def _write(out: IO[bytes], obj: dict[str, Any]) -> None:
    out.write(_line(obj))
    out.flush()


def stop_on_eof(stream: IO[bytes], stop: threading.Event) -> threading.Thread | None:
    """Set `stop` when `stream` (the monitor's stdin) closes, if it is a pipe or socket.

    stdin that is /dev/null or a terminal is not watched: /dev/null reads EOF at once.
    """
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return None
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return None

    def watch() -> None:
        try:
            for _chunk in iter(lambda: stream.read(4096), b""):  # ends at EOF
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    thread = threading.Thread(target=watch, name="gpu-monitor-stdin", daemon=True)
    thread.start()
    return thread


class MonitorReader(GpuSource):
    """Consumes the monitor's stdout incrementally and summarises it like the in-process sampler.

    `status`: "waiting" (nothing yet), "running" (hello seen), "done" (bye seen),
    "unavailable" (the monitor found no GPU; `reason`), "lost" (the stream ended without bye;
    what was received is kept).
    """

    source_name = "monitor"

    def __init__(self, *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.recording = GpuRecording(max_rows=max_rows)
        self.status = "waiting"
        self.reason: str | None = None
        self.version: int | None = None
        self.lines = 0
        self.garbage_lines = 0
        self.unknown_lines = 0
        self.torn_lines = 0
        self.last_t_ns: int | None = None
        self._pending = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the stream: complete lines are handled, a partial one kept."""
        start = 0
        for _ in range(data.count(b"\n")):
            end = data.index(b"\n", start)
            piece = data[start:end]
            start = end + 1
            if self._discarding:
                self._discarding = False
                continue
            self._pending += piece
            line, self._pending = bytes(self._pending), bytearray()
            self._handle(line)
        rest = data[start:]
        if self._discarding:
            return
        self._pending += rest
        if len(self._pending) > MAX_LINE_BYTES:
            self._pending = bytearray()
            self._discarding = True
            self.garbage_lines += 1

    def consume(self, chunks: Iterable[bytes]) -> None:
        """Feed every chunk of a stream (e.g. a container's log stream), then close()."""
        for chunk in chunks:  # ends with the stream
            self.feed(chunk)
        self.close()

    def close(self) -> None:
        """The stream ended: a torn last line is counted, and no bye means the monitor was lost."""
        if self._pending:
            line, self._pending = bytes(self._pending), bytearray()
            before = self.garbage_lines
            self._handle(line)
            if self.garbage_lines > before:
                self.garbage_lines, self.torn_lines = before, self.torn_lines + 1
        self._discarding = False
        if self.status == "waiting":
            self.status, self.reason = "lost", "the GPU monitor ended before saying hello"
        elif self.status == "running":
            self.status = "lost"
            self.reason = (
                f"the GPU monitor stopped without saying goodbye after "
                f"{self.recording.ticks} sample(s) (did it crash or get killed?)"
            )

    def _handle(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            obj = json.loads(line)
        except ValueError:
            self.garbage_lines += 1
            return
        if not isinstance(obj, dict):
            self.garbage_lines += 1
            return
        self.lines += 1
        kind = obj.get("type")
        if (
            kind == "sample"
            and isinstance(obj.get("t_ns"), int)
            and isinstance(obj.get("gpus"), list)
        ):
            self.last_t_ns = obj["t_ns"]
            self.recording.add(obj["t_ns"], [g for g in obj["gpus"] if isinstance(g, dict)])
            if self.status == "waiting":
                self.status = "running"
        elif kind == "hello":
            self.version = obj.get("version") if isinstance(obj.get("version"), int) else None
            fingerprint = obj.get("fingerprint")
            self.recording.fingerprint = fingerprint if isinstance(fingerprint, dict) else None
            devices = obj.get("devices") or []
            self.recording.describe([d for d in devices if isinstance(d, dict) and "index" in d])
            for lost in obj.get("lost") or []:
                if isinstance(lost, dict) and isinstance(lost.get("index"), int):
                    t = lost.get("t_ns")
                    when = t if isinstance(t, int) else 0
                    self.recording.mark_lost(lost["index"], when, str(lost.get("reason")))
            self.status = "running"
        elif kind == "unavailable":
            self.status, self.reason = "unavailable", str(obj.get("reason") or "no reason given")
        elif kind == "bye":
            if self.status in ("waiting", "running"):
                self.status = "done"
        else:
            self.unknown_lines += 1

    @property
    def unavailable_reason(self) -> str | None:
        """Why the monitor has no GPUs to show: none found, or it ended before its hello."""
        return self.reason

    def health(self) -> tuple[str, str | None]:
        """A monitor that never spoke counts as lost; one that said bye or still runs is ok."""
        if self.status == "waiting":
            return "lost", "no output from the GPU monitor yet"
        return {"done": "ok", "running": "ok"}.get(self.status, self.status), self.reason

    def extras(self) -> dict[str, Any]:
        """The line counts, so a summary shows how clean the monitor's stream was."""
        return {
            "stream": {
                "lines": self.lines,
                "garbage_lines": self.garbage_lines,
                "unknown_lines": self.unknown_lines,
                "torn_lines": self.torn_lines,
            }
        }
