"""Resource metrics: read from real-shaped documents, compared with their own thresholds, the
image size exactly, per-run rows once, and deciding only when asked."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchaction.cli import main
from benchaction.engine.result import LoadResult, WorkerStats
from benchaction.engine.trial_metrics import trial_metrics
from benchaction.results import (
    RESOURCE_METRICS,
    document_values,
    metric_by_name,
    metric_values,
    trial_values,
    validate_results,
    write_results,
)
from benchaction.stats import (
    SERVER_ROWS,
    StatsSettings,
    compare_documents,
    compare_metric_sets,
    parse_gate,
    parse_metrics,
)
from tests.support.documents import sweep_doc, two_scenario_doc
from tests.support.records import synthetic_stream
from tests.support.resources import MIB, with_resources

IMAGE = 200_000_000  # the factory's image size, bytes
COLD = [0.70, 0.72, 0.69, 0.71, 0.70]


def _doc(
    sha: str = "a" * 40,
    *,
    image_bytes: int = IMAGE,
    cold: list[float] = COLD,
    memory_mib: float = 100.0,
    gpu_memory_mib: float | None = 2000.0,
    gpu_watts: float = 300.0,
) -> dict[str, Any]:
    doc = with_resources(
        two_scenario_doc("predict", 1.0, 1.0, sha),
        cold_start_s=cold,
        memory_mib=memory_mib,
        gpu_memory_mib=gpu_memory_mib,
        gpu_watts=gpu_watts,
        image_bytes=image_bytes,
    )
    validate_results(doc)
    return doc


def _row(base: dict[str, Any], head: dict[str, Any], metric: str, **kw: Any) -> Any:
    rows = compare_documents(base, head, StatsSettings(**kw)).rows
    (row,) = [r for r in rows if r.metric == metric]
    return row


# -- reading ------------------------------------------------------------------------------------


def test_every_resource_metric_reads_what_the_summarisers_wrote() -> None:
    doc = _doc()
    predict = doc["scenarios"][0]
    read = {m.name: metric_values(doc, m, predict) for m in RESOURCE_METRICS}
    assert read["image_size_mib"] == [pytest.approx(IMAGE / MIB)]
    assert read["cold_start_s"] == COLD
    wobble = [1 + 0.002 * (i % 3 - 1) for i in range(5)]
    # Docker's memory minus the inactive file cache, in MiB (the stats were fed in whole bytes).
    assert read["memory_peak_mib"] == pytest.approx([100.0 * w for w in wobble], abs=1e-5)
    assert read["gpu_memory_peak_mib"] == pytest.approx([2000.0 * w for w in wobble], abs=1e-5)
    # 300 W x wobble over the 5 s window, from the fake GPU's energy counter, per request.
    requests = predict["trials"][0]["counts"]["succeeded"]
    assert read["energy_per_request_j"] == pytest.approx(
        [300.0 * w * 5 / requests for w in wobble], rel=1e-5
    )
    assert read["energy_per_output_token_j"] == []  # no streamed tokens: absent, like TTFT


def test_energy_per_output_token_is_read_from_a_streaming_trial() -> None:
    trials = []
    for trial in range(3):
        rec, ev, w0, w1 = synthetic_stream(1500, np.random.default_rng(trial), 1)
        result = LoadResult(
            rec, w0, w1, True, 0, events=ev, open_loop=True, workers=(WorkerStats(0.5, 1.0),)
        )
        trials.append({"trial": trial, "instance": trial, **trial_metrics(result)})
    doc = with_resources(
        sweep_doc(trials), cold_start_s=[1.0, 1.1, 1.2], memory_mib=50.0, gpu_memory_mib=1000.0
    )
    validate_results(doc)
    values = metric_values(doc, metric_by_name("energy_per_output_token_j"), doc["scenarios"][0])
    tokens = [t["tokens"]["output_total"] for t in trials]
    assert all(n > 0 for n in tokens)
    wobble = [1 + 0.002 * (i % 3 - 1) for i in range(3)]
    assert values == pytest.approx(
        [300.0 * w * 5 / n for w, n in zip(wobble, tokens, strict=True)], rel=1e-5
    )


def test_without_gpu_or_container_stats_the_metrics_are_absent() -> None:
    doc = _doc(gpu_memory_mib=None)
    predict = doc["scenarios"][0]
    for name in ("gpu_memory_peak_mib", "energy_per_request_j", "energy_per_output_token_j"):
        assert metric_values(doc, metric_by_name(name), predict) == []
    # A stats stream that failed, a GPU lost mid-window: nothing half-measured is read.
    broken = _doc()
    for t in broken["scenarios"][0]["trials"]:
        t["telemetry"]["container"].update(status="failed", reason="stream broke", samples=0)
        t["telemetry"]["gpu"]["status"] = "lost"
    predict = broken["scenarios"][0]
    assert metric_values(broken, metric_by_name("memory_peak_mib"), predict) == []
    assert metric_values(broken, metric_by_name("gpu_memory_peak_mib"), predict) == []
    no_gpu = compare_documents(doc, doc, StatsSettings()).rows
    assert not any(r.metric.startswith(("gpu_", "energy_")) for r in no_gpu)


def test_document_values_lists_every_metric_per_scenario() -> None:
    doc = _doc()
    values = document_values(doc)
    assert set(values) == {"predict", "health"}
    assert set(values["predict"]) == {
        "throughput_rps",
        "latency_p50_ms",
        "latency_p90_ms",
        "latency_p99_ms",
        "latency_mean_ms",
        "error_rate",
        "image_size_mib",
        "cold_start_s",
        "memory_peak_mib",
        "gpu_memory_peak_mib",
        "energy_per_request_j",
    }
    assert values["health"]["cold_start_s"] == COLD  # per-run metrics under every scenario
    assert len(values["predict"]["latency_p50_ms"]) == 5
    # Only the instances a scenario's trials ran on; invalid trials leave the per-trial lists.
    doc["scenarios"][1]["trials"] = doc["scenarios"][1]["trials"][:2]
    doc["scenarios"][0]["trials"][0]["valid"] = False
    values = document_values(doc)
    assert values["health"]["cold_start_s"] == COLD[:2]
    assert len(values["predict"]["latency_p50_ms"]) == 4
    # A sweep level that was not run has no entry.
    skipped = sweep_doc([])
    skipped["scenarios"][0]["trials"] = []
    assert document_values(skipped) == {}


def test_per_run_metrics_are_not_read_per_trial() -> None:
    with pytest.raises(ValueError, match="cold_start_s is read per instance"):
        trial_values([], metric_by_name("cold_start_s"))
    with pytest.raises(ValueError, match="memory_peak_mib is read per trial: name the scenario"):
        metric_values(_doc(), metric_by_name("memory_peak_mib"))


# -- the exact image size -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "verdict", "reason"),
    [
        (1.06, "regression", "exact: +6.0 %, at least 5.0 %"),
        (1.03, "unchanged", "exact: +3.0 %, within ±5.0 %"),
        (0.97, "unchanged", "exact: -3.0 %, within ±5.0 %"),
        (0.90, "improvement", "exact: -10.0 %, at least 5.0 %"),
        (1.0, "unchanged", "exact: identical"),
    ],
)
def test_image_size_is_decided_by_its_threshold_alone(
    factor: float, verdict: str, reason: str
) -> None:
    base, head = _doc(), _doc("b" * 40, image_bytes=round(IMAGE * factor))
    row = _row(base, head, "image_size_mib")
    assert (row.scenario, row.verdict, row.reason) == (SERVER_ROWS, verdict, reason)
    assert row.exact and row.change is None and row.q_value is None
    assert row.delta == pytest.approx(factor - 1)
    assert (row.n_base, row.n_head) == (1, 1)
    as_json = row.to_json()
    assert as_json["center"] == "exact" and as_json["exact"] is True
    assert as_json["change"] == pytest.approx(factor - 1) and as_json["p_value"] is None
    assert as_json["ci_low"] is None and as_json["ci_high"] is None and as_json["relative"]


def test_image_size_threshold_is_its_own_and_can_be_overridden() -> None:
    base, head = _doc(), _doc("b" * 40, image_bytes=round(IMAGE * 1.03))
    # The global threshold does not move it; --threshold-for does.
    assert _row(base, head, "image_size_mib", threshold=0.02).verdict == "unchanged"
    tight = _row(base, head, "image_size_mib", thresholds={"image_size_mib": 0.02})
    assert tight.verdict == "regression" and tight.threshold == 0.02
    # Shrinking by the mirror of the margin (1/1.05 - 1 = -4.76 %) counts, as for tested rows;
    # a byte less shrinkage does not.
    shrunk = _row(base, _doc(image_bytes=math.floor(IMAGE / 1.05)), "image_size_mib")
    assert shrunk.verdict == "improvement"
    barely = _row(base, _doc(image_bytes=math.ceil(IMAGE / 1.05)), "image_size_mib")
    assert barely.verdict == "unchanged"


def test_an_exact_regression_on_different_setups_is_held_back() -> None:
    base, head = _doc(), _doc("b" * 40, image_bytes=round(IMAGE * 1.2))
    head["host"]["docker_version"] = "27.0"
    row = _row(base, head, "image_size_mib")
    assert row.verdict == "inconclusive" and "Docker version" in row.reason
    allowed = _row(base, head, "image_size_mib", allow_fingerprint_mismatch=True)
    assert allowed.verdict == "regression"


def test_no_image_on_a_side_means_no_row() -> None:
    base, head = _doc(), _doc("b" * 40)
    base["server"]["image"] = None
    rows = compare_documents(base, head, StatsSettings()).rows
    assert not any(r.metric == "image_size_mib" for r in rows)
    # Handed values directly, a missing side is said, and more than one value is refused.
    key = (SERVER_ROWS, "image_size_mib")
    (row,) = compare_metric_sets({}, {key: [200.0]}, StatsSettings())
    assert (row.verdict, row.reason) == ("inconclusive", "no base value")
    with pytest.raises(ValueError, match="exact: one value a side, got 2, 1"):
        compare_metric_sets({key: [1.0, 2.0]}, {key: [1.0]}, StatsSettings())


# -- per-instance, per-trial and the decision design --------------------------------------------


def test_cold_start_is_one_row_per_run_with_one_value_per_instance() -> None:
    base = _doc()
    head = _doc("b" * 40, cold=[c * 1.5 for c in COLD])
    rows = compare_documents(base, head, StatsSettings()).rows
    cold = [r for r in rows if r.metric == "cold_start_s"]
    assert len(cold) == 1  # not once per scenario: one test, counted once in its family
    (row,) = cold
    assert row.scenario == SERVER_ROWS and (row.n_base, row.n_head) == (5, 5)
    assert row.verdict == "regression" and row.threshold == 0.10
    assert row.counted == "instances 5 base, 5 head"
    noisy = _row(base, _doc("b" * 40, cold=[0.5, 0.9, 0.6, 1.1, 0.7]), "cold_start_s")
    assert noisy.verdict == "inconclusive" and "instances a side would resolve it" in noisy.reason
    # Its family holds the other rows' tests and this one, once each.
    others = [r for r in rows if not r.primary and r.q_value is not None]
    assert f"over {len(others)} tests" in row.reason


def test_one_reused_instance_cannot_decide_a_cold_start() -> None:
    base, head = _doc(cold=[0.7]), _doc("b" * 40, cold=[0.9])
    for doc in (base, head):
        for s in doc["scenarios"]:
            for t in s["trials"]:
                t["instance"] = 0
    row = _row(base, head, "cold_start_s")
    assert row.verdict == "inconclusive"
    assert row.reason == "only 1 valid head instance(s); at least 3 are needed"


def test_memory_growth_is_a_regression_of_its_own_that_does_not_decide() -> None:
    base, head = _doc(), _doc("b" * 40, memory_mib=108.0, image_bytes=round(IMAGE * 1.2))
    c = compare_documents(base, head, StatsSettings())
    memory = [r for r in c.rows if r.metric == "memory_peak_mib"]
    assert [r.scenario for r in memory] == ["predict", "health"]
    assert all(r.verdict == "regression" and not r.primary for r in memory)
    assert c.verdict == "unchanged" and not c.failed  # resource rows are shown, not deciding


@pytest.mark.parametrize(
    ("deciding", "expected"),
    [("image_size_mib", "regression"), ("memory_peak_mib,cold_start_s", "regression")],
)
def test_resource_metrics_decide_when_listed(deciding: str, expected: str) -> None:
    base = _doc()
    head = _doc("b" * 40, memory_mib=108.0, image_bytes=round(IMAGE * 1.2))
    primary = parse_metrics(deciding)
    c = compare_documents(base, head, StatsSettings(primary=primary))
    assert c.verdict == expected and c.failed
    assert {r.metric for r in c.rows if r.primary} == set(primary)


def test_a_scenario_verdict_naming_a_per_run_metric_makes_its_row_deciding() -> None:
    base, head = _doc(), _doc("b" * 40, image_bytes=round(IMAGE * 1.2))
    head["scenarios"][1]["verdict"] = {"metrics": ["throughput_rps", "image_size_mib"]}
    c = compare_documents(base, head, StatsSettings())
    (image,) = [r for r in c.rows if r.metric == "image_size_mib"]
    assert image.primary and c.verdict == "regression"


def test_degenerate_resource_rows_leave_their_family() -> None:
    base = _doc()
    head = copy.deepcopy(base)
    for doc in (base, head):
        for s in doc["scenarios"]:
            for t in s["trials"]:
                t["telemetry"]["container"]["memory_max_bytes"] = 100 * MIB
    rows = compare_documents(base, head, StatsSettings()).rows
    memory = [r for r in rows if r.metric == "memory_peak_mib"]
    assert {(r.verdict, r.reason, r.q_value) for r in memory} == {
        ("unchanged", "identical on every trial of both sides", None)
    }


# -- gates ----------------------------------------------------------------------------------------


def test_gates_on_resource_metrics() -> None:
    doc = _doc()
    gates = tuple(
        parse_gate(g)
        for g in (
            "image_size_mib<=150",
            "predict:image_size_mib<=500",
            "memory_peak_mib<=100.1",
            "cold_start_s<=1",
        )
    )
    c = compare_documents(None, doc, StatsSettings(gates=gates))
    got = [(str(g.gate), g.scenario, g.passed) for g in c.gates]
    assert got == [
        ("image_size_mib <= 150", SERVER_ROWS, False),
        ("predict:image_size_mib <= 500", "predict", True),
        ("memory_peak_mib <= 100.1", "predict", True),
        ("memory_peak_mib <= 100.1", "health", True),
        ("cold_start_s <= 1", SERVER_ROWS, True),
    ]
    assert c.gates[0].value == pytest.approx(IMAGE / MIB) and c.failed


def test_cli_compare_gates_and_decides_on_resource_metrics(tmp_path: Path) -> None:
    base, head, out = tmp_path / "base.json", tmp_path / "head.json", tmp_path / "v.json"
    write_results(_doc(), base)
    write_results(_doc("b" * 40, image_bytes=round(IMAGE * 1.03)), head)
    args = ["compare", str(base), str(head), "--json", str(out)]
    assert main([*args, "--gate", "predict:image_size_mib<=500"]) == 0
    verdicts = json.loads(out.read_text())
    (image,) = [m for m in verdicts["metrics"] if m["metric"] == "image_size_mib"]
    assert (image["scenario"], image["exact"], image["verdict"]) == (SERVER_ROWS, True, "unchanged")
    assert verdicts["gates"] == [
        {
            "gate": "predict:image_size_mib <= 500",
            "scenario": "predict",
            "value": pytest.approx(IMAGE * 1.03 / MIB),
            "passed": True,
        }
    ]
    tight = [*args, "--threshold-for", "image_size_mib=2%", "--deciding", "image_size_mib"]
    assert main(tight) == 1
    assert json.loads(out.read_text())["verdict"] == "regression"
    assert main([*args, "--gate", "image_size_mib<=100"]) == 1
