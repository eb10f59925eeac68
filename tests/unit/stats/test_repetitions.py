"""Kalibera-Jones recommendations on synthetic two-level data with known variance components."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchaction.stats.repetitions import recommend


def _two_level(
    between: float, within: float, trials: int, slices: int, seed: int
) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(trials):
        level = rng.normal(0.0, between)
        out.append([float(v) for v in 100 * np.exp(level + rng.normal(0.0, within, slices))])
    return out


def test_components_are_recovered() -> None:
    rec = recommend("p50", _two_level(0.05, 0.02, 400, 10, 1), slice_s=1.0, overhead_s=5.0)
    assert rec is not None
    assert rec.within_cv == pytest.approx(0.02, rel=0.05)
    assert rec.between_cv == pytest.approx(0.05, rel=0.1)


def test_noisy_slices_and_costly_trials_ask_for_a_longer_window() -> None:
    quiet = recommend("p50", _two_level(0.05, 0.01, 50, 10, 2), slice_s=0.5, overhead_s=10.0)
    noisy = recommend("p50", _two_level(0.01, 0.10, 50, 10, 3), slice_s=0.5, overhead_s=10.0)
    assert quiet is not None and noisy is not None
    assert noisy.window_s > quiet.window_s
    # Between-trial noise cannot be averaged away inside a trial: it asks for trials instead.
    assert quiet.trials > noisy.trials


def test_trial_count_follows_the_normal_formula_raised_for_t() -> None:
    rec = recommend("p50", _two_level(0.04, 0.0001, 300, 10, 4), slice_s=1.0, overhead_s=1.0)
    assert rec is not None
    z = 1.959964 + 0.841621
    expected = 2 * z**2 * rec.between_cv**2 / math.log1p(0.05) ** 2
    assert expected <= rec.trials <= expected * 1.25 + 1  # t needs a little more than z


def test_too_little_data_gives_no_recommendation() -> None:
    assert recommend("p50", [[1.0, 2.0]], slice_s=1.0, overhead_s=1.0) is None
    assert recommend("p50", [[1.0], [2.0]], slice_s=1.0, overhead_s=1.0) is None
    assert recommend("p50", [[1.0, None], [2.0, 3.0]], slice_s=1.0, overhead_s=1.0) is None


def test_trials_that_agree_beyond_the_slices_cap_the_window() -> None:
    rng = np.random.default_rng(5)
    base = [float(v) for v in 100 * np.exp(rng.normal(0.0, 0.2, 10))]
    same_means = [list(rng.permutation(base)) for _ in range(6)]  # slices differ, trials agree
    rec = recommend("p50", same_means, slice_s=0.5, overhead_s=30.0)
    assert rec is not None and rec.capped
    assert rec.window_s == pytest.approx(10 * rec.current_window_s)
