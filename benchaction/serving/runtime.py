"""Choosing the runtime for a server spec, and saying why, so the log explains what ran where."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import docker

from ..config import ServerSpec
from ..errors import ServingError
from .container import DockerRuntime
from .docker_client import docker_engine, engine_address
from .interface import ServerRuntime
from .process import ProcessRuntime
from .url import UrlRuntime

__all__ = ["open_runtime"]


def open_runtime(
    spec: ServerSpec,
    *,
    run_id: str,
    log: Callable[[str], None],
    docker_client: docker.DockerClient | None = None,
    network_mode: str = "host",
    host: str = "127.0.0.1",
    labels: Mapping[str, str] | None = None,
    remove_built_images: bool = False,
    environment: Mapping[str, str] | None = None,
    cpus: tuple[int, ...] | None = None,
) -> ServerRuntime:
    """The runtime for `spec`: url if set, else `server.runtime` (auto: Docker, else a process).

    A client passed in stays open after close(); one opened here is closed with the runtime.
    `environment` is the caller's: it locates the Docker engine and a process server inherits it.
    `cpus`: the cores every server instance runs on (container cpuset or process affinity);
    None pins nothing, and a server at `server.url` is never pinned.
    """
    if spec.url is not None:
        log(f"runtime: url (server.url is set; waiting for {spec.url}, starting nothing)")
        return UrlRuntime(spec, spec.url, log=log)
    if spec.runtime == "process":
        return _process(spec, log, host, "server.runtime is `process`", environment, cpus)
    client, owned = docker_client, False
    if client is None:
        client, owned = docker_engine(environment), True
    if client is not None:
        why = "a Docker engine answered"
        if spec.runtime == "docker":
            why = "server.runtime is `docker`"
        log(f"runtime: docker ({why}; network mode {network_mode})")
        return DockerRuntime(
            spec,
            client=client,
            run_id=run_id,
            log=log,
            network_mode=network_mode,
            host=host,
            labels=labels,
            owns_client=owned,
            remove_built_images=remove_built_images,
            cpus=cpus,
        )
    where = engine_address(environment)
    if spec.runtime == "docker":
        raise ServingError(
            f"server.runtime is `docker` but no Docker engine answered at {where}. Start the "
            "Docker engine, point DOCKER_HOST at one, or set `server.runtime: process` with "
            "`server.process.command` to run the server as a local process."
        )
    if spec.process is None:
        raise ServingError(
            f"no Docker engine answered at {where}, and `server.process.command` is not set, so "
            "there is nowhere to run the server. Either start Docker (or point DOCKER_HOST at "
            "an engine), or add `server.process.command` to run the server as a local process."
        )
    return _process(spec, log, host, f"no Docker engine answered at {where}", environment, cpus)


def _process(
    spec: ServerSpec,
    log: Callable[[str], None],
    host: str,
    why: str,
    environment: Mapping[str, str] | None,
    cpus: tuple[int, ...] | None,
) -> ProcessRuntime:
    if spec.process is None:
        raise ServingError(
            f"{why}, but there is no command to run: add `server.process.command` "
            "(and `server.process.cwd` if it must run from another folder)."
        )
    log(f"runtime: process ({why}; running `{' '.join(spec.process.command)}`)")
    return ProcessRuntime(spec, spec.process, log=log, host=host, base_env=environment, cpus=cpus)
