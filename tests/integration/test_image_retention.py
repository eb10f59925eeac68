"""Built images do not pile up: after a run the Docker runtime keeps the newest
`server.build.keep_images` of its server and removes older ones nothing uses (real engine)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from benchaction.config.model import BuildSpec, ServerSpec
from benchaction.serving import MANAGED, OWNER, open_runtime
from benchaction.serving.labels import HostView, object_labels
from benchaction.serving.retention import BuiltImage, choose_removals

pytestmark = pytest.mark.docker

DOCKERFILE = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG N=0\nLABEL io.benchaction.test-n=${N}\n"


def _image(created: str, image_id: str) -> BuiltImage:
    return BuiltImage(image_id, (f"benchaction/x:{image_id}",), created, {})


def test_choose_removals_keeps_the_newest_and_the_protected() -> None:
    images = [_image(f"2026-12-0{d}T10:00:00.5Z", f"id{d}") for d in range(1, 7)]
    plan = choose_removals(images, 3, protected={"id2"})
    assert [i.id for i in plan.kept] == ["id6", "id5", "id4"]
    assert [i.id for i in plan.remove] == ["id3", "id1"]
    assert [i.id for i in plan.in_use] == ["id2"]
    assert choose_removals(images[:2], 3, set()).remove == ()
    with pytest.raises(ValueError, match="at least 1"):
        choose_removals(images, 0, set())


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A build context whose folder name (the image slug) no other test or run shares."""
    folder = tmp_path / f"retention-{uuid.uuid4().hex[:10]}"
    folder.mkdir()
    (folder / "Dockerfile").write_text(DOCKERFILE)
    return folder


@pytest.fixture
def repository(docker_client: docker.DockerClient, context: Path) -> Iterator[str]:
    """`benchaction/<slug>` of the context; every image and container made here goes at the end."""
    repo = f"benchaction/{context.name}"
    yield repo
    for container in docker_client.containers.list(
        all=True, filters={"label": f"retention-test={context.name}"}
    ):
        container.remove(force=True)
    for image in docker_client.images.list(name=repo):
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.images.remove(str(image.id), force=True)


def _build_old(client: docker.DockerClient, context: Path, base: str, n: int, alive: bool) -> str:
    """A labelled image as an earlier run left it; its owner has exited unless `alive`."""
    labels = object_labels(f"old-{n}")
    if not alive:  # this pid with another start time: a process that has exited
        labels[OWNER] = f"pid:{os.getpid()}:1@{HostView().boot_id()}"
    tag = f"benchaction/{context.name}:old-{n}"
    for _ in client.api.build(
        path=str(context),
        tag=tag,
        buildargs={"BASE_IMAGE": base, "N": str(n)},
        labels=labels,
        rm=True,
        decode=True,
    ):
        pass
    return str(client.images.get(tag).id)


def test_a_run_removes_older_images_nothing_uses(
    docker_client: docker.DockerClient, base_image: str, context: Path, repository: str, run_id: str
) -> None:
    old = [_build_old(docker_client, context, base_image, n, alive=n == 2) for n in range(5)]
    # old[0] is the oldest; a stopped container still pins old[1] (the engine would refuse anyway).
    docker_client.containers.create(
        old[1], ["true"], labels={"retention-test": context.name, MANAGED: "false"}
    )
    spec = ServerSpec(
        build=BuildSpec(context=context, args={"BASE_IMAGE": base_image}, keep_images=2),
        runtime="docker",
    )
    lines: list[str] = []
    with open_runtime(spec, run_id=run_id, log=lines.append, docker_client=docker_client) as rt:
        current = rt.prepare()
        assert current is not None
        assert {str(i.id) for i in docker_client.images.list(name=repository)} >= set(old)
    left = {str(i.id) for i in docker_client.images.list(name=repository)}
    # Newest first: current, old[4] (the two kept), then old[3] (removed), old[2] (its owner
    # still runs: kept), old[1] (a container uses it: kept), old[0] (removed).
    assert left == {current.id, old[4], old[2], old[1]}
    assert f"removed 2 older images of {context.name}; keeping 4 (2 older still in use)" in lines
