"""Accuracy end to end against servers nobody here wrote or that say which answers are wrong.

MLServer serves a scikit-learn classifier trained in the test on iris (shipped with
scikit-learn): bench-action's accuracy over the 150 flowers must equal scikit-learn's own
accuracy of the same model on the same rows, example by example; a prediction path MLServer's
answers lack is a per-example failure, not a crash. The numpy MLP example with FLIP answers a
known set of inputs wrong, and the comparison with an unflipped base finds exactly those.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import shutil
import socket
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from benchaction.config import Warmup, load_config
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.report import render_markdown
from benchaction.results import example_scores, validate_results
from benchaction.stats import StatsSettings, compare_documents
from tests.support.mlserver import (
    MODEL_NAME,
    MLServerPorts,
    iris_repository,
    iris_request,
    mlserver_command,
    mlserver_env,
    write_dockerfile,
)

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "numpy-mlp"


def _mlserver_config(folder: Path, ports: MLServerPorts) -> tuple[Path, Any, Any, Any]:
    from joblib import load
    from sklearn.datasets import load_iris

    repo = iris_repository(folder / "models")
    write_dockerfile(folder)
    features, labels = load_iris(return_X_y=True)
    with (folder / "iris.jsonl").open("w") as f:
        for row, label in zip(features, labels, strict=True):
            f.write(json.dumps({"request": iris_request([row]), "label": int(label)}) + "\n")
    model = load(repo / MODEL_NAME / "model.joblib")
    first = json.dumps([float(v) for v in features[0]])
    path = folder / "bench.yml"
    path.write_text(
        f"""
version: 1
name: mlserver-accuracy
server:
  build: {{context: .}}
  runtime: process
  port: {ports.http}
  env: {json.dumps(mlserver_env(ports))}
  process: {{command: {json.dumps(mlserver_command(repo))}}}
  ready: {{timeout: 90s}}
scenarios:
  - name: iris
    protocol: kserve-v2
    kserve:
      model: {MODEL_NAME}
      inputs: [{{name: x, datatype: FP32, shape: [1, 4], data: {first}}}]
    concurrency: 2
    requests: 100
    accuracy: {{file: iris.jsonl, prediction: outputs.0.data.0, concurrency: 3, timeout: 60s}}
  - name: wrong-path
    protocol: kserve-v2
    kserve:
      model: {MODEL_NAME}
      inputs: [{{name: x, datatype: FP32, shape: [1, 4], data: {first}}}]
    requests: 20
    accuracy: {{file: iris.jsonl, prediction: outputs.0.values.0, timeout: 60s}}
