"""One virtual user: an asyncio Protocol that drives httptools' response parser with callbacks.

The client-side twin of uvicorn's httptools protocol. The next request is written from inside
`data_received`, so a closed-loop user costs no task switch, future or timer per request.
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns
from typing import TYPE_CHECKING, cast

import httptools

from benchaction.engine.records import ErrorClass

if TYPE_CHECKING:
    from benchaction.engine.closed_loop import LoadRun

__all__ = ["VirtualUser"]


class VirtualUser(asyncio.Protocol):
    """Sends one request at a time on a keep-alive connection, records each answer, and reconnects."""

    def __init__(self, run: LoadRun) -> None:
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed: asyncio.Future[None] | None = None
        # The request claimed but not yet written (set before connecting, or for a retry).
        self.pending: tuple[bytes, int, int] | None = None  # (bytes, phase, t_sched)
        self.finished = False
        # The request in flight.
        self.inflight = False
        self.request: bytes = b""
        self.phase = 0
        self.t_sched = 0
        self.t_send = 0
        self.t_first = 0
        self.nbytes = 0
        self.complete = False
        self.status = 0
        self.keep_alive = True
        self.served = 0  # answers received on this connection
        self.retried = False
        self.aborted = False
        self.free_at = 0  # when the user became free without a connection (its next t_sched)

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.served = 0
        self.aborted = False
        self.parser = httptools.HttpResponseParser(self)
        pending, self.pending = self.pending, None
        if pending is not None:
            self._write(*pending)
        else:
            self._next(perf_counter_ns())

    def data_received(self, data: bytes) -> None:
        now = perf_counter_ns()
        if not self.inflight:
            return  # bytes after a timeout or an unsolicited answer: the connection is going away
        if not self.t_first:
            self.t_first = now
        self.nbytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail(ErrorClass.PROTOCOL, now, status=0)
            self._abort()
            return
        if self.complete:
            self._answered(now)

    def connection_lost(self, exc: Exception | None) -> None:
        now = perf_counter_ns()
        self.transport = None
        if self.inflight:
            if self.nbytes == 0 and self.served > 0 and not self.retried:
                # The server closed an idle keep-alive connection as we reused it: resend once on
                # a fresh connection, keeping the original scheduled time (the delay is real).
                self.inflight = False
                self.retried = True
                self.pending = (self.request, self.phase, self.t_sched)
            else:
                self._fail(ErrorClass.CLOSED, now, status=0)
        if self.closed is not None and not self.closed.done():
            self.closed.set_result(None)

    # -- httptools callbacks ----------------------------------------------------------------

    def on_headers_complete(self) -> None:
        if self.run.plan.head:
            self._complete()  # a HEAD answer has no body whatever Content-Length says

    def on_message_complete(self) -> None:
        self._complete()

    def _complete(self) -> None:
        # llhttp resets after the message: status and keep-alive are only valid right here.
        self.complete = True
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    # -- request cycle ----------------------------------------------------------------------

    def _answered(self, now: int) -> None:
        status = self.status
        keep_alive = self.keep_alive
        self.complete = False
        self.inflight = False
        self.served += 1
        self.retried = False
        if self.run.plan.head:
            self.parser = httptools.HttpResponseParser(self)
        error = (
            ErrorClass.OK
            if status < 400
            else (ErrorClass.HTTP_5XX if status >= 500 else ErrorClass.HTTP_4XX)
        )
        self.run.record(
            self.t_sched, self.t_send, self.t_first, now, status, self.nbytes, error, self.phase
        )
        if keep_alive:
            self._next(now)
        else:
            self.free_at = now
            self._close()  # connection_lost wakes the user's task, which reconnects

    def _next(self, t_sched: int) -> None:
        claim = self.run.claim(t_sched)
        if claim is None:
            self.finished = True
            self._close()
            return
        self._write(claim[0], claim[1], t_sched)

    def _write(self, request: bytes, phase: int, t_sched: int) -> None:
        self.request = request
        self.phase = phase
        self.t_sched = t_sched
        self.t_first = 0
        self.nbytes = 0
        self.inflight = True
        self.t_send = perf_counter_ns()
        assert self.transport is not None
        self.transport.write(request)

    def _fail(self, error: ErrorClass, now: int, status: int) -> None:
        self.inflight = False
        self.free_at = now
        self.complete = False
        self.run.record(
            self.t_sched, self.t_send, self.t_first, now, status, self.nbytes, error, self.phase
        )

    def timed_out(self, now: int) -> None:
        """Called by the run's watchdog: count the timeout and drop the connection."""
        self._fail(ErrorClass.TIMEOUT, now, status=0)
        self._abort()

    def _abort(self) -> None:
        if self.transport is not None and not self.aborted:
            self.aborted = True
            self.transport.abort()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
