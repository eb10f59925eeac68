"""Bounded memory: old request rows and stream events folded into counts and log histograms.

A worker keeps its newest rows exactly; older chunks become an `Aggregate`, which merges without
loss (counts add, histograms add bucket by bucket). The per-request formulas live here, so a
folded row and a retained row are measured the same way; docs/metrics.md has the definitions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from benchaction.config import Slo
from benchaction.engine.records import ErrorClass, Events, Flag, Phase, Records
from benchaction.engine.stream_join import (
    V_CHUNKS,
    V_END,
    V_SEEN,
    bridge,
    by_request,
    later_tails,
    resolve,
    union_verdicts,
    verdicts_of,
)
from benchaction.histogram import LogHistogram

__all__ = [
    "COUNTERS",
    "DISTRIBUTIONS",
    "Aggregate",
    "Dist",
    "fold_events",
    "fold_records",
    "in_window",
    "request_values",
    "stream_gaps",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

DISTRIBUTIONS = (
    "latency",
    "service_time",
    "ttfb",
    "dispatch_lag",
    "queue_wait",
    "ttft",
    "service_ttft",
    "tpot",
    "ntpot",
    "itl",
    "itl_token",
)

COUNTERS = (
    "scheduled",  # measured rows (t_sched in W), NOT_SENT included
    "succeeded",  # measured and OK
    "not_sent",  # measured, never sent: the load generator dropped them
    "warmup",
    "ok_end_in_w",  # successes (any phase) with t_end in W
    "bytes_in_w",  # bytes of answers ending in W
    "sent_in_w",  # requests with t_send in W
    "good",  # measured, OK and within every SLO
    "token_rows",  # rows of a token protocol (openai): n_out known or flagged missing
    "output_total",  # n_out of measured successes
    "input_total",  # n_in of measured successes (where reported)
    "stream_output",  # n_out of measured streamed successes ...
    "stream_chunks",  # ... and their token-bearing events: tokens per event
    "usage_missing",  # measured rows whose server sent no usage
    "malformed",  # malformed SSE lines of measured rows
    "whole_output_in_w",  # n_out of non-streamed successes ending in W
    "input_in_w",  # n_in of successes whose first token (or answer) arrived in W
)


def in_window(t: I64, w0: int | None, w1: int | None) -> B:
    """Whether each time lies in W = [w0, w1]; w1 None is open-ended (count mode, still running)."""
    if w0 is None:
        return np.zeros(t.shape, dtype=bool)
    inside: B = t >= w0
    return inside if w1 is None else inside & (t <= w1)


@dataclass(frozen=True)
class Dist:
    """One distribution summarised: exact count, sum, sum of squares, min and max, and a histogram."""

    hist: LogHistogram
    n: int = 0
    total: float = 0.0
    sumsq: float = 0.0
    lo: float = math.inf
    hi: float = -math.inf

    @classmethod
    def of(cls, values_ns: npt.ArrayLike) -> Dist:
        """Summarise raw values in nanoseconds."""
        v = np.asarray(values_ns, dtype=np.float64)
        if v.size == 0:
            return cls(LogHistogram.from_values(v))
        return cls(
            LogHistogram.from_values(v),
            int(v.size),
            float(v.sum()),
            float(np.dot(v, v)),
            float(v.min()),
            float(v.max()),
        )

    def merge(self, other: Dist) -> Dist:
        """Both samples as one (exact)."""
        return Dist(
            LogHistogram.merge([self.hist, other.hist]),
            self.n + other.n,
            self.total + other.total,
            self.sumsq + other.sumsq,
            min(self.lo, other.lo),
            max(self.hi, other.hi),
        )


def request_values(records: Records) -> dict[str, F64]:
    """Per request distribution, the values (ns) of the measured requests that have one."""
    col = records.column
    t_sched, t_send, t_first, t_end = col("t_sched"), col("t_send"), col("t_first"), col("t_end")
    t_tok1, t_tokn, n_out = col("t_tok1"), col("t_tokn"), col("n_out")
    measured = col("phase") == Phase.MEASURED
    queued = (col("flags") & Flag.QUEUED) != 0
    ok = measured & (col("error") == ErrorClass.OK)
    streamed = ok & (t_tok1 >= 0)
    multi = streamed & (n_out >= 2)
    counted = ok & (n_out >= 1)
    f = np.float64
    return {
        "latency": (t_end - t_sched)[ok].astype(f),
        "service_time": (t_end - t_send)[ok].astype(f),
        "ttfb": (t_first - t_send)[ok & (t_first >= 0)].astype(f),
        # A request that waited for a free connection under max_concurrency was held back on
        # purpose: its wait is queueing (reported apart), not the generator falling behind.
        "dispatch_lag": (t_send - t_sched)[measured & (t_send >= 0) & ~queued].astype(f),
        "queue_wait": (t_send - t_sched)[measured & (t_send >= 0) & queued].astype(f),
        "ttft": (t_tok1 - t_sched)[streamed].astype(f),
        "service_ttft": (t_tok1 - t_send)[streamed].astype(f),
        "tpot": (t_tokn - t_tok1)[multi] / (n_out[multi] - 1).astype(f),
        "ntpot": (t_end - t_sched)[counted] / n_out[counted].astype(f),
    }


def stream_gaps(events: Events, records: Records) -> tuple[F64, F64]:
    """Gaps between consecutive token events of successful measured requests: per event, per token."""
    ev = by_request(events, None, None)
    joined = resolve(ev, verdicts_of(records))
    return joined.gaps, joined.token_gaps


def _meets(records: Records, slo: Slo) -> B:
    """Whether each request met every configured objective, all measured from t_sched."""
    t_sched, t_end = records.column("t_sched"), records.column("t_end")
    t_tok1, t_tokn = records.column("t_tok1"), records.column("t_tokn")
    n_out = records.column("n_out")
    ok: B = np.ones(len(records), dtype=bool)
    if slo.ttft_s is not None:
        ok &= (t_tok1 >= 0) & (t_tok1 - t_sched <= slo.ttft_s * 1e9)
    if slo.tpot_s is not None:  # fewer than two tokens: no time per output token to miss
        has = (t_tok1 >= 0) & (n_out >= 2)
        ok &= ~has | (t_tokn - t_tok1 <= slo.tpot_s * 1e9 * (n_out - 1))
    for limit in (slo.e2e_s, slo.latency_s):
        if limit is not None:
            ok &= t_end - t_sched <= limit * 1e9
    return ok


def _empty(width: int) -> I64:
    return np.zeros((0, width), dtype=np.int64)


def _add(a: Mapping[int, int], b: Mapping[int, int]) -> dict[int, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def _by_value(values: I64) -> dict[int, int]:
    uniq, n = np.unique(values, return_counts=True)
    return {int(k): int(v) for k, v in zip(uniq, n, strict=True)}


@dataclass(frozen=True)
class Aggregate:
    """Counts, token totals and distributions of folded rows and events (picklable, mergeable).

    Token events are joined to their request by seq (stream_join.py): `verdicts` say, per request
    whose events are not all folded yet, whether its gaps count and its tokens per event;
    `pending` holds events whose request was still running; `heads`/`tails` are the first and
    last folded event per request, so the gap across two folds is kept.
    """

    counts: Mapping[str, int]
    errors: Mapping[int, int]  # measured failures by ErrorClass (NOT_SENT apart)
    status: Mapping[int, int]  # measured answers by HTTP status
    dists: Mapping[str, Dist]
    stream_output_in_w: float = 0.0  # streamed tokens arriving in W (n_out spread over events)
    verdicts: I64 = field(default_factory=lambda: _empty(7))
    pending: I64 = field(default_factory=lambda: _empty(3))
    heads: I64 = field(default_factory=lambda: _empty(2))
    tails: I64 = field(default_factory=lambda: _empty(2))
    newest_t: int = -1  # the latest folded event: every later event of this worker comes after

    @classmethod
    def empty(cls) -> Aggregate:
        """Nothing folded yet."""
        dists = {name: Dist.of(np.zeros(0)) for name in DISTRIBUTIONS}
        return cls(dict.fromkeys(COUNTERS, 0), {}, {}, dists)

    @classmethod
    def of(
        cls,
        records: Records,
        events: Events,
        w0: int | None,
        w1: int | None,
        slo: Slo = Slo(),  # noqa: B008 - frozen
    ) -> Aggregate:
        """Rows and their events summarised together."""
        return fold_records(records, w0, w1, slo).merge(
            fold_events(events, w0, w1, owners=(records,))
        )

    @classmethod
    def combine(cls, parts: Iterable[Aggregate]) -> Aggregate:
        """The folds of several workers as one (their requests are disjoint, their clocks one)."""
        out = cls.empty()
        parts = list(parts)
        newest = [p.newest_t for p in parts if p.newest_t >= 0]
        for p in parts:
            out = out.merge(p)
        # Each worker has folded its events up to its own newest: only the earliest holds for all.
        return replace(out, newest_t=min(newest) if newest else -1)

    def merge(self, other: Aggregate) -> Aggregate:
        """Both parts as one; `other` holds this worker's later rows and events (oldest fold first)."""
        counts = {k: self.counts.get(k, 0) + other.counts.get(k, 0) for k in COUNTERS}
        verdicts = union_verdicts(self.verdicts, other.verdicts)
        # In time order: our pending events the new rows resolve, other's events, its pending.
        older = resolve(self.pending, verdicts)
        verdicts = older.seen_into(verdicts)
        joined = [older, bridge(self.tails, older.heads, verdicts)]
        tails = later_tails(self.tails, older.tails)
        joined.append(bridge(tails, other.heads, verdicts))
        tails = later_tails(tails, other.tails)
        newer = resolve(other.pending, verdicts)
        verdicts = newer.seen_into(verdicts)
        joined += [newer, bridge(tails, newer.heads, verdicts)]
        tails = later_tails(tails, newer.tails)
        dists = {k: self.dists[k].merge(other.dists[k]) for k in DISTRIBUTIONS}
        for j in joined:
            dists["itl"] = dists["itl"].merge(Dist.of(j.gaps))
            dists["itl_token"] = dists["itl_token"].merge(Dist.of(j.token_gaps))
        both = [n for n in (self.newest_t, other.newest_t) if n >= 0]
        floor = min(both) if len(both) == 2 else None
        verdicts, tails = _prune(verdicts, tails, floor)
        return Aggregate(
            counts=counts,
            errors=_add(self.errors, other.errors),
            status=_add(self.status, other.status),
            dists=dists,
            stream_output_in_w=self.stream_output_in_w
            + other.stream_output_in_w
            + sum(j.tokens_in_w for j in joined),
            verdicts=verdicts,
            pending=np.concatenate(
                [j.unresolved for j in joined if j.unresolved.size] or [_empty(3)]
            ),
            heads=self.heads if self.newest_t >= 0 else other.heads,
            tails=tails,
            newest_t=max(self.newest_t, other.newest_t),
        )


