"""The whole pipeline on the OpenAI-compatible example: streaming metrics, SLOs, a sweep that stops
at saturation, the results schema and the report."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from benchaction.config import load_config
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.report import render_markdown
from benchaction.results import results_schema
from tests.support.streamserver import stream_server


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with stream_server(PREFILL_MS="30", TOKEN_MS="4") as p:
        yield p


def _config(folder: Path, port: int) -> Path:
    path = folder / "bench.yml"
    path.write_text(
        f"""
version: 1
name: llm
server:
  url: http://127.0.0.1:{port}
scenarios:
  - name: chat
    protocol: openai
    openai:
      model: tiny-stream
      prompts: ["one two three", "four five"]
      max_tokens: 12
    concurrency: 4
    requests: 120
    warmup: {{requests: 8}}
    slo: {{ttft: 200ms, tpot: 20ms}}
    limits: {{dispatch_lag_p99: 1s}}
  - name: capped
    protocol: openai
    openai:
      endpoint: completions
      model: tiny-stream
      prompts: ["hello"]
      max_tokens: 10
      extra_body: {{x_token_ms: 2}}
    rate: 80
    max_concurrency: 8
    duration: 1.5s
    sweep: {{rate: [80, 400, 800]}}
    # This test is about the sweep, not this shared machine's timer jitter.
    limits: {{dispatch_lag_p99: 1s}}
trials: 2
"""
    )
    return path


@pytest.fixture(scope="module")
def doc(port: int, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("llm")
    config = load_config(_config(folder, port))
    outcome = run_benchmark(
        config, RunOptions(output_dir=folder / "out", run_id="llm"), ProgressDisplay(io.StringIO())
    )
    assert outcome.error is None, outcome.error
    return outcome.document


def test_streaming_trials_carry_token_metrics_and_goodput(doc: dict) -> None:
    jsonschema.Draft202012Validator(results_schema()).validate(doc)
    chat = doc["scenarios"][0]
    assert chat["name"] == "chat" and chat["load"]["protocol"] == "openai"
    for trial in chat["trials"]:
        assert trial["valid"], trial["invalid_reasons"]
        assert trial["counts"]["succeeded"] == 120
        # The server waits 30 ms before the first token and 4 ms between tokens.
        assert 30 <= trial["ttft_ms"]["p50"] < 45
        assert 3.5 < trial["tpot_ms"]["p50"] < 5.5
        assert trial["tokens"]["output_total"] == 120 * 12
        # Tokens whose arrival falls in W, per second of W: close to 12 per answer.
        assert trial["output_tokens_per_s"] == pytest.approx(12 * trial["throughput_rps"], rel=0.1)
        assert trial["slo_attainment"] == pytest.approx(1.0)
        assert trial["vllm"]["completed"] == 120
        assert trial["telemetry"]["gpu"]["status"] == "unavailable"
        assert trial["vllm"]["mean_ttft_ms"] > 0


def test_the_sweep_stops_once_the_capped_server_saturates(doc: dict) -> None:
    points = [s for s in doc["scenarios"] if s.get("sweep", {}).get("of") == "capped"]
    assert [p["sweep"]["value"] for p in points] == [80, 400, 800]
    first, second, third = points
    # 8 connections x ~50 ms per answer serve ~160 req/s: 80/s keeps up, 400/s does not.
    assert len(first["trials"]) == 2 and "skipped" not in first
    assert all(t["valid"] for t in first["trials"]), first["trials"][0]["invalid_reasons"]
    assert len(second["trials"]) == 2
    assert not second["trials"][0]["valid"]
    assert third["trials"] == [] and "saturated at capped rate=400/s" in third["skipped"]


def test_the_report_draws_the_sweep_and_the_token_rows(doc: dict) -> None:
    text = render_markdown(doc)
    assert "TTFT" in text and "TPOT" in text
    assert "Throughput vs latency: capped" in text
    assert "saturated" in text
