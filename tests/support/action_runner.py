"""Running the action image as the GitHub runner does: image builds, the runner's workspace and
the finished run (outputs, summary), and the containers a run leaves behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

WORKSPACE_UID = 1001  # the runner user's uid on GitHub's images; anything but root will do
BUILD_TIMEOUT_S = 900


def read_outputs(path: Path) -> dict[str, str]:
    """A GITHUB_OUTPUT file parsed as the runner does (heredoc form; a later value wins); {}
    when the action never wrote it."""
    out: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        name, _, delimiter = lines[i].partition("<<")
        end = lines.index(delimiter, i + 1)
        out[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return out


def build(
    client: docker.DockerClient,
    context: Path,
    tag: str,
    buildargs: Mapping[str, str],
    *,
    network_mode: str | None = None,
) -> str:
    """Build an image, returning its id; the test fails with the build's own output."""
    lines: list[str] = []
    image_id = None
    for item in client.api.build(
        path=str(context),
        tag=tag,
        buildargs=dict(buildargs),
        network_mode=network_mode,
        rm=True,
        forcerm=True,
        decode=True,
        timeout=BUILD_TIMEOUT_S,
    ):
        if "stream" in item:
            lines.append(str(item["stream"]))
        if "error" in item:
            pytest.fail(f"docker build of {tag} failed: {item['error']}\n{''.join(lines[-40:])}")
        if isinstance(item.get("aux"), dict) and item["aux"].get("ID"):
            image_id = str(item["aux"]["ID"])
    return image_id or str(client.images.get(tag).id)


@dataclass
class ActionRun:
    """One finished (or still running) action container and the host folders it wrote."""

    root: Path
    proc: subprocess.Popen[str]
    github_run_id: str
    stdout: str = ""
    returncode: int | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    @property
    def outputs(self) -> dict[str, str]:
        """The GITHUB_OUTPUT file parsed the way the runner parses it (heredoc form)."""
        return read_outputs(self.root / "file_commands" / "set_output")

    @property
    def summary(self) -> str:
        return (self.root / "file_commands" / "step_summary").read_text()

    def wait(self, timeout: float) -> ActionRun:
        self.stdout, _ = self.proc.communicate(timeout=timeout)
        self.returncode = self.proc.returncode
        return self


def make_workspace(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """The checkout as the runner leaves it: a folder owned by the (non-root) runner user."""
    workspace = root / "workspace"
    for rel, content in files.items():
        path = workspace / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    for folder, dirs, names in os.walk(workspace):
        os.chown(folder, WORKSPACE_UID, WORKSPACE_UID)
        for name in [*dirs, *names]:
            os.chown(os.path.join(folder, name), WORKSPACE_UID, WORKSPACE_UID)
    return workspace


def leftovers(client: docker.DockerClient, run: ActionRun) -> list[str]:
    """Containers, in any state, that this action run started (labelled with its run id)."""
    prefix = f"gh{run.github_run_id}-"
    found = client.containers.list(
        all=True, filters={"label": "io.benchaction.managed=true"}, ignore_removed=True
    )
    return [str(c.name) for c in found if c.labels.get("io.benchaction.run", "").startswith(prefix)]
