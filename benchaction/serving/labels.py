"""Labels on every Docker object bench-action creates, and the sweep that removes orphaned ones."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests

__all__ = [
    "MANAGED",
    "OWNER",
    "OWNER_CONTAINER",
    "OWNER_PIDNS",
    "RUN",
    "HostView",
    "Owner",
    "object_labels",
    "parse_owner",
    "stale_check",
    "stale_reason",
    "sweep_stale",
]

MANAGED = "io.benchaction.managed"
RUN = "io.benchaction.run"
OWNER = "io.benchaction.owner"
OWNER_PIDNS = "io.benchaction.owner-pidns"
"""The owner's pid namespace: a pid means nothing to a sweep running in another namespace."""
OWNER_CONTAINER = "io.benchaction.owner-container"
"""Set by callers that run inside a container (the action): the owner is alive while it runs."""

_OWNER_RE = re.compile(r"^pid:(\d+):(\d+)@([0-9a-fA-F-]+)$")


@dataclass(frozen=True)
class Owner:
    """The process that created an object, named so that pid reuse and reboots can be detected."""

    pid: int
    start_time: int
    boot_id: str

    @property
    def label(self) -> str:
        """The `io.benchaction.owner` label value: `pid:<pid>:<start ticks>@<boot id>`."""
        return f"pid:{self.pid}:{self.start_time}@{self.boot_id}"


def parse_owner(text: str | None) -> Owner | None:
    """The owner named by a label value, or None when the value is missing or malformed."""
    match = _OWNER_RE.match(text or "")
    if match is None:
        return None
    return Owner(int(match.group(1)), int(match.group(2)), match.group(3).lower())


@dataclass(frozen=True)
class HostView:
    """What this host's /proc says about processes: read through one root so tests can fake it."""

    proc: Path = Path("/proc")

    def boot_id(self) -> str | None:
        """The kernel's boot id; it changes on every reboot, so old owners are known dead."""
        try:
            return (self.proc / "sys/kernel/random/boot_id").read_text().strip().lower() or None
        except OSError:
            return None

    def start_time(self, pid: int) -> int | None:
        """Field 22 of /proc/<pid>/stat (start time in clock ticks), or None if pid is gone."""
        try:
            stat = (self.proc / str(pid) / "stat").read_text()
        except OSError:
            return None
        # The command name (field 2) is in parentheses and may itself contain spaces or ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        try:
            return int(fields[22 - 3])
        except (IndexError, ValueError):
            return None

    def pid_namespace(self) -> str | None:
        """This process's pid namespace, e.g. `pid:[4026531836]`."""
        try:
            return os.readlink(self.proc / "self/ns/pid")
        except OSError:
            return None

    def current_owner(self) -> Owner | None:
        """The running process as an owner; None where /proc does not tell (non-Linux)."""
        pid = os.getpid()
        boot, start = self.boot_id(), self.start_time(pid)
        if boot is None or start is None:
            return None
        return Owner(pid, start, boot)


def object_labels(
    run_id: str, extra: Mapping[str, str] | None = None, host: HostView | None = None
) -> dict[str, str]:
    """The labels for one created object: managed flag, run id, owner identity, caller labels."""
    host = host or HostView()
    labels = {MANAGED: "true", RUN: run_id}
    owner = host.current_owner()
    if owner is not None:
        labels[OWNER] = owner.label
    pidns = host.pid_namespace()
    if pidns is not None:
        labels[OWNER_PIDNS] = pidns
    labels.update(extra or {})
    return labels


def stale_reason(
    labels: Mapping[str, str],
    host: HostView,
    container_running: Callable[[str], bool],
) -> str | None:
    """Why an object's owner is certainly gone, or None when it may be alive (leave it alone)."""
    if labels.get(MANAGED) != "true":
        return None
    owner = parse_owner(labels.get(OWNER))
    here = host.boot_id()
    if owner is None or here is None:
        return None
    if owner.boot_id != here:
        return "its owner ran before this host's last reboot"
    owner_container = labels.get(OWNER_CONTAINER)
    if owner_container:
        if container_running(owner_container):
            return None
        return f"its owner's container {owner_container[:12]} is no longer running"
    owner_ns = labels.get(OWNER_PIDNS)
    if owner_ns and owner_ns != host.pid_namespace():
        return None  # another pid namespace: this pid number says nothing about that owner
    start = host.start_time(owner.pid)
    if start is None:
        return f"its owner process {owner.pid} has exited"
    if start != owner.start_time:
        return f"its owner process {owner.pid} has exited (the pid now belongs to another process)"
    return None


def stale_check(client: docker.DockerClient) -> Callable[[Mapping[str, str]], str | None]:
    """`stale_reason` for this host and engine: an owner container counts as alive while the
    engine says it runs, or while the engine cannot say (its objects are left alone)."""
    host = HostView()

    def running(container_id: str) -> bool:
        try:
            return client.containers.get(container_id).status in ("running", "restarting")
        except docker.errors.NotFound:
            return False
        except (docker.errors.DockerException, requests.RequestException):
            return True  # cannot tell: leave its objects alone

    return lambda labels: stale_reason(labels, host, running)


def sweep_stale(client: docker.DockerClient, log: Callable[[str], None]) -> list[str]:
    """Force-remove managed containers whose owner process is gone; returns the removed ids."""
    stale = stale_check(client)
    removed: list[str] = []
    try:
        candidates = client.containers.list(
            all=True, filters={"label": f"{MANAGED}=true"}, ignore_removed=True
        )
    except (docker.errors.DockerException, requests.RequestException) as exc:
        log(f"stale container sweep skipped: could not list containers: {exc}")
        return removed
    for container in candidates:
        reason = stale(container.labels)
        if reason is None:
            continue
        run = container.labels.get(RUN, "?")
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            continue
        except (docker.errors.DockerException, requests.RequestException) as exc:
            log(f"could not remove stale container {container.name} of run {run}: {exc}")
            continue
        log(f"removed stale container {container.name} of run {run}: {reason}")
        removed.append(str(container.id))
    return removed
