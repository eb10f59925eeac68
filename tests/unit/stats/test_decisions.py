"""The decision design: primary metrics decide, "unchanged" is an equivalence decision, one
estimator everywhere, degenerate rows out of the FDR family, and trials that would resolve."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchaction.cli import main
from benchaction.flow.verdict import Baseline, judge, output_values
from benchaction.report import render_comparison
from benchaction.results import validate_results, write_results
from benchaction.stats import (
    Change,
    StatsSettings,
    center,
    compare_documents,
    compare_metric_sets,
    estimate_change,
    trials_to_resolve,
)
from tests.support.documents import two_scenario_doc

P50, P99, TPUT, ERR = (
    ("s", m) for m in ("latency_p50_ms", "latency_p99_ms", "throughput_rps", "error_rate")
)


def _noisy(mean: float, cv: float, n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(v) for v in mean * np.exp(rng.normal(0.0, cv, n))]


def test_center_is_the_statistic_the_change_is_the_ratio_of() -> None:
    base, head = [1.0, 4.0], [2.0, 8.0]
    assert center(base) == pytest.approx(2.0) and center(head) == pytest.approx(4.0)
    assert estimate_change(base, head).estimate == pytest.approx(center(head) / center(base) - 1)
    assert center([0.0, 0.02], log_scale=False) == pytest.approx(0.01)


def test_a_quiet_a_a_comparison_comes_out_unchanged() -> None:
    """Same server both sides, 1.8 % between-trial CV, 5 trials: the 90 % interval fits in ±5 %."""
    unchanged = 0
    for seed in range(200):
        b, h = _noisy(10.0, 0.018, 5, seed), _noisy(10.0, 0.018, 5, 10_000 + seed)
        (row,) = compare_metric_sets({P50: b}, {P50: h}, StatsSettings())
        unchanged += row.verdict == "unchanged"
        assert row.verdict != "regression" or row.change is None
    assert unchanged >= 180  # >= 90 % of A/A draws decide "unchanged"


def test_other_metrics_do_not_make_the_verdict_inconclusive() -> None:
    base = {P50: [10.0, 10.1, 9.9, 10.0, 10.05], P99: [20.0, 35.0, 18.0, 41.0, 22.0]}
    head = {P50: [10.02, 9.95, 10.1, 10.0, 9.98], P99: [30.0, 19.0, 44.0, 21.0, 26.0]}
    rows = compare_metric_sets(base, head, StatsSettings())
    by = {r.metric: r for r in rows}
    assert by["latency_p50_ms"].primary and by["latency_p50_ms"].verdict == "unchanged"
    assert not by["latency_p99_ms"].primary and by["latency_p99_ms"].verdict == "inconclusive"


def test_identical_rows_leave_the_fdr_family() -> None:
    zeros = [0.0] * 5
    b = {TPUT: [100.0, 101.0, 99.0, 100.5, 100.2], ERR: zeros}
    h = {TPUT: [90.0, 91.0, 89.5, 90.2, 90.8], ERR: zeros}
    rows = {r.metric: r for r in compare_metric_sets(b, h, StatsSettings())}
    assert rows["error_rate"].verdict == "unchanged" and rows["error_rate"].q_value is None
    assert rows["error_rate"].reason == "identical on every trial of both sides"
    # The throughput row is alone in its family: q equals its own p-value.
    t = rows["throughput_rps"]
    assert t.change is not None and t.q_value == pytest.approx(t.change.p_value)
    assert "over 1 tests" in t.reason and t.verdict == "regression"


def test_trials_to_resolve_is_always_more_than_used() -> None:
    for seed in range(50):
        b, h = _noisy(10.0, 0.08, 5, seed), _noisy(10.3, 0.08, 5, 500 + seed)
        (row,) = compare_metric_sets({P50: b}, {P50: h}, StatsSettings())
        if row.verdict == "inconclusive":
            assert row.trials_needed is None or row.trials_needed > 5
            assert "trials a side would resolve it" in row.reason or row.trials_needed is None
    change = estimate_change([10.0, 10.2, 9.8], [10.4, 10.7, 10.3], confidence=0.9)
    needed = trials_to_resolve(change, 0.05)
    assert needed is not None and needed > 3


def test_trials_to_resolve_aims_at_the_decision_the_estimate_points_to() -> None:
    # An A/A-like estimate near 0 needs the interval inside the margin, not away from 0: with
    # half-width 6 % and an estimate of +0.3 %, about n (6 / (4.88 - 0.3))^2 trials, not thousands.
    near_zero = Change(0.003, -0.055, 0.065, 0.9, 0.1, 0.1, 12, 12, True)
    needed = trials_to_resolve(near_zero, 0.05)
    half = (math.log1p(0.065) - math.log1p(-0.055)) / 2
    assert needed == math.ceil(12 * (half / (math.log1p(0.05) - math.log1p(0.003))) ** 2)
    assert 12 < needed < 30
    # A large estimate points to a change: the interval must clear 0.
    big = Change(0.12, -0.01, 0.26, 0.1, 0.1, 0.1, 5, 5, True)
    half = (math.log1p(0.26) - math.log1p(-0.01)) / 2
    assert trials_to_resolve(big, 0.05) == math.ceil(5 * (half / math.log1p(0.12)) ** 2)
    # Just inside the margin nothing settles it; on it, it points to a change.
    assert trials_to_resolve(Change(0.0499, -0.1, 0.2, 0.5, 0.1, 0.1, 5, 5, True), 0.05) is None
    assert trials_to_resolve(Change(0.05, -0.1, 0.2, 0.5, 0.1, 0.1, 5, 5, True), 0.05) == 44


def test_the_interval_shown_is_the_one_that_decides_unchanged() -> None:
    b, h = [10.0, 10.1, 9.9, 10.05, 9.95], [10.02, 10.12, 9.91, 10.0, 10.03]
    (row,) = compare_metric_sets({P50: b}, {P50: h}, StatsSettings())
    c = row.change
    assert c is not None and row.verdict == "unchanged"
    ninety = estimate_change(b, h, confidence=0.90)
    assert (c.ci_low, c.ci_high) == pytest.approx((ninety.ci_low, ninety.ci_high))
    assert "90% interval lies within ±5.0 %" in row.reason


def test_table_outputs_and_headline_agree() -> None:
    base = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    head = two_scenario_doc("predict", 1.12, 1.0, "b" * 40)
    verdict = judge(head, Baseline(base), StatsSettings())
    c = verdict.comparison
    row = next(r for r in c.rows if r.scenario == "predict" and r.metric == "latency_p50_ms")
    outputs = output_values(c, head)
    assert float(outputs["head-latency-p50-ms"]) == pytest.approx(row.head_center, rel=1e-5)
    assert row.change is not None
    assert float(outputs["change-latency-p50-ms"]) == pytest.approx(row.change.estimate, rel=1e-5)
    assert math.isclose(row.head_center / row.base_center - 1, row.change.estimate, rel_tol=1e-9)
    text = render_comparison(c, base, head)
    headline = text.splitlines()[0]
    assert headline.startswith("### 🔴 Regression: predict")
    assert any(label in headline for label in ("throughput", "latency p50"))  # a primary row


def test_the_deciding_metrics_are_configurable() -> None:
    base = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    head = two_scenario_doc("predict", 1.12, 1.0, "b" * 40)
    only_tail = StatsSettings(primary=("latency_p99_ms",))
    assert compare_documents(base, head, only_tail).verdict == "regression"
    none_decide = StatsSettings(primary=("goodput_rps",))  # no such rows: every row decides
    assert compare_documents(base, head, none_decide).verdict == "regression"


def test_a_scenario_chooses_its_own_deciding_metrics_and_margin() -> None:
    base = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    head = two_scenario_doc("predict", 1.12, 1.0, "b" * 40)
    for section in head["scenarios"]:
        if section["name"] == "predict":
            section["verdict"] = {"metrics": ["latency_p99_ms"], "threshold": 0.2}
    validate_results(head)
    c = compare_documents(base, head, StatsSettings())
    predict = {r.metric: r for r in c.rows if r.scenario == "predict"}
    assert [m for m, r in predict.items() if r.primary] == ["latency_p99_ms"]
    assert predict["latency_p99_ms"].threshold == 0.2
    # +12 % is below the scenario's 20 % margin: no longer a regression there.
    assert predict["latency_p99_ms"].verdict != "regression"
    assert predict["error_rate"].threshold == 0.001  # a metric's own margin stays its own
    assert c.verdict != "regression"


def test_cli_compare_takes_the_deciding_metrics(tmp_path: Path) -> None:
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    write_results(two_scenario_doc("predict", 1.0, 1.0, "a" * 40), base)
    write_results(two_scenario_doc("predict", 1.12, 1.0, "b" * 40), head)
    out = tmp_path / "v.json"
    args = ["compare", str(base), str(head), "--json", str(out)]
    assert main([*args, "--deciding", "latency_p99_ms,throughput_rps"]) == 1
    verdicts = json.loads(out.read_text())
    assert verdicts["settings"]["primary"] == ["latency_p99_ms", "throughput_rps"]
    assert {m["metric"] for m in verdicts["metrics"] if m["primary"]} == {
        "latency_p99_ms",
        "throughput_rps",
    }
    assert main([*args, "--deciding", "p50"]) == 2
