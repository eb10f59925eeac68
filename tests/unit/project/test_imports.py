"""Every module imports on its own in a fresh interpreter: an import cycle only shows in some orders."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import benchaction


def _modules() -> list[str]:
    found = ["benchaction"]
    for info in pkgutil.walk_packages(benchaction.__path__, "benchaction."):
        if not info.name.endswith("__main__"):
            found.append(info.name)
    return found


def _import_alone(name: str) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import {name}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return name, done.stderr.strip().splitlines()[-1] if done.returncode else ""


def test_each_module_imports_first() -> None:
    names = _modules()
    assert "benchaction.report.comment" in names and "benchaction.flow.verdict" in names
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = {n: err for n, err in pool.map(_import_alone, names) if err}
    assert failures == {}
