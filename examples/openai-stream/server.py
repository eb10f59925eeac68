"""A small OpenAI-compatible text generation server with known timings, standard library only.

GET  /health               200 {"status":"ok"}
GET  /v1/models            the one model (MODEL, default tiny-stream)
POST /v1/completions       streamed (SSE over chunked encoding) or one JSON answer with usage
POST /v1/chat/completions  the same for chat messages

No model runs: "tokens" are words sent on a schedule, so a benchmark of this server has a known
right answer. The first token is due PREFILL_MS after the request arrived, token k at
PREFILL_MS + k * TOKEN_MS; with BURST b, b tokens share one event, sent every b * TOKEN_MS (as a
continuously batching server delivers them). Deadlines are absolute, so delays do not drift.
Output length is the request's max_tokens (default 16); prompt_tokens is the prompt's word count.

Environment: HOST (default 127.0.0.1), PORT (8000), MODEL, PREFILL_MS (20), TOKEN_MS (5), BURST (1).
Per-request overrides and faults, as extra body fields:
  x_prefill_ms, x_token_ms, x_burst   override the timing knobs above
  x_close_after: N     close the connection after N token events, mid-body (streaming)
  x_malformed: N       spread N lines that are not SSE ("garbage-line") among the events
  x_no_usage: true     never send usage in the stream, even when stream_options asks for it
  x_status: 503        answer that status with an OpenAI-style JSON error body
Questions: at temperature 0, a prompt "What is A + B?" (or A - B, A * B; whole numbers) is
answered with the result's digits instead of words, so an accuracy pass over questions.jsonl
has exact answers; WRONG (a share from 0 to 1, default 0) answers that share of them one too
high, chosen by a hash of the prompt, the same on every run.

Every token-bearing chunk carries "x_server_ns": time.perf_counter_ns() taken just before its
write. On Linux that clock is CLOCK_MONOTONIC, shared by all processes on the host, so a client
on the same host can subtract it from its own perf_counter_ns() at receipt to measure how late
it saw each event (other systems do not promise one clock across processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import sys
import time
import uuid

MODEL = os.environ.get("MODEL", "tiny-stream")
PREFILL_MS = float(os.environ.get("PREFILL_MS", "20"))
TOKEN_MS = float(os.environ.get("TOKEN_MS", "5"))
BURST = int(os.environ.get("BURST", "1"))
WRONG = float(os.environ.get("WRONG", "0"))
QUESTION = re.compile(r"\s*What is (-?\d+) ([-+*]) (-?\d+)\?\s*")
DEFAULT_MAX_TOKENS = 16
MAX_BODY = 16 << 20
MAX_HEADERS = 100
WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "naps")
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n"
)


class BadRequest(Exception):
    """A request the server cannot serve; answered with 400."""


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk of the streamed body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def error_body(status: int, message: str) -> bytes:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return dumps({"error": {"message": message, "type": kind, "code": status}})


def words_of(request: dict[str, object]) -> int:
    """prompt_tokens: whitespace-separated words of the prompt, or of every message's text."""
    texts: list[str] = []
    prompt = request.get("prompt")
    if isinstance(prompt, str):
        texts.append(prompt)
    elif isinstance(prompt, list):
        texts.extend(p for p in prompt if isinstance(p, str))
    messages = request.get("messages")
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            texts.extend(p["text"] for p in content if isinstance(p, dict) and "text" in p)
    return sum(len(str(t).split()) for t in texts)


def prompt_text(request: dict[str, object]) -> str:
    """The prompt, or the last message's text content."""
    prompt = request.get("prompt")
    if isinstance(prompt, str):
        return prompt
    messages = request.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    content = last.get("content") if isinstance(last, dict) else None
    return content if isinstance(content, str) else ""


def answer_of(request: dict[str, object]) -> str | None:
    """The exact answer to an arithmetic question asked at temperature 0, else None."""
    if request.get("temperature") != 0:
        return None
    prompt = prompt_text(request)
    match = QUESTION.fullmatch(prompt)
    if match is None:
        return None
    a, op, b = int(match[1]), match[2], int(match[3])
    value = a + b if op == "+" else a - b if op == "-" else a * b
    digest = hashlib.sha256(prompt.encode()).digest()
    if int.from_bytes(digest[:8], "big") / 2**64 < WRONG:
        value += 1
    return str(value)


def knob(request: dict[str, object], name: str, default: float) -> float:
    """A numeric request field; absent or null keeps the default."""
    value = request.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadRequest(f"{name} must be a non-negative number")
    return float(value)


