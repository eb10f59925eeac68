"""Telemetry: GPU sampling through NVML (in process or via the monitor), container stats, and
the model server's own Prometheus metrics.

The pipeline uses only what is exported here. Every summary takes window bounds in
`time.perf_counter_ns()`, absolute or relative to a `clock_origin_ns`.
"""

from __future__ import annotations

from .availability import Available, GpuStatus, Unavailable, gpu_telemetry_status
from .collectors import GpuTelemetry, gpu_telemetry, server_stats
from .container_stats import ContainerStatsSampler
from .monitor import PROTOCOL_VERSION, MonitorReader, run_monitor, stop_on_eof
from .nvml import NvmlSession, NvmlUnavailable, open_session
from .prometheus import Scrape, detect_server, parse_exposition, summarize_window
from .sampler import DEFAULT_RATE_HZ, GpuSampler
from .scrape import LoadScrapes, MetricsScraper
from .server_families import KNOWN_SERVERS
from .source import GpuSource

__all__ = [
    "DEFAULT_RATE_HZ",
    "KNOWN_SERVERS",
    "PROTOCOL_VERSION",
    "Available",
    "ContainerStatsSampler",
    "GpuSampler",
    "GpuSource",
    "GpuStatus",
    "GpuTelemetry",
    "LoadScrapes",
    "MetricsScraper",
    "MonitorReader",
    "NvmlSession",
    "NvmlUnavailable",
    "Scrape",
    "Unavailable",
    "detect_server",
    "gpu_telemetry",
    "gpu_telemetry_status",
    "open_session",
    "parse_exposition",
    "run_monitor",
    "server_stats",
    "stop_on_eof",
    "summarize_window",
]
