"""Per-request records kept in preallocated numpy chunks, written through memoryviews on the hot path."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "COLUMNS",
    "EVENT_COLUMNS",
    "ErrorClass",
    "EventBuffer",
    "Events",
    "Flag",
    "Phase",
    "RecordBuffer",
    "Records",
]

COLUMNS = (
    "t_sched",
    "t_send",
    "t_first",
    "t_end",
    "status",
    "nbytes",
    "error",
    "phase",
    "seq",
    "t_tok1",
    "t_tokn",
    "n_chunks",
    "n_out",
    "n_in",
    "n_bad",
    "flags",
)
"""One int64 per column per request; times are perf_counter_ns relative to the run start, -1 none."""

EVENT_COLUMNS = ("seq", "t")
"""One row per token-bearing streamed event: which request, and when its bytes were read."""

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
    CHECK = 8
    EMPTY = 9
    TRUNCATED = 10
    STREAM = 11
    NOT_SENT = 12

    @property
    def label(self) -> str:
        """The name used in results and reports."""
        return self.name.lower()


class Flag(enum.IntFlag):
    """Per-request notes that are not errors."""

    USAGE_MISSING = 1  # the server sent no usage: n_out counts token-bearing events instead
    QUEUED = 2  # open loop: waited in the client for a free connection under max_concurrency


class Phase(enum.IntEnum):
    """Whether a request counts: warmup requests and the drain tail are recorded, never measured."""

    WARMUP = 0
    MEASURED = 1


class _ChunkedTable:
    """Grows by whole chunks so a long run never copies what it already holds."""

    width = 0
    default_row: tuple[int, ...] = ()  # what an unwritten column holds

    def __init__(self, chunk_rows: int = 1 << 16) -> None:
        self._chunk_rows = chunk_rows
        self._chunks: list[npt.NDArray[np.int64]] = []
        self._view: memoryview = memoryview(b"")
        self._pos = 0  # next free slot (in int64 units) inside the current chunk
        self._limit = 0
        self._full_rows = 0

    def _grow(self) -> None:
        if any(self.default_row):
            chunk = np.tile(np.asarray(self.default_row, dtype=np.int64), self._chunk_rows)
        else:
            chunk = np.zeros(self._chunk_rows * self.width, dtype=np.int64)
        if self._chunks:
            self._full_rows += self._chunk_rows
        self._chunks.append(chunk)
        self._view = memoryview(chunk.data).cast("B").cast("q")
        self._pos = 0
        self._limit = self._chunk_rows * self.width

    def __len__(self) -> int:
        return self._full_rows + self._pos // self.width if self._chunks else 0

    def full_chunks(self) -> int:
        """Chunks that are complete (every one but the chunk being written)."""
        return max(0, len(self._chunks) - 1)

    def pop_oldest(self) -> npt.NDArray[np.int64]:
        """Take the oldest complete chunk out (for folding into a summary) as an n x width table."""
        if len(self._chunks) < 2:
            raise ValueError("no complete chunk to take")
        chunk = self._chunks.pop(0)
        self._full_rows -= self._chunk_rows
        return chunk.reshape(-1, self.width)

    def views(self) -> list[npt.NDArray[np.int64]]:
        """The rows held, chunk by chunk, as n x width views (no copy)."""
        if not self._chunks:
            return []
        parts = [c.reshape(-1, self.width) for c in self._chunks[:-1]]
        parts.append(self._chunks[-1][: self._pos].reshape(-1, self.width))
        return parts

    def _table(self) -> npt.NDArray[np.int64]:
        if not self._chunks:
            return np.zeros((0, self.width), dtype=np.int64)
        parts = [c.reshape(-1, self.width) for c in self._chunks[:-1]]
        parts.append(self._chunks[-1][: self._pos].reshape(-1, self.width))
        return np.concatenate(parts)


class RecordBuffer(_ChunkedTable):
    """Request records, appended once per finished request without numpy calls."""

    width = _WIDTH
    default_row = (0,) * 9 + (-1, -1, 0, -1, -1, 0, 0)

    def append_plain(
        self,
        t_sched: int,
        t_send: int,
        t_first: int,
        t_end: int,
        status: int,
        nbytes: int,
        error: int,
        phase: int,
        seq: int,
        flags: int,
    ) -> None:
        """Store a request with no token columns (they keep their defaults): the HTTP hot path."""
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
        v[i + 8] = seq
        v[i + 15] = flags
        self._pos = i + _WIDTH

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
        seq: int,
        t_tok1: int = -1,
        t_tokn: int = -1,
        n_chunks: int = 0,
        n_out: int = -1,
        n_in: int = -1,
        n_bad: int = 0,
        flags: int = 0,
    ) -> None:
        """Store one request."""
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
        v[i + 8] = seq
        v[i + 9] = t_tok1
        v[i + 10] = t_tokn
        v[i + 11] = n_chunks
        v[i + 12] = n_out
        v[i + 13] = n_in
        v[i + 14] = n_bad
        v[i + 15] = flags
        self._pos = i + _WIDTH

    def freeze(self) -> Records:
        """The rows written so far as one contiguous table (one copy, after the run)."""
        return Records(self._table())


class EventBuffer(_ChunkedTable):
    """Arrival times of token-bearing streamed events."""

    width = len(EVENT_COLUMNS)

    def append(self, seq: int, t: int) -> None:
        """Store one event (hot path: one call per token-bearing event)."""
        if self._pos >= self._limit:
            self._grow()
        v, i = self._view, self._pos
        v[i] = seq
        v[i + 1] = t
        self._pos = i + 2

    def freeze(self) -> Events:
        """The events written so far as one contiguous table."""
        return Events(self._table())


@dataclass(frozen=True)
class Records:
    """An immutable table of request records with named column access."""

    table: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.table.shape[0])

    def column(self, name: str) -> npt.NDArray[np.int64]:
        """One column by name (a view, not a copy)."""
        return self.table[:, COLUMNS.index(name)]


@dataclass(frozen=True)
class Events:
    """An immutable table of token-bearing event arrivals (`seq`, `t`)."""

    table: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.table.shape[0])

    def column(self, name: str) -> npt.NDArray[np.int64]:
        """One column by name (a view, not a copy)."""
        return self.table[:, EVENT_COLUMNS.index(name)]

    @classmethod
    def empty(cls) -> Events:
        """No events (every non-streaming run)."""
        return cls(np.zeros((0, len(EVENT_COLUMNS)), dtype=np.int64))
