"""Streaming (SSE) figures of the engine: token events per second per core, and timestamp error.

The example OpenAI-compatible server (examples/openai-stream/server.py, one process) runs on
core 0; every client runs in a child process on core 1. All streams are chat completions,
closed loop, 128 concurrent streams.

(a) Events/s: the engine (stream=True) against the server sending tokens 1 ms apart with no
    prefill, so the server sends as fast as its core allows. Prints token-bearing events the
    engine received per second of the window W, the client's CPU utilisation (its CPU time /
    wall time), the server's, and events per client CPU-second (events/s / utilisation: what
    one fully busy client core handles at this read pattern). A second line serves the same
    events pre-rendered from nginx (a static SSE body, many events per socket read): the
    client is then the bottleneck, which gives the parser's ceiling.
(b) Timestamp error: every token event of the server carries x_server_ns, its perf_counter_ns
    right before the write (CLOCK_MONOTONIC on Linux, the same clock in every process). At a
    moderate load (tokens 20 ms apart) two clients compare their receipt stamp with it:
      raw     a bare asyncio Protocol on uvloop that stamps perf_counter_ns() at the top of
              data_received, the same point where the engine stamps its events;
      raw, loop never sleeps   the same with a callback always ready, so the loop polls
              and its core never idles: a diagnostic of how much of the error is the time an
              idle core (here a VM's vCPU) takes to wake up;
      engine  the engine itself, its SSE parser wrapped (one regex per read) to also pick up
              x_server_ns, paired with the stamp the engine took for that read.
    The engine run also gives its inter-token latency (ITL) from result.events, which must sit
    at the configured token interval: a cross-check that stamps are per event, not per read.

Needs `taskset` (and `nginx` for the ceiling line). Usage:

    python benchmarks/streaming.py [--seconds 10] [--warmup 2] [--streams 128]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from time import perf_counter_ns
from typing import Any

import numpy as np
from common import (
    HOST,
    CpuSampler,
    HostWatch,
    client_cpu,
    cores,
    fmt_goal,
    free_port,
    nginx,
    pinned,
    print_machine,
    print_table,
    python_child,
    require,
    run_child,
    stop,
    tool_version,
    wait_listening,
)

SERVER = Path(__file__).resolve().parents[1] / "examples" / "openai-stream" / "server.py"
EVENTS_GOAL = 40_000.0  # token events/s per client core
STAMP_GOAL_MS = 1.0  # p99 of client stamp - server stamp
FAST_TOKEN_MS = 1.0
FAST_TOKENS = 1000
SLOW_TOKEN_MS = 20.0
SLOW_TOKENS = 100
SLOW_PREFILL_MS = 20.0
STAMP = re.compile(rb'"x_server_ns":(\d+)')
_MS = 1e6
_S = 1e9


def chat_body(max_tokens: int, token_ms: float, prefill_ms: float) -> bytes:
    return json.dumps(
        {
            "model": "tiny-stream",
            "messages": [{"role": "user", "content": "Tell me a story."}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": max_tokens,
            "x_token_ms": token_ms,
            "x_prefill_ms": prefill_ms,
        },
        separators=(",", ":"),
    ).encode()


def chat_request(port: int, body: bytes) -> bytes:
    from benchaction.engine import prepare_requests

    headers = (("Content-Type", "application/json"),)
    return prepare_requests(HOST, port, "POST", "/v1/chat/completions", headers, (body,))[0]


def pct(sorted_values: np.ndarray, p: float) -> float:
    """Nearest-rank percentile of a sorted array."""
    if sorted_values.size == 0:
        return float("nan")
    return float(sorted_values[max(0, int(np.ceil(p / 100 * sorted_values.size)) - 1)])


def dist_ms(values_ns: np.ndarray) -> dict[str, float]:
    v = np.sort(values_ns) / _MS
    return {"n": int(v.size), "p50": pct(v, 50), "p99": pct(v, 99), "max": pct(v, 100)}


def relative_event_times(result: Any) -> tuple[np.ndarray, bool]:
    """Event times relative to the run start, as the records are, and whether they had to be moved.

    The earliest event of a run is the first token of some request, so it equals the smallest
    t_tok1 of the records; a non-zero difference means the events carry another time base.
    """
    t = result.events.column("t")
    tok1 = result.records.column("t_tok1")
    tok1 = tok1[tok1 >= 0]
    if t.size == 0 or tok1.size == 0:
        return t, False
    offset = int(t.min()) - int(tok1.min())
    return (t - offset, True) if offset != 0 else (t, False)


# -- server processes ------------------------------------------------------------------------


@contextlib.contextmanager
def openai_server(core: int) -> Iterator[tuple[int, int]]:
    """The example server on `core`; yields (port, pid)."""
    port = free_port()
    env = {**os.environ, "HOST": HOST, "PORT": str(port), "PREFILL_MS": "0", "TOKEN_MS": "1"}
    proc = subprocess.Popen(
        pinned(core, [sys.executable, str(SERVER)]), env=env, stderr=subprocess.DEVNULL
    )
    try:
        wait_listening(port, proc)
        yield port, proc.pid
    finally:
        stop(proc)


NGINX_SSE_CONF = """
daemon off;
worker_processes 1;
error_log {tmp}/error.log;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    keepalive_requests 1000000;
    server {{
        listen {host}:{port};
        location = /stream {{ default_type text/event-stream; alias {tmp}/stream.sse; }}
    }}
}}
"""


def prerendered_stream(events: int) -> bytes:
    """What the example server streams for one chat answer, as one plain body."""
    out = [b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n']
    for k in range(events):
        out.append(
            b'data: {"id":"chatcmpl-0","object":"chat.completion.chunk","created":0,'
            b'"model":"tiny-stream","choices":[{"index":0,"delta":{"content":" w%d"},'
            b'"finish_reason":null}],"x_server_ns":%d}\n\n' % (k, 10**12 + k)
        )
    usage = b'{"prompt_tokens":4,"completion_tokens":%d,"total_tokens":%d}' % (events, events + 4)
    out.append(b'data: {"choices":[],"usage":%s}\n\ndata: [DONE]\n\n' % usage)
    return b"".join(out)


# -- child: the engine ---------------------------------------------------------------------------

READS: list[int] = []  # per token event the engine stored, in its order: the read's stamp
SERVER_NS: list[int] = []  # ... and the event's x_server_ns (-1 when a read could not be paired)
UNPAIRED_READS = [0]


def instrument_engine() -> None:
    """Wrap the engine's SSE parser to also pick up x_server_ns, in step with the engine's events.

    The engine stamps every token event of a read with `t_read` (perf_counter_ns at the top of
    data_received) and appends it to its event table; the wrapper leaves that untouched and
    keeps, for each event appended, the read's stamp and the x_server_ns the parser saw in the
    same read, so entry k here belongs to row k of result.events.
    """
    from benchaction.engine import connection
    from benchaction.engine.sse import SseStream

    class StampedSse(SseStream):
        __slots__ = ("_buf", "stamps")

        def __init__(self) -> None:
            super().__init__()
            self._buf = b""
            self.stamps: list[int] = []

        def feed(self, data: bytes) -> int:
            n = super().feed(data)
            buf = self._buf + data
            end = buf.rfind(b"\n\n")
            if end >= 0:
                self.stamps = [int(s) for s in STAMP.findall(buf, 0, end)]
                self._buf = buf[end + 2 :]
            else:
                self.stamps = []
                self._buf = buf
            return n

    original = connection.StreamingUser.on_body

    def on_body(self: Any, body: bytes) -> None:
        before = len(self.run.events)
        original(self, body)
        added = len(self.run.events) - before
        if added:
            stamps = getattr(self.sse, "stamps", [])
            if len(stamps) != added:
                UNPAIRED_READS[0] += 1
                stamps = [-1] * added
            READS.extend([self.t_read] * added)
            SERVER_NS.extend(stamps)

    connection.SseStream = StampedSse  # type: ignore[misc]
    connection.StreamingUser.on_body = on_body  # type: ignore[method-assign]


def child_engine(
    port: int, request: bytes, streams: int, seconds: float, warmup: float, instrumented: bool
) -> dict[str, Any]:
    from benchaction.engine import ErrorClass, LoadPlan, Phase, run_load

    if instrumented:
        instrument_engine()
    plan = LoadPlan(
        host=HOST,
        port=port,
        requests=(request,),
        concurrency=streams,
        duration_s=seconds,
        warmup_s=warmup,
        timeout_s=60.0,
        stream=True,
        workers=1,
        fold_rows=1 << 23,  # keep every event row: the counts below read them all
    )
    result = run_load(plan)
    if result.folded is not None:
        raise SystemExit("the engine folded rows; raise fold_rows for this benchmark")
    rec = result.records
    w0, w1 = result.window_start_ns, result.window_end_ns
    assert w0 is not None and w1 is not None
    window_s = (w1 - w0) / _S
    t, moved = relative_event_times(result)
    error, phase = rec.column("error"), rec.column("phase")
    good = (error == ErrorClass.OK) & (phase == Phase.MEASURED)
    out: dict[str, Any] = {
        "window_s": window_s,
        "events_in_w": int(((t >= w0) & (t < w1)).sum()),
        "events_total": len(result.events),
        "requests": int((phase == Phase.MEASURED).sum()),
        "answers_in_w": int(
            (
                (error == ErrorClass.OK) & (rec.column("t_end") >= w0) & (rec.column("t_end") < w1)
            ).sum()
        ),
        "errors": int(((error != ErrorClass.OK) & (phase == Phase.MEASURED)).sum()),
        "error_kinds": sorted({ErrorClass(int(e)).label for e in error[error != 0]}),
        "cpu": client_cpu(result.workers),
        "events_moved": moved,
    }
    # ITL: gaps between consecutive token events of each successful measured request.
    seq = result.events.column("seq")
    keep = np.isin(seq, rec.column("seq")[good])
    order = np.lexsort((t[keep], seq[keep]))
    s, ts = seq[keep][order], t[keep][order]
    same = s[1:] == s[:-1]
    out["itl"] = dist_ms(np.diff(ts)[same])
    tok1, send = rec.column("t_tok1")[good], rec.column("t_send")[good]
    out["ttft"] = dist_ms((tok1 - send)[tok1 >= 0])
    if instrumented:
        reads = np.array(READS, dtype=np.int64)
        server = np.array(SERVER_NS, dtype=np.int64)
        raw_t = result.events.column("t")
        out["unpaired_reads"] = UNPAIRED_READS[0]
        if reads.size != raw_t.size:
            raise SystemExit(f"instrumentation kept {reads.size} events, the engine {raw_t.size}")
        # The engine's stored stamp must be the read's stamp, up to one constant (the run start).
        shift = np.unique(reads - raw_t)
        out["stored_is_read_stamp"] = bool(shift.size <= 1)
        inside = (t >= w0) & (t < w1) & (server >= 0)
        out["stamp_error"] = dist_ms(reads[inside] - server[inside])
    return out


# -- child: the raw Protocol client ----------------------------------------------------------------


class RawStream(asyncio.Protocol):
    """One keep-alive connection streaming answers back to back; stamps like the engine does."""

    def __init__(self, request: bytes, t0: int, t1: int, errors: list[int]) -> None:
        self.request = request
        self.t0, self.t1 = t0, t1
        self.errors = errors
        self.buf = b""
        self.done = False
        self.fresh = True  # the next bytes start an answer
        self.answers = 0
        self.bad = 0
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = perf_counter_ns()
        if self.fresh:
            self.fresh = False
            if not data.startswith(b"HTTP/1.1 200"):
                self.bad += 1
        buf = self.buf + data
        end = buf.rfind(b"\n\n")
        if end >= 0:
            if self.t0 <= now < self.t1:
                self.errors.extend(now - int(s) for s in STAMP.findall(buf, 0, end))
            if b"data: [DONE]" in buf[: end + 2]:
                self.done = True
            buf = buf[end + 2 :]
        self.buf = buf
        if self.done and buf.endswith(b"0\r\n\r\n"):
            self.done, self.fresh, self.buf = False, True, b""
            self.answers += 1
            assert self.transport is not None
            if now < self.t1:
                self.transport.write(self.request)
            else:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _raw(
    port: int, request: bytes, streams: int, seconds: float, warmup: float, spin: bool
) -> Any:
    loop = asyncio.get_running_loop()
    if spin:  # a callback always ready: the loop polls with a zero timeout and never sleeps

        def tick() -> None:
            loop.call_soon(tick)

        loop.call_soon(tick)
    start = perf_counter_ns()
    t0 = start + int(warmup * _S)
    t1 = t0 + int(seconds * _S)
    errors: list[int] = []
    users = [RawStream(request, t0, t1, errors) for _ in range(streams)]
    for user in users:
        await loop.create_connection(lambda u=user: u, HOST, port)  # type: ignore[misc]
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    limit = warmup + seconds + 60
    await asyncio.wait_for(asyncio.gather(*(u.closed for u in users)), limit)
    return {
        "cpu": (time.thread_time() - cpu0) / (time.perf_counter() - wall0),
        "answers": sum(u.answers for u in users),
        "bad_answers": sum(u.bad for u in users),
        "stamp_error": dist_ms(np.array(errors, dtype=np.int64)),
    }


def child_raw(
    port: int, request: bytes, streams: int, seconds: float, warmup: float, spin: bool
) -> Any:
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_raw(port, request, streams, seconds, warmup, spin))


# -- the parent ----------------------------------------------------------------------------------


def run_sampled(
    argv: list[str], timeout_s: float, pid: int, span: tuple[float, float]
) -> tuple[Any, float]:
    """run_child, also measuring process `pid`'s CPU use between span[0] and span[1] s after start."""
    with CpuSampler(pid, span) as server:
        out = run_child(argv, timeout_s)
    return out, server.value


