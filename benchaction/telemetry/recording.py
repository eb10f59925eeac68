"""GPU samples as they arrive, from the in-process sampler or the monitor's JSON lines alike.

Both sources feed the same `GpuRecording`, so one summary serves both. Thread-safe: the
sampler thread adds while the pipeline asks for summaries.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .nvml_codes import CLOCK_EVENT_REASONS, GPM_METRICS
from .series import Merge, Series

__all__ = ["DEFAULT_MAX_ROWS", "GPU_COLUMNS", "GpuRecording", "LostGpu"]

DEFAULT_MAX_ROWS = 36_000
"""Rows kept per GPU before pairs merge: one hour at 10 Hz, about 5 MB per GPU."""

GPU_COLUMNS: dict[str, Merge] = {
    "utilization_gpu_pct": "mean",
    "utilization_memory_pct": "mean",
    "memory_used_bytes": "max",
    "power_w": "mean",
    "temperature_c": "max",
    "sm_clock_mhz": "mean",
    "sm_clock_min_mhz": "min",
    "memory_clock_mhz": "mean",
    "energy_mj": "last",
    "clock_event_mask": "or",
    "clock_event_known": "max",
    **{f"gpm_{key}": "mean" for key in GPM_METRICS.values()},
}
_NAME_BITS = {name: bit for bit, name in CLOCK_EVENT_REASONS.items()}


@dataclass(frozen=True)
class LostGpu:
    """When a GPU stopped answering, and what NVML said."""

    t_ns: int
    reason: str


def _mask(sample: Mapping[str, Any]) -> int | None:
    """The clock event bitmask of a sample: the integer, or rebuilt from the reason names."""
    mask = sample.get("clock_event_mask")
    if isinstance(mask, int):
        return mask
    names = sample.get("clock_event_reasons")
    if isinstance(names, list):
        return sum(_NAME_BITS.get(str(n), 0) for n in set(names))
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def row_values(sample: Mapping[str, Any]) -> dict[str, float | int | None]:
    """One device sample (nvml.NvmlSession.sample) as the columns of its series."""
    mask = _mask(sample)
    values: dict[str, float | int | None] = {
        name: _number(sample.get(name))
        for name in GPU_COLUMNS
        if name not in ("clock_event_mask", "clock_event_known", "sm_clock_min_mhz")
        and not name.startswith("gpm_")
    }
    values["sm_clock_min_mhz"] = values["sm_clock_mhz"]
    values["clock_event_mask"] = mask or 0
    values["clock_event_known"] = None if mask is None else 1
    gpm = sample.get("gpm")
    if isinstance(gpm, Mapping):
        for key in GPM_METRICS.values():
            values[f"gpm_{key}"] = _number(gpm.get(key))
    return values


class GpuRecording:
    """Per-GPU bounded series plus who the GPUs are and which were lost."""

    def __init__(self, *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.max_rows = max_rows
        self.lock = threading.Lock()
        self.devices: dict[int, dict[str, Any]] = {}
        self.series: dict[int, Series] = {}
        self.lost: dict[int, LostGpu] = {}
        self.fingerprint: dict[str, Any] | None = None
        self.ticks = 0

    def describe(self, devices: Sequence[Mapping[str, Any]]) -> None:
        """Record who the devices are (index, name, uuid_hash, gpm_unavailable_reason)."""
        with self.lock:
            for device in devices:
                index = int(device["index"])
                self.devices[index] = dict(device)

    def add(self, t_ns: int, gpus: Sequence[Mapping[str, Any]]) -> None:
        """One tick: a sample per device; an entry with `lost: true` marks that device lost."""
        with self.lock:
            self.ticks += 1
            for sample in gpus:
                index = sample.get("index")
                if not isinstance(index, int) or isinstance(index, bool):
                    continue
                self.devices.setdefault(index, {"index": index})
                if sample.get("lost"):
                    if index not in self.lost:
                        self.lost[index] = LostGpu(t_ns, str(sample.get("reason") or "lost"))
                    continue
                series = self.series.get(index)
                if series is None:
                    series = self.series[index] = Series(GPU_COLUMNS, max_rows=self.max_rows)
                series.add(t_ns, row_values(sample))

    def mark_lost(self, index: int, t_ns: int, reason: str) -> None:
        """A device that was lost before it was ever sampled (or told out of band)."""
        with self.lock:
            self.devices.setdefault(index, {"index": index})
            self.lost.setdefault(index, LostGpu(t_ns, reason))
