"""A compact log-bucketed latency histogram: percentiles within 0.5 %, mergeable across trials.

Bucket i holds values in [MIN_NS * GROWTH**i, MIN_NS * GROWTH**(i+1)); a value is reported as
the bucket's geometric midpoint, so the relative error is at most sqrt(GROWTH) - 1 (about 0.5 %).
Only occupied buckets are stored, which keeps a trial's histogram to a few hundred pairs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["GROWTH", "MIN_NS", "LogHistogram"]

GROWTH = 1.01
MIN_NS = 1_000  # 1 µs: everything faster lands in bucket 0
_LOG_GROWTH = math.log(GROWTH)


@dataclass(frozen=True)
class LogHistogram:
    """Sparse bucket counts: `index[k]` is a bucket number and `count[k]` how many values fell in it."""

    index: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    growth: float = GROWTH
    min_ns: int = MIN_NS

    @classmethod
    def from_values(cls, values_ns: npt.ArrayLike) -> LogHistogram:
        """Bucket raw durations in nanoseconds."""
        v = np.asarray(values_ns, dtype=np.float64)
        buckets = np.floor(np.log(np.maximum(v, MIN_NS) / MIN_NS) / _LOG_GROWTH).astype(np.int64)
        index, count = np.unique(buckets, return_counts=True)
        return cls(index.astype(np.int64), count.astype(np.int64))

    @classmethod
    def merge(cls, parts: Iterable[LogHistogram]) -> LogHistogram:
        """Add histograms bucket by bucket (exact: merging never loses precision)."""
        parts = list(parts)
        for p in parts:
            if (p.growth, p.min_ns) != (GROWTH, MIN_NS):
                raise ValueError("cannot merge histograms with different bucket layouts")
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))
        index = np.concatenate([p.index for p in parts])
        count = np.concatenate([p.count for p in parts])
        uniq, inverse = np.unique(index, return_inverse=True)
        return cls(uniq.astype(np.int64), np.bincount(inverse, weights=count).astype(np.int64))

    @property
    def total(self) -> int:
        """Number of values recorded."""
        return int(self.count.sum())

    def bucket_value_ns(self, index: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The value a bucket stands for: its geometric midpoint."""
        return np.asarray(self.min_ns * np.power(self.growth, index + 0.5), dtype=np.float64)

    def percentile_ns(self, p: float) -> float:
        """Nearest-rank percentile (p in 0..100): the value at rank ceil(p/100 * n)."""
        n = self.total
        if n == 0:
            return math.nan
        rank = max(1, math.ceil(p / 100.0 * n))
        k = int(np.searchsorted(np.cumsum(self.count), rank))
        return float(self.bucket_value_ns(self.index[k : k + 1])[0])

    def mean_ns(self) -> float:
        """Mean of the bucket midpoints (within the same 0.5 % as the percentiles)."""
        n = self.total
        if n == 0:
            return math.nan
        return float((self.bucket_value_ns(self.index) * self.count).sum() / n)

    def to_json(self) -> dict[str, Any]:
        """The stored form: layout plus the occupied buckets as two parallel lists."""
        return {
            "growth": self.growth,
            "min_ns": self.min_ns,
            "index": self.index.tolist(),
            "count": self.count.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogHistogram:
        """Read the stored form back; the layout must be the one this version writes."""
        return cls(
            np.asarray(data["index"], dtype=np.int64),
            np.asarray(data["count"], dtype=np.int64),
            float(data["growth"]),
            int(data["min_ns"]),
        )
