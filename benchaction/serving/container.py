"""The Docker runtime: one labelled container per server instance, removed when it is done."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import docker
import docker.errors
import requests
from docker.models.containers import Container
from docker.types import DeviceRequest

from ..config import AUTO_PORT, GpuSpec, ServerSpec
from ..errors import ServingError
from .cpus import format_cpus
from .images import (
    build_image,
    image_repository,
    image_tag,
    name_part,
    pull_image,
    server_slug,
)
from .interface import ImageInfo, RuntimeBase, RuntimeName, ServerHandle
from .labels import object_labels
from .readiness import (
    LOG_TAIL_LINES,
    format_tail,
    http_base_url,
    server_port,
    wait_until_ready,
)
from .retention import prune_built_images

__all__ = ["DockerRuntime", "device_requests"]

STOP_TIMEOUT_S = 10
_ENGINE_ERRORS = (docker.errors.DockerException, requests.RequestException)


def device_requests(gpus: GpuSpec | None) -> list[DeviceRequest] | None:
    """The explicit DeviceRequest for the server's GPUs; no reliance on a default nvidia runtime."""
    if gpus is None:
        return None
    if gpus.device_ids:
        return [DeviceRequest(device_ids=list(gpus.device_ids), capabilities=[["gpu"]])]
    count = gpus.count if gpus.count is not None and not gpus.all else -1
    return [DeviceRequest(count=count, capabilities=[["gpu"]])]


