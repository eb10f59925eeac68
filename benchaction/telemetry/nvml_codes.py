"""NVML's codes and what they mean: reason bits, GPM metric ids, error classes in plain words.

Nothing here touches `pynvml`; errors are recognised by their class names, which the real
module and test fakes share.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "CLOCK_EVENT_REASONS",
    "GPM_METRICS",
    "GPM_MIN_INTERVAL_NS",
    "LOST_ERRORS",
    "THROTTLE_REASONS",
    "cuda_version_text",
    "error_name",
    "hash_uuid",
    "reason_names",
    "text",
    "unavailable_reason",
]

# Clock event ("throttle") reason bits, part of the NVML ABI (nvml.h, nvmlClocksEventReason*).
CLOCK_EVENT_REASONS: dict[int, str] = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}
THROTTLE_REASONS = 0x4 | 0x8 | 0x20 | 0x40 | 0x80
"""The reasons that mean the GPU slowed down for power or heat: any of them flags a window."""

# GPM metric ids (nvmlGpmMetricId_t) and the key each is reported under.
GPM_METRICS: dict[int, str] = {
    2: "sm_util_pct",
    3: "sm_occupancy_pct",
    5: "tensor_util_pct",
    10: "dram_bw_util_pct",
}
GPM_MIN_INTERVAL_NS = 100_000_000
"""NVML asks for GPM samples at least about 100 ms apart (its internal refresh)."""

LOST_ERRORS = {"NVMLError_GpuIsLost", "NVMLError_Unknown", "NVMLError_ResetRequired"}


def reason_names(mask: int) -> list[str]:
    """The names of the clock event reasons set in an NVML bitmask."""
    return [name for bit, name in CLOCK_EVENT_REASONS.items() if mask & bit]


def error_name(exc: BaseException) -> str:
    """The NVMLError_* class name of an NVML error (same names in the real module and fakes)."""
    for cls in type(exc).__mro__:
        if cls.__name__.startswith("NVMLError_"):
            return cls.__name__
    return type(exc).__name__


def text(value: Any) -> str:
    """A string NVML returned, whether the bindings give str or bytes."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def hash_uuid(uuid: str) -> str:
    """A stable, non-reversible name for a GPU: the first 16 hex digits of sha256(UUID)."""
    return hashlib.sha256(uuid.encode()).hexdigest()[:16]


def unavailable_reason(exc: BaseException) -> str:
    """Why NVML could not start, in words a user can act on."""
    name = error_name(exc)
    if name == "NVMLError_LibraryNotFound":
        return (
            "no NVIDIA driver: the NVML library (libnvidia-ml.so.1) was not found; either no "
            "driver is installed or this container was not given the GPU with the `utility` "
            "capability"
        )
    if name == "NVMLError_DriverNotLoaded":
        return "the NVIDIA driver is not loaded (NVML: Driver Not Loaded)"
    if name == "NVMLError_NoPermission":
        return (
            "insufficient permissions to use NVML (NVML: Insufficient Permissions); the user "
            "running bench-action needs read and write access to the /dev/nvidia* devices"
        )
    if name == "NVMLError_LibRmVersionMismatch":
        return (
            "the NVML library and the loaded kernel driver differ in version "
            "(driver upgraded without a reboot?)"
        )
    return f"NVML could not be initialised ({name}: {exc})"


def cuda_version_text(value: int) -> str:
    """NVML's CUDA driver version integer (12040) as text ("12.4")."""
    return f"{value // 1000}.{value % 1000 // 10}"
