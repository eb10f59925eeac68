"""House rules the import-linter contracts cannot see: who reads the environment, what tests import."""

from __future__ import annotations

import ast
from pathlib import Path

import benchaction
from tests.support.paths import REPO_ROOT

PACKAGE = Path(benchaction.__file__).parent
TESTS = REPO_ROOT / "tests"
# Only the front doors turn the environment into settings; everything below takes values.
READERS = {"cli.py", "action/context.py", "action/main.py", "action/settings.py"}
# A process server inherits the caller's environment like any subprocess; when no caller passed
# one (direct use of ProcessRuntime), that is this process's own.
INHERITS = {"serving/process.py"}


def _environment_reads(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        reads = isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb")
        imports = (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in ("environ", "getenv") for a in node.names)
        )
        if reads or imports:
            lines.append(node.lineno)
    return lines


def test_only_the_front_doors_read_the_environment() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in READERS | INHERITS:
            continue
        if lines := _environment_reads(path):
            found[rel] = lines
    assert found == {}, f"modules below action/ and cli.py read the environment: {found}"


def test_the_environment_check_sees_a_read(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom os import getenv\nx = os.environ.get('A')\n")
    assert _environment_reads(probe) == [2, 3]


# CPU affinity: the front doors read the cores a run may use (RunOptions.cpus), and below them
# it is only applied (the load workers, the process server's start) or reported (the host
# fingerprint, and the engine's core count when a caller gives none).
AFFINITY = {
    "cli.py",
    "action/main.py",
    "engine/workers.py",
    "serving/process.py",
    "hostinfo.py",
    "engine/plan.py",
}


def test_only_the_front_doors_read_the_cpu_affinity() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute | ast.alias)
            and getattr(node, "attr", getattr(node, "name", "")).startswith("sched_")
        ]
        if calls and rel not in AFFINITY:
            found[rel] = calls
    assert found == {}, f"modules read or set CPU affinity outside {sorted(AFFINITY)}: {found}"


def _test_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        out += [n for n in names if n == "tests" or n.startswith("tests.")]
    return out


def test_tests_share_code_only_through_support() -> None:
    found = {}
    for path in sorted(TESTS.rglob("*.py")):
        if "support" in path.relative_to(TESTS).parts:
            continue
        bad = [m for m in _test_imports(path) if not m.startswith("tests.support")]
        if bad:
            found[path.relative_to(TESTS).as_posix()] = bad
    assert found == {}, f"test modules import other test modules: {found}"