class DockerRuntime(RuntimeBase):
    """Builds or pulls the image once, then runs each server instance as a fresh container."""

    name: RuntimeName = "docker"

    def __init__(
        self,
        spec: ServerSpec,
        *,
        client: docker.DockerClient,
        run_id: str,
        log: Callable[[str], None],
        network_mode: str = "host",
        host: str = "127.0.0.1",
        labels: Mapping[str, str] | None = None,
        owns_client: bool = False,
        remove_built_images: bool = False,
        cpus: tuple[int, ...] | None = None,
    ) -> None:
        self.spec = spec
        self.cpus = cpus  # the container's cpuset (None: any core); resources.cpus still caps it
        self.client = client
        self.run_id = run_id
        self._log = log
        self._network_mode = network_mode
        self._host = host
        self._labels = object_labels(run_id, labels)
        self._owns_client = owns_client
        self._remove_built_images = remove_built_images
        self._slug = server_slug(spec)
        self._image: ImageInfo | None = None
        self._current: Container | None = None
        # Names of containers that may exist: recorded before creation, so that close() also
        # finds one whose create call was interrupted before it returned.
        self._names: list[str] = []
        self._count = 0
        self._use_init = True
        self._client_closed = False

    def prepare(self) -> ImageInfo:
        """Build or pull the server image, once per runtime; later calls return the same info."""
        if self._image is None:
            if self.spec.build is not None:
                tag = image_tag(self._slug, self.run_id)
                self._image = build_image(
                    self.client, self.spec.build, tag=tag, labels=self._labels, log=self._log
                )
            elif self.spec.image is not None:
                self._image = pull_image(self.client, self.spec.image, log=self._log)
            else:
                raise ServingError("the Docker runtime needs `server.image` or `server.build`")
        return self._image

    def start(self) -> ServerHandle:
        """Run a fresh container from the prepared image and wait until it answers readiness."""
        if self._client_closed:
            raise ServingError("this Docker runtime is closed; open a new one")
        self.stop()
        image = self.prepare()
        self._count += 1
        name = f"benchaction-{self._slug}-{name_part(self.run_id)}-{self._count}"
        port = self.spec.port
        if (
            port == AUTO_PORT
            or self._network_mode == "host"
            or self._network_mode.startswith("container:")
        ):
            port = server_port(self._host, port, "the server container")
        base_url = http_base_url(self._host, port)
        ready_url = base_url + self.spec.ready.path
        self._names.append(name)
        started = time.perf_counter()
        container = self._run(image.id, name, port)
        self._current = container
        try:
            ready_at = wait_until_ready(
                ready_url,
                self.spec.ready,
                log=self._log,
                check_alive=lambda: self._check_alive(container, ready_url),
                recent_logs=lambda: self._recent_logs(container),
                what="the container log",
            )
        except BaseException:
            # No grace period: the instance never served, and on Ctrl-C time is short.
            self._current = None
            self._remove(name)
            raise
        cold_start = ready_at - started
        self._log(f"server ready after {cold_start:.2f}s (container {name})")
        return ServerHandle(
            runtime="docker",
            host=self._host,
            port=port,
            base_url=base_url,
            cold_start_s=cold_start,
            container_id=str(container.id),
            pid=None,
        )

    def _run(self, image_id: str, name: str, port: int) -> Container:
        spec, res = self.spec, self.spec.resources
        environment = dict(spec.env)
        environment.setdefault("PORT", str(port))
        options: dict[str, Any] = {
            "name": name,
            "environment": environment,
            "labels": dict(self._labels),
            "network_mode": self._network_mode,
            "nano_cpus": int(res.cpus * 1e9) if res.cpus else None,
            "cpuset_cpus": format_cpus(self.cpus) if self.cpus else None,
            "mem_limit": res.memory_bytes,
            "shm_size": res.shm_size_bytes,
            "device_requests": device_requests(spec.gpus),
        }
        options = {key: value for key, value in options.items() if value is not None}
        command = list(spec.command) if spec.command else None
        on = f", CPUs {options['cpuset_cpus']}" if "cpuset_cpus" in options else ""
        self._log(f"starting container {name} ({self._network_mode} network{on})")
        while True:
            try:
                # init: a tiny init as PID 1 forwards SIGTERM, so servers that do not handle
                # it themselves (PID 1 ignores it by default) stop at once instead of in 10 s.
                return self.client.containers.run(
                    image_id, command, detach=True, init=self._use_init, **options
                )
            except docker.errors.APIError as exc:
                retry = self._use_init and "docker-init" in str(exc)
                self._remove(name, forget=not retry)
                if retry:
                    self._log("this engine has no docker-init; starting without an init process")
                    self._use_init = False
                    continue
                raise ServingError(self._start_error(name, exc)) from exc
            except _ENGINE_ERRORS as exc:
                self._remove(name)
                raise ServingError(f"could not start container {name}: {exc}") from exc

    def _start_error(self, name: str, exc: docker.errors.APIError) -> str:
        text = str(exc.explanation or exc)
        message = f"could not start the server container {name}: {text}"
        if self.spec.gpus is not None and ("gpu" in text.lower() or "device driver" in text):
            message += (
                "\n  hint: GPUs are requested with a Docker DeviceRequest; the engine needs the "
                "NVIDIA Container Toolkit (`nvidia-ctk runtime configure --runtime=docker`)"
            )
        if self.cpus and ("cpuset" in text.lower() or "Requested CPUs" in text):
            message += (
                f"\n  hint: the server was to run on CPUs {format_cpus(self.cpus)} (`isolation` in "
                "bench.yml); an engine on another machine, or one without the cpuset cgroup, "
                "cannot do that: set `isolation: off` there"
            )
        return message

    def ensure_running(self) -> None:
        """Raise with the exit code and log tail if the current container died since it started."""
        if self._current is not None:
            self._check_alive(self._current, "", when="during the measurement")

    def _check_alive(self, container: Container, url: str, when: str = "") -> None:
        when = when or f"while waiting for readiness at {url}"
        try:
            container.reload()
        except docker.errors.NotFound:
            raise ServingError(
                f"server container {container.name} disappeared {when} "
                "(was it removed by another process?)"
            ) from None
        state: dict[str, Any] = container.attrs.get("State") or {}
        restarts = int(container.attrs.get("RestartCount") or 0)
        if state.get("Status") not in ("exited", "dead") and restarts == 0:
            return
        how = f"exited with code {state.get('ExitCode')}"
        if state.get("OOMKilled"):
            how += " (killed for exceeding its memory limit, server.resources.memory)"
        if restarts:
            how += f" and was restarted {restarts} time(s)"
        raise ServingError(
            f"server container {how} {when}"
            + format_tail(self._recent_logs(container), "the container log")
        )

    def _recent_logs(self, container: Container) -> list[str]:
        try:
            raw = container.logs(stdout=True, stderr=True, tail=LOG_TAIL_LINES)
        except _ENGINE_ERRORS:
            return []
        return raw.decode("utf-8", "replace").splitlines()

    def stop(self) -> None:
        """Stop the current container (SIGTERM, 10 s grace) and remove it, whatever happens."""
        container, self._current = self._current, None
        if container is None:
            return
        try:
            container.stop(timeout=STOP_TIMEOUT_S)
        except docker.errors.NotFound:
            pass
        except _ENGINE_ERRORS as exc:
            self._log(f"could not stop container {container.name} gracefully: {exc}")
        finally:
            self._remove(str(container.name))

    def _remove(self, name: str, *, forget: bool = True) -> None:
        """Force-remove a container by name; `forget` drops it from the names close() removes."""
        try:
            self.client.api.remove_container(name, force=True)
        except docker.errors.NotFound:
            pass
        except _ENGINE_ERRORS as exc:
            self._log(f"could not remove container {name}: {exc}")
            return
        if forget and name in self._names:
            self._names.remove(name)

    def _prune_older_images(self) -> None:
        """After a build: keep this server's newest `server.build.keep_images` images, remove
        older ones nothing uses (they pile up at a new tag per run)."""
        image, build = self._image, self.spec.build
        if image is None or image.source != "build" or build is None:
            return
        prune_built_images(
            self.client,
            image_repository(self._slug),
            keep=build.keep_images,
            current=image.id,
            log=self._log,
            name=self._slug,
        )

    def close(self) -> None:
        """Force-remove every container started here (no grace: cancellation leaves seconds)."""
        self._current = None
        for name in list(self._names):
            self._remove(name)
        if not self._remove_built_images:
            self._prune_older_images()
        if self._remove_built_images and self._image is not None:
            if self._image.source == "build":
                try:
                    self.client.images.remove(self._image.id, force=True)
                    self._log(f"removed built image {self._image.ref}")
                except docker.errors.NotFound:
                    pass
                except _ENGINE_ERRORS as exc:
                    self._log(f"could not remove built image {self._image.ref}: {exc}")
            self._image = None
        if self._owns_client and not self._client_closed:
            self.client.close()
        self._client_closed = True
