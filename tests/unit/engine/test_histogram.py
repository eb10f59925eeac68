"""The log-bucketed histogram: percentiles within its stated error, exact merges, round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchaction.engine.trial_metrics import nearest_rank
from benchaction.histogram import GROWTH, LogHistogram

MAX_REL_ERROR = math.sqrt(GROWTH) - 1 + 1e-12


def test_nearest_rank_matches_definition() -> None:
    v = np.arange(1, 101, dtype=float)
    assert nearest_rank(v, 50) == 50
    assert nearest_rank(v, 99) == 99
    assert nearest_rank(v, 100) == 100
    assert nearest_rank(v, 0) == 1
    assert nearest_rank(np.array([7.0]), 99) == 7
    assert math.isnan(nearest_rank(np.array([]), 50))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=2_000, max_value=5e10), min_size=1, max_size=400),
    st.sampled_from([1, 10, 50, 90, 95, 99, 100]),
)
def test_percentile_within_bucket_error(values: list[float], p: int) -> None:
    exact = nearest_rank(np.sort(np.array(values)), p)
    approx = LogHistogram.from_values(values).percentile_ns(p)
    assert abs(approx - exact) / exact <= MAX_REL_ERROR


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(min_value=1_000, max_value=1e9), min_size=1, max_size=200),
    st.lists(st.floats(min_value=1_000, max_value=1e9), min_size=1, max_size=200),
)
def test_merge_equals_histogram_of_union(a: list[float], b: list[float]) -> None:
    merged = LogHistogram.merge([LogHistogram.from_values(a), LogHistogram.from_values(b)])
    union = LogHistogram.from_values(a + b)
    assert merged.index.tolist() == union.index.tolist()
    assert merged.count.tolist() == union.count.tolist()
    assert merged.total == len(a) + len(b)


def test_json_round_trip_and_compact() -> None:
    rng = np.random.default_rng(1)
    values = rng.lognormal(mean=np.log(5e6), sigma=0.4, size=100_000)
    h = LogHistogram.from_values(values)
    data = json.loads(json.dumps(h.to_json()))
    back = LogHistogram.from_json(data)
    assert back.percentile_ns(99) == h.percentile_ns(99)
    assert len(data["index"]) < 600  # 100k samples, a few hundred buckets
    assert back.mean_ns() == pytest.approx(values.mean(), rel=0.01)


def test_values_below_minimum_land_in_first_bucket() -> None:
    h = LogHistogram.from_values([0, 10, 999])
    assert h.index.tolist() == [0]
    assert h.count.tolist() == [3]


def test_empty_histogram() -> None:
    h = LogHistogram.from_values([])
    assert h.total == 0
    assert math.isnan(h.percentile_ns(50))
    assert LogHistogram.merge([]).total == 0


def test_merge_rejects_other_layouts() -> None:
    a = LogHistogram.from_values([5000])
    b = LogHistogram(a.index, a.count, growth=1.02)
    with pytest.raises(ValueError, match="bucket layouts"):
        LogHistogram.merge([a, b])
