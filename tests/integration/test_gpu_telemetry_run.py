"""The run's GPU source on a machine without GPUs: the sibling monitor path and its failures."""

from __future__ import annotations

import docker
import pytest

from benchaction.config.model import GpuSpec
from benchaction.serving.labels import RUN, object_labels
from benchaction.telemetry.collectors import gpu_telemetry


@pytest.mark.docker
def test_a_monitor_container_that_cannot_get_a_gpu_marks_telemetry_unavailable(
    docker_client: docker.DockerClient, base_image: str, run_id: str
) -> None:
    logs: list[str] = []
    with gpu_telemetry(
        GpuSpec(all=True),
        "docker",
        monitor_image=base_image,
        docker_client=docker_client,
        labels=object_labels(run_id),
        log=logs.append,
    ) as gpu:
        fingerprint = gpu.fingerprint
        summary = gpu.summary(0, 1, 10, None)
    # This engine has no NVIDIA runtime: the GPU request is refused, and that is all that happens.
    assert fingerprint["available"] is False
    assert "GPU monitor container could not run" in fingerprint["reason"]
    assert summary["status"] == "unavailable"
    assert any("could not run" in line for line in logs)
    left = docker_client.containers.list(all=True, filters={"label": f"{RUN}={run_id}"})
    assert left == []


def test_an_error_of_the_run_passes_through_untouched() -> None:
    with (
        pytest.raises(ZeroDivisionError),
        gpu_telemetry(
            GpuSpec(all=True),
            "docker",
            monitor_image="not-used",
            docker_client=_Refusing(),
            labels={},
            log=lambda _: None,
        ),
    ):
        _ = 1 / 0


def test_no_gpu_requested_says_so() -> None:
    with gpu_telemetry(
        None, "docker", monitor_image=None, docker_client=None, labels={}, log=print
    ) as gpu:
        assert gpu.fingerprint == {
            "available": False,
            "reason": "the server gets no GPU (server.gpus is not set)",
        }


class _Refusing:
    """A Docker client whose container creation fails, as an engine without GPUs does."""

    class containers:
        @staticmethod
        def create(*args: object, **kwargs: object) -> None:
            raise RuntimeError("could not select device driver")
