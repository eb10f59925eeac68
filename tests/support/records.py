"""Engine records for tests: a synthetic streamed open-loop run, rows and token events."""

from __future__ import annotations

import numpy as np

from benchaction.engine.records import COLUMNS, ErrorClass, Events, Records

MS = 1_000_000
S = 1_000_000_000


def synthetic_stream(
    n: int, rng: np.random.Generator, tokens_per_event: int
) -> tuple[Records, Events, int, int]:
    """A streamed open-loop run: n arrivals at 1000/s, W = [0.5 s, n/1000 - 0.5 s]."""
    t_sched = np.cumsum(rng.exponential(1e6, n)).astype(np.int64)
    t_send = t_sched + rng.integers(5_000, 50_000, n)
    k = rng.integers(1, 40, n)
    ttft = rng.lognormal(np.log(20e6), 0.4, n).astype(np.int64)
    seqs, times, tok1, tokn = [], [], np.zeros(n, np.int64), np.zeros(n, np.int64)
    for i in range(n):
        gaps = rng.lognormal(np.log(3e6), 0.6, k[i] - 1).astype(np.int64)
        gaps[rng.random(gaps.size) < 0.1] = 0  # events read together
        t = t_send[i] + ttft[i] + np.r_[0, np.cumsum(gaps)]
        seqs.append(np.full(k[i], i))
        times.append(t)
        tok1[i], tokn[i] = t[0], t[-1]
    t_end = tokn + 100_000
    w0, w1 = S // 2, n * MS - S // 2
    error = np.where(rng.random(n) < 0.03, int(ErrorClass.TRUNCATED), 0)
    table = np.zeros((n, len(COLUMNS)), np.int64)
    cols = {
        "t_sched": t_sched,
        "t_send": t_send,
        "t_first": t_send + ttft - 1000,
        "t_end": t_end,
        "status": np.full(n, 200),
        "nbytes": k * 50,
        "error": error,
        "phase": ((t_sched >= w0) & (t_sched < w1)).astype(np.int64),
        "seq": np.arange(n),
        "t_tok1": tok1,
        "t_tokn": tokn,
        "n_chunks": k,
        "n_out": k * tokens_per_event,
        "n_in": rng.integers(10, 100, n),
        "n_bad": np.zeros(n, np.int64),
        "flags": np.zeros(n, np.int64),
    }
    for j, name in enumerate(COLUMNS):
        table[:, j] = cols[name]
    table = table[np.argsort(t_end, kind="stable")]  # rows land in completion order
    ev = np.column_stack([np.concatenate(seqs), np.concatenate(times)])
    ev = ev[np.argsort(ev[:, 1], kind="stable")]  # events land in arrival order
    return Records(table), Events(ev), w0, w1