def child_args(kind: str, port: int, args: argparse.Namespace) -> list[str]:
    argv = python_child("streaming.py", "--child", kind, "--port", str(port))
    sizes = ["--streams", str(args.streams), "--seconds", str(args.seconds)]
    return [*argv, *sizes, "--warmup", str(args.warmup)]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    server_core, client_core = cores()
    timeout = args.warmup + args.seconds + 120
    span = (args.warmup + 1.0, args.warmup + args.seconds - 0.5)
    got: dict[str, Any] = {}
    with openai_server(server_core) as (port, pid):
        argv = pinned(client_core, child_args("fast", port, args))
        got["fast"], got["fast_server_cpu"] = run_sampled(argv, timeout, pid, span)
        print(f"  (a) example server: {got['fast']['events_in_w']:,} events in W", flush=True)
    if not args.no_nginx:
        files = {"stream.sse": prerendered_stream(FAST_TOKENS)}
        with nginx(server_core, NGINX_SSE_CONF, files) as (port, pid):
            argv = pinned(client_core, child_args("nginx", port, args))
            got["nginx"], got["nginx_server_cpu"] = run_sampled(argv, timeout, pid, span)
            print(f"  (a) nginx: {got['nginx']['events_in_w']:,} events in W", flush=True)
    with openai_server(server_core) as (port, pid):
        argv = pinned(client_core, child_args("raw", port, args))
        got["raw"], got["raw_server_cpu"] = run_sampled(argv, timeout, pid, span)
        print(f"  (b) raw client: {got['raw']['stamp_error']['n']:,} events", flush=True)
        argv = pinned(client_core, child_args("raw-spin", port, args))
        got["spin"], got["spin_server_cpu"] = run_sampled(argv, timeout, pid, span)
        print(f"  (b) raw client, spinning: {got['spin']['stamp_error']['n']:,} events", flush=True)
        argv = pinned(client_core, child_args("slow", port, args))
        got["slow"], got["slow_server_cpu"] = run_sampled(argv, timeout, pid, span)
        print(f"  (b) engine: {got['slow']['stamp_error']['n']:,} events", flush=True)
    return got


