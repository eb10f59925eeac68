"""A real HTTP/1.1 server on 127.0.0.1 for engine tests, with behaviours the engine must survive.

It runs its own asyncio loop in a thread and counts every request it answers, so a test can
compare the engine's count with the server's. `stdlib_http_server` runs a plain
`http.server` handler instead, for fixtures that need a few canned answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from socketserver import BaseRequestHandler


@dataclass
class Behaviour:
    """What the server does; each field is off by default."""

    close_after: int = 0  # send `Connection: close` on every Nth answer of a connection
    silent_close_after: int = 0  # close the socket without a header after N answers
    status_every: tuple[int, int] = (0, 200)  # (k, status): every kth request gets `status`
    stall_every: int = 0  # every kth request never gets an answer
    delay_s: float = 0.0  # service time per request
    body: bytes = b"ok"


class CountingServer:
    """Counts answers per status; `answered` is the number of complete responses written."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.answered = 0
        self.received = 0
        self.connections = 0
        self.open_now = 0
        self.max_open = 0  # most connections open at once
        self.bodies: list[bytes] = []
        self.by_status: dict[int, int] = {}
        self.methods: dict[str, int] = {}
        self.paths: dict[str, int] = {}  # request target (path and query) -> requests
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        self._server.close()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        for writer in self._writers:
            writer.transport.abort()  # close() waits for unsent data the client will never read
        loop.run_until_complete(asyncio.sleep(0.01))  # let connection_lost callbacks run
        loop.run_until_complete(self._server.wait_closed())
        loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        b = self.behaviour
        self.connections += 1
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        self._writers.add(writer)
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, _, rest = lines[0].partition(" ")
                self.methods[method] = self.methods.get(method, 0) + 1
                target = rest.split(" ", 1)[0]
                self.paths[target] = self.paths.get(target, 0) + 1
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if length:
                    self.bodies.append(await reader.readexactly(length))
                self.received += 1
                n = self.received
                if b.stall_every and n % b.stall_every == 0:
                    await asyncio.sleep(3600)  # the client's timeout must end this
                if b.delay_s:
                    await asyncio.sleep(b.delay_s)
                status = (
                    b.status_every[1] if b.status_every[0] and n % b.status_every[0] == 0 else 200
                )
                served += 1
                close = bool(b.close_after and served % b.close_after == 0)
                headers = [
                    f"HTTP/1.1 {status} X",
                    f"Content-Length: {len(b.body)}",
                    "Content-Type: text/plain",
                ]
                if close:
                    headers.append("Connection: close")
                payload = ("\r\n".join(headers) + "\r\n\r\n").encode()
                writer.write(payload if method == "HEAD" else payload + b.body)
                await writer.drain()
                self.answered += 1
                self.by_status[status] = self.by_status.get(status, 0) + 1
                if close or (b.silent_close_after and served >= b.silent_close_after):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_now -= 1
            writer.close()

    def __enter__(self) -> CountingServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@contextlib.contextmanager
def serving(behaviour: Behaviour | None = None) -> Iterator[CountingServer]:
    """A running CountingServer for the duration of a `with` block."""
    with CountingServer(behaviour) as server:
        yield server


@contextlib.contextmanager
def stdlib_http_server(handler: Callable[..., BaseRequestHandler]) -> Iterator[str]:
    """A ThreadingHTTPServer with `handler` on a free 127.0.0.1 port; yields its URL, ending in /."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
