"""Change points in a main-branch history: E-divisive means with Apache Otava's windowed t-test.

Implemented here rather than imported: the `apache-otava` package pins numpy and scipy to one
minor release each and pulls in BigQuery, Postgres and Slack clients (docs/statistics.md,
"Change points"). The algorithm follows, step for step:

- Matteson & James (2014), "A nonparametric approach for multiple change point analysis of
  multivariate data", JASA 109(505): the divisive energy statistic Q-hat (alpha = 1) picks
  the best split of a segment;
- Daly et al. (2020), "The Use of Change Point Detection to Identify Software Performance
  Regressions in a Continuous Integration System", ICPE '20 (MongoDB): E-divisive on CI
  performance history;
- Fleming et al. (2023), "Hunter: Using Change Point Detection to Hunt for Performance
  Regressions", ICPE '23, as shipped in Apache Otava 0.8.0 (`otava.analysis`): significance by
  Student's t-test between the segments around a candidate instead of permutations, a split
  step over half-overlapping windows at a relaxed p-value (the "weak" change points), and a
  merge step that drops the weakest point (highest p-value, else smallest magnitude) until all
  pass `max_pvalue` and `min_magnitude`.

Two deliberate departures from Otava 0.8.0, both fixes (see docs/statistics.md): after a merge
removes a point, both its neighbours get fresh statistics (Otava refreshes the right neighbour
and the one after it, so the left one keeps stale statistics); and a split between two
constant segments with equal means gets p = 1 where SciPy returns NaN. Otava forward-fills
missing values; here a non-finite value is an error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["CHANGE_POINTS_MIN_LENGTH", "ChangePoint", "change_points"]

CHANGE_POINTS_MIN_LENGTH = 5
"""Shorter series give []: the t-test around any split has at most 2 degrees of freedom."""

_Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ChangePoint:
    """A shift in a series: `series[index]` is the first value after it."""

    index: int
    mean_before: float  # mean of the segment from the previous change point to `index`
    mean_after: float  # mean of the segment from `index` to the next change point
    pvalue: float  # Student's t-test between those two segments

    @property
    def change(self) -> float:
        """Relative change mean_after / mean_before - 1; +-inf when a zero mean becomes nonzero."""
        if self.mean_before == 0.0:
            return 0.0 if self.mean_after == 0.0 else math.copysign(math.inf, self.mean_after)
        return self.mean_after / self.mean_before - 1.0


def change_points(
    values: Sequence[float],
    *,
    max_pvalue: float = 0.001,
    min_magnitude: float = 0.0,
    window: int = 50,
) -> list[ChangePoint]:
    """The change points of `values` in index order; [] when there are fewer than
    CHANGE_POINTS_MIN_LENGTH values.

    `max_pvalue`, `min_magnitude` (relative, e.g. 0.05 for 5 %) and `window` (points analysed at
    once) have Otava's defaults. Deterministic: nothing is random.
    """
    series = _checked(values, max_pvalue=max_pvalue, min_magnitude=min_magnitude, window=window)
    if series.size < CHANGE_POINTS_MIN_LENGTH:
        return []
    weak = _split(series, window, _first_pass_pvalue(max_pvalue))
    kept = _merge(series, weak, max_pvalue, min_magnitude)
    return [
        ChangePoint(index=s.index, mean_before=s.mean_1, mean_after=s.mean_2, pvalue=s.pvalue)
        for s in kept
    ]


def _checked(
    values: Sequence[float], *, max_pvalue: float, min_magnitude: float, window: int
) -> _Array:
    """The values as a float array, after refusing what would give a meaningless answer."""
    if not 0.0 < max_pvalue <= 1.0:
        raise ValueError(f"change points: max_pvalue must be in (0, 1], got {max_pvalue!r}")
    if not (math.isfinite(min_magnitude) and min_magnitude >= 0.0):
        raise ValueError(
            f"change points: min_magnitude must be a finite fraction >= 0 (0.05 for 5 %), "
            f"got {min_magnitude!r}"
        )
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"change points: window must be an integer >= 2, got {window!r}")
    series = np.asarray(values, dtype=np.float64)
    if series.ndim != 1:
        raise ValueError(f"change points: expected one series of numbers, got shape {series.shape}")
    bad = np.flatnonzero(~np.isfinite(series))
    if bad.size:
        first = int(bad[0])
        raise ValueError(
            f"change points: value {series[first]!r} at index {first} is not a finite number "
            f"({bad.size} such value(s)); drop or fill missing runs before looking for changes"
        )
    return series


def _first_pass_pvalue(max_pvalue: float) -> float:
    """Otava's relaxed threshold for weak change points: 10x below 0.05, 2x below 0.5."""
    if max_pvalue < 0.05:
        return max_pvalue * 10
    if max_pvalue < 0.5:
        return max_pvalue * 2
    return max_pvalue


@dataclass(frozen=True)
class _Stats:
    """Student's t-test between the segments on either side of a change point."""

    index: int
    mean_1: float
    mean_2: float
    pvalue: float

    @property
    def magnitude(self) -> float:
        """The larger of the forward and backward relative changes (Otava's magnitude)."""
        forward = 0.0 if self.mean_1 == 0.0 else self.mean_2 / self.mean_1 - 1.0
        backward = 0.0 if self.mean_2 == 0.0 else self.mean_1 / self.mean_2 - 1.0
        return max(abs(forward), abs(backward))