def report(got: dict[str, Any], args: argparse.Namespace) -> None:
    n = args.streams
    print(
        f"\n(a) token events per second per client core: {n} streams, closed loop, warmup "
        f"{args.warmup:g} s, window W {args.seconds:g} s; server on core 0, engine (1 worker) on "
        "core 1.\n    events/s = token-bearing events the engine stamped inside W / |W|; CPU = "
        "CPU time / wall time (1.00 = the core fully busy);\n    per client core = events/s / "
        "client CPU (events per CPU-second of the client); answers = complete streamed answers\n    "
        "that ended in W; errors = failed requests scheduled in W\n"
    )
    rows = []
    verdicts = []
    sources = [("fast", f"example server, {FAST_TOKEN_MS:g} ms tokens, {FAST_TOKENS}/answer")]
    if "nginx" in got:
        sources.append(("nginx", f"nginx, pre-rendered {FAST_TOKENS}-event body"))
    for key, label in sources:
        r = got[key]
        rate = r["events_in_w"] / r["window_s"]
        per_core = rate / r["cpu"] if r["cpu"] > 0 else float("nan")
        server = got.get(f"{key}_server_cpu", float("nan"))
        rows.append(
            [
                label,
                f"{rate:,.0f}",
                f"{r['cpu']:.2f}",
                f"{per_core:,.0f}",
                "n/a" if math.isnan(server) else f"{server:.2f}",
                f"{r['answers_in_w']:,}",
                f"{r['errors']}",
            ]
        )
        verdicts.append(
            f"  {label}: {per_core:,.0f} events/s per client core (goal >= {EVENTS_GOAL:,.0f}: "
            f"{fmt_goal(per_core >= EVENTS_GOAL)}); client CPU {r['cpu']:.2f}"
            + ("" if r["cpu"] >= 0.95 else " (not saturated: the server set the pace)")
        )
    head = [
        "source",
        "events/s",
        "client CPU",
        "per client core",
        "server CPU",
        "answers",
        "errors",
    ]
    print_table(head, rows)

    raw, eng = got["raw"], got["slow"]
    print(
        f"\n(b) timestamp error: {n} streams, tokens {SLOW_TOKEN_MS:g} ms apart, prefill "
        f"{SLOW_PREFILL_MS:g} ms, {SLOW_TOKENS} tokens an answer, events read inside W.\n"
        "    error = client's receipt stamp - server's x_server_ns (taken right before the "
        "write), per token event, in ms.\n    raw = bare uvloop Protocol stamping at the top of "
        "data_received;\n    raw, loop never sleeps = the same with a callback always ready, so its core never idles "
        "(diagnostic: the share of the error that is waking an idle core);\n    engine = the "
        "engine's own stamps (its parser wrapped to read x_server_ns)\n"
    )
    rows = []
    for label, r, server in (
        ("raw Protocol client", raw, got["raw_server_cpu"]),
        ("raw, loop never sleeps", got["spin"], got["spin_server_cpu"]),
        ("engine", eng, got["slow_server_cpu"]),
    ):
        e = r["stamp_error"]
        rows.append(
            [
                label,
                f"{e['n']:,}",
                f"{e['p50']:.3f}",
                f"{e['p99']:.3f}",
                f"{e['max']:.3f}",
                f"{r['cpu']:.2f}",
                f"{server:.2f}",
            ]
        )
    head = ["client", "events", "error p50", "error p99", "error max", "client CPU", "server CPU"]
    print_table(head, rows)
    itl, ttft = eng["itl"], eng["ttft"]
    print(
        f"\n    cross-check, engine's own metrics from result.events: ITL p50 {itl['p50']:.3f} ms, "
        f"p99 {itl['p99']:.3f} ms, max {itl['max']:.3f} ms (configured {SLOW_TOKEN_MS:g} ms, "
        f"{itl['n']:,} gaps);\n    TTFT (first token - send) p50 {ttft['p50']:.3f} ms, p99 {ttft['p99']:.3f} ms "
        f"(configured prefill {SLOW_PREFILL_MS:g} ms); engine errors {eng['errors']}; stored "
        f"event stamp = read stamp: {eng['stored_is_read_stamp']}; reads not paired: "
        f"{eng['unpaired_reads']}"
    )
    for key in ("fast", "nginx", "slow"):
        if got.get(key, {}).get("events_moved"):
            print(
                f"    NOTE ({key}): result.events 't' was not relative to the run start as the "
                "records are; shifted onto the records' clock (first event = smallest t_tok1)"
            )
    print("\ngoals:")
    print("\n".join(verdicts))
    for label, r in (
        ("raw Protocol client", raw),
        ("raw, loop never sleeps", got["spin"]),
        ("engine", eng),
    ):
        p99 = r["stamp_error"]["p99"]
        print(
            f"  {label}: timestamp error p99 {p99:.3f} ms at {n} streams (goal <= "
            f"{STAMP_GOAL_MS:g} ms: {fmt_goal(p99 <= STAMP_GOAL_MS)})"
        )
    ok_itl = abs(itl["p50"] - SLOW_TOKEN_MS) <= 0.05 * SLOW_TOKEN_MS
    print(
        f"  engine ITL p50 {itl['p50']:.3f} ms within 5 % of {SLOW_TOKEN_MS:g} ms: {fmt_goal(ok_itl)}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=128)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--no-nginx", action="store_true", help="skip the pre-rendered ceiling line")
    ap.add_argument(
        "--child", choices=("fast", "nginx", "raw", "raw-spin", "slow"), help=argparse.SUPPRESS
    )
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        port, streams = args.port, args.streams
        if args.child == "nginx":
            from benchaction.engine import prepare_requests

            request = prepare_requests(HOST, port, "GET", "/stream", (), ())[0]
        elif args.child == "fast":
            request = chat_request(port, chat_body(FAST_TOKENS, FAST_TOKEN_MS, 0.0))
        else:
            request = chat_request(port, chat_body(SLOW_TOKENS, SLOW_TOKEN_MS, SLOW_PREFILL_MS))
        if args.child in ("raw", "raw-spin"):
            spin = args.child == "raw-spin"
            out = child_raw(port, request, streams, args.seconds, args.warmup, spin)
        else:
            instrumented = args.child == "slow"
            out = child_engine(port, request, streams, args.seconds, args.warmup, instrumented)
        print(json.dumps(out))
        return 0
    require("taskset", *(() if args.no_nginx else ("nginx",)))
    if not SERVER.is_file():
        raise SystemExit(f"the example server is missing: {SERVER}")
    print_machine({"nginx": tool_version(["nginx", "-v"])} if not args.no_nginx else None)
    watch = HostWatch()
    report(measure(args), args)
    print(f"\n{watch.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
