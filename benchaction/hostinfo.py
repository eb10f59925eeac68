"""Facts about the machine and checkout a run happened on, so results say where they came from."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["git_info", "host_fingerprint"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def host_fingerprint(docker_version: str | None) -> dict[str, Any]:
    """CPU model, cores, OS and Docker version: what must match for two runs to be comparable."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 1
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count() or 1,
        "usable_cores": usable,
        "os": _os_name(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "docker_version": docker_version,
    }


def _git(folder: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def git_info(folder: Path) -> dict[str, Any] | None:
    """The commit and ref of the checkout holding `folder`, or None outside a git repository."""
    sha = _git(folder, "rev-parse", "HEAD")
    if sha is None:
        return None
    ref = _git(folder, "symbolic-ref", "-q", "HEAD")
    dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return {"sha": sha, "ref": ref, "dirty": bool(dirty)}
