"""Closed-loop load: N virtual users, each sending its next request as soon as the last one ends."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter_ns

from benchaction.engine.connection import VirtualUser
from benchaction.engine.plan import LoadPlan
from benchaction.engine.records import ErrorClass, Phase, RecordBuffer, Records

__all__ = ["LoadResult", "LoadRun", "Progress", "run_closed_loop"]

_NS = 1_000_000_000


@dataclass(frozen=True)
class Progress:
    """A snapshot for the progress display, taken a few times a second."""

    elapsed_s: float
    measuring: bool
    completed: int
    errors: int


@dataclass(frozen=True)
class LoadResult:
    """Everything a run measured; times are ns relative to `start_ns` of this run."""

    records: Records
    window_start_ns: int | None
    window_end_ns: int | None
    duration_mode: bool
    cut_off: int  # requests still in flight when the hard limit ended the run (not recorded)


class LoadRun:
    """The state the virtual users of one run share: the schedule, the window and the records."""

    def __init__(self, plan: LoadPlan, start_ns: int) -> None:
        self.plan = plan
        self.start_ns = start_ns
        self.buffer = RecordBuffer()
        self.n_requests = len(plan.requests)
        self.next_request = 0
        self.scheduled = 0
        self.measured = 0
        self.completed = 0
        self.errors = 0
        self.stopping = False
        self._warm_ns = start_ns + int(plan.warmup_s * _NS)
        self._k1: int | None = None  # t_sched of the first request after the warmup count
        self.w0: int | None = None
        self.w1: int | None = None
        if plan.warmup_requests == 0:
            self._k1 = start_ns
            self._open_window(self._warm_ns)

    def _open_window(self, w0: int) -> None:
        self.w0 = w0
        if self.plan.duration_s is not None:
            self.w1 = w0 + int(self.plan.duration_s * _NS)

    def claim(self, t_sched: int) -> tuple[bytes, int] | None:
        """The next request for a user that became free at `t_sched`, or None once the run is over."""
        if self.stopping:
            return None
        if self.w0 is None:
            if self.scheduled == self.plan.warmup_requests:
                self._k1 = t_sched
            if self._k1 is not None and t_sched >= self._warm_ns:
                self._open_window(max(self._warm_ns, self._k1))
        if self.w0 is not None and t_sched >= self.w0:
            if self.w1 is not None and t_sched >= self.w1:
                self.stopping = True
                return None
            if self.plan.count is not None and self.measured >= self.plan.count:
                self.stopping = True
                return None
            self.measured += 1
            phase = Phase.MEASURED
        else:
            phase = Phase.WARMUP
        self.scheduled += 1
        i = self.next_request
        self.next_request = i + 1 if i + 1 < self.n_requests else 0
        return self.plan.requests[i], phase

    def record(
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
        """Store one finished request, with times made relative to the run start."""
        s = self.start_ns
        self.buffer.append(
            t_sched - s,
            t_send - s,
            t_first - s if t_first else -1,
            t_end - s,
            status,
            nbytes,
            error,
            phase,
        )
        if error:
            self.errors += 1
        else:
            self.completed += 1


async def _drive(user: VirtualUser, run: LoadRun) -> None:
    """Keep one user connected until the run is over; a failed connect counts as a failed request."""
    loop = asyncio.get_running_loop()
    plan = run.plan
    while not user.finished:
        if user.pending is None:
            t_sched = user.free_at or perf_counter_ns()
            user.free_at = 0
            claim = run.claim(t_sched)
            if claim is None:
                return
            user.pending = (claim[0], claim[1], t_sched)
        user.closed = loop.create_future()
        t_try = perf_counter_ns()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: user, plan.host, plan.port), plan.timeout_s
            )
        except (OSError, TimeoutError) as exc:
            now = perf_counter_ns()
            _, phase, t_sched = user.pending
            user.pending = None
            if isinstance(exc, ConnectionRefusedError):
                error = ErrorClass.REFUSED
            elif isinstance(exc, TimeoutError):
                error = ErrorClass.TIMEOUT
            else:
                error = ErrorClass.CONNECT
            run.record(t_sched, t_try, 0, now, 0, 0, error, phase)
            user.free_at = 0
            await asyncio.sleep(plan.connect_backoff_s)  # a dead server must not become a hot loop
            continue
        await user.closed


async def _watch(users: list[VirtualUser], run: LoadRun) -> None:
    """Time out requests that take longer than the plan allows."""
    timeout_ns = int(run.plan.timeout_s * _NS)
    interval = min(0.1, run.plan.timeout_s / 4)
    while True:
        await asyncio.sleep(interval)
        now = perf_counter_ns()
        for user in users:
            if user.inflight and now - user.t_send > timeout_ns:
                user.timed_out(now)


async def _report(run: LoadRun, progress: Callable[[Progress], None], every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        now = perf_counter_ns()
        progress(
            Progress(
                elapsed_s=(now - run.start_ns) / _NS,
                measuring=run.w0 is not None and now >= run.w0,
                completed=run.completed,
                errors=run.errors,
            )
        )


async def run_closed_loop_async(
    plan: LoadPlan,
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 0.5,
) -> LoadResult:
    """Run a plan on the current event loop; returns when every user is done or the limit hits."""
    run = LoadRun(plan, perf_counter_ns())
    users = [VirtualUser(run) for _ in range(plan.concurrency)]
    helpers = [asyncio.ensure_future(_watch(users, run))]
    if progress is not None:
        helpers.append(asyncio.ensure_future(_report(run, progress, progress_every_s)))
    drivers = asyncio.gather(*(_drive(u, run) for u in users))
    cut_off = 0
    try:
        await asyncio.wait_for(asyncio.shield(drivers), plan.hard_limit_s)
    except TimeoutError:
        run.stopping = True
        cut_off = sum(1 for u in users if u.inflight)
        for user in users:
            user.inflight = False
            user.finished = True
            user._abort()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(drivers, 5.0)
    finally:
        # Also reached on cancellation: stop the schedule first, so that no user whose
        # connection is being closed here claims a new request and reconnects.
        run.stopping = True
        for task in helpers:
            task.cancel()
        for user in users:
            user.finished = True
            user._close()
        if not drivers.done():
            drivers.cancel()
        await asyncio.gather(*helpers, drivers, return_exceptions=True)
    records = run.buffer.freeze()
    w0 = None if run.w0 is None else run.w0 - run.start_ns
    if run.w1 is not None:
        w1: int | None = run.w1 - run.start_ns
    else:
        ends = records.column("t_end")[records.column("phase") == Phase.MEASURED]
        w1 = int(ends.max()) if ends.size else None
    return LoadResult(records, w0, w1, plan.duration_s is not None, cut_off)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def _with_stop_signals(
    plan: LoadPlan,
    progress: Callable[[Progress], None] | None,
    progress_every_s: float,
    received: list[int],
) -> LoadResult:
    loop = asyncio.get_running_loop()
    this = asyncio.current_task()

    def stop(sig: int) -> None:
        received.append(sig)
        if this is not None:
            this.cancel()

    installed = []
    for sig in _STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, stop, sig)
            installed.append(sig)
        except (ValueError, RuntimeError, NotImplementedError):
            pass  # not the main thread: signals stay with the caller
    try:
        return await run_closed_loop_async(plan, progress, progress_every_s)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def run_closed_loop(
    plan: LoadPlan,
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 0.5,
) -> LoadResult:
    """Run a plan to completion on a fresh event loop (uvloop when installed).

    uvloop swallows an exception raised by a Python signal handler inside its callbacks, so
    SIGINT/SIGTERM are taken by the loop instead: the run is cancelled, the caller's handler
    is restored and called, and the caller's cleanup (`finally`) runs as usual.
    """
    received: list[int] = []
    # Taken before the loop exists: a running uvloop puts its own handlers in their place.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS} if in_main_thread else {}
    try:
        with asyncio.Runner(loop_factory=_new_loop) as runner:
            return runner.run(_with_stop_signals(plan, progress, progress_every_s, received))
    except (asyncio.CancelledError, KeyboardInterrupt):
        if not received:
            raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    signum = received[0]
    handler = previous.get(signal.Signals(signum))
    if callable(handler):
        handler(signum, None)
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")
