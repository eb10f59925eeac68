"""Per-request records kept in preallocated numpy chunks, written through memoryviews on the hot path."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["COLUMNS", "ErrorClass", "Phase", "RecordBuffer", "Records"]

COLUMNS = ("t_sched", "t_send", "t_first", "t_end", "status", "nbytes", "error", "phase")
"""One int64 per column per request; times are perf_counter_ns relative to the run start."""

_WIDTH = len(COLUMNS)


class ErrorClass(enum.IntEnum):
    """Why a request did not succeed; 0 means it did. Stored as the `error` column."""

    OK = 0
    HTTP_4XX = 1
    HTTP_5XX = 2
    TIMEOUT = 3
    REFUSED = 4
    CONNECT = 5
    CLOSED = 6
    PROTOCOL = 7

    @property
    def label(self) -> str:
        """The name used in results and reports."""
        return self.name.lower()


class Phase(enum.IntEnum):
    """Whether a request counts: warmup requests and the drain tail are recorded, never measured."""

    WARMUP = 0
    MEASURED = 1


class RecordBuffer:
    """Grows by whole chunks so a long run never copies what it already holds."""

    def __init__(self, chunk_rows: int = 1 << 16) -> None:
        self._chunk_rows = chunk_rows
        self._chunks: list[npt.NDArray[np.int64]] = []
        self._view: memoryview = memoryview(b"")
        self._pos = 0  # next free slot (in int64 units) inside the current chunk
        self._limit = 0
        self._full_rows = 0

    def _grow(self) -> None:
        chunk = np.zeros(self._chunk_rows * _WIDTH, dtype=np.int64)
        if self._chunks:
            self._full_rows += self._chunk_rows
        self._chunks.append(chunk)
        self._view = memoryview(chunk.data).cast("B").cast("q")
        self._pos = 0
        self._limit = self._chunk_rows * _WIDTH

    def append(
        self,
        t_sched: int,
        t_send: int,
        t_first: int,
        t_end: int,
        status: int,
        nbytes: int,
        error: int,
        phase: int,
    ) -> None:
        """Store one request; called once per response, so it avoids numpy calls entirely."""
        if self._pos >= self._limit:
            self._grow()
        v, i = self._view, self._pos
        v[i] = t_sched
        v[i + 1] = t_send
        v[i + 2] = t_first
        v[i + 3] = t_end
        v[i + 4] = status
        v[i + 5] = nbytes
        v[i + 6] = error
        v[i + 7] = phase
        self._pos = i + _WIDTH

    def __len__(self) -> int:
        return self._full_rows + self._pos // _WIDTH if self._chunks else 0

    def freeze(self) -> Records:
        """The rows written so far as one contiguous table (one copy, after the run)."""
        if not self._chunks:
            table = np.zeros((0, _WIDTH), dtype=np.int64)
        else:
            parts = [c.reshape(-1, _WIDTH) for c in self._chunks[:-1]]
            parts.append(self._chunks[-1][: self._pos].reshape(-1, _WIDTH))
            table = np.concatenate(parts)
        return Records(table)


@dataclass(frozen=True)
class Records:
    """An immutable table of request records with named column access."""

    table: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.table.shape[0])

    def column(self, name: str) -> npt.NDArray[np.int64]:
        """One column by name (a view, not a copy)."""
        return self.table[:, COLUMNS.index(name)]
