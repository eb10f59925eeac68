"""The openai-stream example server as a real process: framing, usage, faults and its timings.

Timing tolerances (loopback, a shared CI machine): an event is never sent before its deadline
(less 1 ms of timer rounding); the median event leaves at most 5 ms late and none more than
40 ms late. Deadlines are checked on the server's own stamps against the client's send time,
which precedes the server's start of the clock, so only lateness can be misjudged (upwards).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchaction.engine.sse import SseStream
from tests.support.paths import EXAMPLES

SERVER = EXAMPLES / "openai-stream" / "server.py"
EARLY_NS = 1_000_000  # timer rounding
LATE_MEDIAN_NS = 5_000_000
LATE_MAX_NS = 40_000_000


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]


@contextlib.contextmanager
def running(port: int, log: Path, **env: str) -> Iterator[Server]:
    """The example server on 127.0.0.1:port, ready; stopped (and reaped) however the test ends."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(SERVER)],
            env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}: {log.read_text()}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                try:
                    conn.request("GET", "/health")
                    if conn.getresponse().status == 200:
                        break
                finally:
                    conn.close()
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready in 15 s: {log.read_text()}")
            time.sleep(0.05)
        yield Server(port, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def server(free_port: int, tmp_path: Path) -> Iterator[Server]:
    with running(free_port, tmp_path / "server.log") as srv:
        yield srv


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    chunks: list[bytes] = field(default_factory=list)  # HTTP chunks, in order
    times: list[int] = field(default_factory=list)  # perf_counter_ns when each chunk was read
    complete: bool = False  # the zero-length chunk came
    body: bytes = b""  # a Content-Length body
    sent_ns: int = 0

    def events(self) -> list[Any]:
        """The JSON of every `data:` event ("[DONE]" as that string)."""
        out = []
        for c in self.chunks:
            if c.startswith(b"data: "):
                payload = c[6:].strip()
                out.append("[DONE]" if payload == b"[DONE]" else json.loads(payload))
        return out

    def token_events(self) -> list[tuple[int, dict[str, Any]]]:
        """(receipt time, JSON) of the events that carry a server stamp."""
        return [
            (t, json.loads(c[6:]))
            for t, c in zip(self.times, self.chunks, strict=True)
            if b'"x_server_ns"' in c
        ]


def exchange(sock: socket.socket, reader: Any, path: str, body: object) -> Answer:
    """One POST on an open keep-alive connection, read with the chunk framing checked by hand."""
    data = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(data)}\r\n\r\n"
    sent = time.perf_counter_ns()
    sock.sendall(head.encode() + data)
    status_line = reader.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    answer = Answer(int(status_line.split()[1]), {}, sent_ns=sent)
    for _ in range(100):
        line = reader.readline()
        assert line.endswith(b"\r\n"), line
        if line == b"\r\n":
            break
        name, _, value = line.decode().partition(":")
        answer.headers[name.strip().lower()] = value.strip()
    if "content-length" in answer.headers:
        answer.body = reader.read(int(answer.headers["content-length"]))
        return answer
    assert answer.headers["transfer-encoding"] == "chunked"
    for _ in range(100_000):
        size_line = reader.readline()
        if not size_line:
            return answer  # closed mid-body
        assert size_line.endswith(b"\r\n"), size_line
        size = int(size_line, 16)
        payload = reader.read(size + 2)
        if len(payload) < size + 2:
            return answer
        assert payload.endswith(b"\r\n")
        if size == 0:
            answer.complete = True
            return answer
        answer.chunks.append(payload[:-2])
        answer.times.append(time.perf_counter_ns())
    pytest.fail("endless stream")


@contextlib.contextmanager
def connection(port: int) -> Iterator[tuple[socket.socket, Any]]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    reader = sock.makefile("rb")
    try:
        yield sock, reader
    finally:
        reader.close()
        sock.close()


def post(port: int, path: str, body: object) -> Answer:
    with connection(port) as (sock, reader):
        return exchange(sock, reader, path, body)


def chat(**kw: object) -> dict[str, object]:
    return {"model": "tiny-stream", "messages": [{"role": "user", "content": "one two three"}]} | kw


def parsed(answer: Answer) -> SseStream:
    sse = SseStream()
    for c in answer.chunks:
        sse.feed(c)
    return sse


