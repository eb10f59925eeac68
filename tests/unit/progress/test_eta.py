"""The ETA arithmetic: the plan's durations first, then what finished phases actually took."""

from __future__ import annotations

import pytest

from benchaction.progress import Phase, PhaseClock, Remaining, format_eta, plan_phases, remaining_s


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plan_is_trial_major_like_the_run() -> None:
    phases = plan_phases([("predict", 6.0), ("health", None)], trials=2)
    assert [(p.name, p.trial) for p in phases] == [
        ("predict", 0),
        ("health", 0),
        ("predict", 1),
        ("health", 1),
    ]
    assert phases[2].planned_s == 6.0 and phases[3].planned_s is None


def test_remaining_from_the_plan_alone() -> None:
    upcoming = plan_phases([("a", 6.0), ("b", 4.0)], trials=3)
    assert remaining_s(None, 0.0, upcoming, {}, 0.0) == Remaining(30.0, complete=True)
    # Gaps between phases (server restarts) are added before each upcoming phase.
    assert remaining_s(None, 0.0, upcoming, {}, 0.5).seconds == pytest.approx(33.0)
    # The current phase counts what is left of it, never less than nothing.
    current = Phase("a", 0, 6.0)
    assert remaining_s(current, 2.5, upcoming[1:], {}, 0.0).seconds == pytest.approx(3.5 + 24.0)
    assert remaining_s(current, 9.0, (), {}, 0.0) == Remaining(0.0, complete=True)


def test_measured_durations_replace_the_plan() -> None:
    upcoming = [Phase("a", 1, 6.0), Phase("b", 1, None), Phase("c", 1, None)]
    took = {"a": [7.0, 9.0], "b": [1.0]}
    # a: mean of its trials (8); b: its own trial (1); c: no plan, no peer: mean of all (17/3).
    got = remaining_s(None, 0.0, upcoming, took, 0.0)
    assert got.complete
    assert got.seconds == pytest.approx(8.0 + 1.0 + 17.0 / 3.0)


def test_a_count_based_phase_without_a_peer_makes_a_lower_bound() -> None:
    upcoming = plan_phases([("predict", 6.0), ("health", None)], trials=1)
    got = remaining_s(None, 0.0, upcoming, {}, 0.0)
    assert got == Remaining(6.0, complete=False)
    assert str(got) == "6s+"
    assert str(remaining_s(Phase("health", 0, None), 1.0, (), {}, 0.0)) == "?"
    assert str(Remaining(80.0, complete=True)) == "1m20s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0s"), (44.6, "45s"), (80, "1m20s"), (3599.4, "59m59s"), (7500, "2h05m")],
)
def test_format_eta(seconds: float, text: str) -> None:
    assert format_eta(seconds) == text


def test_clock_positions_and_eta_through_a_run() -> None:
    clock = FakeClock()
    run = PhaseClock(plan_phases([("predict", 6.0), ("health", None)], trials=2), clock)
    assert (run.done, run.total) == (0, 4)
    clock.now += 3.0  # image build and first server start: a one-off, not a per-phase cost
    assert run.start("predict", 0) == 1
    # predict now and in trial 2 (6 s each); the two health phases are not known yet.
    assert run.eta() == Remaining(12.0, complete=False)
    clock.now += 8.0
    run.finish()
    clock.now += 0.5
    assert run.start("health", 0) == 2
    # health: no plan, no own trial: the mean of finished phases (8); then predict 8 + health 8,
    # each after a gap of 0.5 s (the mean of gaps after the first).
    assert run.eta().seconds == pytest.approx(8.0 + 8.5 + 8.5)
    clock.now += 2.0
    run.finish()
    clock.now += 1.5  # a fresh server for trial 2
    assert run.start("predict", 1) == 3
    # predict 8 (now running), health 2 after the mean gap (0.5 + 1.5) / 2 = 1.
    assert run.eta().seconds == pytest.approx(8.0 + 3.0)
    clock.now += 5.0
    assert run.eta().seconds == pytest.approx(3.0 + 3.0)


def test_skipped_sweep_levels_leave_the_plan() -> None:
    clock = FakeClock()
    points = [("rate-10", 2.0), ("rate-50", 2.0), ("rate-100", 2.0)]
    run = PhaseClock(plan_phases(points, trials=2), clock)
    run.start("rate-10", 0)
    run.finish()
    run.start("rate-50", 0)
    run.finish()
    run.skip(["rate-100"])  # the server saturated at rate-50
    assert run.total == 4
    assert run.start("rate-10", 1) == 3
    # A phase the plan does not know is counted, never an error.
    run.finish()
    assert run.start("extra", 1) == 4 and run.total == 5
