"""One exit-code table for the CLI and the action: 0 pass, 1 regression or failure, 2 bad input, 130."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchaction.cli import main
from benchaction.errors import (
    Cancelled,
    ConfigError,
    ExitCode,
    HistoryError,
    ResultsError,
    ServingError,
    UsageError,
    error_text,
    exit_code,
)
from tests.support.paths import REPO_ROOT


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (None, 0),
        (ServingError("the container exited"), 1),
        (RuntimeError("a bug"), 1),
        (ConfigError(["bench.yml:3: server: required key is missing"]), 2),
        (UsageError("bench.yml exists"), 2),
        (ResultsError("base.json: not valid JSON"), 2),
        (HistoryError("store/x.json: not a bench-action history file"), 2),
        (KeyboardInterrupt(), 130),
        (Cancelled("cancelled (SIGTERM)"), 130),
    ],
)
def test_exit_code_of_each_ending(error: BaseException | None, code: int) -> None:
    assert exit_code(error) == code


def test_a_bare_ctrl_c_is_named_sigint() -> None:
    assert error_text(KeyboardInterrupt()) == "cancelled (SIGINT)"
    assert error_text(Cancelled("cancelled (SIGTERM)")) == "cancelled (SIGTERM)"
    assert error_text(RuntimeError()) == "RuntimeError"


def _table(path: Path, heading: str) -> dict[int, str]:
    """The `| code | when |` rows under `heading` in a markdown file."""
    text = path.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| (.+) \|$", section, re.M)}


def test_the_documented_tables_are_the_enum() -> None:
    codes = {int(c) for c in ExitCode}
    cli = _table(REPO_ROOT / "docs" / "cli.md", "## Exit codes")
    action = _table(REPO_ROOT / "docs" / "action.md", "## Exit code")
    assert set(cli) == set(action) == codes
    for table in (cli, action):
        assert "gate" in table[1] and "benchmark failed" in table[1]
        assert "results" in table[2] and "history" in table[2]
        assert "SIGINT" in table[130] or "cancelled" in table[130]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--no-such-flag"])
    assert info.value.code == 2
    assert main(["run", "--concurrency", "3"]) == 2
    assert "--concurrency: only with --url" in capsys.readouterr().err


def test_a_missing_bench_yml_hints_at_init_and_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for argv in (["run"], ["validate"], ["validate", "-c", "elsewhere/bench.yml"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "bench.yml: file not found" in err
        assert "benchaction init" in err and "benchaction run --url" in err


def test_a_foreign_results_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "pytest-benchmark.json"
    foreign.write_text(json.dumps({"benchmarks": [], "machine_info": {}}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1,')
    assert main(["report", str(foreign)]) == 2
    assert main(["compare", str(broken), str(foreign)]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON" in err and str(broken) in err
