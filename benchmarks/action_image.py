"""What a user's job pays for the action image: building it from the Dockerfile (`image:
Dockerfile`, every job today) versus pulling the released image (`image: docker://...@sha256:`).

Both start from the same state: the base image present, the action's own layers absent. The build
runs without the layer cache (a fresh runner has none), installing the dependencies from wheels
downloaded once on the host and served on 127.0.0.1 (no package index reachable from a build
here, so this build is faster than a runner's, which resolves them over the internet). The pull
comes from a Debian `docker-registry` on 127.0.0.1 at a free port, with its own config and
storage in a temporary folder; between pulls the image is removed, so every pull fetches and
unpacks all of the action's own layers.

    python benchmarks/action_image.py --base-image benchaction-test/python-base:bookworm-1

It needs a Docker engine (DOCKER_HOST or the default socket), `docker-registry` on PATH (Debian:
apt-get install docker-registry) and pip able to download the dependencies. The base image must
carry python3 with pip and venv (the e2e tests' offline base does).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
from common import HOST, free_port, print_machine, stop

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 900  # one build, push or pull; a stuck engine ends the script instead of hanging


def _requirements() -> list[str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    return list(data["project"]["dependencies"])


def download_wheels(folder: Path) -> None:
    """The action's dependencies as wheels for this host's Python (which the base image shares)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "-d", str(folder), *_requirements()],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"pip download of the action's dependencies failed:\n{done.stderr[-2000:]}"
        )


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """`folder` over HTTP on 127.0.0.1 (pip's --find-links), for the duration of the block."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer((HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def registry(folder: Path) -> Iterator[str]:
    """A Debian docker-registry on 127.0.0.1:<free port> (the engine trusts loopback over HTTP)."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise SystemExit("docker-registry is not on PATH (Debian: apt-get install docker-registry)")
    port = free_port()
    config = folder / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'storage'}\n"
        f"http:\n  addr: {HOST}:{port}\n"
    )
    with (folder / "registry.log").open("wb") as log:
        proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}/v2/", timeout=1).close()
                break
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_text = (folder / "registry.log").read_text()[-1500:]
                    raise SystemExit(
                        f"docker-registry did not answer on {port}:\n{log_text}"
                    ) from None
                time.sleep(0.1)
        yield f"{HOST}:{port}"
    finally:
        stop(proc)


def build(client: docker.DockerClient, base: str, links: str, tag: str) -> tuple[str, float]:
    """A cold build of the repository's Dockerfile: (image id, seconds)."""
    started = time.perf_counter()
    image_id = None
    lines: list[str] = []
    for item in client.api.build(
        path=str(REPO),
        tag=tag,
        buildargs={"BASE_IMAGE": base, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": links},
        network_mode="host",
        nocache=True,
        rm=True,
        forcerm=True,
        decode=True,
        timeout=TIMEOUT_S,
    ):
        lines.append(str(item.get("stream", "")))
        if "error" in item:
            raise SystemExit(f"build failed: {item['error']}\n{''.join(lines[-30:])}")
        if isinstance(item.get("aux"), dict) and item["aux"].get("ID"):
            image_id = str(item["aux"]["ID"])
    elapsed = time.perf_counter() - started
    return image_id or str(client.images.get(tag).id), elapsed


def remove(client: docker.DockerClient, image_id: str) -> None:
    """Every tag of the image and its own layers (the base image's layers stay)."""
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(image_id, force=True)


def push(client: docker.DockerClient, repo: str, tag: str) -> None:
    for item in client.api.push(repo, tag, stream=True, decode=True):
        if "error" in item:
            raise SystemExit(f"push of {repo}:{tag} failed: {item['error']}")


def pull(client: docker.DockerClient, ref: str) -> float:
    """Seconds to pull `ref` (download and unpack), by digest as action.yml would name it."""
    started = time.perf_counter()
    for item in client.api.pull(ref, stream=True, decode=True):
        if "error" in item:
            raise SystemExit(f"pull of {ref} failed: {item['error']}")
    return time.perf_counter() - started


def _size_mib(client: docker.DockerClient, image_id: str, base: str) -> tuple[float, float]:
    own = client.images.get(image_id).attrs["Size"]
    under = client.images.get(base).attrs["Size"]
    return own / 2**20, (own - under) / 2**20


def measure(client: docker.DockerClient, base: str, repeats: int) -> Mapping[str, Any]:
    run = uuid.uuid4().hex[:8]
    builds: list[float] = []
    pulls: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-action-image-") as tmp:
        wheels = Path(tmp) / "wheels"
        wheels.mkdir()
        download_wheels(wheels)
        image_id = ""
        with served(wheels) as links:
            for i in range(repeats):
                image_id, seconds = build(client, base, links, f"benchaction-bench/action:{run}")
                builds.append(seconds)
                print(f"build {i + 1}/{repeats}: {seconds:.1f} s", flush=True)
                if i < repeats - 1:
                    remove(client, image_id)
        size, own = _size_mib(client, image_id, base)
        store = Path(tmp) / "registry"
        store.mkdir()
        with registry(store) as host:
            repo = f"{host}/bench/action-{run}"
            client.images.get(image_id).tag(repo, "v1")
            push(client, repo, "v1")
            digest = next(
                d for d in client.images.get(image_id).attrs["RepoDigests"] if d.startswith(repo)
            )
            try:
                for i in range(repeats):
                    remove(client, image_id)
                    seconds = pull(client, digest)
                    pulls.append(seconds)
                    print(f"pull {i + 1}/{repeats}: {seconds:.1f} s", flush=True)
            finally:
                remove(client, image_id)
    return {"builds": builds, "pulls": pulls, "size": size, "own": own}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-image", required=True, help="a local image with python3, pip, venv")
    parser.add_argument("--repeats", type=int, default=3, help="builds and pulls each (default 3)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= 10:
        parser.error("--repeats must be between 1 and 10")
    client = docker.from_env(timeout=TIMEOUT_S)
    try:
        client.images.get(args.base_image)
    except docker.errors.ImageNotFound:
        parser.error(f"--base-image {args.base_image} is not on this engine")
    print_machine({"docker engine": str(client.version().get("Version"))})
    got = measure(client, args.base_image, args.repeats)
    build_s, pull_s = statistics.median(got["builds"]), statistics.median(got["pulls"])
    print()
    print(f"image: {got['size']:.0f} MiB, of which {got['own']:.0f} MiB are the action's layers")
    print(f"{'':<24}{'median s':>10}  runs")
    print(
        f"{'build (no cache)':<24}{build_s:>10.1f}  {', '.join(f'{s:.1f}' for s in got['builds'])}"
    )
    print(
        f"{'pull (local registry)':<24}{pull_s:>10.1f}  {', '.join(f'{s:.1f}' for s in got['pulls'])}"
    )
    print(f"ratio build / pull: {build_s / pull_s:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
