"""Sharding a run over worker processes, so one core is not the ceiling, and merging it back.

Each worker runs its share (users split evenly; open-loop arrivals i = k mod K of one global
schedule) from a common start on the shared monotonic clock, so merged records are exactly the
records of one process that could send that fast.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from time import perf_counter_ns
from typing import Any

import numpy as np

from benchaction.engine.aggregate import Aggregate
from benchaction.engine.loop import Progress, run_local
from benchaction.engine.plan import LoadPlan
from benchaction.engine.records import Events, Records
from benchaction.engine.result import LoadResult

__all__ = ["merge_results", "run_load"]

_NS = 1_000_000_000
START_MARGIN_NS = 200_000_000
"""Workers start this long after the last one said it is ready: enough to get into the loop."""

READY_TIMEOUT_S = 60.0


def _worker(
    plan: LoadPlan,
    conn: multiprocessing.connection.Connection,
    counters: Any,
) -> None:
    """A worker process: ready, wait for the common start, run its share, send the result back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the run stops
    try:
        if plan.cpus:
            os.sched_setaffinity(0, plan.cpus)  # the load's cores (CPU isolation)
        conn.send(("ready", os.getpid()))
        start_at = conn.recv()
        shard_plan = replace(plan, start_at_ns=start_at)

        def progress(p: Progress) -> None:
            counters[2 * plan.shard] = p.completed
            counters[2 * plan.shard + 1] = p.errors

        result = _with_cpus(run_local(shard_plan, progress, 0.25))
        conn.send(("result", result))
    except BaseException as exc:  # reported to the parent, which raises it there
        with_trace = "".join(traceback.format_exception(exc))
        with contextlib.suppress(OSError):
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{with_trace}"))
    finally:
        conn.close()


@contextlib.contextmanager
def _pinned(cpus: tuple[int, ...] | None) -> Iterator[None]:
    """This thread on `cpus` inside the block (and the processes it starts), as before after."""
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _with_cpus(result: LoadResult) -> LoadResult:
    """The result with the cores this thread may run on, as its worker's `cpus`."""
    if not hasattr(os, "sched_getaffinity"):  # pragma: no cover - not Linux
        return result
    cpus = tuple(sorted(os.sched_getaffinity(0)))
    return replace(result, workers=tuple(replace(w, cpus=cpus) for w in result.workers))


def merge_results(parts: list[LoadResult]) -> LoadResult:
    """One result from the workers' results: rows and events concatenated, W spanning all."""
    first = parts[0]
    starts = [p.window_start_ns for p in parts]
    ends = [p.window_end_ns for p in parts]
    folds = [p.folded for p in parts if p.folded is not None]
    folded = Aggregate.combine(folds) if folds else None
    messages: dict[str, tuple[str, ...]] = {}
    for p in parts:
        for label, texts in p.messages.items():
            messages[label] = (*messages.get(label, ()), *texts)[:3]
    return LoadResult(
        records=Records(np.concatenate([p.records.table for p in parts])),
        window_start_ns=None if None in starts else min(s for s in starts if s is not None),
        window_end_ns=None if None in ends else max(e for e in ends if e is not None),
        duration_mode=first.duration_mode,
        cut_off=sum(p.cut_off for p in parts),
        events=Events(np.concatenate([p.events.table for p in parts])),
        open_loop=first.open_loop,
        offered_rate=first.offered_rate,
        workers=tuple(w for p in parts for w in p.workers),
        folded=folded,
        messages=messages,
        origin_ns=first.origin_ns,
    )


def _shard_count(plan: LoadPlan) -> int:
    if plan.open_loop:
        return plan.workers
    return max(1, min(plan.workers, plan.concurrency))


def run_load(
    plan: LoadPlan,
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 0.5,
) -> LoadResult:
    """Run a plan: in this process for one worker, else sharded over `plan.workers` processes.

    With `plan.cpus` every worker runs on those cores; run here, the calling thread does for
    the run only, and its own mask is restored after.
    """
    with _pinned(plan.cpus):
        return _run_load(plan, progress, progress_every_s)


def _run_load(
    plan: LoadPlan,
    progress: Callable[[Progress], None] | None,
    progress_every_s: float,
) -> LoadResult:
    shards = _shard_count(plan)
    if shards == 1:
        return _with_cpus(run_local(plan, progress, progress_every_s))
    ctx = multiprocessing.get_context("spawn")  # no fork: the parent may hold threads and sockets
    counters: Any = ctx.Array("q", 2 * shards, lock=False)
    procs = []
    pipes = []
    try:
        for k in range(shards):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_worker,
                args=(plan.for_shard(k, shards, 0), child, counters),
                name=f"benchaction-worker-{k}",
                daemon=True,
            )
            proc.start()
            child.close()
            procs.append(proc)
            pipes.append(parent)
        for k, pipe in enumerate(pipes):
            if not pipe.poll(READY_TIMEOUT_S):
                raise RuntimeError(f"load worker {k} did not start within {READY_TIMEOUT_S:.0f} s")
            kind, detail = pipe.recv()
            if kind != "ready":
                raise RuntimeError(f"load worker {k} failed to start: {detail}")
        start_at = perf_counter_ns() + START_MARGIN_NS
        for pipe in pipes:
            pipe.send(start_at)
        results: dict[int, LoadResult] = {}
        deadline = start_at + int((plan.hard_limit_s + 30.0) * _NS)
        while len(results) < shards:
            ready = multiprocessing.connection.wait(
                [p for k, p in enumerate(pipes) if k not in results], timeout=progress_every_s
            )
            for item in ready:
                k = next(i for i, p in enumerate(pipes) if p is item)
                try:
                    kind, detail = pipes[k].recv()
                except EOFError:
                    raise RuntimeError(
                        f"load worker {k} died (exit code {procs[k].exitcode})"
                    ) from None
                if kind != "result":
                    raise RuntimeError(f"load worker {k} failed: {detail}")
                results[k] = detail
            if progress is not None:
                now = perf_counter_ns()
                progress(
                    Progress(
                        elapsed_s=(now - start_at) / _NS,
                        measuring=now - start_at >= plan.warmup_s * _NS,
                        completed=sum(counters[0::2]),
                        errors=sum(counters[1::2]),
                    )
                )
            if perf_counter_ns() > deadline:
                raise RuntimeError("load workers did not finish within their hard time limit")
        return merge_results([results[k] for k in range(shards)])
    finally:
        for pipe in pipes:
            pipe.close()
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: the worker's loop cancels the run and exits
        for proc in procs:
            proc.join(5.0)
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