class Generation:
    """What one request asks for: the schedule, the faults, and the chunk shapes of its API."""

    def __init__(self, request: dict[str, object], chat: bool) -> None:
        self.chat = chat
        self.stream = request.get("stream") is True
        self.tokens = int(knob(request, "max_tokens", DEFAULT_MAX_TOKENS))
        self.prefill_s = knob(request, "x_prefill_ms", PREFILL_MS) / 1000
        self.token_s = knob(request, "x_token_ms", TOKEN_MS) / 1000
        self.burst = max(1, int(knob(request, "x_burst", BURST)))
        close_after = knob(request, "x_close_after", -1)
        self.close_after = None if close_after < 0 else int(close_after)
        self.malformed = int(knob(request, "x_malformed", 0))
        options = request.get("stream_options")
        wants_usage = isinstance(options, dict) and options.get("include_usage") is True
        self.usage = wants_usage and request.get("x_no_usage") is not True
        self.prompt_tokens = words_of(request)
        self.answer = answer_of(request)
        self.id = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24]
        self.created = int(time.time())

    def text(self, first: int, count: int) -> str:
        return "".join(" " + WORDS[k % len(WORDS)] for k in range(first, first + count))

    def usage_object(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.tokens,
            "total_tokens": self.prompt_tokens + self.tokens,
        }

    def event(self, choices: list[object], **extra: object) -> dict[str, object]:
        kind = "chat.completion.chunk" if self.chat else "text_completion"
        head = {"id": self.id, "object": kind, "created": self.created, "model": MODEL}
        return {**head, "choices": choices, **extra}

    def token_template(self) -> tuple[bytes, bytes, bytes]:
        """A token chunk's JSON cut around its text and finish_reason, so no event is serialised whole."""
        if self.chat:
            choice: dict[str, object] = {"index": 0, "delta": {"content": "@T"}}
        else:
            choice = {"index": 0, "text": "@T", "logprobs": None}
        choice["finish_reason"] = "@F"
        head, rest = dumps(self.event([choice]))[:-1].split(b'"@T"')
        middle, tail = rest.split(b'"@F"')
        return head, middle, tail

    def whole_answer(self) -> dict[str, object]:
        text = self.text(0, self.tokens) if self.answer is None else self.answer
        if self.chat:
            choice: dict[str, object] = {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "length",
            }
            kind = "chat.completion"
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": "length"}
            kind = "text_completion"
        return {
            "id": self.id,
            "object": kind,
            "created": self.created,
            "model": MODEL,
            "choices": [choice],
            "usage": self.usage_object(),
        }


