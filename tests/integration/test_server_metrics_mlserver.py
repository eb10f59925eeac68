"""A bench-action run against a real MLServer (process runtime) records MLServer's own metrics.

Its request counters, scraped around each measurement window from the metrics port, must
agree with what the load engine sent in the window: exactly when the window opens with the
load, and within the window alignment (requests in flight at its start, and the requests
between the two scrapes the start is interpolated from) after a warmup.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from benchaction.config import load_config
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.report import render_markdown
from benchaction.results import validate_results
from tests.support.mlserver import (
    IRIS_ROWS,
    MODEL_NAME,
    READY_PATH,
    MLServerPorts,
    iris_repository,
    iris_request,
    mlserver_command,
    mlserver_env,
    running_mlserver,
    write_dockerfile,
)

pytestmark = pytest.mark.slow

CONCURRENCY = 2


def _config(folder: Path, ports: MLServerPorts) -> Path:
    repo = iris_repository(folder / "models")
    write_dockerfile(folder)
    body = json.dumps(iris_request([row for row, _ in IRIS_ROWS]))
    path = folder / "bench.yml"
    path.write_text(
        f"""
version: 1
name: mlserver-iris
server:
  build: {{context: .}}
  runtime: process
  port: {ports.http}
  env: {json.dumps(mlserver_env(ports))}
  process: {{command: {json.dumps(mlserver_command(repo))}}}
  ready: {{path: {READY_PATH}, timeout: 90s}}
  metrics: {{path: /metrics, port: {ports.metrics}, interval: 200ms}}
scenarios:
  - name: counted
    method: POST
    path: /v2/models/{MODEL_NAME}/infer
    headers: {{Content-Type: application/json}}
    payloads: [{json.dumps(body)}]
    concurrency: {CONCURRENCY}
    requests: 150
    check: {{status: 200}}
  - name: warmed
    method: POST
    path: /v2/models/{MODEL_NAME}/infer
    headers: {{Content-Type: application/json}}
    payloads: [{json.dumps(body)}]
    concurrency: {CONCURRENCY}
    warmup: 700ms
    duration: 1.5s
    check: {{status: 200}}
trials: 2
isolation: off
"""
    )
    return path


@pytest.fixture(scope="module")
def run_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("mlserver-run")
    config = load_config(_config(folder, MLServerPorts.free()))
    outcome = run_benchmark(
        config,
        RunOptions(output_dir=folder / "out", run_id="mlserver-metrics"),
        ProgressDisplay(io.StringIO()),
    )
    assert outcome.error is None, outcome.error
    return outcome.document


def _server(trial: dict[str, Any]) -> dict[str, Any]:
    server = trial["telemetry"]["server"]
    assert server["status"] == "ok", server
    assert server["server"] == "mlserver"
    return server


def test_request_counters_equal_the_requests_sent_when_the_window_opens_with_the_load(
    run_doc: dict[str, Any],
) -> None:
    validate_results(run_doc)
    trials = run_doc["scenarios"][0]["trials"]
    assert len(trials) == 2
    for trial in trials:
        server = _server(trial)
        sent = trial["counts"]["scheduled"]
        assert sent == 150 and trial["counts"]["succeeded"] == sent
        families = server["families"]
        assert server["start_gap_s"] == 0.0
        assert families["model_infer_request_success"]["increase"] == sent
        assert families["model_infer_request_failure"]["increase"] == 0
        assert families["rest_server_requests"]["increase"] == sent
        (series,) = families["rest_server_requests"]["series"]
        assert series["labels"]["path"] == "/v2/models/{model_name}/infer"
        assert series["labels"]["status_code"] == "200"
        duration = families["model_infer_request_duration"]
        assert duration["type"] == "summary" and duration["count"] == sent
        # The server's time per inference is below the client's time per request.
        assert 0 < duration["mean"] * 1000 < trial["latency_ms"]["mean"]
        http = families["rest_server_request_duration_seconds"]
        assert http["type"] == "histogram" and http["count"] == sent


def test_after_a_warmup_the_counters_agree_within_the_window_alignment(
    run_doc: dict[str, Any],
) -> None:
    for trial in run_doc["scenarios"][1]["trials"]:
        server = _server(trial)
        measured = trial["counts"]["scheduled"]
        increase = server["families"]["model_infer_request_success"]["increase"]
        # Off by at most the requests in flight at W's start, plus those answered between
        # the two scrapes the start value is interpolated from.
        slack = CONCURRENCY + trial["throughput_rps"] * server["start_gap_s"]
        assert abs(increase - measured) <= slack, (increase, measured, slack)
        assert server["start_gap_s"] <= 0.5  # interval 200 ms, plus a scrape's own time
        in_progress = server["families"]["rest_server_requests_in_progress"]
        assert in_progress["type"] == "gauge" and in_progress["samples"] >= 3
        assert 0 <= in_progress["min"] <= in_progress["max"] <= CONCURRENCY


def test_the_report_shows_the_server_metrics_table(run_doc: dict[str, Any]) -> None:
    text = render_markdown(run_doc)
    assert "Server metrics (detected mlserver)" in text
    assert "| model\\_infer\\_request\\_success | increase | 150 | 150 – 150 |" in text


def test_the_helper_serves_the_known_iris_labels(tmp_path: Path) -> None:
    repo = iris_repository(tmp_path)
    with running_mlserver(repo, MLServerPorts.free()) as server:
        answer = requests.post(
            server.infer_url, json=iris_request([r for r, _ in IRIS_ROWS]), timeout=10
        )
        metrics = requests.get(server.metrics_url, timeout=5).text
    assert answer.status_code == 200
    (output,) = answer.json()["outputs"]
    assert output["data"] == [label for _, label in IRIS_ROWS]
    assert "model_infer_request_success_total" in metrics
