"""Getting the server image: build it from a Dockerfile or pull it, and describe what was used."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import docker
import docker.errors
import requests
from docker.models.images import Image
from docker.utils import parse_repository_tag

from ..config import BuildSpec, ServerSpec
from ..errors import ServingError
from .interface import ImageInfo

__all__ = [
    "build_image",
    "image_repository",
    "image_tag",
    "name_part",
    "pull_image",
    "server_slug",
]

BUILD_STEP_LINES = 30
_STEP_RE = re.compile(r"^Step \d+/\d+ : ")
_IMAGE_ID_RE = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")
# Layer states that repeat while bytes move; the ones worth a log line are the final states.
_QUIET_STATES = frozenset({"Waiting", "Downloading", "Extracting", "Verifying Checksum"})


def _slugify(text: str, fallback: str = "server") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return slug or fallback


def server_slug(spec: ServerSpec) -> str:
    """A short name for the server in image tags and container names: folder or image name."""
    if spec.build is not None:
        return _slugify(spec.build.context.resolve().name)
    if spec.image is not None:
        repo, _ = parse_repository_tag(spec.image)
        return _slugify(repo.rsplit("/", 1)[-1])
    return "server"


def name_part(run_id: str) -> str:
    """A run id reduced to the characters image tags and container names accept."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", run_id).lstrip(".-")[:100] or "run"


def image_repository(slug: str) -> str:
    """Where the images built for one server are tagged: `benchaction/<slug>`."""
    return f"benchaction/{slug}"


def image_tag(slug: str, run_id: str) -> str:
    """The tag of an image built for a run: `benchaction/<slug>:<run id>`."""
    return f"{image_repository(slug)}:{name_part(run_id)}"