trials: 1
isolation: off
"""
    )
    return path, model, features, labels


@pytest.fixture(scope="module")
def mlserver_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Any, Any]:
    folder = tmp_path_factory.mktemp("mlserver-accuracy")
    path, model, features, labels = _mlserver_config(folder, MLServerPorts.free())
    outcome = run_benchmark(
        load_config(path),
        RunOptions(output_dir=folder / "out", run_id="mlserver-accuracy"),
        ProgressDisplay(io.StringIO()),
    )
    assert outcome.error is None, outcome.error
    return outcome.document, model.predict(features), labels


def test_accuracy_equals_scikit_learns_own_on_the_same_examples(
    mlserver_run: tuple[dict[str, Any], Any, Any],
) -> None:
    doc, predicted, labels = mlserver_run
    validate_results(doc)
    acc = doc["scenarios"][0]["accuracy"]
    right = predicted == labels
    assert acc["n"] == 150 and acc["failed"] == 0
    assert acc["correct"] == int(right.sum())
    assert acc["value"] == pytest.approx(float(right.mean()))
    assert acc["value"] < 1.0  # logistic regression misses a few flowers: the test can fail
    assert example_scores(acc) == [float(r) for r in right]


def test_a_path_the_answers_lack_is_a_failure_per_example_not_a_crash(
    mlserver_run: tuple[dict[str, Any], Any, Any],
) -> None:
    doc, _, _ = mlserver_run
    acc = doc["scenarios"][1]["accuracy"]
    assert (acc["value"], acc["failed"], len(acc["failures"])) == (0.0, 150, 10)
    assert acc["failures"][0] == {
        "example": 0,
        "reason": "path outputs.0.values not found (prediction: outputs.0.values.0)",
    }
    text = render_markdown(doc)
    assert "Accuracy: accuracy 0.0 % over 150 examples; 150 answer(s) failed (example 0:" in text


def _example_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location("numpy_mlp_server", EXAMPLE / "server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _numpy_mlp(folder: Path, flip: str) -> dict[str, Any]:
    """One trial of the example (a copy, as a local process) with FLIP set; its results."""
    shutil.copytree(EXAMPLE, folder)
    text = (folder / "bench.yml").read_text()
    assert "  port: auto\n" in text and '    STARTUP_DELAY: "0.2"\n' in text
    text = text.replace("  port: auto\n", "  port: auto\n  runtime: process\n")
    text = text.replace('    STARTUP_DELAY: "0.2"\n', f'    FLIP: "{flip}"\n')
    text = text.replace("    duration: 5s\n    warmup: 1s\n", "    requests: 200\n")
    (folder / "bench.yml").write_text(text)
    config = dataclasses.replace(load_config(folder / "bench.yml"), trials=1)
    outcome = run_benchmark(
        config,
        RunOptions(output_dir=folder / "out", run_id=f"flip-{flip}"),
        ProgressDisplay(io.StringIO()),
    )
    assert outcome.error is None, outcome.error
    return outcome.document


def test_the_examples_flip_knob_answers_a_known_set_wrong(tmp_path: Path) -> None:
    server = _example_server()
    rows = [
        json.loads(line)["request"]["inputs"][0]
        for line in (EXAMPLE / "labelled.jsonl").read_text().splitlines()
    ]
    expected = [not server.flipped(np.asarray(r, dtype=np.float32), 0.03) for r in rows]
    assert 0 < expected.count(False) < 12  # about 3 % of 200
    base = _numpy_mlp(tmp_path / "base", "0")
    head = _numpy_mlp(tmp_path / "head", "0.03")
    assert base["scenarios"][0]["accuracy"]["value"] == 1.0
    acc = head["scenarios"][0]["accuracy"]
    assert example_scores(acc) == [float(e) for e in expected]
    comparison = compare_documents(base, head, StatsSettings(min_trials=1))  # type: ignore[arg-type]
    (row,) = [r for r in comparison.rows if r.scope == "example"]
    assert row.change is not None
    assert row.change.estimate == pytest.approx(-expected.count(False) / 200)
    assert row.verdict == "regression" and comparison.failed


def test_the_openai_examples_questions_have_exact_answers(tmp_path: Path) -> None:
    example = EXAMPLE.parent / "openai-stream"
    shutil.copytree(example, tmp_path / "openai")
    config = load_config(tmp_path / "openai" / "bench.yml")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    labels = [
        json.loads(line)["label"] for line in (example / "questions.jsonl").read_text().splitlines()
    ]
    values = {}
    for wrong in ("0", "0.1"):
        server = dataclasses.replace(
            config.server, runtime="process", port=port, env={"PORT": str(port), "WRONG": wrong}
        )
        chat = dataclasses.replace(config.scenarios[0], duration_s=0.5, warmup=Warmup())
        run = dataclasses.replace(config, server=server, scenarios=(chat,), trials=1)
        outcome = run_benchmark(
            run,
            RunOptions(output_dir=tmp_path / f"out-{wrong}", run_id=f"qa-{wrong}"),
            ProgressDisplay(io.StringIO()),
        )
        assert outcome.error is None, outcome.error
        values[wrong] = outcome.document["scenarios"][0]["accuracy"]
    assert values["0"]["n"] == len(labels) == 40
    assert values["0"]["value"] == 1.0 and values["0"]["failed"] == 0
    assert 0 < values["0.1"]["correct"] < 40  # some answers one too high, none unscored
    assert values["0.1"]["failed"] == 0
