"""One worker's run on one event loop (uvloop when installed): users, dispatcher, watchdog, limits."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from time import perf_counter_ns

from benchaction.engine.checks import needs_body
from benchaction.engine.connection import Pending, VirtualUser, user_class
from benchaction.engine.plan import LoadPlan
from benchaction.engine.records import ErrorClass
from benchaction.engine.result import LoadResult, WorkerStats
from benchaction.engine.run import SPIN_NS, ClosedRun, LoadRun, OpenRun

__all__ = ["Progress", "run_local", "run_local_async"]

_NS = 1_000_000_000


@dataclass(frozen=True)
class Progress:
    """A snapshot for the progress display, taken a few times a second."""

    elapsed_s: float
    measuring: bool
    completed: int
    errors: int


def _connect_error(exc: BaseException) -> ErrorClass:
    if isinstance(exc, ConnectionRefusedError):
        return ErrorClass.REFUSED
    if isinstance(exc, TimeoutError):
        return ErrorClass.TIMEOUT
    return ErrorClass.CONNECT


async def _connect(user: VirtualUser, run: LoadRun) -> bool:
    """Open the user's connection; a failure is recorded against its pending request."""
    loop = asyncio.get_running_loop()
    plan = run.plan
    user.closed = loop.create_future()
    t_try = perf_counter_ns()
    try:
        await asyncio.wait_for(
            loop.create_connection(lambda: user, plan.host, plan.port), plan.timeout_s
        )
    except (OSError, TimeoutError) as exc:
        now = perf_counter_ns()
        if isinstance(run, OpenRun) and user.pending is None:
            run.connect_failures += 1
        if user.pending is not None:
            _, phase, t_sched, seq, flags = user.pending
            user.pending = None
            error = _connect_error(exc)
            run.record(t_sched, t_try, 0, now, 0, 0, error, phase, seq, flags=flags)
            run.note_error(error, f"connect to {plan.host}:{plan.port}: {exc}")
        user.free_at = 0
        await asyncio.sleep(plan.connect_backoff_s)  # a dead server must not become a hot loop
        return False
    return True


async def _drive_closed(user: VirtualUser, run: ClosedRun) -> None:
    """Keep one user connected until the run is over."""
    while not user.finished:
        if user.pending is None:
            t_sched = user.free_at or perf_counter_ns()
            user.free_at = 0
            claim = run.claim(t_sched)
            if claim is None:
                return
            user.pending = claim
        if await _connect(user, run):
            assert user.closed is not None
            await user.closed


async def _drive_open(user: VirtualUser, run: OpenRun, idle_first: bool = False) -> None:
    """One connection of an open-loop run: it lives while there is work for it."""
    try:
        if idle_first and await _connect(user, run):  # a pre-opened connection waits idle
            assert user.closed is not None
            await user.closed
        while not user.finished:
            if user.pending is None:
                user.pending = run.take_queued()
                if user.pending is None:
                    return
            if await _connect(user, run):
                assert user.closed is not None
                await user.closed
    finally:
        run.open_users -= 1
        user.finished = True


async def _dispatch(run: OpenRun) -> None:
    """Send arrivals when due: a timer while the next is far, polling the loop in its last 5 ms."""
    loop = asyncio.get_running_loop()
    wake = loop.create_future()

    def tick() -> None:
        now = perf_counter_ns()
        run.dispatch_due(now)
        if run.next_t is None:
            if not wake.done():
                wake.set_result(None)
            return
        delay = run.next_t - now
        if delay > SPIN_NS:
            loop.call_later((delay - SPIN_NS) / _NS, tick)
        else:
            loop.call_soon(tick)

    first = run.next_t if run.next_t is not None else perf_counter_ns()
    loop.call_later(max(0.0, (first - perf_counter_ns() - SPIN_NS) / _NS), tick)
    await wake


async def _watch(run: LoadRun) -> None:
    """Time out requests that take longer than the plan allows."""
    timeout_ns = int(run.plan.timeout_s * _NS)
    interval = min(0.1, run.plan.timeout_s / 4)
    while True:
        await asyncio.sleep(interval)
        now = perf_counter_ns()
        users = run.users
        for user in users:
            if user.inflight and now - user.t_send > timeout_ns:
                user.timed_out(now)
        if len(users) > 64:
            run.users = [u for u in users if not u.finished or u.inflight]


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


async def _wait_start(start_at_ns: int | None) -> int:
    if start_at_ns is None:
        return perf_counter_ns()
    delay = (start_at_ns - perf_counter_ns()) / _NS
    if delay > 0.002:
        await asyncio.sleep(delay - 0.002)
    while perf_counter_ns() < start_at_ns:  # the last 2 ms: workers start within microseconds
        pass
    return start_at_ns


def _closed(run: ClosedRun, cls: type[VirtualUser]) -> list[asyncio.Future[None]]:
    users = [cls(run) for _ in range(run.users_here)]
    run.users = list(users)
    return [asyncio.ensure_future(_drive_closed(u, run)) for u in users]


