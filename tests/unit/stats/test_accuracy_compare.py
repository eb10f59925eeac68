"""Accuracy compared paired on the same examples: McNemar's exact test and Wilcoxon's signed-rank
test as scipy computes them, the verdicts, the gate, the check's failure, and the comment's
plain sentence when a change is faster but less accurate."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from benchaction.errors import ConfigError
from benchaction.report import comment_marker, render_comment
from benchaction.results import pack_flags, validate_results
from benchaction.stats import StatsSettings, compare_documents, parse_gate
from benchaction.stats.accuracy import accuracy_change, compare_accuracy
from tests.support.documents import two_scenario_doc

N = 200


def _flags_section(flags: list[bool], sha: str = "a" * 64) -> dict[str, Any]:
    return {
        "metric": "accuracy",
        "value": sum(flags) / len(flags),
        "n": len(flags),
        "scored": len(flags),
        "correct": sum(flags),
        "failed": 0,
        "failures": [],
        "flags": pack_flags(flags),
        "file": "labelled.jsonl",
        "sha256": sha,
        "threshold": 0.01,
        "duration_s": 0.4,
    }


def _errors_section(errors: list[float | None], metric: str = "mae") -> dict[str, Any]:
    scored = [e for e in errors if e is not None]
    value = (
        sum(scored) / len(scored)
        if metric == "mae"
        else math.sqrt(sum(e * e for e in scored) / len(scored))
    )
    return {
        "metric": metric,
        "value": value,
        "n": len(errors),
        "scored": len(scored),
        "abs_error_sum": sum(scored),
        "squared_error_sum": sum(e * e for e in scored),
        "failed": len(errors) - len(scored),
        "failures": [
            {"example": i, "reason": "status 500"} for i, e in enumerate(errors) if e is None
        ],
        "scores": errors,
        "file": "houses.jsonl",
        "sha256": "b" * 64,
        "threshold": 0.05,
        "duration_s": 0.4,
    }


def _docs(
    base_acc: dict[str, Any], head_acc: dict[str, Any], head_factor: float = 1.0
) -> tuple[dict[str, Any], dict[str, Any]]:
    base = two_scenario_doc("iris", 1.0, 1.0, "1" * 40)
    head = two_scenario_doc("iris", head_factor, 1.0, "2" * 40)
    base["scenarios"][0]["accuracy"] = base_acc
    head["scenarios"][0]["accuracy"] = head_acc
    validate_results(base)
    validate_results(head)
    return base, head


def _base_and_head_flags(lost: int, gained: int) -> tuple[list[bool], list[bool]]:
    """N examples: base right on the first 180; the head loses `lost` of those, gains `gained`."""
    base = [i < 180 for i in range(N)]
    head = list(base)
    for i in range(lost):
        head[i] = False
    for i in range(gained):
        head[180 + i] = True
    return base, head


def test_mcnemar_is_the_exact_binomial_test_of_the_discordant_examples() -> None:
    base, head = _base_and_head_flags(lost=9, gained=2)
    change = accuracy_change("accuracy", [float(b) for b in base], [float(h) for h in head], 0.9)
    assert change is not None
    assert change.estimate == pytest.approx(-7 / N)
    assert change.p_value == pytest.approx(stats.binomtest(2, 11, 0.5).pvalue)
    # Agresti-Min: Wald on the paired table with 0.5 added to each cell.
    up, down, total = 2.5 / 202, 9.5 / 202, 202
    half = stats.norm.ppf(0.95) * math.sqrt((up + down - (up - down) ** 2) / total)
    assert (change.ci_low, change.ci_high) == pytest.approx((up - down - half, up - down + half))
    assert change.ci_low < change.estimate < change.ci_high < 0


def test_wilcoxon_on_per_example_error_differences_and_a_relative_change() -> None:
    rng = np.random.default_rng(3)
    base = rng.uniform(0.5, 1.5, 120)
    head = base * 1.2 + rng.normal(0, 0.05, 120)
    change = accuracy_change("mae", list(base), list(head), 0.9)
    assert change is not None and change.log_scale
    assert change.estimate == pytest.approx(head.mean() / base.mean() - 1)
    assert change.p_value == pytest.approx(stats.wilcoxon(head - base).pvalue)
    assert change.ci_low < change.estimate < change.ci_high
    rmse = accuracy_change("rmse", list(base), list(head), 0.9)
    assert rmse is not None
    assert rmse.estimate == pytest.approx(math.sqrt((head**2).mean() / (base**2).mean()) - 1)


def test_three_points_less_accurate_is_a_regression_that_fails_the_check() -> None:
    b, h = _base_and_head_flags(lost=7, gained=0)
    base, head = _docs(_flags_section(b), _flags_section(h))
    comparison = compare_documents(base, head, StatsSettings())  # type: ignore[arg-type]
    (row,) = [r for r in comparison.rows if r.scope == "example"]
    assert (row.metric, row.verdict, row.primary) == ("accuracy", "regression", True)
    assert row.base_center == 0.9 and row.head_center == pytest.approx(0.865)
    assert row.counted == "paired examples: 200"
    out = row.to_json()
    assert (out["center"], out["scope"], out["verdict"]) == (
        "labelled set",
        "example",
        "regression",
    )
    assert out["change"] == pytest.approx(-0.035) and out["relative"] is False
    assert comparison.verdict == "regression" and comparison.failed
    never = compare_documents(base, head, StatsSettings(fail_on="never"))  # type: ignore[arg-type]
    assert not never.failed


def test_the_same_answers_are_unchanged_and_a_small_set_is_inconclusive() -> None:
    b, _ = _base_and_head_flags(0, 0)
    same = compare_accuracy(*_docs(_flags_section(b), _flags_section(b)), StatsSettings())  # type: ignore[arg-type]
    assert same[0].verdict == "unchanged"
    assert same[0].reason == "every example scored the same on both sides"
    small_b, small_h = [True] * 10 + [False] * 10, [True] * 9 + [False] * 11
    (row,) = compare_accuracy(
        *_docs(_flags_section(small_b), _flags_section(small_h)),  # type: ignore[arg-type]
        StatsSettings(),
    )
    assert row.verdict == "inconclusive" and "a larger labelled set would resolve it" in row.reason


def test_examples_are_paired_only_on_the_same_labelled_set() -> None:
    b, h = _base_and_head_flags(7, 0)
    docs = _docs(_flags_section(b), _flags_section(h, sha="c" * 64))
    (row,) = compare_accuracy(*docs, StatsSettings())  # type: ignore[arg-type]
    assert row.verdict == "inconclusive" and "the labelled sets differ" in row.reason


def test_a_higher_error_is_a_regression_and_failed_answers_are_named() -> None:
    rng = np.random.default_rng(5)
    base = [float(v) for v in rng.uniform(0.5, 1.5, 150)]
    head: list[float | None] = [v * 1.15 for v in base]
    head[3] = None
    (row,) = compare_accuracy(
        *_docs(_errors_section(list(base)), _errors_section(head)),  # type: ignore[arg-type]
        StatsSettings(),
    )
    assert (row.label, row.verdict, row.higher_is_better) == (
        "mean absolute error", "regression", False,
    )  # fmt: skip
    assert row.change is not None and row.change.estimate == pytest.approx(0.15)
    assert row.reason.endswith("failed answers: base 0, head 1")


def test_an_absolute_accuracy_gate() -> None:
    b, h = _base_and_head_flags(7, 0)
    base, head = _docs(_flags_section(b), _flags_section(h))
    gate = parse_gate("iris:accuracy>=0.95")
    result = compare_documents(base, head, StatsSettings(gates=(gate,), fail_on="never"))  # type: ignore[arg-type]
    (g,) = result.gates
    assert (g.scenario, g.value, g.passed, result.failed) == ("iris", 0.865, False, True)
    low = parse_gate("accuracy>=0.8")
    ok = compare_documents(base, head, StatsSettings(gates=(low,), fail_on="never"))  # type: ignore[arg-type]
    assert ok.gates[0].passed and not ok.failed
    with pytest.raises(ConfigError, match="scenario 'iris' scores accuracy, not mae"):
        compare_documents(base, head, StatsSettings(gates=(parse_gate("iris:mae<=1"),)))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="accuracy: accuracy, exact_match"):
        parse_gate("iris:acuracy>=0.9")


def faster_but_less_accurate_comment() -> str:
    """The PR comment of a head 20 % faster (every trial) and 3 pp less accurate (6 of 200
    examples lost, none gained), through the real comparison and templates."""
    b, h = _base_and_head_flags(6, 0)
    base, head = _docs(_flags_section(b), _flags_section(h), head_factor=1 / 1.2)
    comparison = compare_documents(base, head, StatsSettings())  # type: ignore[arg-type]
    return render_comment(
        comparison,
        base,  # type: ignore[arg-type]
        head,  # type: ignore[arg-type]
        marker=comment_marker("numpy-mlp"),
        limit=65_536,
    )


def test_the_comment_says_plainly_when_a_change_is_faster_but_less_accurate(
    tmp_path: Path,
) -> None:
    body = faster_but_less_accurate_comment()
    (tmp_path / "comment.md").write_text(body, encoding="utf-8")
    assert "### 🔴 Regression: iris accuracy -3.00 pp" in body
    sentence = "throughput +20.0 %, latency p50 -16.4 %, accuracy -3.00 pp"
    assert f"**⚖️ iris: faster but less accurate: {sentence}.**" in body
    # The accuracy row sits with its scenario's speed rows.
    assert (
        "| iris | **error rate** | 0.00 % | 0.00 % | +0.00 pp [+0.00, +0.00] | ⚪ unchanged |\n| iris | **accuracy** |"
        in body
    )
    assert "| iris | **accuracy** | 90.0 % | 87.0 % | -3.00 pp [" in body
    assert "| iris | **throughput** |" in body and "🟢 improvement" in body
    assert "McNemar's exact test" in body
    assert "Accuracy: accuracy 87.0 % over 200 examples" in body


def test_documents_without_accuracy_stay_valid_and_get_no_accuracy_row() -> None:
    base = two_scenario_doc("iris", 1.0, 1.0, "1" * 40)
    head = copy.deepcopy(base)
    validate_results(head)
    rows = compare_documents(base, head, StatsSettings()).rows  # type: ignore[arg-type]
    assert all(r.scope != "example" for r in rows)
