"""What one load run does, decided before it starts: target, prepared request bytes, limits."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace

from benchaction.config import Arrivals, ResponseCheck, Scenario, Slo

__all__ = ["LoadPlan", "available_cores", "plan_for", "prepare_requests"]

USER_AGENT = "bench-action/0.1"
DEFAULT_COUNT_RUN_LIMIT_S = 3600.0
DEFAULT_FOLD_ROWS = 1 << 19
"""Rows a worker keeps exactly (64 MiB) before it folds the oldest into histograms."""

OPEN_LOOP_RATE_PER_WORKER = 1000.0
"""Open loop adds a worker per this many requests/s: each one spins its core near arrivals."""


@dataclass(frozen=True)
class LoadPlan:
    """A run: closed loop with `concurrency` users, or open loop when `arrivals` is set."""

    host: str
    port: int
    requests: tuple[bytes, ...]
    concurrency: int = 1
    duration_s: float | None = None
    count: int | None = None
    warmup_s: float = 0.0
    warmup_requests: int = 0
    timeout_s: float = 30.0
    head: bool = False
    connect_backoff_s: float = 0.05
    max_run_s: float | None = None
    arrivals: Arrivals | None = None
    seed: int = 0
    payload_order: str = "cycle"
    stream: bool = False  # parse the answer as Server-Sent Events (OpenAI streaming)
    usage: bool = False  # read token usage from a whole JSON answer (OpenAI, not streaming)
    check: ResponseCheck | None = None
    slo: Slo = field(default_factory=Slo)
    workers: int = 1
    cpus: tuple[int, ...] | None = None  # the cores every worker runs on (None: any)
    fold_rows: int = DEFAULT_FOLD_ROWS
    # Set by the engine for each worker process: its share and the common start.
    shard: int = 0
    shards: int = 1
    start_at_ns: int | None = None

    def __post_init__(self) -> None:
        if (self.duration_s is None) == (self.count is None):
            raise ValueError("a load plan needs exactly one of duration_s or count")
        if self.concurrency < 1 or not self.requests:
            raise ValueError("a load plan needs concurrency >= 1 and at least one request")
        if self.arrivals is not None and self.arrivals.rate <= 0:
            raise ValueError("an open-loop plan needs a rate > 0")
        if self.workers < 1 or not 0 <= self.shard < self.shards:
            raise ValueError("a load plan needs workers >= 1 and 0 <= shard < shards")

    @property
    def open_loop(self) -> bool:
        """Whether requests are due on a schedule rather than when a user becomes free."""
        return self.arrivals is not None

    @property
    def max_connections(self) -> int:
        """The most connections this worker may hold (open loop; the cap is split between workers)."""
        cap = self.arrivals.max_concurrency if self.arrivals is not None else None
        if cap is None:
            return 10_000
        return max(1, cap // self.shards + (1 if self.shard < cap % self.shards else 0))

    @property
    def preopened_connections(self) -> int:
        """Connections an open-loop worker opens before the start, so early sends need no connect.

        Little's law with a 100 ms guess at the answer time, within the cap and at most 256.
        """
        if self.arrivals is None:
            return 0
        expected = math.ceil(self.arrivals.rate / self.shards * 0.1)
        return max(1, min(expected, 256, self.max_connections))

    @property
    def hard_limit_s(self) -> float:
        """The wall time after which the run is cut off whatever happens: every loop is bounded."""
        if self.max_run_s is not None:
            return self.max_run_s
        body = self.duration_s if self.duration_s is not None else DEFAULT_COUNT_RUN_LIMIT_S
        return self.warmup_s + body + 2 * self.timeout_s + 5.0

    def for_shard(self, shard: int, shards: int, start_at_ns: int) -> LoadPlan:
        """This plan as one worker process runs it: its users or arrivals, the common start."""
        return replace(self, shard=shard, shards=shards, start_at_ns=start_at_ns, workers=1)


def prepare_requests(
    host: str,
    port: int,
    method: str,
    path: str,
    headers: tuple[tuple[str, str], ...],
    payloads: tuple[bytes, ...],
) -> tuple[bytes, ...]:
    """Every distinct request as the exact bytes to write, built once so sending is one write."""
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    names = {name.lower() for name, _ in headers}
    if "user-agent" not in names:
        head.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in names:
        head.append("Accept: */*")
    head.extend(f"{name}: {value}" for name, value in headers)
    bodies = payloads or (None,)
    out = []
    for body in bodies:
        lines = list(head)
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        out.append(raw + body if body is not None else raw)
    return tuple(out)


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_workers(concurrency: int, arrivals: Arrivals | None, cores: int) -> int:
    """Cores available, but no idle worker: at most one per user, or per 1000 req/s offered."""
    if arrivals is None:
        return max(1, min(cores, concurrency))
    return max(1, min(cores, math.ceil(arrivals.rate / OPEN_LOOP_RATE_PER_WORKER)))


def plan_for(
    scenario: Scenario,
    host: str,
    port: int,
    *,
    concurrency: int | None = None,
    rate: float | None = None,
    cores: int | None = None,
    cpus: tuple[int, ...] | None = None,
) -> LoadPlan:
    """The load plan a configured scenario asks for; `concurrency`/`rate` set one sweep point.

    `cpus`: the load's cores (CPU isolation); the workers run there, one per core by default.
    """
    from benchaction.engine.bodies import request_bodies

    arrivals = scenario.arrivals
    if rate is not None and arrivals is not None:
        arrivals = replace(arrivals, rate=rate)
    users = concurrency if concurrency is not None else scenario.concurrency
    if cpus:
        cores = len(cpus)
    workers = scenario.workers or default_workers(
        users, arrivals, cores if cores is not None else available_cores()
    )
    openai = scenario.openai if scenario.protocol == "openai" else None
    return LoadPlan(
        host=host,
        port=port,
        requests=prepare_requests(
            host, port, scenario.method, scenario.path, scenario.headers, request_bodies(scenario)
        ),
        concurrency=users,
        duration_s=scenario.duration_s,
        count=scenario.requests,
        warmup_s=scenario.warmup.duration_s,
        warmup_requests=scenario.warmup.requests,
        timeout_s=scenario.timeout_s,
        head=scenario.method == "HEAD",
        arrivals=arrivals,
        seed=scenario.seed,
        payload_order=scenario.payload_order,
        stream=openai is not None and openai.stream,
        usage=openai is not None and not openai.stream,
        check=scenario.check,
        slo=scenario.slo,
        workers=workers,
        cpus=cpus or None,
    )
