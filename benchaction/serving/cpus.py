"""CPU isolation: which of the run's cores the server gets and which the load workers get.

A pure function of the config's `isolation` and the cores this process may use (its affinity,
read by the caller): the runtimes and the engine only apply the sets they are handed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..config import Isolation
from ..errors import ConfigError

__all__ = ["CpuPlan", "format_cpus", "split_cpus"]

LOAD_SHARE = 4
"""Auto: the load gets one core in this many (at least one), the server the rest."""

MIN_AUTO_SPLIT = 4
"""Auto splits only this many usable cores or more. On a 2-vCPU runner a CPU-bound server's
trials spread more with one core of its own than sharing both with the load (measured twice:
throughput CV 13.2 % vs 8.5 %, and 10.9 % vs 7.2 %; docs/statistics.md, Calibration)."""


@dataclass(frozen=True)
class CpuPlan:
    """The cores of one run: the server's and the load's (None: that side is not pinned)."""

    mode: Literal["auto", "explicit", "off"]
    server: tuple[int, ...] | None
    load: tuple[int, ...] | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The results document's `isolation` section."""
        return {
            "mode": self.mode,
            "server_cpus": None if self.server is None else list(self.server),
            "load_cpus": None if self.load is None else list(self.load),
            "reason": self.reason,
        }


def format_cpus(cpus: Iterable[int]) -> str:
    """CPU numbers in Linux cpu-list syntax, runs as ranges: (0, 1, 2, 5) -> '0-2,5'."""
    parts: list[str] = []
    run: list[int] = []
    for cpu in sorted(set(cpus)):
        if run and cpu != run[-1] + 1:
            parts.append(_span(run))
            run = []
        run.append(cpu)
    if run:
        parts.append(_span(run))
    return ",".join(parts)


def _span(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


def split_cpus(
    isolation: Isolation, available: Sequence[int] | None, *, pin_server: bool = True
) -> CpuPlan:
    """The plan for `isolation` on the cores in `available` (this process's affinity).

    Auto, with n >= MIN_AUTO_SPLIT usable cores: the load gets the highest max(1, n // 4) of them
    and the server the rest; with fewer nothing is pinned (explicit sets still pin). Explicit sets must lie within
    `available` (a ConfigError otherwise). `pin_server` false (a server at `server.url`, which
    bench-action does not start): only the load is pinned. `available` None (the caller knows
    no affinity, e.g. not Linux): nothing is pinned.
    """
    if isolation.mode == "off":
        return CpuPlan(
            "off", None, None, "the config turns it off: the server and the load share every core"
        )
    if available is None:
        return CpuPlan("off", None, None, "this run has no CPU affinity to split: nothing pinned")
    cores = tuple(sorted(set(available)))
    where = f"{len(cores)} usable core{'s' if len(cores) != 1 else ''} ({format_cpus(cores)})"
    if isolation.mode == "explicit":
        return _explicit(isolation, cores, pin_server)
    if len(cores) < 2:
        return CpuPlan("off", None, None, f"only {where}: nothing to split, nothing pinned")
    if len(cores) < MIN_AUTO_SPLIT:
        return CpuPlan(
            "off",
            None,
            None,
            f"only {where}: auto splits {MIN_AUTO_SPLIT} or more (on fewer the server's share is "
            "too small and trials spread more); nothing pinned. Explicit sets "
            "(isolation: {server: ..., load: ...}) pin anyway",
        )
    count = max(1, len(cores) // LOAD_SHARE)
    server, load = cores[:-count], cores[-count:]
    if not pin_server:
        text = f"{where}: the load gets {format_cpus(load)}; {_URL}"
        return CpuPlan("auto", None, load, text)
    text = f"{where}: the server gets {format_cpus(server)}, the load {format_cpus(load)}"
    return CpuPlan("auto", server, load, text)


_URL = "the server at server.url is not started here, so it is not pinned"


def _explicit(isolation: Isolation, cores: tuple[int, ...], pin_server: bool) -> CpuPlan:
    problems = []
    for side, cpus in (("server", isolation.server), ("load", isolation.load)):
        missing = sorted(set(cpus or ()) - set(cores))
        if missing:
            problems.append(
                f"isolation.{side}: CPU {format_cpus(missing)} not available to this run "
                f"(it may use {format_cpus(cores)}); pick CPUs from that set or use "
                "`isolation: auto`"
            )
    shared = set(isolation.server or ()) & set(isolation.load or ())
    if shared:
        problems.append(f"isolation: server and load share CPU {format_cpus(shared)}")
    if problems:
        raise ConfigError(problems)
    server = isolation.server if pin_server else None
    sides = []
    for side, cpus in (("server", server), ("load", isolation.load)):
        sides.append(f"the {side} {'gets ' + format_cpus(cpus) if cpus else 'is not pinned'}")
    text = "set in the config: " + ", ".join(sides)
    if isolation.server and not pin_server:
        text += f" ({_URL})"
    return CpuPlan("explicit", server, isolation.load, text)
