"""The Docker runtime against a real engine: build, pull, start, readiness, cleanup, sweep."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest
import requests

from benchaction.config.model import BuildSpec, ReadySpec, ServerSpec
from benchaction.errors import ServingError
from benchaction.serving import MANAGED, OWNER, RUN, ServerRuntime, open_runtime, sweep_stale
from benchaction.serving.labels import HostView, object_labels
from tests.support.paths import EXAMPLES
from tests.support.processes import stop_process

pytestmark = pytest.mark.docker

EXAMPLE = EXAMPLES / "numpy-mlp"
Leftovers = Callable[[str], list[str]]


def quiet(_line: str) -> None:
    """A log sink for tests that do not look at the log."""


def docker_runtime(
    spec: ServerSpec,
    run_id: str,
    client: docker.DockerClient,
    log: Callable[[str], None] = quiet,
) -> ServerRuntime:
    """The Docker runtime for `spec` on the test engine, host network, loopback only."""
    return open_runtime(spec, run_id=run_id, log=log, docker_client=client)


def example_spec(base_image: str, port: int, **changes: object) -> ServerSpec:
    """The numpy-mlp example built on the offline base image, listening on `port`."""
    ready = changes.pop("ready", ReadySpec(path="/health", timeout_s=60, interval_s=0.05))
    return ServerSpec(
        build=BuildSpec(context=EXAMPLE, args={"BASE_IMAGE": base_image}),
        port=port,
        ready=ready,  # type: ignore[arg-type]
        runtime="docker",
        **changes,  # type: ignore[arg-type]
    )


@dataclass
class NumpyMlpOnDocker:
    """The numpy-mlp example on the test engine under one run id: its specs, runtimes, leftovers."""

    client: docker.DockerClient
    base_image: str
    port: int
    run_id: str
    labelled_leftovers: Leftovers

    def spec(self, **changes: object) -> ServerSpec:
        return example_spec(self.base_image, self.port, **changes)

    def runtime(self, spec: ServerSpec, log: Callable[[str], None] = quiet) -> ServerRuntime:
        return docker_runtime(spec, self.run_id, self.client, log)

    def leftovers(self) -> list[str]:
        return self.labelled_leftovers(self.run_id)


@pytest.fixture
def numpy_mlp(
    docker_client: docker.DockerClient,
    base_image: str,
    free_port: int,
    docker_run_id: str,
    labelled_leftovers: Leftovers,
) -> NumpyMlpOnDocker:
    """The numpy-mlp example for this test's run id and free port."""
    return NumpyMlpOnDocker(docker_client, base_image, free_port, docker_run_id, labelled_leftovers)


def test_build_start_ready_stop(numpy_mlp: NumpyMlpOnDocker) -> None:
    lines: list[str] = []
    spec = numpy_mlp.spec()
    with numpy_mlp.runtime(spec, lines.append) as rt:
        info = rt.prepare()
        assert info is not None
        assert info.source == "build"
        assert info.id.startswith("sha256:")
        assert info.size_bytes > 0
        assert info.digest is None
        assert info.ref.startswith("benchaction/numpy-mlp:")
        assert rt.prepare() is info, "the image is prepared once per run"
        image = numpy_mlp.client.images.get(info.id)
        assert image.labels[MANAGED] == "true"
        assert image.labels[RUN] == numpy_mlp.run_id
        assert image.labels[OWNER].startswith(f"pid:{os.getpid()}:")

        handle = rt.start()
        assert handle.runtime == "docker"
        assert handle.cold_start_s is not None
        assert handle.cold_start_s > 0
        assert handle.base_url == f"http://127.0.0.1:{numpy_mlp.port}"
        assert handle.container_id is not None
        container = numpy_mlp.client.containers.get(handle.container_id)
        assert container.labels[RUN] == numpy_mlp.run_id
        assert requests.get(f"{handle.base_url}/health", timeout=5).status_code == 200

        rt.stop()
        rt.stop()  # idempotent
        assert numpy_mlp.leftovers() == []
    assert any(line.startswith("Step ") for line in lines), "build output is streamed"
    assert not any(line.endswith("\n") for line in lines)


