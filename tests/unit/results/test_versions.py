"""Results of every version keep loading; newer ones and other tools' JSON are refused with why."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from benchaction import __version__
from benchaction.cli import main
from benchaction.errors import ResultsError
from benchaction.results import (
    RESULTS_MIGRATIONS,
    SCHEMA_VERSION,
    Migrations,
    document_values,
    load_results,
    results_schema,
    upgrade_results,
    validate_results,
)

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS = Path(__file__).parents[3] / "benchaction" / "results" / "schemas"


def fixture(version: int) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / f"results-v{version}.json").read_text())
    return doc


def migrate_v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """The made-up schema 0 called `scenarios` `scenario_results`."""
    doc["scenarios"] = doc.pop("scenario_results")
    return doc


def as_v0(doc: dict[str, Any]) -> dict[str, Any]:
    old = copy.deepcopy(doc)
    old["schema_version"] = 0
    old["scenario_results"] = old.pop("scenarios")
    return old


WITH_V0 = RESULTS_MIGRATIONS.with_step(0, migrate_v0_to_v1)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_a_stored_document_of_every_version_still_loads(version: int) -> None:
    doc = load_results(FIXTURES / f"results-v{version}.json")
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["tool"]["name"] == "bench-action"
    values = document_values(doc)
    assert sorted(values) == ["ping", "predict"]
    assert all(len(metrics["throughput_rps"]) == 2 for metrics in values.values())  # two trials


def test_every_version_has_its_fixture_and_only_the_current_schema_is_checked() -> None:
    stored = sorted(p.name for p in FIXTURES.glob("results-v*.json"))
    assert stored == [f"results-v{n}.json" for n in range(1, SCHEMA_VERSION + 1)]
    assert RESULTS_MIGRATIONS.current == SCHEMA_VERSION
    assert RESULTS_MIGRATIONS.oldest == 1
    assert (SCHEMAS / f"results-v{SCHEMA_VERSION}.schema.json").is_file()
    assert results_schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_a_test_migration_upgrades_an_older_file_on_load(tmp_path: Path) -> None:
    current = fixture(SCHEMA_VERSION)
    old = as_v0(current)
    kept = copy.deepcopy(old)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(old))
    assert load_results(path, migrations=WITH_V0) == current
    assert upgrade_results(old, migrations=WITH_V0) == current
    assert old == kept  # the caller's document is not changed


def test_without_its_step_an_older_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(as_v0(fixture(1))))
    with pytest.raises(ResultsError) as caught:
        load_results(path)
    assert str(caught.value) == (
        f"{path}: results schema 0 is older than any this bench-action {__version__} can "
        "upgrade (the oldest is 1); re-run the benchmark that wrote it with this bench-action"
    )


def test_an_older_file_the_step_cannot_read_names_version_and_file() -> None:
    old = as_v0(fixture(1))
    del old["scenario_results"]
    with pytest.raises(ResultsError, match=r"^base.json: cannot upgrade results schema 0 to 1 "):
        upgrade_results(old, source="base.json", migrations=WITH_V0)
    broken = as_v0(fixture(1))
    broken["scenario_results"] = "nope"
    with pytest.raises(ResultsError, match=r"after upgrading it from schema 0\):\n  - scenarios"):
        upgrade_results(broken, source="base.json", migrations=WITH_V0)


def test_migrations_must_go_step_by_step() -> None:
    with pytest.raises(ValueError, match="need one from each of"):
        Migrations(key="schema_version", current=3, steps={1: migrate_v0_to_v1})
    with pytest.raises(ValueError, match="need one from each of"):
        RESULTS_MIGRATIONS.with_step(-1, migrate_v0_to_v1)  # a gap at 0
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        WITH_V0.upgrade({"schema_version": 5})


def test_a_newer_document_says_which_bench_action_reads_it(tmp_path: Path) -> None:
    newer = fixture(1)
    newer["schema_version"] = SCHEMA_VERSION + 1
    newer["tool"]["version"] = "2.3.0"
    path = tmp_path / "base.json"
    path.write_text(json.dumps(newer))
    with pytest.raises(ResultsError) as caught:
        load_results(path)
    assert str(caught.value) == (
        f"{path}: written by bench-action 2.3.0 (results schema {SCHEMA_VERSION + 1}); this "
        f"bench-action {__version__} reads up to {SCHEMA_VERSION}; use bench-action >= 2.3.0 "
        "to compare with it"
    )
    newer["tool"]["version"] = "2.3.0\n<img src=x>"
    with pytest.raises(ResultsError, match=r"written by a newer bench-action .* release that"):
        validate_results(newer, source="base.json")


GITHUB_ERROR = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest/actions/artifacts",
    "status": "404",
}
PYTEST_BENCHMARK = {
    "machine_info": {"node": "ci", "python_version": "3.11.9"},
    "commit_info": {"id": "a" * 40, "branch": "main"},
    "benchmarks": [{"name": "test_predict", "stats": {"min": 0.001, "mean": 0.0012}}],
    "datetime": "2026-11-20T10:00:00",
    "version": "5.1.0",
}
WRK_REPORT = {  # what the usual wrk `done()` Lua reporter writes
    "duration_us": 10_000_000,
    "requests": 48123,
    "bytes": 5_000_000,
    "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0},
    "latency": {"min": 310, "max": 9120, "mean": 820.5, "stdev": 120.2},
}


@pytest.mark.parametrize(
    ("doc", "looks", "keys"),
    [
        (GITHUB_ERROR, "a GitHub API error ('Not Found')", "'message', 'documentation_url'"),
        (PYTEST_BENCHMARK, "pytest-benchmark output", "'machine_info', 'commit_info'"),
        (WRK_REPORT, "JSON of another tool", "'duration_us', 'requests', 'bytes', 'errors'"),
        (
            {"format": "bench-action-history", "version": 1, "config": "svc", "runs": []},
            "a bench-action history file",
            "'format', 'version', 'config', 'runs'",
        ),
        (
            {"schema_version": 1, "tool": {"name": "locust", "version": "2.0"}},
            "written by 'locust'",
            "'schema_version', 'tool'",
        ),
        ({}, "JSON of another tool", "an empty object"),
    ],
)
def test_another_tools_json_says_what_it_looks_like(doc: Any, looks: str, keys: str) -> None:
    with pytest.raises(ResultsError) as caught:
        upgrade_results(doc, source="results.json")
    message = str(caught.value)
    assert message.startswith(
        f"results.json: not a bench-action results document (it looks like {looks}"
    )
    assert keys in message
    assert "None" not in message
    assert "`benchaction run`" in message  # how to fix


def test_many_keys_are_cut_short_and_a_non_object_is_named() -> None:
    with pytest.raises(ResultsError, match=r"'k7', \.\.\. \(12 keys\)\); bench-action"):
        upgrade_results({f"k{i}": i for i in range(12)})
    with pytest.raises(ResultsError, match=r"the top level is a list, not an object"):
        upgrade_results([{"schema_version": 1}])


@pytest.mark.parametrize("version", [None, "1", True, 1.0])
def test_our_document_without_a_usable_version_is_refused(version: Any) -> None:
    doc = fixture(1)
    if version is None:
        del doc["schema_version"]
    else:
        doc["schema_version"] = version
    with pytest.raises(ResultsError, match="a bench-action results document without a usable"):
        upgrade_results(doc)


def test_the_cli_prints_the_message_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(GITHUB_ERROR))
    assert main(["report", str(path)]) == 2  # a foreign file is bad input (errors.ExitCode)
    assert f"error: {path}: not a bench-action results document" in capsys.readouterr().err
