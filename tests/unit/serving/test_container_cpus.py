"""The server container's options under CPU isolation: cpuset next to the quota and the GPUs."""

from __future__ import annotations

from typing import Any

from benchaction.config.model import GpuSpec, Resources, ServerSpec
from benchaction.serving.container import DockerRuntime


class _Containers:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run(self, image: str, command: Any, **options: Any) -> object:
        self.calls.append(options)
        return object()


class _Client:
    def __init__(self) -> None:
        self.containers = _Containers()


def _options(spec: ServerSpec, cpus: tuple[int, ...] | None) -> dict[str, Any]:
    client = _Client()
    lines: list[str] = []
    runtime = DockerRuntime(spec, client=client, run_id="r", log=lines.append, cpus=cpus)  # type: ignore[arg-type]
    runtime._run("sha256:image", "benchaction-test-1", spec.port)
    return {**client.containers.calls[0], "log": lines}


def test_cpuset_joins_the_quota_and_the_gpu_request() -> None:
    spec = ServerSpec(image="m:1", gpus=GpuSpec(all=True), resources=Resources(cpus=2.0))
    options = _options(spec, (0, 1, 2, 5))
    assert options["cpuset_cpus"] == "0-2,5"
    assert options["nano_cpus"] == 2_000_000_000
    assert [r.count for r in options["device_requests"]] == [-1]
    assert options["log"] == ["starting container benchaction-test-1 (host network, CPUs 0-2,5)"]


def test_no_cpus_no_cpuset() -> None:
    options = _options(ServerSpec(image="m:1"), None)
    assert "cpuset_cpus" not in options
    assert options["log"] == ["starting container benchaction-test-1 (host network)"]
