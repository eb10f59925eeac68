"""`benchaction history add | changes | build` on a folder store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchaction.cli import main
from benchaction.history import LocalStore
from tests.support.history import run_doc


def _results(tmp_path: Path, i: int, factor: float = 1.0, **changes: object) -> Path:
    doc = dict(run_doc(i, factor), **changes)
    path = tmp_path / "runs" / f"{i}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_add_is_idempotent_and_says_what_it_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    results = _results(tmp_path, 1)
    assert main(["history", "add", str(results), "--store", str(store)]) == 0
    assert "added to" in capsys.readouterr().out
    assert main(["history", "add", str(results), "--store", str(store)]) == 0
    assert "already in" in capsys.readouterr().out
    history = LocalStore(store).read("numpy-mlp")
    assert history is not None and len(history["runs"]) == 1


def test_a_run_of_another_runner_is_added_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    main(["history", "add", str(_results(tmp_path, 1)), "--store", str(store)])
    other = run_doc(2)
    other["host"]["cpu_model"] = "EPYC 9654"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(other))
    capsys.readouterr()
    assert main(["history", "add", str(path), "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert "runner fingerprint" in err and "starts a series of its own" in err


def test_an_unfinished_run_is_refused_and_the_store_is_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    main(["history", "add", str(_results(tmp_path, 1)), "--store", str(store)])
    before = (store / "numpy-mlp.json").read_text()
    partial = _results(tmp_path, 2, status="partial", error="ServingError: crashed")
    assert main(["history", "add", str(partial), "--store", str(store)]) == 2  # bad input
    assert "did not finish" in capsys.readouterr().err
    assert (store / "numpy-mlp.json").read_text() == before


def test_a_foreign_store_file_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "numpy-mlp.json").write_text('{"benchmarks": []}')
    assert main(["history", "add", str(_results(tmp_path, 1)), "--store", str(store)]) == 2
    assert "not a bench-action history file" in capsys.readouterr().err
    assert (store / "numpy-mlp.json").read_text() == '{"benchmarks": []}'


def test_changes_lists_the_shifts_of_a_known_series(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    factors = [1.0] * 12 + [1.25] * 12
    wobble = [0.0, 0.01, -0.01, 0.005, -0.005, 0.0]
    for i, f in enumerate(factors):
        path = _results(tmp_path, i, f * (1 + wobble[i % 6]))
        assert main(["history", "add", str(path), "--store", str(store), "--key", f"r{i}"]) == 0
    out = tmp_path / "changes.json"
    assert main(["history", "changes", "--store", str(store), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    (config,) = data["configs"]
    assert config["config"] == "numpy-mlp" and config["runs"] == 24
    p50 = [c for c in config["changes"] if c["metric"] == "latency_p50_ms"]
    assert {(c["scenario"], c["index"]) for c in p50} == {("predict", 12)}
    assert p50[0]["worse"] and p50[0]["commit"] == run_doc(12)["git"]["sha"]
    assert "latency p50 is" in capsys.readouterr().out


def test_changes_on_an_empty_or_missing_store_says_how_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "c.json"
    assert main(["history", "changes", "--store", str(tmp_path / "none"), "--json", str(out)]) == 2
    assert "no such history store" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["history", "changes", "--store", str(tmp_path / "empty"), "--json", str(out)]) == 2
    assert "add a run with `history add`" in capsys.readouterr().err


def test_a_history_of_one_run_says_a_change_needs_more(tmp_path: Path) -> None:
    store = tmp_path / "store"
    main(["history", "add", str(_results(tmp_path, 1)), "--store", str(store)])
    out = tmp_path / "c.json"
    assert main(["history", "changes", "--store", str(store), "--json", str(out)]) == 0
    (config,) = json.loads(out.read_text())["configs"]
    assert config["changes"] == [] and "need at least 5 runs" in config["note"]
