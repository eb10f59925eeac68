"""End to end on a real Docker engine: build the example, benchmark it, leave nothing behind."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import jsonschema
import pytest

from benchaction.config import load_config
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.results import load_results, results_schema
from benchaction.serving import RUN
from tests.support.paths import EXAMPLES

pytestmark = pytest.mark.docker

EXAMPLE = EXAMPLES / "numpy-mlp" / "bench.yml"


def _overrides(base_image: str, port: int, duration: str = "3s") -> dict[str, object]:
    return {
        "trials": 2,
        "server": {
            "runtime": "docker",
            "port": port,
            "build": {"args": {"BASE_IMAGE": base_image}},
        },
        # Server and client share this machine's two cores: the client's own lateness is not
        # what these tests are about (tests/integration/test_engine_open_loop.py is).
        "scenarios": {
            "*": {"duration": duration, "warmup": "0.5s", "limits": {"dispatch_lag_p99": "1s"}}
        },
    }


def _ours(client: docker.DockerClient, run_id: str) -> list[str]:
    found = client.containers.list(all=True, filters={"label": f"{RUN}={run_id}"})
    return [c.name or c.id or "?" for c in found]


def test_example_benchmark_in_docker(
    docker_client: docker.DockerClient, base_image: str, free_port: int, run_id: str, tmp_path: Path
) -> None:
    config = load_config(EXAMPLE, overrides=_overrides(base_image, free_port))
    outcome = run_benchmark(
        config, RunOptions(output_dir=tmp_path, run_id=run_id), ProgressDisplay(io.StringIO())
    )
    assert outcome.error is None, outcome.error
    doc = load_results(outcome.results_path)
    jsonschema.Draft202012Validator(results_schema()).validate(doc)
    assert doc["status"] == "complete"
    assert doc["server"]["runtime"] == "docker"
    image = doc["server"]["image"]
    assert image["source"] == "build" and image["size_bytes"] > 0
    assert image["id"].startswith("sha256:")
    # A fresh container per trial: two instances, each with its own cold start.
    assert len(doc["instances"]) == 2
    assert all(i["cold_start_s"] > 0 and i["container_id"] for i in doc["instances"])
    assert doc["instances"][0]["container_id"] != doc["instances"][1]["container_id"]
    predict = doc["scenarios"][0]
    assert predict["name"] == "predict-small-batch"
    for trial in predict["trials"]:
        assert trial["valid"], trial["invalid_reasons"]
        assert trial["window"]["duration_s"] == pytest.approx(3.0)
        # 4 keep-alive connections: a 40 ms Nagle/delayed-ACK stall per answer would cap this near 90.
        assert trial["throughput_rps"] > 150
        assert trial["latency_ms"]["p50"] < 30
        assert trial["errors"] == {}
        # Docker's stats stream of the server container, over the window: it was busy serving.
        container = trial["telemetry"]["container"]
        assert container["samples"] >= 2 and container["cpu_mean_pct"] > 1
        assert container["memory_max_bytes"] > 1 << 20
        # No GPU was given to the server: said so, never an error.
        assert trial["telemetry"]["gpu"]["status"] == "unavailable"
    assert doc["gpu"] == {
        "available": False,
        "reason": "the server gets no GPU (server.gpus is not set)",
    }
    assert doc["host"]["docker_version"]
    assert _ours(docker_client, run_id) == []
    assert docker_client.networks.list(filters={"label": f"{RUN}={run_id}"}) == []


def test_sigterm_mid_run_removes_container_and_keeps_results(
    docker_client: docker.DockerClient, base_image: str, free_port: int, run_id: str, tmp_path: Path
) -> None:
    """The entrypoint is PID 1 in the action: SIGTERM must still remove what it started."""
    cfg = tmp_path / "bench.yml"
    for name in ("payloads.jsonl", "labelled.jsonl"):  # the files the example's config names
        (tmp_path / name).write_bytes((EXAMPLE.parent / name).read_bytes())
    cfg.write_text(
        EXAMPLE.read_text()
        + f"""
  sigterm:
    server:
      runtime: docker
      port: {free_port}
      build:
        args: {{BASE_IMAGE: "{base_image}"}}
        context: {EXAMPLE.parent}
    scenarios:
      "*": {{duration: 30s, warmup: 0s}}
"""
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchaction",
            "run",
            "-c",
            str(cfg),
            "--profile",
            "sigterm",
            "-o",
            str(out),
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 120
        labelled = []
        while time.monotonic() < deadline and proc.poll() is None:
            labelled = docker_client.containers.list(
                filters={"label": "io.benchaction.managed=true", "status": "running"}
            )
            labelled = [
                c
                for c in labelled
                if c.labels.get("io.benchaction.owner", "").startswith(f"pid:{proc.pid}:")
            ]
            if labelled:
                break
            time.sleep(0.2)
        assert labelled, "the benchmark never started its container"
        time.sleep(2.0)  # let it measure something
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    remaining = docker_client.containers.list(
        all=True, filters={"label": "io.benchaction.managed=true"}
    )
    assert [c for c in remaining if c.id == labelled[0].id] == []
    doc = load_results(out / "results.json")
    assert doc["status"] == "partial"
    assert "SIGTERM" in doc["error"]