class Streamer:
    """Sends one SSE answer from timer callbacks, so a token costs no task wake-up (256+ streams a core)."""

    GARBAGE = chunk(b"garbage-line\n\n")
    BUFFERED_MAX = 1 << 20  # a client that stops reading is dropped, not buffered for

    def __init__(self, transport: asyncio.WriteTransport, gen: Generation, start: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.transport = transport
        self.gen = gen
        self.start = start
        self.events = -(-gen.tokens // gen.burst)
        self.sent = 0
        self.template = gen.token_template()
        # Malformed lines after token event i (slot 0: before the first one).
        self.garbage = [0] * (self.events + 1)
        for j in range(gen.malformed):
            self.garbage[(j + 1) * self.events // gen.malformed] += 1
        self.finished: asyncio.Future[bool] = self.loop.create_future()
        self.timer: asyncio.TimerHandle | None = None

    async def run(self, keep_alive: bool) -> bool:
        """Stream the answer; False when the connection must close (x_close_after, or a lost client)."""
        gen = self.gen
        head = SSE_HEAD + (b"\r\n" if keep_alive else b"Connection: close\r\n\r\n")
        if gen.chat:  # role first, at once, as OpenAI does: it must not count as the first token
            role = gen.event([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
            head += chunk(b"data: " + dumps(role) + b"\n\n")
        self.transport.write(head + self.GARBAGE * self.garbage[0])
        self.schedule()
        try:
            return await self.finished
        finally:
            if self.timer is not None:
                self.timer.cancel()

    def schedule(self) -> None:
        gen = self.gen
        if gen.close_after is not None and self.sent >= gen.close_after:
            self.finish(False)
        elif self.sent < self.events:
            due = self.start + gen.prefill_s + self.sent * gen.burst * gen.token_s
            self.timer = self.loop.call_at(due, self.send_token)
        else:
            tail = b""
            if gen.usage:
                usage = gen.event([], usage=gen.usage_object())
                tail = chunk(b"data: " + dumps(usage) + b"\n\n")
            self.transport.write(tail + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            self.finish(True)

    def send_token(self) -> None:
        self.timer = None
        transport = self.transport
        if transport.is_closing() or transport.get_write_buffer_size() > self.BUFFERED_MAX:
            transport.abort()
            self.finish(False)
            return
        gen = self.gen
        i = self.sent
        first = i * gen.burst
        count = min(gen.burst, gen.tokens - first)
        text = gen.text(first, count).encode()  # plain words: nothing to escape
        finish = b'"length"' if first + count >= gen.tokens else b"null"
        head, middle, tail = self.template
        stamp = time.perf_counter_ns()
        event = b'data: %s"%s"%s%s%s,"x_server_ns":%d}\n\n' % (
            head,
            text,
            middle,
            finish,
            tail,
            stamp,
        )
        transport.write(chunk(event) + self.GARBAGE * self.garbage[i + 1])
        self.sent = i + 1
        self.schedule()

    def finish(self, reusable: bool) -> None:
        if not self.finished.done():
            self.finished.set_result(reusable)


async def sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    delay = deadline - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


def plain(status: int, body: bytes, keep_alive: bool) -> bytes:
    reason = REASONS.get(status, "Unknown")
    connection = b"keep-alive" if keep_alive else b"close"
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: %s\r\n\r\n%s"
    ) % (status, reason.encode(), len(body), connection, body)


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    """(method, path, headers, body) of the next request; EOFError at a clean end of connection."""
    line = await reader.readline()
    if not line:
        raise EOFError
    try:
        method, path, version = line.decode("latin-1").split()
    except ValueError:
        raise BadRequest("bad request line") from None
    headers: dict[str, str] = {"": version}
    for _ in range(MAX_HEADERS + 1):
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest("bad header line")
        headers[name.strip().lower()] = value.strip()
    else:
        raise BadRequest("too many headers")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest("chunked request bodies are not supported")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise BadRequest("bad Content-Length") from None
    if not 0 <= length <= MAX_BODY:
        raise BadRequest("Content-Length out of range")
    body = await reader.readexactly(length) if length else b""
    return method, path.split("?", 1)[0], headers, body


async def answer(
    writer: asyncio.StreamWriter, method: str, path: str, body: bytes, keep_alive: bool
) -> bool:
    """Answer one request; False when the connection must not be reused."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    if path == "/health":
        writer.write(plain(200, b'{"status":"ok"}', keep_alive))
        return keep_alive
    if path == "/v1/models":
        model = {"id": MODEL, "object": "model", "created": 0, "owned_by": "benchaction-example"}
        writer.write(plain(200, dumps({"object": "list", "data": [model]}), keep_alive))
        return keep_alive
    if path not in ("/v1/completions", "/v1/chat/completions"):
        writer.write(plain(404, error_body(404, f"no route {path}"), keep_alive))
        return keep_alive
    if method != "POST":
        writer.write(plain(405, error_body(405, "use POST"), keep_alive))
        return keep_alive
    try:
        request = json.loads(body)
        if not isinstance(request, dict):
            raise BadRequest("the body must be a JSON object")
        status = request.get("x_status")
        if status is not None:
            code = int(knob(request, "x_status", 0))
            if not 200 <= code <= 599:
                raise BadRequest("x_status must be an HTTP status from 200 to 599")
            writer.write(plain(code, error_body(code, "x_status asked for it"), keep_alive))
            return keep_alive
        gen = Generation(request, chat=path == "/v1/chat/completions")
    except (ValueError, OverflowError, BadRequest) as exc:
        writer.write(plain(400, error_body(400, str(exc)), keep_alive))
        return keep_alive
    if gen.stream:
        return await Streamer(writer.transport, gen, start).run(keep_alive) and keep_alive
    last = max(0, gen.tokens - 1) // gen.burst * gen.burst
    await sleep_until(loop, start + gen.prefill_s + last * gen.token_s)
    writer.write(plain(200, dumps(gen.whole_answer()), keep_alive))
    return keep_alive


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:  # tokens are small writes: Nagle would hold them for the client's ACK
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            try:
                method, path, headers, body = await read_request(reader)
            except BadRequest as exc:
                writer.write(plain(400, error_body(400, str(exc)), False))
                break
            connection = headers.get("connection", "").lower()
            keep_alive = connection != "close" and (
                headers[""] == "HTTP/1.1" or connection == "keep-alive"
            )
            if not await answer(writer, method, path, body, keep_alive):
                break
            await writer.drain()
        await writer.drain()
    except (EOFError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    except ValueError:  # a line longer than the reader's limit
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    connections: set[asyncio.Task[None]] = set()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await serve_connection(reader, writer)
        except asyncio.CancelledError:
            if not stop.is_set():
                raise  # only shutdown's own cancellation ends a connection quietly
        finally:
            connections.discard(task)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await asyncio.start_server(tracked, host, port, backlog=1024)
    print(f"openai-stream: serving {MODEL} on http://{host}:{port}", file=sys.stderr, flush=True)
    await stop.wait()
    server.close()
    for task in list(connections):  # streams in flight end now; their sockets close in finally
        task.cancel()
    if connections:
        await asyncio.wait(list(connections), timeout=2)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 2)


if __name__ == "__main__":
    asyncio.run(main())
