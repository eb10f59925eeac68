"""Record and event buffers: the writers generated from the column table store what they are given."""

from __future__ import annotations

import inspect

import numpy as np

from benchaction.engine.records import (
    COLUMNS,
    EVENT_COLUMNS,
    RECORD_TABLE,
    WIDTH,
    EventBuffer,
    RecordBuffer,
)

ORIGIN = 1_000


def _row(buffer: RecordBuffer) -> dict[str, int]:
    records = buffer.freeze()
    return {name: int(records.column(name)[-1]) for name in COLUMNS}


def test_writers_take_the_columns_in_table_order() -> None:
    """Callers pass the leading columns by position, so the order must be the table's."""
    full = list(inspect.signature(RecordBuffer.append).parameters)[1:]
    plain = list(inspect.signature(RecordBuffer.append_plain).parameters)[1:]
    assert full == list(COLUMNS)
    assert plain == [c.name for c in RECORD_TABLE if not c.token]
    assert list(inspect.signature(EventBuffer.append).parameters)[1:] == list(EVENT_COLUMNS)
    assert WIDTH == len(COLUMNS) == RecordBuffer.width


def test_append_stores_every_column_with_stamps_relative_to_the_origin() -> None:
    buffer = RecordBuffer(4, origin=ORIGIN)
    given = {c.name: 10 * (i + 1) + ORIGIN for i, c in enumerate(RECORD_TABLE)}
    buffer.append(**given)
    stored = _row(buffer)
    for c in RECORD_TABLE:
        assert stored[c.name] == given[c.name] - (ORIGIN if c.stamp else 0), c.name


def test_absent_stamps_are_minus_one_and_left_out_columns_their_default() -> None:
    buffer = RecordBuffer(4, origin=ORIGIN)
    buffer.append_plain(ORIGIN + 5, ORIGIN + 6, 0, ORIGIN + 9, 200, 11, 0, 1, 3, 2)
    plain = _row(buffer)
    assert plain["t_first"] == -1 and plain["t_send"] == 6 and plain["flags"] == 2
    buffer.append(ORIGIN + 5, 0, 0, ORIGIN + 9, 0, 0, 12, 1, 4)
    full = _row(buffer)
    assert full["t_send"] == -1 and full["flags"] == 0
    for c in RECORD_TABLE:
        if c.token:
            assert plain[c.name] == full[c.name] == c.default, c.name


def test_counts_and_the_full_callback() -> None:
    buffer = RecordBuffer(3, origin=0)
    calls: list[int] = []
    buffer.check_at = 4
    buffer.on_full = lambda: calls.append(buffer.completed + buffer.errors)
    for seq in range(5):
        error, phase = seq % 2, int(seq != 4)
        buffer.append_plain(10, 11, 12, 100 + seq, 200, 1, error, phase, seq, 0)
    assert (buffer.completed, buffer.errors) == (3, 2)
    assert buffer.last_measured_end == 103  # the last row is not measured
    assert calls == [4, 5]


def test_rows_across_chunks() -> None:
    buffer = RecordBuffer(3, origin=0)
    for seq in range(8):
        buffer.append_plain(1, 2, 3, 4, 200, 5, 0, 1, seq, 0)
    assert len(buffer) == 8 and buffer.full_chunks() == 2
    assert [len(v) for v in buffer.views()] == [3, 3, 2]
    assert buffer.freeze().column("seq").tolist() == list(range(8))
    oldest = buffer.pop_oldest()
    assert oldest.shape == (3, WIDTH) and len(buffer) == 5


def test_events_across_chunks() -> None:
    events = EventBuffer(2)
    for i in range(5):
        events.append(i, 100 + i)
    frozen = events.freeze()
    assert len(frozen) == 5
    assert np.array_equal(frozen.column("seq"), np.arange(5))
    assert np.array_equal(frozen.column("t"), 100 + np.arange(5))
