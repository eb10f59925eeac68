"""One virtual user: an asyncio Protocol that drives httptools' response parser with callbacks.

The client-side twin of uvicorn's httptools protocol. The next request is written from inside
`data_received`, so a user costs no task switch, future or timer per request. Answers that need
their body read (a response check, token usage, a token stream) use the subclasses below, so
the plain HTTP path never pays for body callbacks.
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns
from typing import TYPE_CHECKING, cast

import httptools

from benchaction.engine.checks import compile_check
from benchaction.engine.records import ErrorClass, Flag
from benchaction.engine.sse import SseStream, completion_usage

if TYPE_CHECKING:
    from benchaction.engine.run import LoadRun

__all__ = ["BodyUser", "HeadUser", "StreamingUser", "VirtualUser", "user_class"]

Pending = tuple[bytes, int, int, int, int]  # (request bytes, phase, t_sched, seq, flags)

MAX_BODY = 8 << 20
"""Bodies read for a check or usage are kept up to this size; a larger answer fails the check."""


class VirtualUser(asyncio.Protocol):
    """Sends one request at a time on a keep-alive connection, records each answer, and reconnects."""

    def __init__(self, run: LoadRun) -> None:
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed: asyncio.Future[None] | None = None
        # The request claimed but not yet written (set before connecting, or for a retry).
        self.pending: Pending | None = None
        self.finished = False
        # The request in flight.
        self.inflight = False
        self.request: bytes = b""
        self.phase = 0
        self.seq = 0
        self.flags = 0
        self.t_sched = 0
        self.t_send = 0
        self.t_first = 0
        self.t_read = 0
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
            self.send(*pending)
        else:
            self.run.on_free(self, perf_counter_ns())

    def data_received(self, data: bytes) -> None:
        now = perf_counter_ns()
        if not self.inflight:
            return  # bytes after a timeout or an unsolicited answer: the connection is going away
        if not self.t_first:
            self.t_first = now
        self.t_read = now
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
                self.pending = (self.request, self.phase, self.t_sched, self.seq, self.flags)
            else:
                self._fail(ErrorClass.CLOSED, now, status=0)
        if self.closed is not None and not self.closed.done():
            self.closed.set_result(None)

    # -- httptools callbacks ----------------------------------------------------------------

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
        self._record_answer(now, status)
        if keep_alive:
            self.run.on_free(self, now)
        else:
            self.free_at = now
            self._close()  # connection_lost wakes the user's task, which reconnects

    def _record_answer(self, now: int, status: int, failed: ErrorClass | None = None) -> None:
        """Record the answer; `_fail` passes the error that ended the request instead."""
        self.run.record_plain(
            self.t_sched,
            self.t_send,
            self.t_first,
            now,
            status,
            self.nbytes,
            failed
            or (
                ErrorClass.OK
                if status < 400
                else (ErrorClass.HTTP_5XX if status >= 500 else ErrorClass.HTTP_4XX)
            ),
            self.phase,
            self.seq,
            self.flags,
        )

    def send(self, request: bytes, phase: int, t_sched: int, seq: int, flags: int = 0) -> None:
        """Write a request on the open connection; the answer arrives in `data_received`."""
        self.request = request
        self.phase = phase
        self.t_sched = t_sched
        self.seq = seq
        self.flags = flags
        self.t_first = 0
        self.nbytes = 0
        self._reset_body()
        self.inflight = True
        self.t_send = perf_counter_ns()
        assert self.transport is not None
        self.transport.write(request)

    def _reset_body(self) -> None:
        """Forget what the previous answer's body left behind (subclasses keep some)."""

    def _fail(self, error: ErrorClass, now: int, status: int, message: str | None = None) -> None:
        self.inflight = False
        self.free_at = now
        self.complete = False
        self._record_answer(now, status, error)
        if message is not None:
            self.run.note_error(error, message)

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


