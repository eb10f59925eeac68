"""Where the action runs: its own container (found through /proc and `docker inspect`) or the host.

The model server joins this container's network namespace so load stays on loopback; the
results folder is handed back to the workspace owner so the next checkout can delete it.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests

__all__ = ["Placement", "chown_tree", "give_to_workspace_owner", "locate_self"]

WORKSPACE_MOUNT = "/github/workspace"
# Docker bind-mounts /etc/hostname etc. from /var/lib/docker/containers/<id>/; cgroup v1 paths
# and the systemd driver's scope names carry the id too.
_ID_PATTERNS = (
    re.compile(r"/containers/([0-9a-f]{64})/"),
    re.compile(r"/docker[/-]([0-9a-f]{64})\b"),
)


@dataclass(frozen=True)
class Placement:
    """Where the action runs: its own container (whose network the model joins) or the host."""

    container_id: str | None = None
    image: str | None = None
    workspace_host_path: str | None = None
    note: str = ""

    @property
    def network_mode(self) -> str:
        """`container:<id>` puts the model server on our loopback; outside a container, host."""
        return f"container:{self.container_id}" if self.container_id else "host"


def _own_id_candidates() -> list[str]:
    """Container ids this process may run in, from /proc (works with `--network host` too)."""
    found: list[str] = []
    for source in ("/proc/self/mountinfo", "/proc/self/cgroup"):
        try:
            text = Path(source).read_text()
        except OSError:
            continue
        for pattern in _ID_PATTERNS:
            found += [m for m in pattern.findall(text) if m not in found]
    return found


def locate_self(client: docker.DockerClient | None) -> Placement:
    """Our own container (id, image, host path of the workspace) or host networking, and why."""
    if not Path("/.dockerenv").exists():
        return Placement(
            note="not in a container (no /.dockerenv): the model server uses the host network"
        )
    if client is None:
        return Placement(note="no Docker engine answered at /var/run/docker.sock")
    hostname = socket.gethostname()  # the short id, unless the container shares the host's UTS
    for candidate in [*_own_id_candidates(), hostname]:
        try:
            attrs = client.api.inspect_container(candidate)
        except (docker.errors.DockerException, requests.RequestException):
            continue
        if candidate == hostname and (attrs.get("Config") or {}).get("Hostname") != hostname:
            continue  # a container that happens to be named like this host, not us
        mounts = {m.get("Destination"): m.get("Source") for m in attrs.get("Mounts") or []}
        own_id, image = str(attrs["Id"]), str(attrs.get("Image") or "")
        workspace = mounts.get(WORKSPACE_MOUNT)
        return Placement(
            container_id=own_id,
            image=image,
            workspace_host_path=workspace,
            note=f"in container {own_id[:12]} (image {image[:19]}, workspace {workspace} on the "
            "host): the model server joins its network namespace",
        )
    return Placement(
        note="in a container, but `docker inspect` of it failed (hostname and mounts give no id "
        "the engine knows): the model server uses the host network"
    )


def chown_tree(top: Path, root: Path, uid: int, gid: int) -> None:
    """Give `top` (and the folders between `root` and it) to uid:gid, so the next checkout can delete it."""
    if not hasattr(os, "chown") or not top.exists():
        return
    parts = top.relative_to(root).parts
    for i in range(1, len(parts)):
        os.chown(root.joinpath(*parts[:i]), uid, gid)
    for folder, dirs, files in os.walk(top):
        os.chown(folder, uid, gid)
        for name in [*dirs, *files]:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def give_to_workspace_owner(results: Path, workspace: Path) -> None:
    """Root-owned files in the workspace break the next checkout (actions/runner #434)."""
    try:
        st = workspace.stat()
        if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
            chown_tree(results, workspace, st.st_uid, st.st_gid)
    except OSError as exc:
        print(f"could not hand {results} to the workspace owner: {exc}", flush=True)