def test_health_and_models(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/health")
        health = conn.getresponse()
        assert (health.status, json.loads(health.read())) == (200, {"status": "ok"})
        conn.request("GET", "/v1/models")  # the same keep-alive connection
        models = json.loads(conn.getresponse().read())
        assert models["object"] == "list"
        assert [m["id"] for m in models["data"]] == ["tiny-stream"]
    finally:
        conn.close()


def test_chat_stream_framing_role_usage_and_done(server: Server) -> None:
    body = chat(stream=True, max_tokens=5, stream_options={"include_usage": True}, x_token_ms=1)
    with connection(server.port) as (sock, reader):
        answer = exchange(sock, reader, "/v1/chat/completions", body)
        again = exchange(sock, reader, "/v1/chat/completions", body)  # keep-alive reuse
    for a in (answer, again):
        assert a.status == 200
        assert a.complete
        assert a.headers["content-type"] == "text/event-stream"
        # One SSE event per HTTP chunk.
        assert all(c.endswith(b"\n\n") and c.count(b"\n\n") == 1 for c in a.chunks)
    events = answer.events()
    role, *tokens, usage, done = events
    assert role["choices"] == [{"index": 0, "delta": {"role": "assistant", "content": ""}}]
    assert "x_server_ns" not in role
    assert len(tokens) == 5
    for event in tokens:
        assert event["object"] == "chat.completion.chunk"
        assert event["model"] == "tiny-stream"
        assert {"id", "created", "x_server_ns"} <= event.keys()
        assert event["choices"][0]["delta"]["content"].strip()
    assert [e["choices"][0]["finish_reason"] for e in tokens] == [None] * 4 + ["length"]
    assert len({e["id"] for e in events[:-1]}) == 1
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    assert done == "[DONE]"
    sse = parsed(answer)
    assert (sse.done, sse.chunks, sse.prompt_tokens, sse.completion_tokens) == (True, 5, 3, 5)
    assert (sse.malformed, sse.error) == (0, None)


def test_completions_stream_with_bursts(server: Server) -> None:
    body = {"prompt": "a b", "stream": True, "max_tokens": 10, "x_burst": 3, "x_token_ms": 1}
    answer = post(server.port, "/v1/completions", body)
    *tokens, done = answer.events()
    assert done == "[DONE]"  # no usage chunk: stream_options did not ask for one
    assert [len(e["choices"][0]["text"].split()) for e in tokens] == [3, 3, 3, 1]
    assert all(e["object"] == "text_completion" for e in tokens)
    sse = parsed(answer)
    assert (sse.chunks, sse.prompt_tokens, sse.done) == (4, -1, True)


@pytest.mark.parametrize(
    ("path", "body", "kind", "text"),
    [
        ("/v1/completions", {"prompt": "a b c d", "max_tokens": 4}, "text_completion", "text"),
        ("/v1/chat/completions", chat(max_tokens=4), "chat.completion", "message"),
    ],
)
def test_non_streaming_answers(
    server: Server, path: str, body: dict[str, object], kind: str, text: str
) -> None:
    answer = post(server.port, path, body | {"x_prefill_ms": 1, "x_token_ms": 1})
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    doc = json.loads(answer.body)
    assert doc["object"] == kind
    choice = doc["choices"][0]
    words = choice["text"] if text == "text" else choice["message"]["content"]
    assert len(words.split()) == 4
    prompt = 4 if text == "text" else 3
    assert doc["usage"] == {
        "prompt_tokens": prompt,
        "completion_tokens": 4,
        "total_tokens": prompt + 4,
    }


def test_x_status_answers_an_error_and_keeps_the_connection(server: Server) -> None:
    with connection(server.port) as (sock, reader):
        failed = exchange(sock, reader, "/v1/completions", {"prompt": "a", "x_status": 503})
        ok = exchange(sock, reader, "/v1/completions", {"prompt": "a", "max_tokens": 1})
    assert failed.status == 503
    assert json.loads(failed.body)["error"]["code"] == 503
    assert ok.status == 200


def test_bad_requests(server: Server) -> None:
    assert post(server.port, "/v1/nothing", {}).status == 404
    assert post(server.port, "/v1/completions", "not an object").status == 400
    assert post(server.port, "/v1/completions", {"prompt": "a", "x_token_ms": -1}).status == 400
    with connection(server.port) as (sock, reader):
        sock.sendall(b"GET /v1/completions HTTP/1.1\r\nHost: t\r\n\r\n")
        assert reader.readline().split()[1] == b"405"


def test_x_close_after_closes_mid_body(server: Server) -> None:
    body = chat(stream=True, max_tokens=10, x_close_after=3, x_token_ms=1)
    with connection(server.port) as (sock, reader):
        answer = exchange(sock, reader, "/v1/chat/completions", body)
        assert reader.read() == b""  # the server closed the connection
    assert not answer.complete
    assert len(answer.token_events()) == 3
    sse = parsed(answer)
    assert (sse.chunks, sse.done) == (3, False)


def test_x_malformed_lines_are_sent_and_counted(server: Server) -> None:
    body = {"prompt": "a", "stream": True, "max_tokens": 6, "x_malformed": 4, "x_token_ms": 1}
    answer = post(server.port, "/v1/completions", body)
    assert answer.chunks.count(b"garbage-line\n\n") == 4
    assert answer.chunks[-1] == b"data: [DONE]\n\n"
    assert answer.chunks[0] != b"garbage-line\n\n"  # spread among the events, not all first
    sse = parsed(answer)
    assert (sse.chunks, sse.malformed, sse.done) == (6, 4, True)


def test_x_no_usage(server: Server) -> None:
    body = chat(stream=True, max_tokens=2, x_token_ms=1, x_no_usage=True)
    body["stream_options"] = {"include_usage": True}
    sse = parsed(post(server.port, "/v1/chat/completions", body))
    assert (sse.chunks, sse.prompt_tokens, sse.completion_tokens, sse.done) == (2, -1, -1, True)


@pytest.mark.parametrize("burst", [1, 4])
def test_token_timing_follows_prefill_and_token_ms(server: Server, burst: int) -> None:
    prefill_ms, token_ms, tokens = 60, 10, 24
    body = chat(stream=True, max_tokens=tokens, x_prefill_ms=prefill_ms, x_token_ms=token_ms)
    answer = post(server.port, "/v1/chat/completions", body | {"x_burst": burst})
    stamped = answer.token_events()
    assert len(stamped) == tokens // burst
    late = []
    for i, (_, event) in enumerate(stamped):
        due = answer.sent_ns + (prefill_ms + i * burst * token_ms) * 1_000_000
        late.append(event["x_server_ns"] - due)
    assert min(late) >= -EARLY_NS, late
    assert statistics.median(late) <= LATE_MEDIAN_NS, late
    assert max(late) <= LATE_MAX_NS, late
    # The role-only delta comes at once, well before the first token.
    assert answer.times[0] - answer.sent_ns < prefill_ms * 1_000_000 // 2
    if sys.platform == "linux":  # one CLOCK_MONOTONIC for both processes
        delays = [received - event["x_server_ns"] for received, event in stamped]
        assert min(delays) >= 0, delays
        assert max(delays) <= LATE_MAX_NS, delays


def test_256_concurrent_streams(server: Server) -> None:
    streams, tokens = 256, 20

    async def one(index: int) -> tuple[int, bool]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            body = json.dumps(
                {"prompt": f"p{index}", "stream": True, "max_tokens": tokens, "x_token_ms": 10}
            ).encode()
            writer.write(
                b"POST /v1/completions HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body), body)
            )
            await reader.readuntil(b"\r\n\r\n")
            sse = SseStream()
            data = b""
            while not data.endswith(b"\r\n0\r\n\r\n"):
                piece = await reader.read(65536)
                if not piece:
                    break
                data += piece
            # Undo the chunk framing: every chunk here is one event ending in a blank line.
            for part in data.split(b"\r\n"):
                if part.startswith((b"data:", b"garbage")):
                    sse.feed(part)
            return sse.chunks, sse.done
        finally:
            writer.close()
            await writer.wait_closed()

    async def all_streams() -> list[tuple[int, bool]]:
        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(streams))), 60)

    results = asyncio.run(all_streams())
    assert results == [(tokens, True)] * streams


def test_sigterm_ends_streams_in_flight_and_exits_zero(free_port: int, tmp_path: Path) -> None:
    with running(free_port, tmp_path / "server.log") as srv, connection(srv.port) as (sock, reader):
        body = json.dumps({"prompt": "a", "stream": True, "max_tokens": 100_000}).encode()
        sock.sendall(
            b"POST /v1/completions HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        assert reader.readline().startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(10) == 0
        assert time.monotonic() - started < 5
        for _ in range(1_000_000):  # drain what was sent; the stream then ends without its end
            if not reader.readline():
                break