def _ttest(series: _Array, start: int, index: int, stop: int) -> _Stats:
    """Student's pooled two-sided t-test of series[start:index] against series[index:stop].

    As in Otava, each side's spread is its population standard deviation (ddof = 0), which
    `ttest_ind_from_stats` then treats as a sample one: p-values agree with Otava's exactly.
    """
    left, right = series[start:index], series[index:stop]
    mean_1, mean_2 = float(left.mean()), float(right.mean())
    n_1, n_2 = left.size, right.size
    if n_1 + n_2 <= 2:
        return _Stats(index, mean_1, mean_2, 1.0)
    std_1 = float(left.std()) if n_1 >= 2 else 0.0
    std_2 = float(right.std()) if n_2 >= 2 else 0.0
    if std_1 == 0.0 and std_2 == 0.0:  # no spread: the means alone decide
        return _Stats(index, mean_1, mean_2, 1.0 if mean_1 == mean_2 else 0.0)
    result = stats.ttest_ind_from_stats(mean_1, std_1, n_1, mean_2, std_2, n_2)
    return _Stats(index, mean_1, mean_2, float(result.pvalue))


def _best_split(segment: _Array) -> tuple[int, float]:
    """Matteson & James's Q-hat maximised over splits tau < kappa of `segment`; (tau, Q-hat).

    Q(tau, kappa) compares X = segment[:tau] with Y = segment[tau:kappa]:
    2/(n+m) sum|X-Y| - 2m/((n+m)(n-1)) sum_{i<j}|X_i-X_j| - 2n/((n+m)(m-1)) sum_{i<j}|Y_i-Y_j|,
    with n = |X|, m = |Y| and a within-sum's term 0 when its side has one point. Ties go to the
    smallest tau, then the smallest kappa.
    """
    size = segment.size
    upper = np.triu(np.abs(segment[:, None] - segment[None, :]), k=1)
    # prefix[a, b] = sum of upper[i, j] over i < a, j < b
    prefix = np.zeros((size + 1, size + 1))
    prefix[1:, 1:] = upper.cumsum(axis=0).cumsum(axis=1)
    tau = np.arange(1, size)[:, None]
    kappa = np.arange(2, size + 1)[None, :]
    valid = kappa > tau
    kappa_c = np.where(valid, kappa, tau + 1)  # keeps the arithmetic finite off the triangle
    within_x = prefix[tau, tau]
    across = prefix[tau, kappa_c] - within_x
    within_y = prefix[kappa_c, kappa_c] - prefix[tau, kappa_c]
    n = tau.astype(np.float64)
    m = (kappa_c - tau).astype(np.float64)
    total = n + m
    coef_x = np.divide(2.0 * m, total * (n - 1.0), out=np.zeros_like(total), where=n > 1)
    coef_y = np.divide(2.0 * n, total * (m - 1.0), out=np.zeros_like(total), where=m > 1)
    q = 2.0 / total * across - coef_x * within_x - coef_y * within_y
    q = np.where(valid, q, -np.inf)
    row, _ = np.unravel_index(int(np.argmax(q)), q.shape)
    return int(row) + 1, float(q.max())


def _window_change_points(window: _Array, max_pvalue: float) -> list[int]:
    """E-divisive inside one window: split the best candidate while its t-test passes."""
    found: list[int] = []
    while True:
        bounds = [0, *found, window.size]
        best: tuple[float, int, int, int] | None = None  # (Q-hat, index, start, stop)
        for start, stop in itertools.pairwise(bounds):
            if stop - start > 1:
                tau, qhat = _best_split(window[start:stop])
                if best is None or qhat > best[0]:
                    best = (qhat, start + tau, start, stop)
        if best is None:
            return found
        _, index, start, stop = best
        if _ttest(window, start, index, stop).pvalue > max_pvalue:
            return found
        found = sorted([*found, index])


def _split(series: _Array, window: int, max_pvalue: float) -> list[_Stats]:
    """Weak change points: E-divisive over windows advancing by half a window (or to the last
    point found), each point tested against its neighbours in the whole series."""
    start, step = 0, window // 2
    weak: set[int] = set()
    while start < series.size:
        found = _window_change_points(series[start : start + window], max_pvalue)
        weak.update(start + i for i in found)
        start = max(start + found[-1] if found else 0, start + step)
    return _restated(series, sorted(weak))


def _restated(series: _Array, indices: list[int]) -> list[_Stats]:
    """Statistics of each change point against the segments its neighbours bound."""
    bounds = [0, *indices, series.size]
    return [_ttest(series, bounds[k], bounds[k + 1], bounds[k + 2]) for k in range(len(indices))]


def _merge(
    series: _Array, points: list[_Stats], max_pvalue: float, min_magnitude: float
) -> list[_Stats]:
    """Drop the weakest point (highest p-value, or when all pass, smallest magnitude) and
    restate its neighbours, until every point passes both thresholds."""
    points = list(points)
    while points:
        weakest = max(range(len(points)), key=lambda k: points[k].pvalue)
        if points[weakest].pvalue < max_pvalue:
            weakest = min(range(len(points)), key=lambda k: points[k].magnitude)
            if points[weakest].magnitude > min_magnitude:
                return points
        del points[weakest]
        bounds = [0, *(p.index for p in points), series.size]
        for k in _neighbours(weakest):
            if 0 <= k < len(points):
                points[k] = _ttest(series, bounds[k], bounds[k + 1], bounds[k + 2])
    return points


def _neighbours(removed: int) -> tuple[int, int]:
    """Positions, after removing the point at `removed`, of the points on either side of it."""
    return removed - 1, removed
