"""CPU and memory of the model container, from the Docker stats stream, summarised per window.

The engine sends one stats object about every second. CPU % is computed as `docker stats`
does: (container CPU time delta / host CPU time delta) x online CPUs x 100, so one busy core
reads 100 %. Memory is usage minus the inactive file cache (cgroup v1 `total_inactive_file`,
v2 `inactive_file`), again as `docker stats` shows it.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import docker.errors
import requests

from .series import Merge, Series

__all__ = ["ContainerStatsSampler", "StatsSource", "cpu_percent", "memory_bytes", "stopped"]

STATS_COLUMNS: dict[str, Merge] = {"cpu_pct": "mean", "cpu_max_pct": "max", "memory_bytes": "max"}
DEFAULT_MAX_ROWS = 86_400
"""One day of one-second stats before pairs merge (about 3 MB)."""
MAX_MESSAGES = 7 * 86_400
"""The reading loop ends after this many messages even if the stream does not."""


class StatsSource(Protocol):
    """What the sampler needs of a container: docker-py's `Container.stats`."""

    def stats(self, **kwargs: Any) -> Any: ...


def _get(stats: Mapping[str, Any], *path: str) -> Any:
    node: Any = stats
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def cpu_percent(stats: Mapping[str, Any]) -> float | None:
    """CPU % over the interval since the previous stats object, as `docker stats` computes it."""
    total, pre_total = (
        _get(stats, "cpu_stats", "cpu_usage", "total_usage"),
        _get(stats, "precpu_stats", "cpu_usage", "total_usage"),
    )
    system, pre_system = (
        _get(stats, "cpu_stats", "system_cpu_usage"),
        _get(stats, "precpu_stats", "system_cpu_usage"),
    )
    if not all(isinstance(v, int | float) for v in (total, pre_total, system, pre_system)):
        return None
    cpu_delta, system_delta = total - pre_total, system - pre_system
    online = _get(stats, "cpu_stats", "online_cpus")
    if not isinstance(online, int) or online <= 0:
        online = len(_get(stats, "cpu_stats", "cpu_usage", "percpu_usage") or []) or 1
    if system_delta <= 0 or cpu_delta < 0:
        return None
    return float(cpu_delta) / float(system_delta) * online * 100.0


def memory_bytes(stats: Mapping[str, Any]) -> int | None:
    """Memory in use minus the inactive file cache, as `docker stats` shows it."""
    usage = _get(stats, "memory_stats", "usage")
    if not isinstance(usage, int):
        return None
    detail = _get(stats, "memory_stats", "stats") or {}
    for key in ("total_inactive_file", "inactive_file"):  # cgroup v1, then v2
        value = detail.get(key) if isinstance(detail, Mapping) else None
        if isinstance(value, int) and value < usage:
            return usage - value
    return usage


def stopped(stats: Mapping[str, Any]) -> bool:
    """The engine keeps streaming empty objects (read time zero) for a stopped container."""
    return str(stats.get("read") or "").startswith("0001-01-01")


class ContainerStatsSampler:
    """Reads a container's stats stream in a thread until stop() or until the container goes away.

    stop() sets a flag the thread sees at the next stats object (about a second). The engine
    keeps a stream open for a stopped container, sending empty objects; the first of those ends
    the reading, as does the container's removal.
    """

    def __init__(
        self,
        container: StatsSource,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        clock: Callable[[], int] = time.perf_counter_ns,
    ) -> None:
        self.container = container
        self.series = Series(STATS_COLUMNS, max_rows=max_rows)
        self.messages = 0
        self.error: str | None = None
        self.container_stopped = False
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None

    def feed(self, stats: Mapping[str, Any], t_ns: int) -> None:
        """Record one stats object received at `t_ns`; objects without numbers are skipped."""
        cpu, memory = cpu_percent(stats), memory_bytes(stats)
        with self._lock:
            self.messages += 1
            if cpu is None and memory is None:
                return
            self.series.add(t_ns, {"cpu_pct": cpu, "cpu_max_pct": cpu, "memory_bytes": memory})

    def start(self) -> None:
        """Open the stats stream and read it in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="container-stats", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        stream: Iterator[Mapping[str, Any]] | None = None
        try:
            stream = iter(self.container.stats(stream=True, decode=True))
            for stats in itertools.islice(stream, MAX_MESSAGES):
                if self._stop.is_set() or not isinstance(stats, Mapping):
                    break
                if stopped(stats):
                    self.container_stopped = True
                    break
                self.feed(stats, self._clock())
        except docker.errors.NotFound:
            pass  # the container went away: the stream is over
        except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                # Closing a half-read HTTP stream must not mask how the reading ended.
                with contextlib.suppress(Exception):
                    close()
            self._ended.set()

    @property
    def ended(self) -> bool:
        """Whether the reading thread has finished (stopped, or the stream ended)."""
        return self._ended.is_set()

    def wait_ended(self, timeout_s: float) -> bool:
        """Wait until the stream ended by itself (the container stopped); True if it did."""
        return self._ended.wait(timeout_s)

    def stop(self, timeout_s: float = 3.0) -> bool:
        """Ask the thread to stop and wait for it; False if it is still blocked on the stream."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def summary(
        self, window_start_ns: int, window_end_ns: int, *, clock_origin_ns: int = 0
    ) -> dict[str, Any]:
        """CPU mean/max % and memory max over the window (perf_counter_ns, like the GPU's)."""
        start, end = clock_origin_ns + window_start_ns, clock_origin_ns + window_end_ns
        with self._lock:
            s = self.series
            rows = s.select(start, end)
            cpu = s.weighted_mean("cpu_pct", rows)
            top = s.extreme("cpu_max_pct", rows, largest=True)
            memory = s.extreme("memory_bytes", rows, largest=True)
            samples = int(s.n[rows].sum())
        return {
            "status": "failed" if self.error and not samples else "ok",
            "reason": self.error,
            "cpu_mean_pct": None if cpu is None else round(cpu, 2),
            "cpu_max_pct": None if top is None else round(top, 2),
            "memory_max_bytes": None if memory is None else int(memory),
            "samples": samples,
        }
