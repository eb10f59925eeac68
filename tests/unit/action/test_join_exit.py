"""The join's exit code follows the one table: a broken leg file is bad input (2), not a failure (1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchaction.action.join import run_join
from benchaction.action.settings import ActionSettings, input_env_name, read_settings
from benchaction.errors import ExitCode


def _settings(workspace: Path) -> ActionSettings:
    env = {"GITHUB_WORKSPACE": str(workspace)}
    env.update({input_env_name(k): v for k, v in {"mode": "join", "join-dir": "legs"}.items()})
    return read_settings(env)


def test_a_foreign_leg_record_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bench.yml").write_text("version: 1\n")
    leg = tmp_path / "legs" / "bench-a100"
    leg.mkdir(parents=True)
    (leg / "verdict.json").write_text('{"benchmarks": []}')
    assert run_join(_settings(tmp_path)) == ExitCode.USAGE
    assert "not a bench-action leg record" in capsys.readouterr().out


def test_no_legs_at_all_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bench.yml").write_text("version: 1\n")
    (tmp_path / "legs").mkdir()
    assert run_join(_settings(tmp_path)) == ExitCode.USAGE
    assert "no leg results to join" in capsys.readouterr().out
