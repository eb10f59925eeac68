"""Telemetry: GPU sampling through NVML (in process or via the monitor), and container stats.

The pipeline uses only what is exported here. Every summary takes window bounds in
`time.perf_counter_ns()`, absolute or relative to a `clock_origin_ns`.
"""

from __future__ import annotations

from .availability import Available, GpuStatus, Unavailable, gpu_telemetry_status
from .collectors import GpuTelemetry, gpu_telemetry, server_stats
from .container_stats import ContainerStatsSampler
from .monitor import PROTOCOL_VERSION, MonitorReader, run_monitor, stop_on_eof
from .nvml import NvmlSession, NvmlUnavailable, open_session
from .sampler import DEFAULT_RATE_HZ, GpuSampler
from .source import GpuSource

__all__ = [
    "DEFAULT_RATE_HZ",
    "PROTOCOL_VERSION",
    "Available",
    "ContainerStatsSampler",
    "GpuSampler",
    "GpuSource",
    "GpuStatus",
    "GpuTelemetry",
    "MonitorReader",
    "NvmlSession",
    "NvmlUnavailable",
    "Unavailable",
    "gpu_telemetry",
    "gpu_telemetry_status",
    "open_session",
    "run_monitor",
    "server_stats",
    "stop_on_eof",
]
