"""Arrival schedules: the rate, the shape of the gaps, reproducibility and sharding."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from benchaction.engine.schedule import BLOCK, arrival_offsets, payload_block, payload_indexes


def _first(n: int, rate: float, distribution: str, seed: int) -> np.ndarray:
    blocks = arrival_offsets(rate, distribution, seed)
    return np.concatenate(list(itertools.islice(blocks, -(-n // BLOCK))))[:n]


def test_poisson_rate_and_exponential_gaps() -> None:
    rate = 5000.0
    t = _first(100_000, rate, "poisson", seed=7)
    assert t[0] == 0 and np.all(np.diff(t) >= 0)
    achieved = (len(t) - 1) / (t[-1] / 1e9)
    # 100k exponential gaps: the mean rate is within 1 % (sd of the mean is 0.3 %).
    assert achieved == pytest.approx(rate, rel=0.01)
    gaps = np.diff(t) / 1e9
    ks = stats.kstest(gaps, "expon", args=(0, 1 / rate))
    assert ks.pvalue > 0.001, ks
    # Not constant: the coefficient of variation of exponential gaps is 1.
    assert np.std(gaps) / np.mean(gaps) == pytest.approx(1.0, abs=0.02)


def test_constant_gaps_are_exact() -> None:
    t = _first(3 * BLOCK, 1000.0, "constant", seed=1)
    assert np.all(np.diff(t) == 1_000_000)


def test_same_seed_same_schedule_other_seed_another() -> None:
    a = _first(40_000, 100.0, "poisson", 3)
    assert np.array_equal(a, _first(40_000, 100.0, "poisson", 3))
    assert not np.array_equal(a, _first(40_000, 100.0, "poisson", 4))


def test_blocks_join_without_a_seam() -> None:
    """The schedule is one running sum across blocks, not restarted per block."""
    t = _first(2 * BLOCK + 5, 1000.0, "constant", 0)
    assert t[BLOCK] - t[BLOCK - 1] == 1_000_000


def test_payload_order_cycle_and_random() -> None:
    assert list(itertools.islice(payload_indexes(3, "cycle", 0), 7)) == [0, 1, 2, 0, 1, 2, 0]
    picks = list(itertools.islice(payload_indexes(4, "random", 9), 4000))
    assert set(picks) == {0, 1, 2, 3}
    assert picks == list(itertools.islice(payload_indexes(4, "random", 9), 4000))
    assert stats.chisquare(np.bincount(picks)).pvalue > 0.001
    assert list(payload_block(3, "cycle", 0, 1)[:3]) == [
        BLOCK % 3,
        (BLOCK + 1) % 3,
        (BLOCK + 2) % 3,
    ]
