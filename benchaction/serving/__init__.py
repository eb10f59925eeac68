"""Serving: get the server image, run server instances, wait until ready, leave nothing behind.

The rest of bench-action uses only what is exported here; the modules behind it are private.
"""

from __future__ import annotations

from .cpus import CpuPlan, format_cpus, split_cpus
from .docker_client import docker_engine
from .interface import ImageInfo, ServerHandle, ServerRuntime
from .labels import MANAGED, OWNER, OWNER_CONTAINER, RUN, object_labels, sweep_stale
from .readiness import http_base_url
from .runtime import open_runtime

__all__ = [
    "MANAGED",
    "OWNER",
    "OWNER_CONTAINER",
    "RUN",
    "CpuPlan",
    "ImageInfo",
    "ServerHandle",
    "ServerRuntime",
    "docker_engine",
    "format_cpus",
    "http_base_url",
    "object_labels",
    "open_runtime",
    "split_cpus",
    "sweep_stale",
]
