"""Whether GPU telemetry can run here, and if not, why, in words a user can act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from .nvml import NvmlUnavailable, open_session

__all__ = ["Available", "GpuStatus", "Unavailable", "gpu_telemetry_status"]


@dataclass(frozen=True)
class Available:
    """NVML answers and sees the GPUs asked for."""

    gpu_count: int
    driver_version: str | None


@dataclass(frozen=True)
class Unavailable:
    """No GPU telemetry here; `reason` says why (missing library, no driver, no device, ...)."""

    reason: str


GpuStatus = Available | Unavailable


def gpu_telemetry_status(
    gpus: Sequence[str] | None = None, *, nvml: ModuleType | None = None
) -> GpuStatus:
    """Open and close an NVML session once; never raises for a machine without a GPU."""
    try:
        session = open_session(gpus, nvml=nvml, gpm=False)
    except NvmlUnavailable as exc:
        return Unavailable(exc.reason)
    try:
        fingerprint = session.fingerprint()
    finally:
        session.close()
    return Available(
        gpu_count=int(fingerprint["count"]), driver_version=fingerprint["driver_version"]
    )
