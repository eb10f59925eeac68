"""What one load run hands back: its records, its window, and how hard the client worked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchaction.engine.records import Events, Records

if TYPE_CHECKING:
    from benchaction.engine.aggregate import Aggregate

__all__ = ["LoadResult", "WorkerStats"]


@dataclass(frozen=True)
class WorkerStats:
    """CPU against wall time of one worker: a saturated client measures itself, not the server."""

    cpu_s: float
    wall_s: float
    cpus: tuple[int, ...] | None = None  # the cores it was allowed to run on (None: not known)


@dataclass(frozen=True)
class LoadResult:
    """Everything a run measured; times are ns relative to the run start."""

    records: Records
    window_start_ns: int | None
    window_end_ns: int | None
    duration_mode: bool
    cut_off: int  # requests still in flight when the hard limit ended the run (not recorded)
    events: Events = Events.empty()  # noqa: RUF009 - immutable
    open_loop: bool = False
    offered_rate: float | None = None
    workers: tuple[WorkerStats, ...] = ()
    folded: Aggregate | None = None  # rows dropped from `records` to bound memory, summarised
    messages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # first per error class
    origin_ns: int = 0  # the run start as perf_counter_ns: aligns telemetry samples with W
