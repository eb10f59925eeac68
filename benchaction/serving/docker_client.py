"""Finding a Docker engine that answers, and naming the one tried when none does."""

from __future__ import annotations

import gc
import math
import warnings
from collections.abc import Mapping

import docker
import docker.errors
import requests

__all__ = ["DEFAULT_SOCKET", "docker_engine", "engine_address"]

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def engine_address(environment: Mapping[str, str] | None = None) -> str:
    """Where the Docker SDK looks for the engine, for messages: DOCKER_HOST or the socket.

    Without an environment the SDK reads this process's own, which is not ours to read here.
    """
    if environment is None:
        return f"DOCKER_HOST (if set) or {DEFAULT_SOCKET}"
    host = environment.get("DOCKER_HOST", "").strip()
    return f"DOCKER_HOST={host}" if host else DEFAULT_SOCKET


def docker_engine(
    environment: Mapping[str, str] | None = None, timeout_s: float = 3.0
) -> docker.DockerClient | None:
    """A client for the engine `environment` points at (DOCKER_HOST, DOCKER_TLS_VERIFY, ...), or
    None when no engine answers a ping. The CLI and the action pass their environment in."""
    env = None if environment is None else dict(environment)
    probe: docker.DockerClient | None = None
    with warnings.catch_warnings():
        # When the connect fails the SDK drops its socket unclosed; collect it quietly here.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            probe = docker.from_env(timeout=max(1, math.ceil(timeout_s)), environment=env)
            probe.ping()
            # The probe's short timeout would cut ordinary calls short; long ones set their own.
            return docker.from_env(environment=env)
        except (docker.errors.DockerException, requests.RequestException, OSError):
            pass
        finally:
            if probe is not None:
                probe.close()
        gc.collect()
    return None
