"""Statistics: known answers against SciPy, properties of the verdicts, guards and gates."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from benchaction.cli import main
from benchaction.errors import ConfigError
from benchaction.histogram import LogHistogram
from benchaction.results import SCHEMA_VERSION
from benchaction.stats import (
    StatsSettings,
    bh_adjust,
    compare_documents,
    compare_metric_sets,
    estimate_change,
    parse_gate,
    trials_needed,
)
from tests.support.documents import two_scenario_doc

LAT = ("s", "latency_p50_ms")
TPUT = ("s", "throughput_rps")


def test_log_scale_matches_scipy_welch() -> None:
    base = [10.0, 10.4, 9.8, 10.1, 10.3]
    head = [11.0, 10.9, 11.4, 11.1, 10.8]
    got = estimate_change(base, head, confidence=0.95)
    ref = sps.ttest_ind(np.log(head), np.log(base), equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert got.p_value == pytest.approx(ref.pvalue)
    assert got.estimate == pytest.approx(math.expm1(np.log(head).mean() - np.log(base).mean()))
    assert got.ci_low == pytest.approx(math.expm1(ci.low))
    assert got.ci_high == pytest.approx(math.expm1(ci.high))
    assert got.ci_low < got.estimate < got.ci_high


def test_raw_scale_is_a_difference() -> None:
    base, head = [0.0, 0.001, 0.0, 0.002], [0.01, 0.012, 0.009, 0.011]
    got = estimate_change(base, head, log_scale=False)
    ref = sps.ttest_ind(head, base, equal_var=False)
    assert got.estimate == pytest.approx(np.mean(head) - np.mean(base))
    assert got.p_value == pytest.approx(ref.pvalue)


def test_constant_samples_need_no_test() -> None:
    same = estimate_change([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], log_scale=False)
    assert (same.estimate, same.p_value, same.ci_low, same.ci_high) == (0, 1.0, 0, 0)
    with pytest.raises(ValueError, match="at least two"):
        estimate_change([1.0], [1.0, 2.0])


def test_bh_matches_hand_computed_example() -> None:
    # sorted p: 0.01 (rank 1), 0.03 (2), 0.04 (3), 0.2 (4); m = 4
    # raw m/rank*p: 0.04, 0.06, 0.0533, 0.2 -> step-up minimum from the top: 0.04, 0.0533, 0.0533, 0.2
    q = bh_adjust([0.01, 0.04, 0.03, 0.2])
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert bh_adjust([]) == []


def test_trials_needed_and_mdc() -> None:
    assert trials_needed(0.02, 0.05) == 4
    assert trials_needed(0.02, 0.02) > trials_needed(0.02, 0.05)
    assert trials_needed(0.0, 0.05) is None
    c = estimate_change([1.0, 1.02, 0.98], [1.0, 1.01, 0.99])
    assert c.mdc > 0


def _sets(b: list[float], h: list[float]) -> tuple[dict, dict]:
    return (
        {LAT: b, TPUT: [1000 / x for x in b]},
        {LAT: h, TPUT: [1000 / x for x in h]},
    )


def _verdicts(b: list[float], h: list[float], **kw: object) -> dict[str, str]:
    base, head = _sets(b, h)
    return {r.metric: r.verdict for r in compare_metric_sets(base, head, StatsSettings(**kw))}  # type: ignore[arg-type]


def test_clear_slowdown_is_a_regression_and_speedup_an_improvement() -> None:
    rng = np.random.default_rng(3)
    b = list(rng.lognormal(np.log(5), 0.01, 5))
    h = [x * 1.10 for x in rng.lognormal(np.log(5), 0.01, 5)]
    assert _verdicts(b, h) == {"latency_p50_ms": "regression", "throughput_rps": "regression"}
    assert _verdicts(h, b) == {"latency_p50_ms": "improvement", "throughput_rps": "improvement"}


def test_small_change_within_threshold_is_unchanged_and_noise_inconclusive() -> None:
    rng = np.random.default_rng(4)
    b = list(rng.lognormal(np.log(5), 0.005, 5))
    h = [x * 1.01 for x in rng.lognormal(np.log(5), 0.005, 5)]
    assert set(_verdicts(b, h).values()) == {"unchanged"}
    noisy_b = list(rng.lognormal(np.log(5), 0.3, 3))
    noisy_h = list(rng.lognormal(np.log(5), 0.3, 3))
    rows = compare_metric_sets(*_sets(noisy_b, noisy_h), StatsSettings())
    assert {r.verdict for r in rows} == {"inconclusive"}
    assert all("too noisy" in r.reason or "significant" in r.reason for r in rows)
    assert all(r.trials_needed is None or r.trials_needed > 3 for r in rows)


def test_too_few_trials_is_inconclusive_with_the_reason() -> None:
    rows = compare_metric_sets({LAT: [1.0, 1.1]}, {LAT: [2.0, 2.1]}, StatsSettings(min_trials=3))
    assert rows[0].verdict == "inconclusive"
    assert "only 2 valid" in rows[0].reason


def test_fingerprint_mismatch_holds_back_a_regression_unless_allowed() -> None:
    b, h = [5.0, 5.01, 4.99, 5.02], [6.0, 6.01, 5.99, 6.02]
    base, head = _sets(b, h)
    held = compare_metric_sets(base, head, StatsSettings(), fingerprint_mismatch=["cores 2 vs 8"])
    assert {r.verdict for r in held} == {"inconclusive"}
    assert "cores 2 vs 8" in held[0].reason
    allowed = compare_metric_sets(
        base, head, StatsSettings(allow_fingerprint_mismatch=True), fingerprint_mismatch=["x"]
    )
    assert {r.verdict for r in allowed} == {"regression"}


samples = st.lists(st.floats(min_value=1.0, max_value=100.0), min_size=3, max_size=8)


@settings(max_examples=80, deadline=None)
@given(samples, samples)
def test_swapping_base_and_head_mirrors_the_change(b: list[float], h: list[float]) -> None:
    assume(np.std(np.log(b)) > 1e-6 or np.std(np.log(h)) > 1e-6)
    fwd = estimate_change(b, h)
    back = estimate_change(h, b)
    assert (1 + fwd.estimate) * (1 + back.estimate) == pytest.approx(1.0, rel=1e-9)
    assert fwd.p_value == pytest.approx(back.p_value, rel=1e-6, abs=1e-12)
    mirror = {"regression": "improvement", "improvement": "regression"}
    for metric, verdict in _verdicts(b, h).items():
        assert _verdicts(h, b)[metric] == mirror.get(verdict, verdict)


@settings(max_examples=60, deadline=None)
@given(samples, samples, st.floats(min_value=0.01, max_value=1000.0))
def test_scaling_all_values_leaves_verdicts_unchanged(
    b: list[float], h: list[float], k: float
) -> None:
    assert _verdicts(b, h) == _verdicts([x * k for x in b], [x * k for x in h])


@settings(max_examples=60, deadline=None)
@given(samples)
def test_identical_samples_never_regress(b: list[float]) -> None:
    assert set(_verdicts(b, list(b)).values()) <= {"unchanged", "inconclusive"}


def test_gate_parsing() -> None:
    g = parse_gate("predict:latency_p99_ms<=250")
    assert (g.scenario, g.metric, g.op, g.limit) == ("predict", "latency_p99_ms", "<=", 250)
    assert parse_gate("throughput_rps >= 100").holds(100)
    with pytest.raises(ConfigError, match="expected `\\[scenario:\\]metric<=value`"):
        parse_gate("p99 < 3")
    with pytest.raises(ConfigError, match="unknown metric 'latency_p99'; known: throughput_rps"):
        parse_gate("latency_p99<=1")


def _doc(latencies_ms: list[float], *, cores: int = 2, errors: float = 0.0) -> dict:
    rng = np.random.default_rng(int(sum(latencies_ms) * 1000) % 2**32)
    trials = []
    for i, lat in enumerate(latencies_ms):
        values = rng.lognormal(np.log(lat * 1e6), 0.1, 2000)
        trials.append(
            {
                "trial": i,
                "valid": True,
                "throughput_rps": 4000 / lat,
                "latency_ms": {"mean": float(values.mean() / 1e6)},
                "error_rate": errors,
                "histogram": LogHistogram.from_values(values).to_json(),
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "host": {"cpu_model": "x", "cores": cores, "docker_version": "20"},
        "config": {"hash": "sha256:" + "0" * 64},
        "git": {"sha": "a" * 40},
        "scenarios": [{"name": "predict", "load": {"concurrency": 4}, "trials": trials}],
    }


def test_documents_compare_with_percentiles_from_histograms() -> None:
    base = _doc([2.0, 2.02, 1.98, 2.01, 1.99])
    head = _doc([2.4, 2.42, 2.38, 2.41, 2.39])
    c = compare_documents(base, head, StatsSettings())
    by = {r.metric: r for r in c.rows}
    assert by["latency_p50_ms"].verdict == "regression"
    assert by["latency_p50_ms"].change.estimate == pytest.approx(0.2, abs=0.02)
    assert by["error_rate"].verdict == "unchanged"
    assert c.verdict == "regression" and c.failed
    assert not compare_documents(base, head, StatsSettings(fail_on="never")).failed


def test_invalid_trials_are_left_out_and_no_baseline_is_inconclusive() -> None:
    base = _doc([2.0, 2.02, 1.98, 2.01, 1.99])
    head = copy.deepcopy(base)
    for t in head["scenarios"][0]["trials"][:3]:
        t["valid"] = False
    c = compare_documents(base, head, StatsSettings())
    assert {r.verdict for r in c.rows} == {"inconclusive"}
    none = compare_documents(None, base, StatsSettings(fail_on="regression-or-inconclusive"))
    assert none.verdict == "inconclusive" and none.failed and none.rows == []


def test_gates_fail_the_comparison_on_their_own() -> None:
    base = _doc([2.0, 2.02, 1.98, 2.01, 1.99])
    c = compare_documents(base, base, StatsSettings(gates=(parse_gate("latency_p99_ms<=1"),)))
    assert c.verdict in ("unchanged", "inconclusive")
    assert c.failed and not c.gates[0].passed


def test_setup_difference_is_reported() -> None:
    c = compare_documents(_doc([2.0] * 4), _doc([3.0] * 4, cores=8), StatsSettings())
    assert any("cores 2 vs 8" in f for f in c.fingerprint)


def test_cli_compare_writes_json_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchaction.results import write_results

    def real(lat: list[float]) -> Path:
        # A schema-valid document whose "predict" scenario has the median latency lat[0].
        return write_results(
            two_scenario_doc("predict", lat[0] / 2.0, 1.0, "a" * 40), tmp_path / f"{lat[0]}.json"
        )

    base, head = real([2.0, 2.02, 1.98, 2.01]), real([2.6, 2.62, 2.58, 2.61])
    out = tmp_path / "v.json"
    assert main(["compare", str(base), str(head), "--json", str(out)]) == 1
    text = capsys.readouterr().out
    assert text.startswith("### 🔴 Regression: predict")
    verdicts = json.loads(out.read_text())
    assert verdicts["verdict"] == "regression"
    assert main(["compare", str(base), str(head), "--fail-on", "never"]) == 0
    assert main(["compare", str(base), str(base)]) == 0
    assert main(["compare", str(base), str(head), "--threshold-for", "nope=0.1"]) == 2
    assert "unknown metric 'nope'" in capsys.readouterr().err
    # A gate on an unknown metric or scenario is a usage error, not a traceback or a silent pass.
    assert main(["compare", str(base), str(base), "--gate", "latency_p99<=1"]) == 2
    err = capsys.readouterr().err
    assert "gate 'latency_p99<=1': unknown metric 'latency_p99'" in err
    assert "Traceback" not in err
    assert main(["compare", str(base), str(base), "--gate", "nosuch:latency_p99_ms<=1"]) == 2
    assert "the head has no scenario 'nosuch' (it has: predict, health)" in capsys.readouterr().err
    assert main(["compare", str(base), str(base), "--gate", "predict:latency_p99_ms<=1"]) == 1


def test_metrics_present_in_some_scenarios_only() -> None:
    """Token metrics exist only where tokens were streamed; other scenarios are left alone."""
    base, head = _doc([2.0, 2.02, 1.98, 2.01]), _doc([2.0, 2.01, 1.99, 2.0])
    for doc, ttft_ms in ((base, 20.0), (head, 30.0)):
        gen = copy.deepcopy(doc["scenarios"][0])
        gen["name"] = "gen"
        rng = np.random.default_rng(1)
        for t in gen["trials"]:
            ttft = rng.lognormal(np.log(ttft_ms * 1e6), 0.05, 500)
            t["histograms"] = {"ttft": LogHistogram.from_values(ttft).to_json()}
            t["output_tokens_per_s"] = 1000.0
        doc["scenarios"].append(gen)
    c = compare_documents(base, head, StatsSettings(gates=(parse_gate("ttft_p99_ms<=100"),)))
    rows = {(r.scenario, r.metric): r.verdict for r in c.rows}
    assert rows[("gen", "ttft_p50_ms")] == "regression"
    assert rows[("gen", "output_tokens_per_s")] == "unchanged"
    assert not any(s == "predict" and m.startswith(("ttft", "tpot", "itl")) for s, m in rows)
    assert ("gen", "goodput_rps") not in rows  # no SLO anywhere: nothing to compare
    # A gate on a metric one scenario does not have applies to the others only.
    assert [(g.scenario, g.passed) for g in c.gates] == [("gen", True)]


def test_a_baseline_without_the_newer_metrics_compares_the_rest() -> None:
    base, head = _doc([2.0, 2.02, 1.98, 2.01]), _doc([2.0, 2.01, 1.99, 2.0])
    for t in head["scenarios"][0]["trials"]:
        t["histograms"] = {"ttft": t["histogram"]}
    c = compare_documents(base, head, StatsSettings())
    assert {r.metric for r in c.rows} == {
        "throughput_rps",
        "latency_p50_ms",
        "latency_p90_ms",
        "latency_p99_ms",
        "latency_mean_ms",
        "error_rate",
    }
    assert c.verdict == "unchanged"
