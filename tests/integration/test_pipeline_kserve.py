"""A KServe v2 (Open Inference Protocol) scenario end to end: the example model's /v2 API as a
local process, readiness on /v2/health/ready, typed tensors, and response checks."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from benchaction.config import load_config
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from tests.support.paths import EXAMPLES

EXAMPLE = EXAMPLES / "numpy-mlp"


def test_kserve_v2_infer_with_checks(tmp_path: Path, free_port: int) -> None:
    for name in ("server.py", "Dockerfile"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    row = ", ".join(["0.5"] * 16)
    (tmp_path / "bench.yml").write_text(
        f"""
version: 1
name: kserve
server:
  runtime: process
  build: {{context: .}}
  port: {free_port}
  process: {{command: [python3, server.py]}}
scenarios:
  - name: infer
    protocol: kserve-v2
    kserve:
      model: mlp
      inputs:
        - {{name: INPUT0, datatype: FP32, shape: [2, 16], data: [{row}, {row}]}}
      outputs: [OUTPUT0]
    check: {{status: 200, json: outputs.0.datatype, equals: FP32}}
    concurrency: 2
    requests: 150
    limits: {{dispatch_lag_p99: 1s}}  # server and client share two cores here
  - name: wrong-type
    protocol: kserve-v2
    kserve:
      model: mlp
      inputs:
        - {{name: INPUT0, datatype: FP32, shape: [1, 16], data: [{row}]}}
    check: {{json: outputs.0.shape, equals: [1, 5]}}
    concurrency: 1
    requests: 100
trials: 1
"""
    )
    config = load_config(tmp_path / "bench.yml")
    assert config.server.ready.path == "/v2/health/ready"
    assert config.scenarios[0].path == "/v2/models/mlp/infer"
    outcome = run_benchmark(
        config,
        RunOptions(output_dir=tmp_path / "out", run_id="kserve"),
        ProgressDisplay(io.StringIO()),
    )
    assert outcome.error is None, outcome.error
    infer, wrong = (s["trials"][0] for s in outcome.document["scenarios"])
    assert infer["valid"], infer["invalid_reasons"]
    assert infer["counts"]["succeeded"] == 150 and infer["errors"] == {}
    # The server answers 200 with a [1, 4] tensor: the check fails every time, with the reason.
    assert wrong["errors"] == {"check": 100}
    assert wrong["status_codes"] == {"200": 100}
    assert wrong["error_rate"] == pytest.approx(1.0)
    assert wrong["error_messages"]["check"] == ["outputs.0.shape is [1,4], expected [1,5]"]