def _start_users_into(
    tasks: set[asyncio.Future[None]], run: OpenRun, cls: type[VirtualUser]
) -> None:
    """Let the run open connections on demand; their tasks are kept in `tasks` until done."""

    def new_user(item: Pending | None) -> None:
        user = cls(run)
        user.pending = item
        run.users.append(user)
        task = asyncio.ensure_future(_drive_open(user, run, idle_first=item is None))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    run.new_user = new_user  # type: ignore[method-assign]


async def _preopen(run: OpenRun, n: int) -> None:
    """Open `n` idle connections before the start; each parks itself in `run.idle`."""
    for _ in range(n):
        run.open_users += 1
        run.new_user(None)
    deadline = perf_counter_ns() + int(run.plan.timeout_s * _NS)
    while len(run.idle) + run.connect_failures < n and perf_counter_ns() < deadline:
        await asyncio.sleep(0.001)


async def run_local_async(
    plan: LoadPlan,
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 0.5,
) -> LoadResult:
    """Run a plan (or one worker's share of it) on the current event loop."""
    cls = user_class(plan.stream, plan.usage or needs_body(plan.check), plan.head)
    open_tasks: set[asyncio.Future[None]] = set()
    run: LoadRun
    if plan.open_loop:
        # The schedule starts once the pool is open: its clock is set when the start comes.
        run = OpenRun(plan, perf_counter_ns())
        _start_users_into(open_tasks, run, cls)
        await _preopen(run, plan.preopened_connections)
        run.restart_at(await _wait_start(plan.start_at_ns))
    else:
        run = ClosedRun(plan, await _wait_start(plan.start_at_ns))
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    helpers: list[asyncio.Future[None]] = [asyncio.ensure_future(_watch(run))]
    if progress is not None:
        helpers.append(asyncio.ensure_future(_report(run, progress, progress_every_s)))
    closed_tasks: list[asyncio.Future[None]] = []

    async def body() -> None:
        if isinstance(run, OpenRun):
            await _dispatch(run)
            run.finish_schedule(perf_counter_ns(), drop_queued=plan.duration_s is not None)
            while open_tasks or run.queue:
                if open_tasks:
                    await asyncio.wait(set(open_tasks))
                elif run.queue:  # every connection died with work queued: reopen one
                    run.open_users += 1
                    run.new_user(run.queue.popleft())
        else:
            assert isinstance(run, ClosedRun)
            closed_tasks.extend(_closed(run, cls))
            await asyncio.gather(*closed_tasks)

    main: asyncio.Future[None] = asyncio.ensure_future(body())
    cut_off = 0
    try:
        await asyncio.wait_for(asyncio.shield(main), plan.hard_limit_s)
    except TimeoutError:
        run.stopping = True
        cut_off = sum(1 for u in run.users if u.inflight)
        if isinstance(run, OpenRun):
            run.finish_schedule(perf_counter_ns(), drop_queued=True)
        for user in run.users:
            user.inflight = False
            user.finished = True
            user._abort()
        main.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(main, 5.0)
    finally:
        # Also reached on cancellation: stop the schedule first, so that no user whose
        # connection is being closed here claims a new request and reconnects.
        run.stopping = True
        if isinstance(run, OpenRun):
            run.schedule_done = True
            run.next_t = None
        for task in helpers:
            task.cancel()
        for user in run.users:
            user.finished = True
            user._close()
        if not main.done():
            main.cancel()
        pending = [*helpers, main, *closed_tasks, *open_tasks]
        for future in open_tasks:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    w0, w1 = run.window()
    return LoadResult(
        records=run.buffer.freeze(),
        window_start_ns=w0,
        window_end_ns=w1,
        duration_mode=plan.duration_s is not None,
        cut_off=cut_off,
        events=run.events.freeze(),
        open_loop=plan.open_loop,
        offered_rate=None if plan.arrivals is None else plan.arrivals.rate,
        workers=(WorkerStats(time.thread_time() - cpu0, time.perf_counter() - wall0),),
        folded=run.folded,
        messages={k: tuple(v) for k, v in run.messages.items()},
        origin_ns=run.start_ns,
    )


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed: its callbacks cost a fraction of asyncio's."""
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
        return await run_local_async(plan, progress, progress_every_s)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


@contextlib.contextmanager
def _quiet_gc() -> Iterator[None]:
    """No full collection mid-run: objects alive now are frozen, and young collections are rarer.

    A generation-2 pass over a large heap stops the loop for milliseconds, which would show up
    as dispatch lag and latency the server did not cause (vLLM's benchmark does the same).
    """
    gc.collect()
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(50_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def run_local(
    plan: LoadPlan,
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 0.5,
) -> LoadResult:
    """Run a plan in this process on a fresh event loop.

    uvloop swallows an exception raised by a Python signal handler inside its callbacks, so
    SIGINT/SIGTERM are taken by the loop instead: the run is cancelled, the caller's handler
    is restored and called, and the caller's cleanup (`finally`) runs as usual.
    """
    received: list[int] = []
    # Taken before the loop exists: a running uvloop puts its own handlers in their place.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS} if in_main_thread else {}
    try:
        with _quiet_gc(), asyncio.Runner(loop_factory=new_loop) as runner:
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