def test_server_exit_during_readiness(numpy_mlp: NumpyMlpOnDocker) -> None:
    command = ("python3", "-c", "import sys; print('boom: weights missing'); sys.exit(3)")
    spec = numpy_mlp.spec(command=command)
    with numpy_mlp.runtime(spec) as rt:
        with pytest.raises(ServingError) as caught:
            rt.start()
        assert numpy_mlp.leftovers() == [], "the failed instance is removed at once"
    message = str(caught.value)
    assert "exited with code 3" in message
    assert "boom: weights missing" in message


def test_readiness_timeout_names_url_and_last_status(numpy_mlp: NumpyMlpOnDocker) -> None:
    ready = ReadySpec(path="/nope", status=200, timeout_s=2.0, interval_s=0.1)
    spec = numpy_mlp.spec(ready=ready)
    with numpy_mlp.runtime(spec) as rt:
        started = time.monotonic()
        with pytest.raises(ServingError) as caught:
            rt.start()
        assert time.monotonic() - started < 20
        assert numpy_mlp.leftovers() == []
    message = str(caught.value)
    assert f"http://127.0.0.1:{numpy_mlp.port}/nope" in message
    assert "answered 404" in message
    assert "server.ready.timeout" in message


def test_failing_build_names_step_and_output(
    docker_client: docker.DockerClient, base_image: str, tmp_path: Path, docker_run_id: str
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo step-output-here && exit 7\n"
    )
    spec = ServerSpec(
        build=BuildSpec(context=tmp_path, args={"BASE_IMAGE": base_image}), runtime="docker"
    )
    with (
        docker_runtime(spec, docker_run_id, docker_client) as rt,
        pytest.raises(ServingError) as caught,
    ):
        rt.prepare()
    message = str(caught.value)
    assert "RUN echo step-output-here && exit 7" in message
    assert "| step-output-here" in message
    assert "non-zero code: 7" in message
    assert str(tmp_path / "Dockerfile") in message


def test_missing_dockerfile_fails_before_docker(
    docker_client: docker.DockerClient, tmp_path: Path, docker_run_id: str
) -> None:
    spec = ServerSpec(build=BuildSpec(context=tmp_path, dockerfile="Nope.dockerfile"))
    with docker_runtime(spec, docker_run_id, docker_client) as rt:
        with pytest.raises(ServingError, match=r"Nope\.dockerfile not found"):
            rt.prepare()
        missing = ServerSpec(build=BuildSpec(context=tmp_path / "absent"))
    with (
        docker_runtime(missing, docker_run_id, docker_client) as rt,
        pytest.raises(ServingError, match="does not exist"),
    ):
        rt.prepare()


def _wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout_s}s")
        time.sleep(0.1)


