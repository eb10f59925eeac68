"""Series per scenario x metric x runner, their change points, and main's last change in words."""

from __future__ import annotations

from benchaction.history import changes_of, describe_change, latest_change, series_of
from benchaction.results import metric_by_name
from tests.support.history import noisy_runs

LEVELS = [10.0] * 25 + [11.5] * 25


def _series(runs, metric="latency_p50_ms"):  # type: ignore[no-untyped-def]
    return [s for s in series_of(runs) if s.metric.name == metric]


def test_a_known_shift_is_found_where_it_happened_and_read_as_slower() -> None:
    runs = noisy_runs(LEVELS)
    (p50,) = _series(runs)
    assert len(p50.runs) == 50 and p50.counts[0] == 5
    changes = changes_of(p50)
    assert [c.index for c in changes] == [25]
    (change,) = changes
    assert change.worse and 0.12 < change.change < 0.18
    assert change.run is runs[25]
    assert change.text.startswith("latency p50 is 1") and "% slower since " in change.text
    assert change.text.endswith(runs[25]["commit"][:7])
    (thr,) = _series(runs, "throughput_rps")
    (drop,) = changes_of(thr)
    assert drop.worse and drop.change < 0 and "% lower since" in drop.text


def test_a_flat_history_has_no_change_point() -> None:
    (p50,) = _series(noisy_runs([10.0] * 50))
    assert p50.changes == ()
    assert latest_change(series_of(noisy_runs([10.0] * 50))) is None


def test_runs_of_another_runner_form_their_own_series_and_never_make_a_change() -> None:
    ours = noisy_runs([10.0] * 20, seed=1)
    other = noisy_runs([14.0] * 20, seed=2, fingerprint="bbbb0002", offset=20)
    mixed = sorted(ours + other, key=lambda r: r["date"])
    p50 = _series(mixed)
    assert sorted(len(s.runs) for s in p50) == [20, 20]
    assert all(s.changes == () for s in p50)


def test_the_latest_change_is_the_most_recent_of_the_wanted_metrics() -> None:
    runs = noisy_runs([10.0] * 20 + [12.0] * 20 + [10.5] * 20)
    series = series_of(runs)
    latest = latest_change(series, metrics=["latency_p50_ms"])
    assert latest is not None and latest.run is runs[40] and not latest.worse
    assert latest_change(series, metrics=["latency_p99_ms"]) is None


def test_changes_read_as_people_say_them() -> None:
    p50, thr = metric_by_name("latency_p50_ms"), metric_by_name("throughput_rps")
    assert describe_change(p50, 0.12, "abc1234def") == "latency p50 is 12.0 % slower since abc1234"
    assert describe_change(p50, -0.05, None) == "latency p50 is 5.0 % faster"
    assert describe_change(thr, -0.081, "abc1234") == "throughput is 8.1 % lower since abc1234"
