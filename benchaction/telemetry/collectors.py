"""Telemetry for one benchmark run: where GPU samples come from, and container stats per instance.

On a host with the driver the sampler runs in-process. Inside the action's container (no GPU
there) the same code runs as `benchaction gpu-monitor` in a sibling container given the GPUs
with `capabilities=[["gpu","utility"]]`, and its JSON lines are read back here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from benchaction.config import GpuSpec

from .availability import Unavailable
from .container_stats import ContainerStatsSampler
from .monitor import MonitorReader
from .sampler import DEFAULT_RATE_HZ, GpuSampler
from .source import GpuSource

__all__ = ["GpuTelemetry", "gpu_telemetry", "server_stats"]

Log = Callable[[str], None]


class GpuTelemetry:
    """One GPU source for the whole run; `summary` per measurement window, `fingerprint` once."""

    def __init__(self, source: GpuSource | None, reason: str | None) -> None:
        self.source = source
        self.reason = reason

    @property
    def fingerprint(self) -> dict[str, Any]:
        """What the results keep as `gpu`: the GPUs' fingerprint, or why there is none."""
        if self.source is None:
            return {"available": False, "reason": self.reason or "no GPU telemetry"}
        fp = self.source.fingerprint
        if fp is not None:
            return {"available": True, **fp}
        reason = self.source.unavailable_reason or self.reason
        return {"available": False, "reason": reason or "no GPU telemetry"}

    def summary(
        self, start_ns: int, end_ns: int, requests: int | None, output_tokens: int | None
    ) -> dict[str, Any]:
        """GPU numbers over [start_ns, end_ns] (absolute perf_counter_ns)."""
        if self.source is None:
            return {"status": "unavailable", "reason": self.reason}
        return self.source.summary(start_ns, end_ns, requests, output_tokens)


def _device_request(gpus: GpuSpec) -> Any:
    from docker.types import DeviceRequest

    if gpus.device_ids:
        return DeviceRequest(device_ids=list(gpus.device_ids), capabilities=[["gpu", "utility"]])
    count = -1 if gpus.all or gpus.count is None else gpus.count
    return DeviceRequest(count=count, capabilities=[["gpu", "utility"]])


@contextlib.contextmanager
def _sibling_monitor(
    client: Any, image: str, gpus: GpuSpec, labels: dict[str, str], log: Log
) -> Iterator[GpuTelemetry]:
    """`benchaction gpu-monitor` in a sibling container; its stdout feeds a MonitorReader."""
    reader = MonitorReader()
    container = client.containers.create(
        image,
        entrypoint=["python3", "-m", "benchaction", "gpu-monitor", "--rate", str(DEFAULT_RATE_HZ)],
        device_requests=[_device_request(gpus)],
        labels=labels,
        network_mode="none",
        detach=True,
    )
    try:
        container.start()
        stream = container.logs(stream=True, follow=True, stdout=True, stderr=False)

        def pump() -> None:
            with contextlib.suppress(Exception):  # the container going away ends the stream
                for chunk in stream:
                    reader.feed(chunk)
            reader.close()

        thread = threading.Thread(target=pump, name="gpu-monitor-reader", daemon=True)
        thread.start()
        log(f"GPU monitor running in sibling container {container.short_id}")
        yield GpuTelemetry(reader, None)
    finally:
        with contextlib.suppress(Exception):
            container.stop(timeout=3)
        with contextlib.suppress(Exception):
            container.remove(force=True)


@contextlib.contextmanager
def gpu_telemetry(
    gpus: GpuSpec | None,
    runtime: str,
    *,
    monitor_image: str | None,
    docker_client: Any,
    labels: dict[str, str],
    log: Log,
) -> Iterator[GpuTelemetry]:
    """The GPU source this run can have; never raises for a missing GPU, driver or library."""
    if gpus is None and runtime != "process":
        yield GpuTelemetry(None, "the server gets no GPU (server.gpus is not set)")
        return
    if monitor_image is not None and docker_client is not None and gpus is not None:
        # Only starting the monitor may fail quietly; an error of the run itself must pass
        # through this generator untouched (a second yield would turn it into a RuntimeError).
        with contextlib.ExitStack() as stack:
            try:
                telemetry = stack.enter_context(
                    _sibling_monitor(docker_client, monitor_image, gpus, labels, log)
                )
            except Exception as exc:
                log(f"GPU monitor container could not run: {exc}")
                telemetry = GpuTelemetry(None, f"the GPU monitor container could not run: {exc}")
            yield telemetry
        return
    ids = list(gpus.device_ids) if gpus is not None and gpus.device_ids else None
    sampler = GpuSampler(ids)
    status = sampler.start()
    if isinstance(status, Unavailable):
        log(f"GPU telemetry unavailable: {status.reason}")
    try:
        yield GpuTelemetry(sampler, None)
    finally:
        sampler.stop()


@contextlib.contextmanager
def server_stats(client: Any, container_id: str | None) -> Iterator[ContainerStatsSampler | None]:
    """CPU and memory of one server container from Docker's stats stream, while it runs."""
    if client is None or container_id is None:
        yield None
        return
    try:
        sampler = ContainerStatsSampler(client.containers.get(container_id))
        sampler.start()
    except Exception:
        yield None
        return
    try:
        yield sampler
    finally:
        sampler.stop()
