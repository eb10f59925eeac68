"""Container stats from a real engine: a busy container reads busy, and its end ends the stream."""

from __future__ import annotations

import contextlib
import time

import docker
import docker.errors
import pytest
from docker.models.containers import Container

from benchaction.serving.labels import object_labels
from benchaction.telemetry import ContainerStatsSampler

pytestmark = pytest.mark.docker

BUSY_S = 4
BUSY = f"import time\nend = time.time() + {BUSY_S}\nwhile time.time() < end:\n    pass\n"


def start(client: docker.DockerClient, image: str, run_id: str, name: str, code: str) -> Container:
    """A labelled container running `python3 -c code`, with no network at all."""
    return client.containers.run(
        image,
        ["python3", "-c", code],
        name=f"benchaction-test-{name}-{run_id}",
        labels=object_labels(run_id),
        network_mode="none",
        detach=True,
    )


def remove(container: Container | None) -> None:
    if container is not None:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)


def test_busy_container_reads_busy_and_its_exit_ends_the_stream(
    docker_client: docker.DockerClient, base_image: str, docker_run_id: str
) -> None:
    container = None
    sampler = None
    try:
        container = start(docker_client, base_image, docker_run_id, "busy", BUSY)
        t0 = time.perf_counter_ns()
        sampler = ContainerStatsSampler(container)
        sampler.start()
        container.wait(timeout=BUSY_S + 30)
        t1 = time.perf_counter_ns()
        assert sampler.wait_ended(15), "the stats stream did not end when the container exited"
        out = sampler.summary(t0, t1)
        assert sampler.error is None and sampler.container_stopped
        assert out["samples"] >= 2, out
        assert out["cpu_mean_pct"] is not None and out["cpu_mean_pct"] > 20, out
        assert out["cpu_max_pct"] >= out["cpu_mean_pct"]
        assert out["memory_max_bytes"] is not None and out["memory_max_bytes"] > 0
    finally:
        if sampler is not None:
            sampler.stop()
        remove(container)


def test_stopping_the_container_ends_the_stream(
    docker_client: docker.DockerClient, base_image: str, docker_run_id: str
) -> None:
    container = None
    sampler = None
    try:
        container = start(
            docker_client, base_image, docker_run_id, "idle", "import time; time.sleep(120)"
        )
        sampler = ContainerStatsSampler(container)
        sampler.start()
        deadline = time.monotonic() + 20
        while sampler.messages < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sampler.messages >= 2, "no stats arrived"
        assert not sampler.ended
        container.stop(timeout=1)
        assert sampler.wait_ended(15), "the stats stream did not end when the container stopped"
        assert sampler.container_stopped
        out = sampler.summary(0, time.perf_counter_ns())
        assert out["cpu_mean_pct"] is not None and out["cpu_mean_pct"] < 20, out
    finally:
        if sampler is not None:
            sampler.stop()
        remove(container)


def test_stop_ends_the_reading_of_a_running_container(
    docker_client: docker.DockerClient, base_image: str, docker_run_id: str
) -> None:
    container = None
    try:
        container = start(
            docker_client, base_image, docker_run_id, "stop", "import time; time.sleep(120)"
        )
        sampler = ContainerStatsSampler(container)
        sampler.start()
        time.sleep(1.5)
        assert sampler.stop(timeout_s=5), "the reader did not stop within a stats interval"
        assert sampler.ended and sampler.error is None
    finally:
        remove(container)
