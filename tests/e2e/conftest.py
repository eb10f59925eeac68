"""Fixtures for the action tests: the action image built offline, model images, and a runner.

The action image is built from the repository's own Dockerfile on the offline base image. Its
Python dependencies come from wheels downloaded on the host (cached in the pytest cache) and
served to the build on 127.0.0.1, since the build cannot reach a package index itself.
`run_action` starts the image the way the GitHub runner does (reference/github-mechanics.md
1.2): the same flags, mounts and environment names, with host temp folders as the mounts.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from tests.support.action_runner import (
    BUILD_TIMEOUT_S,
    ActionRun,
    build,
    leftovers,
    make_workspace,
)
from tests.support.httpserver import stdlib_http_server
from tests.support.paths import REPO_ROOT
from tests.support.skips import skip_or_fail

ACTION_TAG = "benchaction-test/action:dev"


def _requirements() -> list[str]:
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return list(data["project"]["dependencies"])


def _image_python(client: docker.DockerClient, image: str) -> str:
    out = client.containers.run(
        image,
        ["python3", "-c", "import sys, platform; print(sys.version_info[:2], platform.machine())"],
        remove=True,
        network_mode="none",
    )
    return bytes(out).decode().strip()


@pytest.fixture(scope="session")
def wheels_dir(
    request: pytest.FixtureRequest, docker_client: docker.DockerClient, base_image: str
) -> Path:
    """Wheels of the action's dependencies for the base image's Python, downloaded once."""
    here = f"{tuple(sys.version_info[:2])} {os.uname().machine}"
    there = _image_python(docker_client, base_image)
    if here != there:
        skip_or_fail(
            f"the host's Python/arch {here} differs from the base image's {there}: wheels "
            "downloaded here would not install there"
        )
    requirements = _requirements()
    key = hashlib.sha256("\n".join([here, *requirements]).encode()).hexdigest()[:16]
    folder = request.config.cache.mkdir("action-wheels") / key
    if (folder / "complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "-d", str(folder), *requirements],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        skip_or_fail(f"pip download of the action's dependencies failed: {done.stderr[-1500:]}")
    (folder / "complete").write_text("")
    return folder


@contextlib.contextmanager
def _serve_folder(folder: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    with stdlib_http_server(functools.partial(Quiet, directory=str(folder))) as url:
        yield url


@pytest.fixture(scope="session")
def action_image(docker_client: docker.DockerClient, base_image: str, wheels_dir: Path) -> str:
    """The action image from the repository's Dockerfile, on the offline base image."""
    with _serve_folder(wheels_dir) as url:
        return build(
            docker_client,
            REPO_ROOT,
            ACTION_TAG,
            {"BASE_IMAGE": base_image, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": url},
            network_mode="host",
        )


@pytest.fixture(scope="session")
def model_image(docker_client: docker.DockerClient, base_image: str) -> str:
    """The numpy-mlp example server image (id), built on the offline base image."""
    return build(
        docker_client,
        REPO_ROOT / "examples" / "numpy-mlp",
        "benchaction-test/numpy-mlp:action",
        {"BASE_IMAGE": base_image},
    )


@pytest.fixture
def run_action(
    action_image: str, docker_client: docker.DockerClient, tmp_path: Path
) -> Iterator[Callable[..., ActionRun]]:
    """Start the action container with the runner's `docker run`; removes leftovers afterwards."""
    if shutil.which("docker") is None:
        skip_or_fail("the docker CLI is not installed (the runner starts actions with it)")
    runs: list[ActionRun] = []

    def start(
        inputs: Mapping[str, str],
        *,
        files: Mapping[str, str | bytes],
        event: Mapping[str, Any] | None = None,
        api_url: str = "http://127.0.0.1:9",
        host_network: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> ActionRun:
        root = tmp_path
        make_workspace(root, files)
        for sub in ("runner_temp", "home", "workflow", "file_commands"):
            (root / sub).mkdir(exist_ok=True)
        (root / "file_commands" / "set_output").touch()
        (root / "file_commands" / "step_summary").touch()
        if event is not None:
            (root / "workflow" / "event.json").write_text(json.dumps(event))
        github_run_id = str(uuid.uuid4().int % 10**10)
        pr = (event or {}).get("pull_request") or {}
        overrides = dict(env or {})
        env = {
            **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
            "HOME": "/github/home",
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": "/github/workspace",
            "GITHUB_EVENT_PATH": "/github/workflow/event.json",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_OUTPUT": "/github/file_commands/set_output",
            "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary",
            "GITHUB_API_URL": api_url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": str((event or {}).get("repository", {}).get("full_name", "o/r")),
            "GITHUB_REPOSITORY_ID": str((event or {}).get("repository", {}).get("id", 1)),
            "GITHUB_RUN_ID": github_run_id,
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_SHA": "f" * 40,
            "GITHUB_REF": f"refs/pull/{pr.get('number', 1)}/merge",
            "GITHUB_REF_NAME": f"{pr.get('number', 1)}/merge",
            "RUNNER_TEMP": "/github/runner_temp",
            "ACTIONS_RUNTIME_TOKEN": "runtime-token-never-printed",
            **overrides,  # a push to main, say: GITHUB_EVENT_NAME, GITHUB_REF
        }
        # The runner's flags, in its order; values travel in the CLI's environment (`-e NAME`).
        argv = [
            "docker", "run",
            "--name", f"benchaction_action_test_{uuid.uuid4().hex[:6]}",
            "--label", "benchaction-test-runner",
            "--workdir", "/github/workspace", "--rm",
        ]  # fmt: skip
        for name in env:
            argv += ["-e", name]
        if host_network:
            # The one deviation: the GitHub stand-in listens on the host's loopback.
            argv += ["--network", "host"]
        argv += [
            "-v", "/var/run/docker.sock:/var/run/docker.sock",
            "-v", f"{root / 'runner_temp'}:/github/runner_temp",
            "-v", f"{root / 'home'}:/github/home",
            "-v", f"{root / 'workflow'}:/github/workflow",
            "-v", f"{root / 'file_commands'}:/github/file_commands",
            "-v", f"{root / 'workspace'}:/github/workspace",
            action_image,
        ]  # fmt: skip
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **env},
        )
        run = ActionRun(root, proc, github_run_id, env=env)
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()
        if run.proc.stdout is not None:
            run.proc.stdout.close()
        prefix = f"gh{run.github_run_id}-"
        for name in leftovers(docker_client, run):
            with contextlib.suppress(docker.errors.APIError):
                docker_client.api.remove_container(name, force=True)
        for image in docker_client.images.list(filters={"label": "io.benchaction.managed=true"}):
            if image.labels.get("io.benchaction.run", "").startswith(prefix):
                with contextlib.suppress(docker.errors.APIError):
                    docker_client.images.remove(str(image.id), force=True)
