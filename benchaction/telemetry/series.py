"""A bounded time series of numeric columns: long runs keep their whole span at a coarser step.

Rows live in preallocated numpy arrays that grow by doubling up to `max_rows`. When full,
adjacent rows are merged pairwise and later rows take twice as many raw samples, so the step
doubles uniformly over the whole span. Each column merges by its own rule (mean weighted by
the raw samples a row stands for, max, min, last value for counters, bitwise or for flag
masks): maxima, minima, flags seen and counter readings survive; only time resolution drops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Merge", "Series"]

Merge = Literal["mean", "max", "min", "last", "or"]
FloatArray = npt.NDArray[np.float64]
Column = npt.NDArray[Any]

_FIRST_ROWS = 1024


class Series:
    """Rows of (t_ns, n, columns...); `n` counts the raw samples a row stands for."""

    def __init__(self, columns: Mapping[str, Merge], *, max_rows: int) -> None:
        if max_rows < 2:
            raise ValueError("a series needs room for at least two rows")
        self.rules: dict[str, Merge] = dict(columns)
        self.max_rows = max_rows
        self.size = 0
        self.compactions = 0
        self.stride = 1
        size = min(_FIRST_ROWS, max_rows)
        self._t = np.zeros(size, dtype=np.int64)
        self._n = np.zeros(size, dtype=np.int64)
        self._cols: dict[str, Column] = {
            name: self._empty(rule, size) for name, rule in self.rules.items()
        }

    @staticmethod
    def _empty(rule: Merge, size: int) -> Column:
        if rule == "or":
            return np.zeros(size, dtype=np.int64)
        return np.full(size, np.nan, dtype=np.float64)

    def add(self, t_ns: int, values: Mapping[str, float | int | None]) -> None:
        """Append one raw sample; a missing or None value is stored as NaN (0 for flag masks).

        After a compaction each row stands for `stride` raw samples: a new sample joins the
        last row until that row is full, so the step stays uniform over the whole span.
        """
        last = self.size - 1
        if self.size and self._n[last] < self.stride:
            self._merge_into(last, t_ns, values)
            return
        if self.size == len(self._t):
            self._make_room()
        i = self.size
        self._t[i] = t_ns
        self._n[i] = 1
        for name, rule in self.rules.items():
            value = values.get(name)
            if rule == "or":
                self._cols[name][i] = int(value or 0)
            else:
                self._cols[name][i] = np.nan if value is None else float(value)
        self.size += 1

    def _merge_into(self, i: int, t_ns: int, values: Mapping[str, float | int | None]) -> None:
        n = int(self._n[i])
        for name, rule in self.rules.items():
            col, value = self._cols[name], values.get(name)
            if rule == "or":
                col[i] = int(col[i]) | int(value or 0)
                continue
            if value is None:
                continue
            new, old = float(value), float(col[i])
            if np.isnan(old) or rule == "last":
                col[i] = new
            elif rule == "max":
                col[i] = max(old, new)
            elif rule == "min":
                col[i] = min(old, new)
            else:
                col[i] = (old * n + new) / (n + 1)
        self._t[i] = t_ns
        self._n[i] = n + 1

    def _make_room(self) -> None:
        capacity = len(self._t)
        if capacity < self.max_rows:
            grown = min(capacity * 2, self.max_rows)
            self._t = np.resize(self._t, grown)
            self._n = np.resize(self._n, grown)
            for name, rule in self.rules.items():
                more = self._empty(rule, grown - capacity)
                self._cols[name] = np.concatenate((self._cols[name], more))
            return
        self._compact()

    def _compact(self) -> None:
        """Merge rows (0,1), (2,3), ...; an odd last row stays as it is."""
        pairs = self.size // 2
        a, b = slice(0, 2 * pairs, 2), slice(1, 2 * pairs, 2)
        na, nb = self._n[a], self._n[b]
        for name, rule in self.rules.items():
            col = self._cols[name]
            x, y = col[a], col[b]
            if rule == "or":
                merged: Column = np.bitwise_or(x, y)
            elif rule == "last":
                merged = np.where(np.isnan(y), x, y)
            elif rule == "max":
                merged = np.fmax(x, y)
            elif rule == "min":
                merged = np.fmin(x, y)
            else:
                wa, wb = np.where(np.isnan(x), 0, na), np.where(np.isnan(y), 0, nb)
                total = wa + wb
                with np.errstate(invalid="ignore", divide="ignore"):
                    merged = np.where(
                        total > 0, (np.nan_to_num(x) * wa + np.nan_to_num(y) * wb) / total, np.nan
                    )
            col[:pairs] = merged
            if self.size % 2:
                col[pairs] = col[self.size - 1]
        self._t[:pairs] = self._t[b]
        self._n[:pairs] = na + nb
        if self.size % 2:
            self._t[pairs] = self._t[self.size - 1]
            self._n[pairs] = self._n[self.size - 1]
        self.size = pairs + self.size % 2
        self.compactions += 1
        self.stride *= 2

    @property
    def t(self) -> npt.NDArray[np.int64]:
        """Row times (perf_counter_ns of the last raw sample in the row), ascending."""
        return self._t[: self.size]

    @property
    def n(self) -> npt.NDArray[np.int64]:
        """Raw samples per row."""
        return self._n[: self.size]

    def column(self, name: str) -> FloatArray:
        """One column as floats (a copy for flag masks, a view otherwise)."""
        return self._cols[name][: self.size].astype(np.float64, copy=False)

    def mask(self, name: str) -> npt.NDArray[np.int64]:
        """A flag-mask column as integers."""
        return self._cols[name][: self.size].astype(np.int64, copy=False)

    def select(self, start_ns: int, end_ns: int) -> npt.NDArray[np.bool_]:
        """Rows whose time lies in [start_ns, end_ns]."""
        t = self.t
        return (t >= start_ns) & (t <= end_ns)

    def weighted_mean(self, name: str, rows: npt.NDArray[np.bool_]) -> float | None:
        """Mean of a column over the selected rows, each row weighted by its raw sample count."""
        values, weights = self.column(name)[rows], self.n[rows]
        ok = ~np.isnan(values)
        if not ok.any():
            return None
        return float(np.average(values[ok], weights=weights[ok]))

    def extreme(self, name: str, rows: npt.NDArray[np.bool_], *, largest: bool) -> float | None:
        """Largest (or smallest) value of a column over the selected rows."""
        values = self.column(name)[rows]
        values = values[~np.isnan(values)]
        if values.size == 0:
            return None
        return float(values.max() if largest else values.min())
