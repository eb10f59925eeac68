"""The state the users of one run share: who sends what when, the window, and the records.

A closed-loop run hands the next request to a user as soon as it is free; an open-loop run
sends requests when the arrival schedule says they are due, on whichever connection is free.
Either way times are stamped on one clock and records are folded into histograms once a
worker holds more than `plan.fold_rows` of them, so memory stays bounded however long it runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from benchaction.engine.records import (
    ErrorClass,
    EventBuffer,
    Events,
    Flag,
    Phase,
    RecordBuffer,
    Records,
)
from benchaction.engine.schedule import BLOCK, arrival_offsets, payload_block, payload_indexes

if TYPE_CHECKING:
    from benchaction.engine.aggregate import Aggregate
    from benchaction.engine.connection import Pending, VirtualUser
    from benchaction.engine.plan import LoadPlan

__all__ = ["ClosedRun", "LoadRun", "OpenRun", "share"]

_NS = 1_000_000_000
SPIN_NS = 5_000_000
"""Closer than this to the next arrival, the dispatcher polls the loop instead of sleeping on a
timer: uvloop rounds timers to whole milliseconds, and a sleeping process can wake milliseconds
late on a busy or virtualised host (measured here: p99 3 ms), which would make sends late."""

MAX_MESSAGES = 3


def share(total: int, shard: int, shards: int) -> int:
    """Worker `shard`'s part of `total` when split as evenly as possible."""
    return total // shards + (1 if shard < total % shards else 0)


class LoadRun:
    """What every run keeps: records, events, the window, counters for the progress display."""

    def __init__(self, plan: LoadPlan, start_ns: int) -> None:
        self.plan = plan
        self.start_ns = start_ns
        chunk = max(1, min(1 << 16, plan.fold_rows))
        self.buffer = RecordBuffer(chunk, origin=start_ns)
        self.buffer.check_at = plan.fold_rows
        self.buffer.on_full = self._fold
        # Store one finished request (stamps as perf_counter_ns): the buffer's own writers, so an
        # answer costs one call. `record_plain` leaves the token columns out (plain HTTP).
        self.record = self.buffer.append
        self.record_plain = self.buffer.append_plain
        self.events = EventBuffer(chunk)
        self.folded: Aggregate | None = None
        self.stopping = False
        self.w0: int | None = None
        self.w1: int | None = None
        self.users: list[VirtualUser] = []
        self.messages: dict[str, list[str]] = {}
        self._local_seq = 0

    def next_seq(self) -> int:
        """A request number unique across the workers of a run."""
        seq = self._local_seq * self.plan.shards + self.plan.shard
        self._local_seq += 1
        return seq

    @property
    def completed(self) -> int:
        """Requests recorded without an error."""
        return self.buffer.completed

    @property
    def errors(self) -> int:
        """Requests recorded with an error."""
        return self.buffer.errors

    @property
    def last_measured_end(self) -> int:
        """The latest t_end (absolute) of a measured request: W's end in count mode."""
        return self.buffer.last_measured_end

    def note_error(self, error: int, message: str) -> None:
        """Keep the first few messages of each error class for the report."""
        kept = self.messages.setdefault(ErrorClass(error).label, [])
        if len(kept) < MAX_MESSAGES and message not in kept:
            kept.append(message)

    def window(self) -> tuple[int | None, int | None]:
        """W relative to the run start; W's end in count mode is the last measured answer."""
        w0 = None if self.w0 is None else self.w0 - self.start_ns
        if self.w1 is not None:
            w1: int | None = self.w1 - self.start_ns
        elif self.plan.count is not None and self.last_measured_end:
            w1 = self.last_measured_end - self.start_ns
        else:
            w1 = None
        return w0, w1

    def _fold(self) -> None:
        """Summarise the oldest complete chunks so a worker holds at most `fold_rows` rows."""
        from benchaction.engine.aggregate import fold_events, fold_records

        self.buffer.check_at = self.completed + self.errors + (1 << 16)
        w0, w1 = self.window()
        if self.plan.duration_s is None:
            w1 = None  # count mode: W ends with the last measured answer, not known yet
        # Events first, while the rows of their requests are still held, so each folds joined
        # to its request; only events of requests still streaming wait for their row.
        while len(self.events) > self.plan.fold_rows and self.events.full_chunks():
            owners = [Records(v) for v in self.buffer.views()]
            part = fold_events(Events(self.events.pop_oldest()), w0, w1, owners=owners)
            self.folded = part if self.folded is None else self.folded.merge(part)
        while len(self.buffer) > self.plan.fold_rows and self.buffer.full_chunks():
            part = fold_records(Records(self.buffer.pop_oldest()), w0, w1, self.plan.slo)
            self.folded = part if self.folded is None else self.folded.merge(part)

    def on_free(self, user: VirtualUser, now: int) -> None:
        """A user's connection is free: give it work, park it, or let it finish."""
        raise NotImplementedError


