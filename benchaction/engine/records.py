"""Per-request records kept in preallocated numpy chunks, written without numpy calls.

`RECORD_TABLE` names the columns once; the writers are generated from it (see `_writer`)."""

from __future__ import annotations

import enum
import linecache
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "COLUMNS",
    "EVENT_COLUMNS",
    "EVENT_TABLE",
    "RECORD_TABLE",
    "WIDTH",
    "Column",
    "ErrorClass",
    "EventBuffer",
    "Events",
    "Flag",
    "Phase",
    "RecordBuffer",
    "Records",
]


class Column(NamedTuple):
    """One int64 field of a row: how the writers take it, and what one that leaves it out stores.

    `stamp` marks a perf_counter_ns time, stored relative to the run start; "maybe" means 0 is
    passed when it never happened, stored as -1.
    """

    name: str
    default: int | None = None  # None: `append` must be given it; else its keyword default
    token: bool = False  # a token-stream column: `append_plain` takes none and stores `default`
    stamp: Literal["", "always", "maybe"] = ""


RECORD_TABLE = (
    Column("t_sched", stamp="always"),
    Column("t_send", stamp="maybe"),  # 0: never sent
    Column("t_first", stamp="maybe"),  # 0: no byte of the answer came
    Column("t_end", stamp="always"),
    Column("status"),
    Column("nbytes"),
    Column("error"),
    Column("phase"),
    Column("seq"),
    Column("t_tok1", -1, token=True, stamp="maybe"),
    Column("t_tokn", -1, token=True, stamp="maybe"),
    Column("n_chunks", 0, token=True),
    Column("n_out", -1, token=True),
    Column("n_in", -1, token=True),
    Column("n_bad", 0, token=True),
    Column("flags", 0),
)
"""The request record, the one place its columns are named and ordered: every writer, reader and
default below is derived from it. The writers take the columns in this order (callers pass the
leading ones by position)."""

EVENT_TABLE = (Column("seq"), Column("t"))
"""One row per token-bearing streamed event: which request, and when its bytes were read (already
run-relative)."""

COLUMNS = tuple(c.name for c in RECORD_TABLE)
"""One int64 per column per request; times are perf_counter_ns relative to the run start, -1 none."""

EVENT_COLUMNS = tuple(c.name for c in EVENT_TABLE)
WIDTH = len(COLUMNS)


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


def _packed(width: int) -> bool:
    """Whether a row this wide is written by one struct.pack_into (positions in bytes) or by one
    memoryview store per column (positions in int64 slots): measured, one call beats 16 stores
    but not 2."""
    return width > 2


def _writer(
    name: str, table: tuple[Column, ...], plain: bool = False, after: str = ""
) -> Callable[..., None]:
    """A row writer built from `table`, followed by the statements in `after`.

    Generated once at import so the column order, defaults and run-relative times live in the
    table alone, while the hot path stays straight-line code with no loop or per-column lookup.
    """
    params, values = [], []
    clash = {"self", "v", "i", "o", "_pack"} & {c.name for c in table}
    if clash:
        raise ValueError(f"column names {sorted(clash)} are taken by the generated writer")
    for c in table:
        if plain and c.token:
            values.append(str(c.default))
            continue
        params.append(c.name if plain or c.default is None else f"{c.name}={c.default}")
        if c.stamp == "always":
            values.append(f"{c.name} - o")
        elif c.stamp == "maybe":
            values.append(f"({c.name} - o if {c.name} > 0 else -1)")
        else:
            values.append(c.name)
    row = struct.Struct(f"={len(table)}q")
    if _packed(len(table)):
        store = [f"    _pack(v, i, {', '.join(values)})", f"    self._pos = i + {row.size}"]
    else:
        store = [
            f"    v[i + {k}] = {value}" if k else f"    v[i] = {value}"
            for k, value in enumerate(values)
        ]
        store.append(f"    self._pos = i + {len(table)}")
    lines = [
        f"def {name}(self, {', '.join(params)}):",
        "    if self._pos >= self._limit:",
        "        self._grow()",
        "    v, i = self._view, self._pos",
        *(["    o = self.origin"] if any(c.stamp for c in table) else []),
        *store,
    ]
    source = "\n".join(lines) + "\n" + after
    filename = f"<generated {name} of {table[0].name}..{table[-1].name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"_pack": row.pack_into}
    exec(compile(source, filename, "exec"), namespace)
    writer: Callable[..., None] = namespace[name]
    return writer


