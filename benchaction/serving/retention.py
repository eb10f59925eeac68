"""Which built server images stay in the engine: the newest few per server, and any still in use.

Every run builds a new tag (`benchaction/<slug>:<run id>`), so without this a runner's disk
fills with images nobody will run again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import docker
import docker.errors
import requests

from .labels import MANAGED, stale_check

__all__ = ["BuiltImage", "Retention", "choose_removals", "prune_built_images"]

_ENGINE_ERRORS = (docker.errors.DockerException, requests.RequestException)


@dataclass(frozen=True)
class BuiltImage:
    """One image bench-action built: its id, its tags in our repository, when, and its labels."""

    id: str
    tags: tuple[str, ...]
    created: str  # the engine's RFC 3339 time; sorts as text within one engine
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Retention:
    """What a prune decided: images to remove, and older images kept because something uses them."""

    remove: tuple[BuiltImage, ...]
    kept: tuple[BuiltImage, ...]
    in_use: tuple[BuiltImage, ...]


def choose_removals(images: Iterable[BuiltImage], keep: int, protected: set[str]) -> Retention:
    """Keep the newest `keep` images; of the older ones remove all but the `protected` ids."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    newest_first = sorted(images, key=lambda i: (i.created, i.id), reverse=True)
    kept, older = newest_first[:keep], newest_first[keep:]
    return Retention(
        remove=tuple(i for i in older if i.id not in protected),
        kept=tuple(kept),
        in_use=tuple(i for i in older if i.id in protected),
    )


def _built_images(client: docker.DockerClient, repository: str) -> list[BuiltImage]:
    found = client.images.list(name=repository, filters={"label": f"{MANAGED}=true"})
    return [
        BuiltImage(
            id=str(image.id),
            tags=tuple(t for t in image.tags if t.startswith(repository + ":")),
            created=str(image.attrs.get("Created") or ""),
            labels=dict(image.labels or {}),
        )
        for image in found
    ]


def _used_images(client: docker.DockerClient) -> set[str]:
    """Ids of images any container (running or not) was created from: the engine keeps those."""
    containers = client.containers.list(all=True, ignore_removed=True)
    return {str(c.attrs.get("Image") or "") for c in containers}


def prune_built_images(
    client: docker.DockerClient,
    repository: str,
    *,
    keep: int,
    current: str,
    log: Callable[[str], None],
    name: str | None = None,
) -> Sequence[BuiltImage]:
    """Remove the images of `repository` older than the newest `keep`, never `current` (the id
    just measured), one a container uses, or one whose owner may still be running; returns the
    removed ones. Engine errors are logged, never raised: a prune must not fail a run."""
    name = name or repository
    try:
        images = _built_images(client, repository)
        used = _used_images(client)
    except _ENGINE_ERRORS as exc:
        log(f"could not list the older images of {name} to remove them: {exc}")
        return ()
    stale = stale_check(client)  # an image whose owner may still run is kept (A/B's base)
    protected = {current} | used | {i.id for i in images if stale(i.labels) is None}
    plan = choose_removals(images, keep, protected)
    removed: list[BuiltImage] = []
    for image in plan.remove:
        try:
            for tag in image.tags:
                client.images.remove(tag)
        except docker.errors.NotFound:
            pass
        except _ENGINE_ERRORS as exc:
            log(f"could not remove the older image {', '.join(image.tags)} of {name}: {exc}")
            continue
        removed.append(image)
    if removed or plan.in_use:
        kept = len(plan.kept) + len(plan.in_use) + len(plan.remove) - len(removed)
        why = f" ({len(plan.in_use)} older still in use)" if plan.in_use else ""
        log(f"removed {_count(len(removed))} of {name}; keeping {kept}{why}")
    return removed


def _count(n: int) -> str:
    return f"{n} older image" + ("" if n == 1 else "s")
