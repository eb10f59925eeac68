"""Serving: get the server image, run server instances, wait until ready, leave nothing behind.

The rest of bench-action uses only what is exported here; the modules behind it are private.
"""

from __future__ import annotations

from .docker_client import docker_engine
from .interface import ImageInfo, ServerHandle, ServerRuntime
from .labels import MANAGED, OWNER, OWNER_CONTAINER, RUN, object_labels, sweep_stale
from .runtime import open_runtime

__all__ = [
    "MANAGED",
    "OWNER",
    "OWNER_CONTAINER",
    "RUN",
    "ImageInfo",
    "ServerHandle",
    "ServerRuntime",
    "docker_engine",
    "object_labels",
    "open_runtime",
    "sweep_stale",
]