class _ChunkedTable:
    """Grows by whole chunks so a long run never copies what it already holds."""

    width = 0

    def __init__(self, chunk_rows: int = 1 << 16) -> None:
        self._chunk_rows = chunk_rows
        self._chunks: list[npt.NDArray[np.int64]] = []
        self._view: memoryview = memoryview(b"")
        self._pos = 0  # next free position inside the current chunk, in the view's units
        self._limit = 0
        self._full_rows = 0
        self._row_units = self.width * (8 if _packed(self.width) else 1)

    def _grow(self) -> None:
        chunk = np.zeros(self._chunk_rows * self.width, dtype=np.int64)
        if self._chunks:
            self._full_rows += self._chunk_rows
        self._chunks.append(chunk)
        view = memoryview(chunk.data).cast("B")
        self._view = view if _packed(self.width) else view.cast("q")
        self._pos = 0
        self._limit = len(self._view)

    def __len__(self) -> int:
        return self._full_rows + self._pos // self._row_units

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
        parts = [c.reshape(-1, self.width) for c in self._chunks]
        parts[-1] = parts[-1][: self._pos // self._row_units]
        return parts

    def _table(self) -> npt.NDArray[np.int64]:
        parts = self.views()
        return np.concatenate(parts) if parts else np.zeros((0, self.width), dtype=np.int64)


# Run after each record is written, in the same call: the counts a run reads back, and its fold.
_TALLY = """\
    if error:
        self.errors += 1
    else:
        self.completed += 1
    if phase and t_end > self.last_measured_end:
        self.last_measured_end = t_end
    if self.completed + self.errors >= self.check_at:
        self.on_full()
"""


class RecordBuffer(_ChunkedTable):
    """Request records, one row per finished request, written without numpy calls.

    It also keeps the counts a run reads back often, so recording an answer is a single call.
    """

    width = WIDTH

    def __init__(self, chunk_rows: int = 1 << 16, origin: int = 0) -> None:
        super().__init__(chunk_rows)
        self.origin = origin  # perf_counter_ns of the run start: times are stored relative to it
        self.completed = 0
        self.errors = 0
        self.last_measured_end = 0  # absolute t_end of the latest measured request
        self.check_at = sys.maxsize  # on_full is called once completed + errors reach this
        self.on_full: Callable[[], None] = lambda: None

    append: Callable[..., None] = _writer("append", RECORD_TABLE, after=_TALLY)
    """Store one finished request, with its stamps as perf_counter_ns (made run-relative here)."""

    append_plain: Callable[..., None] = _writer("append_plain", RECORD_TABLE, True, _TALLY)
    """`append` without the token columns (they store their defaults): the plain HTTP hot path."""

    def freeze(self) -> Records:
        """The rows written so far as one contiguous table (one copy, after the run)."""
        return Records(self._table())


class EventBuffer(_ChunkedTable):
    """Arrival times of token-bearing streamed events."""

    width = len(EVENT_COLUMNS)

    append: Callable[..., None] = _writer("append", EVENT_TABLE)
    """Store one event (hot path: one call per token-bearing event)."""

    def freeze(self) -> Events:
        """The events written so far as one contiguous table."""
        return Events(self._table())


@dataclass(frozen=True)
class _Rows:
    """An immutable int64 table with named column access."""

    table: npt.NDArray[np.int64]
    names: ClassVar[tuple[str, ...]] = ()

    def __len__(self) -> int:
        return int(self.table.shape[0])

    def column(self, name: str) -> npt.NDArray[np.int64]:
        """One column by name (a view, not a copy)."""
        return self.table[:, self.names.index(name)]


@dataclass(frozen=True)
class Records(_Rows):
    """Request records, one row each; columns as in `COLUMNS`."""

    names = COLUMNS


@dataclass(frozen=True)
class Events(_Rows):
    """Token-bearing event arrivals (`seq`, `t`)."""

    names = EVENT_COLUMNS

    @classmethod
    def empty(cls) -> Events:
        """No events (every non-streaming run)."""
        return cls(np.zeros((0, len(EVENT_COLUMNS)), dtype=np.int64))