class ClosedRun(LoadRun):
    """Closed loop: each user sends its next request the moment its last one ended."""

    def __init__(self, plan: LoadPlan, start_ns: int) -> None:
        super().__init__(plan, start_ns)
        k, n = plan.shard, plan.shards
        self.users_here = share(plan.concurrency, k, n)
        self.count = None if plan.count is None else share(plan.count, k, n)
        self.warmup_requests = share(plan.warmup_requests, k, n)
        self._payload: Iterator[int] = payload_indexes(
            len(plan.requests), plan.payload_order, plan.seed, k
        )
        self.scheduled = 0
        self.measured = 0
        self._warm_ns = start_ns + int(plan.warmup_s * _NS)
        self._k1: int | None = None  # t_sched of the first request after the warmup count
        if self.warmup_requests == 0:
            self._k1 = start_ns
            self._open_window(self._warm_ns)

    def _open_window(self, w0: int) -> None:
        self.w0 = w0
        if self.plan.duration_s is not None:
            self.w1 = w0 + int(self.plan.duration_s * _NS)

    def claim(self, t_sched: int) -> Pending | None:
        """The next request for a user that became free at `t_sched`, or None once the run is over."""
        if self.stopping:
            return None
        if self.w0 is None:
            if self.scheduled == self.warmup_requests:
                self._k1 = t_sched
            if self._k1 is not None and t_sched >= self._warm_ns:
                self._open_window(max(self._warm_ns, self._k1))
        if self.w0 is not None and t_sched >= self.w0:
            if self.w1 is not None and t_sched >= self.w1:
                self.stopping = True
                return None
            if self.count is not None and self.measured >= self.count:
                self.stopping = True
                return None
            self.measured += 1
            phase = Phase.MEASURED
        else:
            phase = Phase.WARMUP
        self.scheduled += 1
        return self.plan.requests[next(self._payload)], phase, t_sched, self.next_seq(), 0

    def on_free(self, user: VirtualUser, now: int) -> None:
        claim = self.claim(now)
        if claim is None:
            user.finished = True
            user._close()
            return
        user.send(*claim)