class BodyUser(VirtualUser):
    """Keeps each answer's body: for a response check, or token usage of a non-streamed answer."""

    def __init__(self, run: LoadRun) -> None:
        super().__init__(run)
        self.body = bytearray()
        self.check = compile_check(run.plan.check) if run.plan.check is not None else None

    def _reset_body(self) -> None:
        self.body = bytearray()

    def on_body(self, body: bytes) -> None:
        if len(self.body) <= MAX_BODY:
            self.body += body

    def _record_answer(self, now: int, status: int, failed: ErrorClass | None = None) -> None:
        if failed is not None or status >= 400:
            super()._record_answer(now, status, failed)
            return
        error = ErrorClass.OK
        body = bytes(self.body)
        if len(body) > MAX_BODY:
            error = ErrorClass.CHECK
            self.run.note_error(error, f"answer body over {MAX_BODY} bytes")
        elif self.check is not None:
            reason = self.check(status, body)
            if reason is not None:
                error = ErrorClass.CHECK
                self.run.note_error(error, reason)
        n_in = n_out = -1
        flags = self.flags
        if self.run.plan.usage:
            usage = completion_usage(body)
            if usage is None:
                flags |= Flag.USAGE_MISSING
            else:
                n_in, n_out = usage
        self.run.record(
            self.t_sched,
            self.t_send,
            self.t_first,
            now,
            status,
            self.nbytes,
            error,
            self.phase,
            self.seq,
            n_out=n_out,
            n_in=n_in,
            flags=flags,
        )


class StreamingUser(VirtualUser):
    """Reads an OpenAI token stream: every token-bearing event is stamped as its bytes are read."""

    def __init__(self, run: LoadRun) -> None:
        super().__init__(run)
        self.sse = SseStream()
        self.t_tok1 = -1
        self.t_tokn = -1
        self.error_body = bytearray()

    def _reset_body(self) -> None:
        self.sse = SseStream()
        self.t_tok1 = -1
        self.t_tokn = -1
        self.error_body = bytearray()

    def on_body(self, body: bytes) -> None:
        if self.parser.get_status_code() >= 400:
            if len(self.error_body) < 4096:
                self.error_body += body
            return
        n = self.sse.feed(body)
        if n:
            t = self.t_read - self.run.start_ns  # events, like records, are relative to the start
            if self.t_tok1 < 0:
                self.t_tok1 = self.t_read
            self.t_tokn = self.t_read
            events, seq = self.run.events, self.seq
            for _ in range(n):
                events.append(seq, t)

    def _record_answer(self, now: int, status: int, failed: ErrorClass | None = None) -> None:
        """Record the stream; `_fail` passes the error that cut it short."""
        sse = self.sse
        if failed is not None:
            error = failed
        elif status >= 400:
            error = ErrorClass.HTTP_5XX if status >= 500 else ErrorClass.HTTP_4XX
            text = bytes(self.error_body[:300]).decode("utf-8", "replace").strip()
            self.run.note_error(error, f"HTTP {status}: {text}" if text else f"HTTP {status}")
        elif sse.error is not None:
            error = ErrorClass.STREAM
            self.run.note_error(error, sse.error)
        elif not sse.done:
            error = ErrorClass.TRUNCATED
            self.run.note_error(error, "the stream ended without data: [DONE]")
        elif sse.chunks == 0:
            error = ErrorClass.EMPTY
            self.run.note_error(error, "the stream carried no token")
        else:
            error = ErrorClass.OK
        n_out, flags = sse.completion_tokens, self.flags
        if n_out < 0:  # no usage: count token-bearing events instead
            n_out = sse.chunks
            if failed is None:
                flags |= Flag.USAGE_MISSING
        self.run.record(
            self.t_sched,
            self.t_send,
            self.t_first,
            now,
            status,
            self.nbytes,
            error,
            self.phase,
            self.seq,
            t_tok1=self.t_tok1,
            t_tokn=self.t_tokn,
            n_chunks=sse.chunks,
            n_out=n_out,
            n_in=sse.prompt_tokens,
            n_bad=sse.malformed,
            flags=flags,
        )


class HeadUser(VirtualUser):
    """Sends HEAD requests: the answer ends with its headers, whatever Content-Length says."""

    def on_headers_complete(self) -> None:
        self._complete()

    def _record_answer(self, now: int, status: int, failed: ErrorClass | None = None) -> None:
        # The parser still waits for a body that never comes: start afresh for the next answer.
        if failed is None:
            self.parser = httptools.HttpResponseParser(self)
        super()._record_answer(now, status, failed)


def user_class(stream: bool, needs_body: bool, head: bool = False) -> type[VirtualUser]:
    """The cheapest user that reads what the plan needs from an answer.

    httptools calls only the callbacks a protocol defines, so the plain user defines no body or
    header callback at all.
    """
    if stream:
        return StreamingUser
    if needs_body:
        return BodyUser
    return HeadUser if head else VirtualUser
