"""Finding a Docker engine that answers, and naming the one tried when none does."""

from __future__ import annotations

import gc
import math
import os
import warnings

import docker
import docker.errors
import requests

__all__ = ["DEFAULT_SOCKET", "docker_engine", "engine_address"]

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def engine_address() -> str:
    """Where the Docker SDK looks for the engine, for messages: DOCKER_HOST or the socket."""
    host = os.environ.get("DOCKER_HOST", "").strip()
    return f"DOCKER_HOST={host}" if host else DEFAULT_SOCKET


def docker_engine(timeout_s: float = 3.0) -> docker.DockerClient | None:
    """A client for the engine the environment points at, or None when no engine answers a ping."""
    probe: docker.DockerClient | None = None
    with warnings.catch_warnings():
        # When the connect fails the SDK drops its socket unclosed; collect it quietly here.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            probe = docker.from_env(timeout=max(1, math.ceil(timeout_s)))
            probe.ping()
            # The probe's short timeout would cut ordinary calls short; long ones set their own.
            return docker.from_env()
        except (docker.errors.DockerException, requests.RequestException, OSError):
            pass
        finally:
            if probe is not None:
                probe.close()
        gc.collect()
    return None
