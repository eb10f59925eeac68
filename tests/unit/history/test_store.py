"""The history file: compact records, idempotent bounded adds, and refusals that lose nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchaction.errors import HistoryError
from benchaction.history import (
    LocalStore,
    add_record,
    dump_history,
    file_name,
    new_history,
    parse_history,
    record_of,
)
from benchaction.results import metric_by_name, trial_values
from tests.support.history import run_doc, stored


def test_a_record_keeps_every_valid_trial_value_and_the_provenance() -> None:
    doc = run_doc(3, 1.1)
    record = record_of(doc, {"key": "gh-9", "url": "https://example.test/runs/9"})
    p50 = trial_values(doc["scenarios"][0]["trials"], metric_by_name("latency_p50_ms"))
    assert record["scenarios"]["predict"]["values"]["latency_p50_ms"] == pytest.approx(
        p50, rel=1e-6
    )
    assert len(p50) == 5
    assert record["key"] == "gh-9" and record["url"] == "https://example.test/runs/9"
    assert record["commit"] == doc["git"]["sha"] and record["date"] == doc["created_at"]
    assert record["profile"] == "pr" and record["config_hash"] == doc["config"]["hash"]
    assert record["image"] == {
        "ref": "benchaction/numpy-mlp:1",
        "id": "sha256:" + "2" * 64,
        "size_bytes": 200_000_000,
        "source": "build",
    }
    assert len(record["fingerprint"]) == 8


def test_the_runner_fingerprint_follows_the_host_and_not_the_commit() -> None:
    a, b = run_doc(1), run_doc(2)
    assert record_of(a)["fingerprint"] == record_of(b)["fingerprint"]
    b["host"]["cpu_model"] = "EPYC"
    assert record_of(a)["fingerprint"] != record_of(b)["fingerprint"]


def test_without_a_run_key_the_same_results_give_the_same_key() -> None:
    assert record_of(run_doc(1))["key"] == record_of(run_doc(1))["key"]
    assert record_of(run_doc(1))["key"] != record_of(run_doc(2))["key"]


def test_adding_is_idempotent_replaces_by_key_keeps_date_order_and_bounds_the_runs() -> None:
    history = new_history("numpy-mlp")
    for i in (2, 0, 1):
        history, added = add_record(history, stored(i))
        assert added.how == "added"
    assert [r["key"] for r in history["runs"]] == ["gh-1000", "gh-1001", "gh-1002"]
    same, added = add_record(history, stored(1))
    assert added.how == "unchanged" and same is history
    rerun = stored(1, factor=1.3)
    replaced, added = add_record(history, rerun)
    assert added.how == "replaced" and added.runs == 3
    assert replaced["runs"][1] == rerun and history["runs"][1] != rerun  # input untouched
    bounded, added = add_record(replaced, stored(3), max_runs=2)
    assert added.dropped == 2 and [r["key"] for r in bounded["runs"]] == ["gh-1002", "gh-1003"]


def test_the_file_round_trips_one_run_a_line() -> None:
    history = new_history("numpy-mlp")
    for i in range(3):
        history, _ = add_record(history, stored(i))
    text = dump_history(history)
    assert len(text.splitlines()) == 5  # opening, three runs, closing
    assert parse_history(text, "x") == history
    assert parse_history(dump_history(new_history("a")), "x")["runs"] == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"schema_version": 1, "scenarios": []}), "not a bench-action history file"),
        (json.dumps([1, 2]), "not a bench-action history file"),
        (
            json.dumps({"format": "bench-action-history", "version": 7, "runs": []}),
            "written by a newer bench-action (history version 7",
        ),
        (
            json.dumps({"format": "bench-action-history", "version": 1, "runs": [{"key": "x"}]}),
            "run 0 lacks date, config_hash, fingerprint, scenarios",
        ),
        (
            json.dumps({"format": "bench-action-history", "version": 1, "runs": {}}),
            "`runs` is dict, expected a list",
        ),
    ],
)
def test_a_file_this_version_cannot_read_is_refused_with_why(text: str, words: str) -> None:
    with pytest.raises(HistoryError, match=words.replace("(", r"\(")):
        parse_history(text, "bench-history/numpy-mlp.json")


def test_the_folder_store_never_overwrites_a_file_it_cannot_read(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store.add(stored(0), "numpy-mlp").how == "added"
    assert store.add(stored(0), "numpy-mlp").how == "unchanged"
    path = tmp_path / "numpy-mlp.json"
    newer = json.dumps({"format": "bench-action-history", "version": 2, "runs": []})
    path.write_text(newer)
    with pytest.raises(HistoryError, match="newer bench-action"):
        store.add(stored(1), "numpy-mlp")
    assert path.read_text() == newer
    assert [p.name for p in tmp_path.iterdir()] == ["numpy-mlp.json"]  # no temporary left


def test_file_names_are_safe_for_paths_and_urls() -> None:
    assert file_name("numpy-mlp") == "numpy-mlp.json"
    assert file_name("../my model/v2") == "my-model-v2.json"
    assert file_name("///") == "config.json"


def test_max_runs_below_one_is_refused() -> None:
    with pytest.raises(HistoryError, match="at least 1"):
        add_record(new_history("a"), stored(0), max_runs=0)
