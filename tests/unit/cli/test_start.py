"""The CLI starts without the heavy libraries; the packages that load them lazily still export all."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from benchaction import cli, history
from benchaction.commands import history as history_command
from tests.support.paths import EXAMPLES

HEAVY = ("scipy", "numpy", "jsonschema", "jinja2", "docker", "uvloop", "benchaction.flow")

_PROBE = """
import sys
from benchaction.cli import main
code = main(sys.argv[1:])
heavy = sorted({m for m in sys.modules for h in HEAVY if m == h or m.startswith(h + ".")})
print(code, ",".join(heavy))
"""


def _loaded_by(*argv: str) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{_PROBE}", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    code, _, heavy = done.stdout.strip().splitlines()[-1].partition(" ")
    return code, heavy


@pytest.mark.parametrize(
    "argv",
    [
        ("validate", "-c", str(EXAMPLES / "numpy-mlp" / "bench.yml")),
        ("validate", "-c", str(EXAMPLES / "openai-stream" / "bench.yml"), "--profile", "full"),
    ],
)
def test_validate_loads_no_heavy_library(argv: tuple[str, ...]) -> None:
    assert _loaded_by(*argv) == ("0", "")


def test_the_probe_sees_a_heavy_import() -> None:
    # `report` renders with jinja2 and reads the schema with jsonschema: the probe must say so.
    code, heavy = _loaded_by("report", "/nonexistent/results.json")
    assert code == "2" and "jsonschema" in heavy.split(",")


def test_version_and_help_load_no_heavy_library() -> None:
    for flag in ("--version", "--help"):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\nfrom benchaction.cli import main\n"
                f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass\n"
                f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("package", ["benchaction.stats", "benchaction.results"])
def test_lazy_exports_are_the_modules_objects(package: str) -> None:
    module = importlib.import_module(package)
    lazy: dict[str, str] = module._LAZY
    assert lazy and set(lazy) <= set(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)  # every export resolves, lazy or not
        if name in lazy:
            assert getattr(importlib.import_module(f"{package}.{lazy[name]}"), name) is value
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        module.nope  # noqa: B018


def test_history_default_is_the_stores() -> None:
    assert history_command._DEFAULT_MAX_RUNS == history.DEFAULT_MAX_RUNS


def _options(parser: argparse.ArgumentParser, where: str) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _options(sub, f"{where} {name}")
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            found.append((where, action))
    return found


def test_every_option_has_help_that_shows_its_default() -> None:
    parser = cli._parser()
    options = _options(parser, "benchaction")
    assert len(options) > 40
    for where, action in options:
        assert action.help, f"{where} {action.dest}: no help text"
        if not action.option_strings or action.required:
            continue  # positional or required: no default to show
        text = parser._get_formatter()._get_help_string(action) or ""
        assert "default" in text, f"{where} {'/'.join(action.option_strings)}: {text!r}"
