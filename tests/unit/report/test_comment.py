"""The PR comment and job summary: golden files, hostile text, and the size limit.

Regenerate the golden files after an intended change with
`BENCHACTION_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_comment.py`.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchaction.config.model import Slo
from benchaction.engine.result import LoadResult, WorkerStats
from benchaction.engine.trial_metrics import trial_metrics
from benchaction.github import COMMENT_LIMIT
from benchaction.histogram import LogHistogram
from benchaction.report.comment import comment_marker, render_comment, render_summary
from benchaction.report.markdown import render_markdown
from benchaction.results import validate_results
from benchaction.stats import StatsSettings, compare_documents
from tests.unit.test_metrics import _document, _synthetic

GOLDEN = Path(__file__).parent / "golden"
PROVENANCE = {
    "run_id": 4242,
    "run_url": "https://github.com/acme/model/actions/runs/4242",
    "branch": "main",
    "sha": "0123456789abcdef0123456789abcdef01234567",
    "created_at": "2026-11-21T10:00:00Z",
}


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


def _doc(name_a: str, factor_a: float, factor_b: float, sha: str) -> dict[str, Any]:
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
    return {
        "schema_version": 1,
        "tool": {"name": "bench-action", "version": "0.1.0"},
        "created_at": "2026-11-22T00:00:00+00:00",
        "status": "complete",
        "error": None,
        "config": {
            "name": "numpy-mlp",
            "file": "bench.yml",
            "profile": "pr",
            "hash": "sha256:" + "1" * 64,
            "settings": {"reuse": False},
        },
        "git": {"sha": sha, "ref": "refs/heads/x", "dirty": False},
        "host": {
            "cpu_model": "Xeon",
            "cores": 2,
            "os": "Debian 12",
            "kernel": "6",
            "python": "3.11",
            "docker_version": "20.10",
        },
        "server": {
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
        "instances": [],
        "scenarios": scenarios,
    }


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BENCHACTION_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs; see the module docstring to regenerate"


@pytest.fixture
def pair() -> tuple[dict[str, Any], dict[str, Any]]:
    base = _doc("predict", 1.0, 1.0, "a" * 40)
    head = _doc("predict", 1.12, 1.0, "b" * 40)
    return base, head


def test_comment_golden_two_scenarios(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    base, head = pair
    c = compare_documents(base, head, StatsSettings())
    body = render_comment(
        c,
        base,
        head,
        marker=comment_marker("numpy-mlp"),
        provenance=PROVENANCE,
        limit=COMMENT_LIMIT,
    )
    assert body.startswith("<!-- bench-action:numpy-mlp -->\n### 🔴 Regression: predict")
    assert "```mermaid\nxychart-beta" in body
    _golden("comment-two-scenarios.md", body)


def test_summary_golden_without_baseline(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, head = pair
    c = compare_documents(None, head, StatsSettings())
    text = render_summary(c, None, head, no_baseline_reason="no artifact `bench-results` on main")
    assert "No baseline" in text
    _golden("summary-no-baseline.md", text)


def test_hostile_text_is_escaped(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    base, head = pair
    hostile = "p|x`y`<details>@octocat"
    for doc in (base, head):
        doc["scenarios"][0]["name"] = hostile
    head["host"]["cpu_model"] = "</details><script>alert(1)</script>"
    prov = dict(PROVENANCE, branch="main`<b>@admin|")
    c = compare_documents(base, head, StatsSettings())
    body = render_comment(
        c, base, head, marker=comment_marker("a b|c"), provenance=prov, limit=COMMENT_LIMIT
    )
    assert "<details>@" not in body and "<script>" not in body and "</details><" not in body
    assert "@octocat" not in body and "@admin" not in body  # a joiner keeps them from pinging
    assert "p\\|x\\`y\\`&lt;details&gt;@\u2060octocat" in body
    # Table rows keep their column count despite the pipes in the name.
    for line in body.splitlines():
        if line.startswith("| p"):
            assert line.replace("\\|", "").count("|") == 7
    assert body.startswith("<!-- bench-action:a_b_c -->")
    assert "xychart-beta" in body and 'title "p_x_y__details__octocat: latency (ms)"' in body


def test_size_limit_drops_details_then_rows(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    base, head = pair
    many_b, many_h = copy.deepcopy(base), copy.deepcopy(head)
    for doc in (many_b, many_h):
        doc["scenarios"] = [
            dict(copy.deepcopy(doc["scenarios"][0]), name=f"scenario-{i:03d}-{'x' * 40}")
            for i in range(70)
        ]
    c = compare_documents(many_b, many_h, StatsSettings())
    marker = comment_marker("numpy-mlp")
    full = render_summary(c, many_b, many_h)
    assert len(full) > COMMENT_LIMIT
    body = render_comment(
        c, many_b, many_h, marker=marker, summary_url="https://x/summary", limit=COMMENT_LIMIT
    )
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith(marker)
    assert "<details><summary>scenario-" not in body  # details went first
    assert "more row(s) are in the [job summary](https://x/summary)" in body
    small = render_comment(c, many_b, many_h, marker=marker, limit=3000)
    assert len(small) <= 3000 and marker in small


def test_report_golden_streaming_sweep() -> None:
    """Token rows, open-loop rows, a skipped level, and the throughput-latency section."""
    levels = []
    for level, n in enumerate((2500, 4000)):
        trials = []
        for trial in range(3):
            rec, ev, w0, w1 = _synthetic(n, np.random.default_rng(10 * level + trial), 1)
            result = LoadResult(
                rec, w0, w1, True, 0, events=ev, open_loop=True, workers=(WorkerStats(0.5, 1.0),)
            )
            metrics = trial_metrics(result, slo=Slo(ttft_s=0.03))
            trials.append({"trial": trial, "instance": trial, **metrics})
        levels.append(trials)
    doc = _document(levels[0])
    second = copy.deepcopy(doc["scenarios"][0])
    second.update(name="gen rate=30/s", trials=levels[1])
    second["sweep"]["value"] = 30.0
    second["load"]["rate"] = 30.0
    doc["scenarios"].insert(1, second)
    validate_results(doc)
    text = render_markdown(doc)
    assert "### Throughput vs latency: gen" in text and "xychart-beta" in text
    assert "> Not run: the server saturated at gen rate=20/s" in text
    _golden("report-streaming-sweep.md", text)
