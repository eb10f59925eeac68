"""A base side pooled from main's comparable runs since its last change point."""

from __future__ import annotations

from benchaction.history import pool_document, pooled_base
from benchaction.stats import StatsSettings, compare_documents
from tests.support.history import noisy_runs, run_doc, stored

DECIDING = ("throughput_rps", "latency_p50_ms", "error_rate")


def test_the_pool_holds_the_runs_after_the_last_change_and_their_trials() -> None:
    runs = noisy_runs([10.0] * 15 + [12.0] * 15)
    head = run_doc(99)
    pooled = pooled_base(runs, head, deciding=DECIDING, max_runs=50)
    assert pooled is not None and pooled.since is not None
    assert pooled.runs == tuple(runs[15:])
    assert pooled.trials == 75
    trials = pooled.document["scenarios"][0]["trials"]
    assert (
        trials[0]["values"]["latency_p50_ms"]
        == runs[15]["scenarios"]["predict"]["values"]["latency_p50_ms"][0]
    )
    assert "15 main run(s)" in pooled.note() and "since main's last change at" in pooled.note()


def test_the_pool_keeps_the_newest_runs_within_max_runs() -> None:
    runs = noisy_runs([10.0] * 30)
    pooled = pooled_base(runs, run_doc(99), deciding=DECIDING, max_runs=10)
    assert pooled is not None and pooled.since is None
    assert pooled.runs == tuple(runs[-10:])


def test_runs_of_another_runner_profile_or_config_never_pool() -> None:
    head = run_doc(99)
    other_runner = noisy_runs([10.0] * 5, fingerprint="ffff0000")
    assert pooled_base(other_runner, head, deciding=DECIDING) is None
    other_profile = noisy_runs([10.0] * 5, profile="full")
    assert pooled_base(other_profile, head, deciding=DECIDING) is None
    changed = [dict(r, config_hash="sha256:" + "9" * 64) for r in noisy_runs([10.0] * 5)]
    assert pooled_base(changed, head, deciding=DECIDING) is None  # type: ignore[arg-type]


def test_a_pooled_base_decides_like_a_base_run_would() -> None:
    history = [stored(i) for i in range(6)]
    settings = StatsSettings()
    same = compare_documents(pool_document(history, run_doc(50)), run_doc(50), settings)
    rows = {(r.scenario, r.metric): r for r in same.rows}
    assert rows[("predict", "latency_p50_ms")].n_base == 30
    assert rows[("predict", "latency_p50_ms")].verdict == "unchanged"
    worse = compare_documents(pool_document(history, run_doc(51)), run_doc(51, 1.2), settings)
    assert worse.verdict == "regression"
    change = {(r.scenario, r.metric): r for r in worse.rows}[("predict", "latency_p50_ms")].change
    assert change is not None and 0.18 < change.estimate < 0.22
