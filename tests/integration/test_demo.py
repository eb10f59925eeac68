"""`benchaction demo` when the example's image cannot be built: it says why, then runs the same
server as a local process on a free port and still writes a report."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import docker
import pytest

from benchaction.cli import main
from tests.support.paths import EXAMPLES


def test_demo_says_why_the_build_failed_then_runs_as_a_process(
    docker_client: docker.DockerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = tmp_path / "examples" / "numpy-mlp"
    shutil.copytree(EXAMPLES / "numpy-mlp", example)
    # A build that fails the same way everywhere, offline or not: scratch has no shell to RUN.
    (example / "Dockerfile").write_text("FROM scratch\nRUN echo building\n")
    monkeypatch.chdir(tmp_path)  # the demo looks for examples/numpy-mlp/bench.yml here first
    code = main(["demo", "--trials", "1", "-q", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 0, err[-3000:]
    reason = err[err.index("demo: the Docker image could not be prepared:") :]
    first = reason.splitlines()[1:4]
    assert re.match(r"  image build failed at `Step 2/\d+ : RUN echo building`$", first[0]), reason
    assert first[1] == f"    Dockerfile: {example / 'Dockerfile'}"
    assert first[2].startswith("    error: "), reason
    assert "demo: running the example as a local process instead" in reason
    assert "runtime: process (server.runtime is `process`" in reason
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## bench-action: numpy-mlp" in report
    assert "### predict-small-batch" in report
