"""The README's promises: exactly two set-up commands and CI runs the second.

That the first produces a report is tests/e2e/test_readme_demo.py.
"""

from __future__ import annotations

from tests.support.paths import REPO_ROOT
from tests.support.readme import setup_commands


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = setup_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].endswith("benchaction demo")
    assert commands[1].endswith("-m pytest")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert setup_commands()[1] in ci
