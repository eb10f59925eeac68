"""Results documents for tests: schema-valid, deterministic, with known latencies."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchaction.histogram import LogHistogram
from benchaction.results import ResultsDocument, new_document


def _trial(i: int, lat_ms: float, spread: float) -> dict[str, Any]:
    # Deterministic: quantiles of a log-normal, no random draws, so the golden file is stable.
    q = (np.arange(1, 2001) - 0.5) / 2000
    from scipy.stats import norm

    values = np.exp(np.log(lat_ms * 1e6) + spread * norm.ppf(q))
    dist = {
        "mean": float(values.mean() / 1e6),
        "min": float(values.min() / 1e6),
        "p50": float(np.percentile(values, 50) / 1e6),
        "p90": float(np.percentile(values, 90) / 1e6),
        "p95": float(np.percentile(values, 95) / 1e6),
        "p99": float(np.percentile(values, 99) / 1e6),
        "max": float(values.max() / 1e6),
    }
    return {
        "trial": i,
        "instance": i,
        "valid": True,
        "invalid_reasons": [],
        "window": {"start_s": 1.0, "end_s": 6.0, "duration_s": 5.0},
        "counts": {"scheduled": 2000, "succeeded": 2000, "failed": 0, "warmup": 100, "cut_off": 0},
        "errors": {},
        "status_codes": {"200": 2000},
        "error_rate": 0.0,
        "throughput_rps": 4000 / lat_ms,
        "rx_bytes_per_s": 1e5,
        "latency_ms": dist,
        "service_time_ms": dist,
        "ttfb_ms": dist,
        "dispatch_lag_ms": dict.fromkeys(dist, 0.01),
        "histogram": LogHistogram.from_values(values).to_json(),
    }


def _finished(doc: ResultsDocument, scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    """A run's `new_document`, finished: complete, with `scenarios`, created at a fixed time."""
    finished: dict[str, Any] = dict(doc)
    finished.update(created_at="2026-11-22T00:00:00+00:00", status="complete", scenarios=scenarios)
    return finished


def two_scenario_doc(name_a: str, factor_a: float, factor_b: float, sha: str) -> dict[str, Any]:
    """A complete, schema-valid results document: scenario `name_a` (2 ms) and `health` (0.5 ms),
    five trials each, latencies scaled by `factor_a` and `factor_b`; `sha` is its git commit."""
    offsets = (0.99, 1.0, 1.01, 1.005, 0.995)
    scenarios = []
    for name, factor, base_ms in ((name_a, factor_a, 2.0), ("health", factor_b, 0.5)):
        trials = [_trial(i, base_ms * factor * o, 0.3) for i, o in enumerate(offsets)]
        load = {
            "method": "POST",
            "path": "/predict",
            "concurrency": 4,
            "duration_s": 5.0,
            "requests": None,
            "warmup_s": 1.0,
            "warmup_requests": 0,
            "timeout_s": 5.0,
            "payloads": 8,
        }
        scenarios.append({"name": name, "load": load, "trials": trials})
    started = new_document(
        tool_version="0.1.0",
        config={
            "name": "numpy-mlp",
            "file": "bench.yml",
            "profile": "pr",
            "hash": "sha256:" + "1" * 64,
            "settings": {"reuse": False},
        },
        git={"sha": sha, "ref": "refs/heads/x", "dirty": False},
        host={
            "cpu_model": "Xeon",
            "cores": 2,
            "os": "Debian 12",
            "kernel": "6",
            "python": "3.11",
            "docker_version": "20.10",
        },
        server={
            "runtime": "docker",
            "source": "build",
            "url": None,
            "image": {
                "ref": "benchaction/numpy-mlp:1",
                "id": "sha256:" + "2" * 64,
                "digest": None,
                "size_bytes": 200_000_000,
                "source": "build",
            },
        },
    )
    return _finished(started, scenarios)


def sweep_doc(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """A results document for an OpenAI rate sweep: level 20/s holds `trials`, 40/s was skipped."""
    load = {
        "protocol": "openai",
        "method": "POST",
        "path": "/v1/completions",
        "concurrency": None,
        "duration_s": 1.0,
        "requests": None,
        "warmup_s": 0.0,
        "warmup_requests": 0,
        "timeout_s": 5.0,
        "payloads": 1,
        "seed": 0,
        "workers": None,
        "rate": 20.0,
        "arrival": "poisson",
        "max_concurrency": None,
        "slo": {"ttft_s": 0.1},
    }
    scenarios: list[dict[str, Any]] = [
        {
            "name": "gen rate=20/s",
            "sweep": {"of": "gen", "key": "rate", "value": 20.0},
            "load": load,
            "trials": trials,
        },
        {
            "name": "gen rate=40/s",
            "sweep": {"of": "gen", "key": "rate", "value": 40.0},
            "skipped": "not run: the server saturated at gen rate=20/s",
            "load": dict(load, rate=40.0),
            "trials": [],
        },
    ]
    started = new_document(
        tool_version="0",
        config={
            "name": "x",
            "file": "b.yml",
            "profile": None,
            "hash": "sha256:" + "0" * 64,
            "settings": {"reuse": False},
        },
        git=None,
        host={
            "cpu_model": "x",
            "cores": 1,
            "os": "x",
            "kernel": "x",
            "python": "3",
            "docker_version": None,
        },
        server={"runtime": "url", "source": "url", "image": None, "url": "http://x"},
    )
    return _finished(started, scenarios)


def runner_doc(
    factor: float, sha: str, *, cpu_model: str, gpu: str | None, scenario: str = "predict"
) -> dict[str, Any]:
    """`two_scenario_doc` as measured on one runner of a matrix: its CPU model and (or no) GPU,
    the host fingerprint that keeps its runs apart from another runner's."""
    doc = two_scenario_doc(scenario, factor, 1.0, sha)
    doc["host"] = dict(doc["host"], cpu_model=cpu_model)
    if gpu is None:
        doc["gpu"] = {"available": False, "reason": "no NVIDIA driver on this runner"}
    else:
        doc["gpu"] = {
            "available": True,
            "reason": None,
            "count": 1,
            "name": gpu,
            "driver_version": "550.54.15",
            "cuda_driver_version": "12.4",
            "memory_total_bytes": 80 * 2**30,
            "gpus": [],
        }
    return doc
