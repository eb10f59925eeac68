"""Token events joined to their requests by seq: which gaps count, and each request's tokens per event.

A verdict row says, for one streamed request: whether its gaps count (measured and OK), whether
its tokens count (OK in any phase), when it ended, its token events, the events joined so far,
and its output tokens. An event row is (seq, t, in W). Both tables are int64; verdicts are kept
sorted by seq, events by (seq, t).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from benchaction.engine.records import ErrorClass, Events, Phase, Records

__all__ = [
    "V_CHUNKS",
    "V_END",
    "V_SEEN",
    "Joined",
    "bridge",
    "by_request",
    "later_tails",
    "resolve",
    "union_verdicts",
    "verdicts_of",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

V_SEQ, V_KEEP, V_OK, V_END, V_CHUNKS, V_SEEN, V_OUT = range(7)
_WIDTH = 7


def _empty(width: int) -> I64:
    return np.zeros((0, width), dtype=np.int64)


def _f64() -> F64:
    return np.zeros(0, dtype=np.float64)


def verdicts_of(records: Records, seqs: I64 | None = None) -> I64:
    """Verdict rows of the streamed requests among `records` (only those in `seqs`, if given)."""
    col = records.column
    pick: B = col("n_chunks") > 0
    if seqs is not None:
        if seqs.size == 0:
            return _empty(_WIDTH)
        pick &= np.isin(col("seq"), seqs, kind="table")
    ok = col("error")[pick] == ErrorClass.OK
    keep = ok & (col("phase")[pick] == Phase.MEASURED)
    rows = np.column_stack(
        [
            col("seq")[pick],
            keep,
            ok,
            col("t_end")[pick],
            col("n_chunks")[pick],
            np.zeros(int(pick.sum()), dtype=np.int64),
            col("n_out")[pick],
        ]
    ).astype(np.int64)
    return rows[np.argsort(rows[:, V_SEQ], kind="stable")].reshape(-1, _WIDTH)


def union_verdicts(*tables: I64) -> I64:
    """One row per request; the events joined so far add up."""
    rows = np.concatenate([*tables, _empty(_WIDTH)])
    if rows.size == 0:
        return rows
    uniq, first, inverse = np.unique(rows[:, V_SEQ], return_index=True, return_inverse=True)
    out = rows[first].copy()
    out[:, V_SEEN] = np.bincount(inverse, weights=rows[:, V_SEEN], minlength=uniq.size)
    return out


def by_request(events: Events, w0: int | None, w1: int | None) -> I64:
    """Event rows (seq, t, in W) ordered by request, then time."""
    seq, t = events.column("seq"), events.column("t")
    inside = np.zeros(t.shape, dtype=bool) if w0 is None else t >= w0
    if w1 is not None:
        inside &= t <= w1
    order = np.lexsort((t, seq))
    return np.column_stack([seq[order], t[order], inside[order]]).astype(np.int64).reshape(-1, 3)


def _pair(sorted_keys: I64, keys: I64) -> tuple[I64, B]:
    """For each key: its row in `sorted_keys` (valid where found) and whether it is there."""
    if sorted_keys.size == 0:
        return np.zeros(keys.shape, dtype=np.int64), np.zeros(keys.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    found: B = sorted_keys[pos] == keys
    return pos, found


@dataclass(frozen=True)
class Joined:
    """What joining some events to their verdicts gave: gaps that count, tokens in W, ends."""

    gaps: F64 = field(default_factory=_f64)  # ns, between consecutive events of kept requests
    token_gaps: F64 = field(default_factory=_f64)  # the same per token: gap / (n_out / n_chunks)
    tokens_in_w: float = 0.0  # n_out / n_chunks for each event in W of an OK request
    heads: I64 = field(default_factory=lambda: _empty(2))  # first joined event per request
    tails: I64 = field(default_factory=lambda: _empty(2))  # last joined event per request
    seen: I64 = field(default_factory=lambda: _empty(2))  # (seq, events joined)
    unresolved: I64 = field(default_factory=lambda: _empty(3))  # events without a verdict

    def seen_into(self, verdicts: I64) -> I64:
        """The verdicts with these events counted as joined."""
        out = verdicts.copy()
        at, found = _pair(out[:, V_SEQ], self.seen[:, 0])
        out[at[found], V_SEEN] += self.seen[found, 1]
        return out


def _per_event(verdicts: I64, seqs: I64) -> tuple[B, F64]:
    """Whether each seq's gaps count, and its tokens per event."""
    at, found = _pair(verdicts[:, V_SEQ], seqs)
    v = verdicts[at]
    per_event = v[:, V_OUT] / np.maximum(v[:, V_CHUNKS], 1)
    return found & (v[:, V_KEEP] == 1), per_event.astype(np.float64)


def resolve(events: I64, verdicts: I64) -> Joined:
    """Join event rows to their verdicts; events without one stay unresolved."""
    events = events[np.lexsort((events[:, 1], events[:, 0]))]
    _, found = _pair(verdicts[:, V_SEQ], events[:, 0])
    ev = events[found]
    if ev.size == 0:
        return Joined(unresolved=events[~found])
    at, _ = _pair(verdicts[:, V_SEQ], ev[:, 0])
    keep, per_event = _per_event(verdicts, ev[:, 0])
    counted = (verdicts[at, V_OK] == 1) & (ev[:, 2] == 1)
    same = ev[1:, 0] == ev[:-1, 0]
    gap = (ev[1:, 1] - ev[:-1, 1]).astype(np.float64)
    take = same & keep[1:]
    first, last = np.r_[True, ~same], np.r_[~same, True]
    uniq, n = np.unique(ev[:, 0], return_counts=True)
    return Joined(
        gaps=gap[take],
        token_gaps=gap[take] / per_event[1:][take],
        tokens_in_w=float(per_event[counted].sum()),
        heads=ev[first, :2],
        tails=ev[last, :2],
        seen=np.column_stack([uniq, n]).astype(np.int64),
        unresolved=events[~found],
    )


def bridge(tails: I64, heads: I64, verdicts: I64) -> Joined:
    """The gap from each request's last event in an older part to its first in a newer one."""
    at, found = _pair(tails[:, 0], heads[:, 0])
    gap = (heads[found, 1] - tails[at[found], 1]).astype(np.float64)
    keep, per_event = _per_event(verdicts, heads[found, 0])
    return Joined(gaps=gap[keep], token_gaps=gap[keep] / per_event[keep])


def later_tails(older: I64, newer: I64) -> I64:
    """Each request's last event: the newer part's where it has one."""
    both = np.concatenate([older, newer])
    if both.size == 0:
        return both
    later = np.r_[np.zeros(len(older)), np.ones(len(newer))]
    both = both[np.lexsort((later, both[:, 0]))]
    last: I64 = both[np.r_[both[1:, 0] != both[:-1, 0], True]]
    return last
