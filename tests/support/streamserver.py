"""The OpenAI-compatible example server (examples/openai-stream) as a subprocess fixture with known timings."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from tests.support.paths import EXAMPLES
from tests.support.processes import stop_process

SERVER = EXAMPLES / "openai-stream" / "server.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def stream_server(**env: str) -> Iterator[int]:
    """Run the example server on a free loopback port; yields the port, stops it on exit."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SERVER)],
        env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"the example server did not start: {err}") from None
                time.sleep(0.05)
        yield port
    finally:
        stop_process(proc)
        if proc.stderr:
            proc.stderr.close()
