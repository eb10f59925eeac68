"""The container action's PID 1: environment in, settings, signals, where am I, run, exit code.

The runner starts this with a fixed `docker run` (no GPU, the Docker socket, the workspace
mounted at /github/workspace). It is the only module that reads os.environ or /proc; the flow
itself is `benchaction.action_run.run_action`, which takes plain values.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import docker
import docker.errors
import requests

from benchaction import __version__
from benchaction.action_run import EXIT_INTERRUPTED, EXIT_USAGE, Cancelled, Placement, run_action
from benchaction.action_settings import read_settings
from benchaction.errors import ConfigError
from benchaction.github.commands import add_mask, append_summary, error
from benchaction.serving import docker_engine

__all__ = ["chown_tree", "give_to_workspace_owner", "locate_self", "main"]

WORKSPACE_MOUNT = "/github/workspace"
# Docker bind-mounts /etc/hostname etc. from /var/lib/docker/containers/<id>/; cgroup v1 paths
# and the systemd driver's scope names carry the id too.
_ID_PATTERNS = (
    re.compile(r"/containers/([0-9a-f]{64})/"),
    re.compile(r"/docker[/-]([0-9a-f]{64})\b"),
)


class _Stop:
    """Whether the first SIGINT/SIGTERM has arrived (a class attribute: no `global`)."""

    requested = False


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """First SIGINT/SIGTERM: unwind (every `finally` removes containers); later ones: ignored.

    The runner sends SIGINT on cancel and SIGTERM 7.5 s later; a second exception raised in the
    middle of container removal would leave the containers behind.
    """
    name = signal.Signals(signum).name
    if _Stop.requested:
        print(
            f"{name} received while cleaning up; still removing what this run started", flush=True
        )
        return
    _Stop.requested = True
    raise Cancelled(f"cancelled ({name})")


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


def main() -> int:
    """Read the environment once, then hand plain values to the action flow."""
    env = dict(os.environ)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(f"bench-action {__version__}", flush=True)
    token = env.get("INPUT_GITHUB-TOKEN", "")
    if token and not token.startswith("${{"):
        add_mask(token)
    try:
        settings = read_settings(env)
    except ConfigError as exc:
        error(str(exc), title="bench-action: invalid inputs")
        if env.get("GITHUB_STEP_SUMMARY"):
            append_summary(
                env["GITHUB_STEP_SUMMARY"],
                f"### ❌ bench-action: invalid inputs\n\n```text\n{exc}\n```\n",
            )
        return EXIT_USAGE
    try:
        client = docker_engine()
        placement = locate_self(client)
        return run_action(settings, placement, client)
    except Cancelled as exc:
        print(f"{exc}: stopped", flush=True)
        return EXIT_INTERRUPTED
    finally:
        give_to_workspace_owner(settings.results_dir, settings.workspace)


if __name__ == "__main__":
    sys.exit(main())
