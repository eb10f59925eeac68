"""What one load run does, decided before it starts: target, prepared request bytes, limits."""

from __future__ import annotations

from dataclasses import dataclass

from benchaction.config_model import Scenario

__all__ = ["LoadPlan", "plan_for", "prepare_requests"]

USER_AGENT = "bench-action/0.1"
DEFAULT_COUNT_RUN_LIMIT_S = 3600.0


@dataclass(frozen=True)
class LoadPlan:
    """A closed-loop run: `concurrency` virtual users, each on one keep-alive connection."""

    host: str
    port: int
    requests: tuple[bytes, ...]
    concurrency: int
    duration_s: float | None = None
    count: int | None = None
    warmup_s: float = 0.0
    warmup_requests: int = 0
    timeout_s: float = 30.0
    head: bool = False
    connect_backoff_s: float = 0.05
    max_run_s: float | None = None

    def __post_init__(self) -> None:
        if (self.duration_s is None) == (self.count is None):
            raise ValueError("a load plan needs exactly one of duration_s or count")
        if self.concurrency < 1 or not self.requests:
            raise ValueError("a load plan needs concurrency >= 1 and at least one request")

    @property
    def hard_limit_s(self) -> float:
        """The wall time after which the run is cut off whatever happens: every loop is bounded."""
        if self.max_run_s is not None:
            return self.max_run_s
        body = self.duration_s if self.duration_s is not None else DEFAULT_COUNT_RUN_LIMIT_S
        return self.warmup_s + body + 2 * self.timeout_s + 5.0


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


def plan_for(scenario: Scenario, host: str, port: int) -> LoadPlan:
    """The load plan a configured scenario asks for against one server address."""
    return LoadPlan(
        host=host,
        port=port,
        requests=prepare_requests(
            host, port, scenario.method, scenario.path, scenario.headers, scenario.payloads
        ),
        concurrency=scenario.concurrency,
        duration_s=scenario.duration_s,
        count=scenario.requests,
        warmup_s=scenario.warmup.duration_s,
        warmup_requests=scenario.warmup.requests,
        timeout_s=scenario.timeout_s,
        head=scenario.method == "HEAD",
    )
