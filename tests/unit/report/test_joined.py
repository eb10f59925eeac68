"""The joined comment of a matrix stays under GitHub's limit however large each runner's part."""

from __future__ import annotations

import copy
from typing import Any

from benchaction.github import COMMENT_LIMIT
from benchaction.report import RunnerSection, render_joined_comment, render_joined_summary
from benchaction.stats import StatsSettings, compare_documents
from tests.support.documents import runner_doc


def _wide(doc: dict[str, Any], scenarios: int) -> dict[str, Any]:
    """`doc` with many scenarios, so one runner's comparison alone is far over the limit."""
    first = doc["scenarios"][0]
    doc["scenarios"] = [dict(copy.deepcopy(first), name=f"s{i:03d}") for i in range(scenarios)]
    return doc


def _section(name: str, gpu: str, factor: float) -> RunnerSection:
    base = _wide(runner_doc(1.0, "c" * 40, cpu_model="Xeon", gpu=gpu), 60)
    head = _wide(runner_doc(factor, "b" * 40, cpu_model="Xeon", gpu=gpu), 60)
    c = compare_documents(base, head, StatsSettings())
    return RunnerSection(name, gpu, c.verdict, c.failed, c, base, head, {"note": "n"})


def test_large_sections_share_the_limit_and_all_stay_visible() -> None:
    sections = [
        _section("self-hosted, a100", "A100", 1.12),
        _section("self-hosted, l4", "L4", 1.0),
        RunnerSection("self-hosted, h100", "", "error", True, failure="x" * 50_000),
    ]
    marker = "<!-- bench-action:numpy-mlp -->"
    body = render_joined_comment(
        sections,
        verdict="error",
        marker=marker,
        summary_url="https://x/runs/1",
        limit=COMMENT_LIMIT,
    )
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith(marker + "\n## ❌ bench-action: error on 3 runners")
    for name in ("self-hosted, a100", "self-hosted, l4", "self-hosted, h100"):
        assert f"\n## Runner: {name}\n" in body  # every runner keeps its heading and verdict
    assert "### 🔴 Regression" in body and "### ⚪ Unchanged" in body
    assert "more row(s) are in the [job summary](https://x/runs/1)" in body
    assert "cut to GitHub's comment size limit" in body  # the long failure text, cut
    summary = render_joined_summary(sections, verdict="error")
    assert len(summary) > 2 * COMMENT_LIMIT and "more row(s)" not in summary


def test_small_sections_are_shown_whole() -> None:
    base = runner_doc(1.0, "c" * 40, cpu_model="Xeon", gpu="A100")
    head = runner_doc(1.0, "b" * 40, cpu_model="Xeon", gpu="A100")
    c = compare_documents(base, head, StatsSettings())
    sections = [RunnerSection("gpu", "A100", c.verdict, c.failed, c, base, head)]
    body = render_joined_comment(
        sections, verdict=c.verdict, marker="", summary_url=None, limit=COMMENT_LIMIT
    )
    assert "<details><summary>predict: head, 5 valid trial(s)</summary>" in body
    assert "## ⚪ bench-action: unchanged on 1 runner\n" in body
