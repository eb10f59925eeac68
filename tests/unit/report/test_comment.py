"""The PR comment and job summary: golden files, hostile text, and the size limit.

Regenerate the golden files after an intended change with
`BENCHACTION_UPDATE_GOLDEN=1 python -m pytest tests/unit/report/test_comment.py`.
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
from benchaction.report.comment import (
    comment_marker,
    render_comment,
    render_failure,
    render_summary,
)
from benchaction.report.markdown import render_markdown
from benchaction.results import validate_results
from benchaction.stats import StatsSettings, compare_documents
from tests.support.documents import sweep_doc, two_scenario_doc
from tests.support.records import synthetic_stream
from tests.support.resources import with_resources

GOLDEN = Path(__file__).parent / "golden"
PROVENANCE = {
    "run_id": 4242,
    "run_url": "https://github.com/acme/model/actions/runs/4242",
    "branch": "main",
    "sha": "0123456789abcdef0123456789abcdef01234567",
    "created_at": "2026-11-21T10:00:00Z",
}


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BENCHACTION_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs; see the module docstring to regenerate"


@pytest.fixture
def pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """Head: 12 % slower on predict, image 15 % larger, server memory 8 % more, GPU the same."""
    base = with_resources(
        two_scenario_doc("predict", 1.0, 1.0, "a" * 40),
        cold_start_s=[0.70, 0.72, 0.69, 0.71, 0.70],
        memory_mib=100.0,
        gpu_memory_mib=2000.0,
    )
    head = with_resources(
        two_scenario_doc("predict", 1.12, 1.0, "b" * 40),
        cold_start_s=[0.71, 0.70, 0.72, 0.69, 0.71],
        memory_mib=108.0,
        gpu_memory_mib=2000.0,
        image_bytes=230_000_000,
    )
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
    assert "```mermaid\n---\nconfig:\n" in body and "\nxychart-beta\n" in body
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
            rec, ev, w0, w1 = synthetic_stream(n, np.random.default_rng(10 * level + trial), 1)
            result = LoadResult(
                rec, w0, w1, True, 0, events=ev, open_loop=True, workers=(WorkerStats(0.5, 1.0),)
            )
            metrics = trial_metrics(result, slo=Slo(ttft_s=0.03))
            trials.append({"trial": trial, "instance": trial, **metrics})
        levels.append(trials)
    doc = sweep_doc(levels[0])
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


def test_resource_rows_in_the_comment(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Exact rows say "exact" where tested rows show an interval; per-run rows come once, last;
    resource rows keep their own verdicts and thresholds without deciding."""
    base, head = pair
    c = compare_documents(base, head, StatsSettings())
    body = render_comment(c, base, head, marker="", limit=COMMENT_LIMIT)
    table = body.split("\n\n")[1].splitlines()  # the comparison table, after the headline
    assert table[-2:] == [
        "| (server) | image size | 190.73 MiB | 219.35 MiB | +15.0 % exact | 🔴 regression |",
        "| (server) | cold start | 0.70 s | 0.71 s | +0.3 % [-1.6, +2.2] | ⚪ unchanged |",
    ]
    assert (
        "| predict | server memory peak | 99.96 MiB | 107.96 MiB | +8.0 % [+7.8, +8.2] "
        "| 🔴 regression |" in table
    )
    assert (
        "- (server) image size: regression; exact: +15.0 %, at least 5.0 % (exact: one image"
        in body
    )
    assert "(error rate: 0.1 pp; GPU energy per request 10 %; cold start 10 %)" in body
    # Without a GPU the GPU rows are simply absent, from the table and the details.
    no_gpu_b, no_gpu_h = (
        with_resources(d, cold_start_s=[0.7] * 5, memory_mib=100.0) for d in (base, head)
    )
    c = compare_documents(no_gpu_b, no_gpu_h, StatsSettings())
    body = render_comment(c, no_gpu_b, no_gpu_h, marker="", limit=COMMENT_LIMIT)
    assert "GPU" not in body and "energy" not in body
    assert "server memory peak (MiB)" in body  # the head's details table


def test_report_shows_the_memory_peak_per_scenario(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, head = pair
    text = render_markdown(head)
    assert "| server memory peak (MiB) | 108.0 | 107.8 – 108.2 | 0.2 % |" in text
    assert "| GPU memory peak (MiB) | 1,999.2 | 1,996.0 – 2,004.0 | 0.2 % |" in text
    assert "219.3 MiB" in text  # the image line of the report


def _charts(body: str) -> list[str]:
    return [c.split("```", 1)[0] for c in body.split("```mermaid\n")[1:]]


def test_the_head_line_keeps_its_colour_and_caption_without_a_base(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base, head = pair
    base = copy.deepcopy(base)
    base["scenarios"] = base["scenarios"][:1]  # the second scenario is new: no base bars there
    c = compare_documents(base, head, StatsSettings())
    body = render_comment(c, base, head, marker="", limit=COMMENT_LIMIT)
    with_base, without = _charts(body)
    # Mermaid colours plots in order from the theme's palette, whose first colour is near-white.
    assert 'plotColorPalette: "#8c959f,#0969da"' in with_base and "    bar [" in with_base
    assert 'plotColorPalette: "#0969da"' in without and "    bar [" not in without
    captions = [
        line for line in body.splitlines() if line.startswith("<sub>") and "line: head" in line
    ]
    assert captions[0].startswith("<sub>Grey bars: base, blue line: head")
    assert captions[1].startswith("<sub>Blue line: head, no base")
    assert "Bars: base" not in captions[1]


def test_config_problems_are_a_wrapping_list_of_escaped_lines() -> None:
    problems = ["bench.yml:3: name: expected a string, got @octocat `x`", "bench.yml:9: <b>"]
    text = render_failure("<!-- m -->", "the benchmark config is invalid", "", None, None,
                          problems=problems)  # fmt: skip
    assert "```" not in text
    assert "- bench.yml:3: name: expected a string, got @\u2060octocat \\`x\\`" in text
    assert "- bench.yml:9: &lt;b&gt;" in text
    many = render_failure("", "t", "", None, None, problems=[f"p{i}" for i in range(60)])
    assert "- p49\n" in many and "- p50" not in many and "and 10 more (see the job log)" in many