class _ProgressLog:
    """Turns the engine's progress stream into one log line per layer state change, not per byte."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._states: dict[str, str] = {}

    def feed(self, item: Mapping[str, Any]) -> None:
        status = item.get("status")
        if not status:
            return
        layer = item.get("id")
        if not layer:
            self._log(str(status))
            return
        if self._states.get(layer) == status:
            return
        self._states[layer] = status
        if status not in _QUIET_STATES:
            self._log(f"{layer}: {status}")


def _stream_error(item: Mapping[str, Any]) -> str | None:
    if "error" not in item and "errorDetail" not in item:
        return None
    detail = item.get("errorDetail") or {}
    message = item.get("error") or (detail.get("message") if isinstance(detail, dict) else None)
    return str(message or "unknown error").strip()


def _info(image: Image, ref: str, source: Literal["build", "pull", "local"]) -> ImageInfo:
    repo, _ = parse_repository_tag(ref)
    digests = [str(d) for d in image.attrs.get("RepoDigests") or []]
    wanted = _normal_repo(repo)
    matching = [d for d in digests if _normal_repo(d.split("@", 1)[0]) == wanted]
    chosen = (matching or digests or [""])[0]
    digest = chosen.split("@", 1)[1] if "@" in chosen else None
    return ImageInfo(
        ref=ref,
        id=str(image.id),
        digest=digest if source != "build" else None,
        size_bytes=int(image.attrs.get("Size") or 0),
        source=source,
    )


def _normal_repo(repo: str) -> str:
    for prefix in ("docker.io/", "index.docker.io/", "library/"):
        repo = repo.removeprefix(prefix)
    return repo


def _check_build_paths(build: BuildSpec) -> Path:
    context = build.context
    if not context.is_dir():
        raise ServingError(
            f"build context {context} does not exist or is not a folder (server.build.context)"
        )
    dockerfile = Path(build.dockerfile)
    dockerfile = dockerfile if dockerfile.is_absolute() else context / dockerfile
    if not dockerfile.is_file():
        raise ServingError(
            f"Dockerfile {dockerfile} not found (server.build.dockerfile is read relative to "
            f"the build context {context})"
        )
    return dockerfile


def build_image(
    client: docker.DockerClient,
    build: BuildSpec,
    *,
    tag: str,
    labels: Mapping[str, str],
    log: Callable[[str], None],
) -> ImageInfo:
    """Build the server image with the classic builder, streaming its output line by line."""
    dockerfile = _check_build_paths(build)
    log(f"building {tag} from {dockerfile}")
    step: str | None = None
    step_lines: deque[str] = deque(maxlen=BUILD_STEP_LINES)
    image_id: str | None = None
    error: str | None = None
    progress = _ProgressLog(log)
    partial = ""

    def emit(line: str) -> None:
        nonlocal step
        log(line)
        if _STEP_RE.match(line):
            step = line
            step_lines.clear()
        else:
            step_lines.append(line)

    try:
        stream: Iterable[Any] = client.api.build(
            path=str(build.context),
            dockerfile=build.dockerfile,
            target=build.target,
            buildargs=dict(build.args),
            labels=dict(labels),
            tag=tag,
            rm=True,
            forcerm=True,
            decode=True,
        )
        for item in stream:
            if not isinstance(item, dict):
                continue
            text = item.get("stream")
            if isinstance(text, str):
                *lines, partial = (partial + text).replace("\r\n", "\n").split("\n")
                for line in lines:
                    if line.strip():
                        emit(line.rstrip())
            aux = item.get("aux")
            if isinstance(aux, dict) and aux.get("ID"):
                image_id = str(aux["ID"])
            progress.feed(item)
            # Read on after an error: the engine ends the stream itself, and a stream left
            # half-read keeps its socket open.
            error = error or _stream_error(item)
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        error = getattr(exc, "explanation", None) or getattr(exc, "msg", None) or str(exc)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        error = f"the Docker engine stopped answering during the build: {exc}"
    if partial.strip():
        emit(partial.rstrip())
    if error is not None:
        where = f"failed at `{step}`" if step else "failed before its first step"
        output = "\n".join(f"    | {line}" for line in step_lines) or "    (no output)"
        raise ServingError(
            f"image build {where}\n  Dockerfile: {dockerfile}\n  error: {error}\n"
            f"  output of that step (last {BUILD_STEP_LINES} lines):\n{output}"
        )
    try:
        image = client.images.get(image_id or tag)
    except docker.errors.APIError as exc:
        raise ServingError(
            f"the build of {tag} reported success but the image is missing: {exc}"
        ) from exc
    log(f"built {tag} ({image.short_id})")
    return _info(image, tag, "build")


def _registry_of(repo: str) -> str:
    first = repo.split("/", 1)[0]
    if "/" in repo and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def pull_image(client: docker.DockerClient, ref: str, *, log: Callable[[str], None]) -> ImageInfo:
    """Pull `ref` for its current digest; fall back to a local copy only when the pull fails."""
    local: Image | None
    if _IMAGE_ID_RE.match(ref):
        try:
            return _info(client.images.get(ref), ref, "local")
        except docker.errors.ImageNotFound:
            raise ServingError(
                f"image id {ref} (server.image) is not present in the engine"
            ) from None
    repo, tag = parse_repository_tag(ref)
    tag = tag or "latest"
    full = f"{repo}@{tag}" if tag.startswith("sha256:") else f"{repo}:{tag}"
    try:
        local = client.images.get(full)
    except (docker.errors.ImageNotFound, docker.errors.APIError):
        local = None
    log(f"pulling {full}")
    error: str | None = None
    progress = _ProgressLog(log)
    try:
        for item in client.api.pull(repo, tag, stream=True, decode=True):
            if not isinstance(item, dict):
                continue
            progress.feed(item)
            error = error or _stream_error(item)
    except docker.errors.APIError as exc:
        error = str(exc.explanation or exc)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        error = f"the Docker engine stopped answering during the pull: {exc}"
    if error is not None:
        if local is not None:
            log(f"pull of {full} failed ({error}); using the local image {local.short_id}")
            return _info(local, full, "local")
        raise ServingError(
            f"could not pull image {full}: {error}\n  hint: check the image reference "
            f"(server.image); for a private registry run `docker login {_registry_of(repo)}` "
            "on this machine (credentials come from ~/.docker/config.json or $DOCKER_CONFIG)"
        )
    try:
        image = client.images.get(full)
    except docker.errors.APIError as exc:
        raise ServingError(
            f"the pull of {full} reported success but the image is missing: {exc}"
        ) from exc
    info = _info(image, full, "pull")
    log(f"pulled {full} ({image.short_id}, {info.digest or 'no digest'})")
    return info
