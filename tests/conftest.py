"""Shared fixtures: a real Docker engine, the offline base image, free ports, unique run ids.

Layout: `unit/<package>/` tests one benchaction package each (no Docker engine; loopback servers
at most), `unit/project/` the repository's own rules (README, imports, layering);
`integration/` runs real servers, processes and the Docker engine; `e2e/` runs the action image
the way the runner does and the README's first command; `support/` holds the shared builders,
stand-in and fake servers and fixture plugins. Tests share code only through `tests.support`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator

import docker
import docker.errors
import pytest

from benchaction.serving import MANAGED, RUN, docker_engine
from tests.support.paths import REPO_ROOT
from tests.support.skips import skip_or_fail

# The GitHub stand-in and a real pull_request event, for unit/github, unit/flow and e2e tests.
pytest_plugins = ["tests.support.github_fixtures"]

DEFAULT_BASE_IMAGE = "benchaction-test/python-base:bookworm-1"


# Run ids handed out by the `run_id` fixture: images built under them are removed at the end.
_ISSUED_RUN_IDS: set[str] = set()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client for the engine the environment points at; skips (or fails on CI) without one.

    At the end of the session it removes the images built under this session's run ids, which
    bench-action itself keeps on purpose.
    """
    client = docker_engine()
    if client is None:
        skip_or_fail("no Docker engine")
    yield client
    for image in client.images.list(filters={"label": f"{MANAGED}=true"}):
        if image.labels.get(RUN) in _ISSUED_RUN_IDS:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(str(image.id), force=True)
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """The offline Python base image tag, built once with .ci/base-image.sh when it is missing."""
    tag = os.environ.get("BENCHACTION_TEST_BASE_IMAGE") or DEFAULT_BASE_IMAGE
    try:
        docker_client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    script = REPO_ROOT / ".ci" / "base-image.sh"
    try:
        done = subprocess.run(
            ["bash", str(script), tag], capture_output=True, text=True, timeout=900, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        skip_or_fail(f"could not build the base image {tag}: {exc}")
    if done.returncode != 0:
        skip_or_fail(f"could not build the base image {tag}: {done.stderr.strip()[-2000:]}")
    return tag


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def run_id() -> str:
    """A run id no other test (or concurrent test run) uses."""
    run = f"t-{uuid.uuid4().hex[:12]}"
    _ISSUED_RUN_IDS.add(run)
    return run


@pytest.fixture
def labelled_leftovers(docker_client: docker.DockerClient) -> Callable[[str], list[str]]:
    """Names of containers, in any state, that still carry `io.benchaction.run=<run id>`."""

    def leftovers(run: str) -> list[str]:
        found = docker_client.containers.list(all=True, filters={"label": f"{RUN}={run}"})
        return sorted(str(c.name) for c in found)

    return leftovers


@pytest.fixture
def docker_run_id(
    docker_client: docker.DockerClient,
    run_id: str,
    labelled_leftovers: Callable[[str], list[str]],
) -> Iterator[str]:
    """A unique run id; afterwards asserts that no container of that run was left behind.

    Images built for the run are kept by design, so they are removed here, not asserted.
    """
    yield run_id
    left = labelled_leftovers(run_id)
    for name in left:
        docker_client.api.remove_container(name, force=True)
    for image in docker_client.images.list(filters={"label": f"{RUN}={run_id}"}):
        with contextlib.suppress(docker.errors.APIError):
            docker_client.images.remove(str(image.id), force=True)
    assert not left, f"containers of run {run_id} left behind: {left}"