class OpenRun(LoadRun):
    """Open loop: requests are due on a seeded schedule; worker k of K takes arrivals i = k mod K.

    Every worker walks the same global schedule, so the window, the measured arrivals and each
    arrival's payload are the same whether one process sends them all or several share them.
    """

    def __init__(self, plan: LoadPlan, start_ns: int) -> None:
        super().__init__(plan, start_ns)
        assert plan.arrivals is not None
        self.arrivals = plan.arrivals
        self.idle: list[VirtualUser] = []
        self.queue: deque[Pending] = deque()
        self.open_users = 0
        self.connect_failures = 0  # pre-opened connections that could not connect
        self.schedule_done = False
        self.sent_measured = 0
        offset_w0, self._m0 = self._window_start()
        self.w0 = start_ns + offset_w0
        if plan.duration_s is not None:
            self.w1 = self.w0 + int(plan.duration_s * _NS)
        self._end_index = None if plan.count is None else self._m0 + plan.count
        self._blocks = arrival_offsets(self.arrivals.rate, self.arrivals.distribution, plan.seed)
        self._block = -1
        self._times: npt.NDArray[np.int64] = np.zeros(0, np.int64)
        self._payloads: npt.NDArray[np.int64] = np.zeros(0, np.int64)
        self._i = plan.shard  # next global arrival index of this worker
        self.next_t: int | None = None
        self._advance_to(self._i)

    def restart_at(self, start_ns: int) -> None:
        """Set the run's clock to `start_ns` (after the connection pool opened)."""
        shift = start_ns - self.start_ns
        self.start_ns = self.buffer.origin = start_ns  # the records' clock too
        assert self.w0 is not None
        self.w0 += shift
        if self.w1 is not None:
            self.w1 += shift
        if self.next_t is not None:
            self.next_t += shift

    def _window_start(self) -> tuple[int, int]:
        """W's start (ns after the run start) and the index of the first measured arrival."""
        plan = self.plan
        warm_ns = int(plan.warmup_s * _NS)
        base = 0
        target_ns: int | None = None
        for times in arrival_offsets(self.arrivals.rate, self.arrivals.distribution, plan.seed):
            if target_ns is None and plan.warmup_requests < base + BLOCK:
                target_ns = max(warm_ns, int(times[plan.warmup_requests - base]))
            if target_ns is not None:
                later = np.flatnonzero(times >= target_ns)
                if later.size:
                    return target_ns, base + int(later[0])
            base += BLOCK
        raise AssertionError("unreachable: the schedule is endless")

    def _advance_to(self, i: int) -> None:
        block, j = divmod(i, BLOCK)
        while self._block < block:
            self._times = next(self._blocks)
            self._block += 1
        if self._payload_block != block:
            self._payloads = payload_block(
                len(self.plan.requests), self.plan.payload_order, self.plan.seed, block
            )
            self._payload_block = block
        t = self.start_ns + int(self._times[j])
        if (self._end_index is not None and i >= self._end_index) or (
            self.w1 is not None and t >= self.w1
        ):
            self.next_t = None
            return
        self.next_t = t
        self._next_payload = int(self._payloads[j])
        self._next_phase = Phase.MEASURED if i >= self._m0 else Phase.WARMUP

    _payload_block = -1
    _next_payload = 0
    _next_phase = 0

    def dispatch_due(self, now: int) -> None:
        """Send every arrival due by `now`, in order."""
        requests = self.plan.requests
        step = self.plan.shards
        while self.next_t is not None and self.next_t <= now:
            self._dispatch(requests[self._next_payload], self._next_phase, self.next_t)
            self._i += step
            self._advance_to(self._i)

    def _dispatch(self, request: bytes, phase: int, t_sched: int) -> None:
        item = (request, phase, t_sched, self.next_seq(), 0)
        if phase == Phase.MEASURED:
            self.sent_measured += 1
        idle = self.idle
        while idle:
            user = idle.pop()
            if user.transport is not None and not user.finished and not user.inflight:
                user.send(*item)
                return
        if self.open_users < self.plan.max_connections:
            self.open_users += 1
            self.new_user(item)
            return
        self.queue.append((request, phase, t_sched, item[3], Flag.QUEUED))

    def new_user(self, item: Pending | None) -> None:
        """Start a connection for `item` (set by the loop module, which owns tasks)."""
        raise NotImplementedError

    def on_free(self, user: VirtualUser, now: int) -> None:
        if self.queue:
            user.send(*self.queue.popleft())
        elif self.schedule_done:
            user.finished = True
            user._close()
        else:
            self.idle.append(user)

    def take_queued(self) -> Pending | None:
        """Work for a user whose connection closed, or None."""
        return self.queue.popleft() if self.queue else None

    def finish_schedule(self, now: int, drop_queued: bool) -> None:
        """No arrival is left: let idle users go, and (duration mode) give up queued requests."""
        self.schedule_done = True
        if drop_queued:
            while self.queue:
                _, phase, t_sched, seq, flags = self.queue.popleft()
                self.record(t_sched, 0, 0, now, 0, 0, ErrorClass.NOT_SENT, phase, seq, flags=flags)
        for user in self.idle:
            user.finished = True
            user._close()
        self.idle.clear()
