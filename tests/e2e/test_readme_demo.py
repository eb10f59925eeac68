"""The README's first set-up command, run verbatim in a fresh copy of the checkout, produces a report."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT
from tests.support.readme import setup_commands


def _copy_checkout(dest: Path) -> None:
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        src = REPO_ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


@pytest.mark.slow
def test_first_command_in_a_fresh_copy_produces_a_report(tmp_path: Path) -> None:
    copy = tmp_path / "bench-action"
    copy.mkdir()
    _copy_checkout(copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    done = subprocess.run(
        ["bash", "-c", setup_commands()[0]],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = (copy / "bench-results" / "report.md").read_text()
    assert "## bench-action: numpy-mlp" in report
    assert "### predict-small-batch" in report and "### health" in report
    assert "| throughput (req/s) |" in report
    assert report in done.stdout
    assert (copy / "bench-results" / "results.json").is_file()