@pytest.fixture
def local_registry(tmp_path: Path, free_port: int) -> Iterator[str]:
    """A Debian docker-registry on 127.0.0.1:<free port>, its storage in tmp_path."""
    binary = shutil.which("docker-registry")
    if binary is None:
        reason = "docker-registry is not installed (apt-get install docker-registry)"
        if os.environ.get("BENCHACTION_REQUIRE_DOCKER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'storage'}\n"
        f"http:\n  addr: 127.0.0.1:{free_port}\n"
    )
    with (tmp_path / "registry.log").open("wb") as out:
        proc = subprocess.Popen(
            [binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_http(f"http://127.0.0.1:{free_port}/v2/", 15)
        yield f"127.0.0.1:{free_port}"
    finally:
        stop_process(proc)


def tiny_image(client: docker.DockerClient, repo: str, tag: str) -> str:
    """Import a one-file image (pushes and pulls in milliseconds, unlike the 240 MB base)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        payload = f"tiny image for {repo}\n".encode()
        entry = tarfile.TarInfo("hello.txt")
        entry.size = len(payload)
        tar.addfile(entry, io.BytesIO(payload))
    client.api.import_image_from_data(buffer.getvalue(), repository=repo, tag=tag)
    return str(client.images.get(f"{repo}:{tag}").id)


def test_pull_from_local_registry(
    docker_client: docker.DockerClient, local_registry: str, docker_run_id: str
) -> None:
    repo = f"{local_registry}/bench/base-{docker_run_id}"
    ref = f"{repo}:t1"
    image_id = tiny_image(docker_client, repo, "t1")
    try:
        for item in docker_client.api.push(repo, "t1", stream=True, decode=True):
            assert "error" not in item, item
        docker_client.images.remove(ref)
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(image_id)

        lines: list[str] = []
        spec = ServerSpec(image=ref, runtime="docker")
        with docker_runtime(spec, docker_run_id, docker_client, lines.append) as rt:
            info = rt.prepare()
        assert info is not None
        assert info.source == "pull"
        assert info.digest is not None
        assert info.digest.startswith("sha256:")
        assert info.id == image_id
        assert info.size_bytes > 0
        assert info.ref == ref
        assert any(line.endswith(": Pull complete") for line in lines), lines
        assert not any("Downloading" in line for line in lines), "no per-byte progress"
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(ref)


def test_pull_failure_falls_back_to_local_or_explains(
    docker_client: docker.DockerClient,
    base_image: str,
    local_registry: str,
    docker_run_id: str,
) -> None:
    repo = f"{local_registry}/bench/never-pushed-{docker_run_id}"
    spec = ServerSpec(image=f"{repo}:t1", runtime="docker")
    with (
        docker_runtime(spec, docker_run_id, docker_client) as rt,
        pytest.raises(ServingError) as caught,
    ):
        rt.prepare()
    assert "docker login" in str(caught.value)
    assert repo in str(caught.value)

    docker_client.images.get(base_image).tag(repo, "t1")
    try:
        with docker_runtime(spec, docker_run_id, docker_client) as rt:
            info = rt.prepare()
        assert info is not None
        assert info.source == "local"
    finally:
        docker_client.images.remove(f"{repo}:t1")


def test_sweep_removes_only_containers_of_dead_owners(
    docker_client: docker.DockerClient, base_image: str, docker_run_id: str
) -> None:
    host = HostView()
    boot = host.boot_id()
    assert boot is not None
    exited = subprocess.Popen(["true"])
    exited.wait()
    owners = {
        "dead": {OWNER: f"pid:{exited.pid}:1@{boot}"},
        "rebooted": {OWNER: f"pid:{os.getpid()}:1@00000000-0000-0000-0000-000000000000"},
        "live": {},
    }
    created: dict[str, str] = {}
    try:
        for role, owner in owners.items():
            labels = {**object_labels(docker_run_id), **owner}
            container = docker_client.containers.run(
                base_image,
                ["python3", "-c", "import time; time.sleep(60)"],
                detach=True,
                network_mode="host",
                labels=labels,
                name=f"benchaction-sweep-{docker_run_id}-{role}",
            )
            created[role] = str(container.id)
        lines: list[str] = []
        removed = sweep_stale(docker_client, lines.append)
        assert created["dead"] in removed
        assert created["rebooted"] in removed
        assert created["live"] not in removed
        docker_client.containers.get(created["live"])  # still there
        assert sum(docker_run_id in line for line in lines) == 2
    finally:
        for container_id in created.values():
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.api.remove_container(container_id, force=True)


def test_close_after_interrupt_removes_container(numpy_mlp: NumpyMlpOnDocker) -> None:
    spec = numpy_mlp.spec()
    started: list[str | None] = []

    def interrupted_run() -> None:
        with numpy_mlp.runtime(spec) as rt:
            started.append(rt.start().container_id)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_run()
    container_id = started[0]
    assert container_id is not None
    with pytest.raises(docker.errors.NotFound):
        numpy_mlp.client.containers.get(container_id)
    assert numpy_mlp.leftovers() == []


def test_interrupt_while_waiting_for_readiness_removes_container(
    numpy_mlp: NumpyMlpOnDocker,
) -> None:
    def log(line: str) -> None:
        if line.startswith("waiting for"):
            assert numpy_mlp.leftovers() != []
            raise KeyboardInterrupt

    spec = numpy_mlp.spec()
    rt = numpy_mlp.runtime(spec, log)
    rt.prepare()
    with pytest.raises(KeyboardInterrupt):
        rt.start()
    assert numpy_mlp.leftovers() == []
    rt.close()
