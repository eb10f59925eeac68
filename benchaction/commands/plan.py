"""What `benchaction validate` promises: each scenario's load, the trials, and an estimated wall time."""

from __future__ import annotations

from dataclasses import dataclass

from benchaction.config import Config, Scenario

__all__ = ["START_ESTIMATE_S", "WallTime", "describe_plan", "estimate_wall_time", "format_seconds"]

START_ESTIMATE_S = 5.0
"""Assumed time for one server start (container or process up and ready); the image build or
pull comes on top once. A run records the real cold starts in its results."""


@dataclass(frozen=True)
class WallTime:
    """The estimate and its parts, so the text can say how it was reached."""

    load_s: float  # trials x scenarios x (warmup + duration), sweep levels counted each
    starts: int  # server starts: one a trial, one in all with `reuse`, none for server.url
    start_s: float  # starts x START_ESTIMATE_S
    start_max_s: float  # starts x server.ready.timeout: every start taking its whole timeout
    unbounded: tuple[str, ...]  # scenarios that end after a request count, not a time

    @property
    def total_s(self) -> float:
        """The estimate: load plus the assumed starts."""
        return self.load_s + self.start_s


def format_seconds(seconds: float) -> str:
    """`45s`, `3m20s`, `1h05m`: short, rounded up to the second."""
    s = int(-(-seconds // 1))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _levels(scenario: Scenario) -> int:
    return 1 if scenario.sweep is None else len(scenario.sweep.values)


def _warmup_s(scenario: Scenario) -> float:
    """The warmup's time: its duration, or with `steady` its longest (max_s)."""
    steady = scenario.warmup.steady
    return max(scenario.warmup.duration_s, steady.max_s if steady is not None else 0.0)


def estimate_wall_time(config: Config) -> WallTime:
    """trials x scenarios x (warmup + duration) + one server start a trial at START_ESTIMATE_S."""
    per_trial = 0.0
    unbounded = []
    for s in config.scenarios:
        if s.duration_s is None:
            unbounded.append(s.name)
        per_trial += _levels(s) * (_warmup_s(s) + (s.duration_s or 0.0))
    starts = 0 if config.server.url is not None else 1 if config.reuse else config.trials
    return WallTime(
        load_s=config.trials * per_trial,
        starts=starts,
        start_s=starts * START_ESTIMATE_S,
        start_max_s=starts * config.server.ready.timeout_s,
        unbounded=tuple(unbounded),
    )


def _load(s: Scenario) -> str:
    if s.sweep is not None:
        values = ", ".join(f"{v:g}" for v in s.sweep.values)
        unit = "users" if s.sweep.key == "concurrency" else "requests/s"
        level = f"sweep {s.sweep.key} {values} {unit}"
    elif s.arrivals is not None:
        cap = s.arrivals.max_concurrency
        level = f"open loop {s.arrivals.rate:g} requests/s ({s.arrivals.distribution}"
        level += f", at most {cap} in flight)" if cap else ")"
    else:
        level = f"closed loop {s.concurrency} user(s)"
    length = format_seconds(s.duration_s) if s.duration_s is not None else f"{s.requests} requests"
    warm = []
    if s.warmup.duration_s:
        warm.append(format_seconds(s.warmup.duration_s))
    if s.warmup.requests:
        warm.append(f"{s.warmup.requests} requests")
    if s.warmup.steady is not None:
        warm.append(f"until steady (at most {format_seconds(s.warmup.steady.max_s)})")
    return f"{level}, {length}, warmup {' + '.join(warm) or 'none'}"


def describe_plan(config: Config, source: str) -> str:
    """The lines `validate` prints: scenarios, trials, estimated wall time and how it is reached."""
    lines = [f"{source}: valid; config {config.hash()[:19]}"]
    where = config.server.url or f"runtime {config.server.runtime}"
    lines.append(f"server: {where}")
    lines.append(f"scenarios ({len(config.scenarios)}):")
    for s in config.scenarios:
        lines.append(f"  {s.name}: {s.method} {s.path}, {_load(s)}")
    trials = f"trials: {config.trials}"
    if config.max_trials is not None:
        trials += f", more while undecided up to {config.max_trials}"
    if config.reuse:
        trials += " (one server for all trials: reuse)"
    elif config.server.url is None:
        trials += ", each on a fresh server"
    lines.append(trials)
    wall = estimate_wall_time(config)
    parts = [
        f"{config.trials} trial(s) x {len(config.scenarios)} scenario(s) x (warmup + duration)"
        f" = {format_seconds(wall.load_s)}"
    ]
    if wall.starts:
        parts.append(
            f"{wall.starts} server start(s) x {START_ESTIMATE_S:g}s assumed"
            f" = {format_seconds(wall.start_s)}"
        )
    lines.append(f"estimated wall time: about {format_seconds(wall.total_s)}")
    lines.append("  " + " + ".join(parts))
    notes = []
    if any(sc.sweep is not None for sc in config.scenarios):
        notes.append("a sweep counts each of its levels (it stops early once the server saturates)")
    if wall.starts:
        notes.append(
            f"at most {format_seconds(wall.load_s + wall.start_max_s)} if every start takes"
            f" server.ready.timeout ({format_seconds(config.server.ready.timeout_s)})"
        )
        notes.append("the image build or pull is not included")
    if wall.unbounded:
        notes.append(f"not counted: {', '.join(wall.unbounded)} end(s) after a request count")
    if config.max_trials is not None:
        notes.append("added trials are not counted")
    lines.extend(f"  {n}" for n in notes)
    return "\n".join(lines) + "\n"
