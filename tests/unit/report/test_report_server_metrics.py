"""The run report's server-metrics table, from window summaries of vLLM exposition text.

Regenerate the golden file after an intended change with
`BENCHACTION_UPDATE_GOLDEN=1 python -m pytest tests/unit/report/test_report_server_metrics.py`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchaction.report import render_markdown
from benchaction.report.server_metrics import server_metric_rows
from benchaction.results import validate_results
from benchaction.telemetry import Scrape, summarize_window
from tests.support.documents import two_scenario_doc

GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parents[1] / "telemetry" / "data"
S = 1_000_000_000


def _window(warmup_s: float) -> dict[str, Any]:
    """vLLM's metrics over a 10 s window that opens `warmup_s` after the load starts."""
    page = {n: (DATA / f"vllm-{n}.prom").read_text() for n in ("before", "during", "after")}
    w0 = S + int(warmup_s * S)
    return summarize_window(
        Scrape(S // 2, page["before"]),
        [Scrape(6 * S, page["during"])],
        Scrape(w0 + 11 * S, page["after"]),
        None,
        (w0, w0 + 10 * S),
        S,
    )


def _doc() -> dict[str, Any]:
    doc = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    trials = doc["scenarios"][0]["trials"]
    for trial, warmup_s in zip(trials, (0.0, 2.5, 1.0), strict=False):
        trial.setdefault("telemetry", {})["server"] = _window(warmup_s)
    failed = {"status": "failed", "reason": "the scrape before or after the load failed"}
    trials[-1].setdefault("telemetry", {})["server"] = failed | {"families": {}}
    return doc


def test_report_shows_the_mean_over_trials_per_family_reading() -> None:
    doc = _doc()
    validate_results(doc)
    text = render_markdown(doc)
    path = GOLDEN / "report-server-metrics.md"
    if os.environ.get("BENCHACTION_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), "differs; see the module docstring to regenerate"
    assert "Server metrics (detected vllm; trial " in text
    assert "| vllm:num\\_preemptions | increase | 6.3 | 5.5 – 7 |" in text


def test_rows_read_only_trials_whose_scrape_worked_and_skip_unknown_types() -> None:
    good = {"status": "ok", "families": {"jobs": {"type": "counter", "increase": 4.0}}}
    odd = {"status": "ok", "families": {"info": {"type": "stateset"}}}
    trials = [
        {"trial": 0, "telemetry": {"server": good}},
        {"trial": 1, "telemetry": {"server": {"status": "failed", "reason": "down"}}},
        {"trial": 2, "telemetry": {"server": odd}},
        {"trial": 3},
    ]
    rows = server_metric_rows(trials)
    assert [(r.family, r.reading, r.mean, r.trials) for r in rows] == [("jobs", "increase", 4.0, 1)]


def test_documents_without_server_metrics_have_no_table() -> None:
    doc = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    assert "Server metrics" not in render_markdown(doc)