def _prune(verdicts: I64, tails: I64, floor: int | None) -> tuple[I64, I64]:
    """Forget requests whose events are all folded: every one seen, or all older than `floor`."""
    done = verdicts[:, V_SEEN] >= verdicts[:, V_CHUNKS]
    if floor is not None:
        done |= verdicts[:, V_END] < floor  # ended before the newest folded event of both parts
    keep_tails = ~np.isin(tails[:, 0], verdicts[done, 0])
    return verdicts[~done], tails[keep_tails]


def fold_records(
    records: Records,
    w0: int | None,
    w1: int | None,
    slo: Slo = Slo(),  # noqa: B008 - frozen
) -> Aggregate:
    """Summarise request rows: counts, SLO attainment, token totals and request distributions."""
    col = records.column
    phase, error, flags = col("phase"), col("error"), col("flags")
    t_end, t_tok1, n_out, n_in = col("t_end"), col("t_tok1"), col("n_out"), col("n_in")
    measured = phase == Phase.MEASURED
    ok_any = error == ErrorClass.OK
    ok = measured & ok_any
    not_sent = measured & (error == ErrorClass.NOT_SENT)
    usage_missing = (flags & Flag.USAGE_MISSING) != 0
    whole = ok_any & (t_tok1 < 0) & (n_out >= 0)  # a token count that arrives with the answer
    end_in = in_window(t_end, w0, w1)
    first_in = np.where(t_tok1 >= 0, in_window(t_tok1, w0, w1), end_in)
    counts = {
        "scheduled": int(measured.sum()),
        "succeeded": int(ok.sum()),
        "not_sent": int(not_sent.sum()),
        "warmup": int((phase == Phase.WARMUP).sum()),
        "ok_end_in_w": int((ok_any & end_in).sum()),
        "bytes_in_w": int(col("nbytes")[end_in].sum()),
        "sent_in_w": int(in_window(col("t_send"), w0, w1).sum()),
        "good": int((ok & _meets(records, slo)).sum()),
        "token_rows": int(((n_out >= 0) | usage_missing | (col("n_chunks") > 0)).sum()),
        "output_total": int(n_out[ok & (n_out >= 0)].sum()),
        "input_total": int(n_in[ok & (n_in >= 0)].sum()),
        "stream_output": int(n_out[ok & (t_tok1 >= 0)].sum()),
        "stream_chunks": int(col("n_chunks")[ok & (t_tok1 >= 0)].sum()),
        "usage_missing": int((measured & usage_missing).sum()),
        "malformed": int(col("n_bad")[measured].sum()),
        "whole_output_in_w": int(n_out[whole & end_in].sum()),
        "input_in_w": int(n_in[ok_any & (n_in >= 0) & first_in].sum()),
    }
    values = request_values(records)
    failed = measured & ~ok_any & ~not_sent
    return Aggregate(
        counts=counts,
        errors=_by_value(error[failed]),
        status=_by_value(col("status")[measured & (col("status") > 0)]),
        dists={k: Dist.of(values.get(k, np.zeros(0))) for k in DISTRIBUTIONS},
        verdicts=verdicts_of(records),
    )


def fold_events(
    events: Events,
    w0: int | None,
    w1: int | None,
    *,
    owners: Sequence[Records] = (),
) -> Aggregate:
    """Summarise token events, joined to their requests among `owners` (the rows still held).

    Events of a request not among them (still running, or folded already) wait in `pending`
    until a merge brings its row; pass the retained rows so they rarely have to.
    """
    ev = by_request(events, w0, w1)
    found = [verdicts_of(r, ev[:, 0]) for r in owners if len(r)]
    known = union_verdicts(*found)
    joined = resolve(ev, known)
    verdicts, tails = _prune(joined.seen_into(known), joined.tails, None)
    base = Aggregate.empty()
    dists = dict(base.dists)
    dists["itl"] = Dist.of(joined.gaps)
    dists["itl_token"] = Dist.of(joined.token_gaps)
    return Aggregate(
        counts=base.counts,
        errors={},
        status={},
        dists=dists,
        stream_output_in_w=joined.tokens_in_w,
        verdicts=verdicts,
        pending=joined.unresolved,
        heads=joined.heads,
        tails=tails,
        newest_t=int(events.column("t").max()) if len(events) else -1,
    )
