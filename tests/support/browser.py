"""Headless Chromium driven over the DevTools protocol: load a page, run script, collect errors.

Debian's `chromium` with `--remote-debugging-port=0` prints the browser's websocket address on
stderr; `websocket-client` speaks to it. Console errors, uncaught exceptions and failed loads
(a missing asset) are collected as they arrive. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import websocket

from tests.support.skips import docker_required

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_or_skip() -> str:
    """The Chromium binary; skips without one locally, fails on CI (it must run there)."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    reason = "no headless Chromium (Debian: apt-get install chromium)"
    if os.environ.get("CI") or docker_required():
        pytest.fail(f"{reason}; CI installs it in .ci/run", pytrace=False)
    pytest.skip(reason)


class Page:
    """One tab of a headless Chromium, attached through a flat DevTools session."""

    def __init__(self, ws: websocket.WebSocket, session: str) -> None:
        self._ws = ws
        self._session = session
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout_s: float = 20.0, **params: Any) -> dict[str, Any]:
        """Send one command to the tab and return its result (events seen meanwhile are kept)."""
        ident = next(self._ids)
        self._ws.send(
            json.dumps(
                {"id": ident, "sessionId": self._session, "method": method, "params": params}
            )
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self._recv(deadline, method)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"{method}: no answer within {timeout_s} s")

    def wait_event(self, method: str, timeout_s: float = 20.0) -> dict[str, Any]:
        """The first event of this kind (already seen or arriving within the timeout)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for event in self.events:
                if event["method"] == method:
                    return event
            message = self._recv(deadline, method)
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"no {method} within {timeout_s} s")

    def _recv(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        self._ws.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            return dict(json.loads(self._ws.recv()))
        except websocket.WebSocketTimeoutException:
            raise TimeoutError(
                f"Chromium sent nothing more while waiting for {waiting_for}"
            ) from None

    def goto(self, url: str) -> None:
        """Navigate and wait for the load event (scripts have run by then)."""
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a script expression in the page; a thrown error fails loudly."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and failed loads seen so far."""
        out: list[str] = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "warning",
                "assert",
            ):
                out.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                out.append(str(params["exceptionDetails"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                out.append(f"{params['entry']['text']} ({params['entry'].get('url', '')})")
        return out


def _address(stderr: Any, timeout_s: float) -> tuple[str, threading.Thread]:
    """The websocket address Chromium prints on stderr once it listens, and the thread that
    keeps reading stderr (so the pipe never fills) until Chromium closes it."""
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        found = _LISTENING.search(line)
        if found:
            return found.group(1), reader
    raise TimeoutError(
        f"Chromium printed no DevTools address within {timeout_s} s: {''.join(seen)[-2000:]}"
    )


@contextmanager
def headless_page(binary: str, width: int = 1400, height: int = 1000) -> Iterator[Page]:
    """A fresh headless Chromium (own profile folder) with one tab; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="bench-chromium-") as profile:
        proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: the browser's helpers stop with it
        )
        reader: threading.Thread | None = None
        try:
            address, reader = _address(proc.stderr, 30.0)
            ws = websocket.create_connection(address, timeout=20, suppress_origin=True)
            try:
                ws.send(
                    json.dumps(
                        {"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}}
                    )
                )
                target = _answer(ws, 1)["targetId"]
                ws.send(
                    json.dumps(
                        {
                            "id": 2,
                            "method": "Target.attachToTarget",
                            "params": {"targetId": target, "flatten": True},
                        }
                    )
                )
                page = Page(ws, _answer(ws, 2)["sessionId"])
                for domain in ("Page", "Runtime", "Log"):
                    page.call(f"{domain}.enable")
                yield page
            finally:
                ws.close()
        finally:
            _stop(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _stop(proc, signal.SIGKILL)
                proc.wait(timeout=10)
            if reader is not None:
                reader.join(timeout=10)  # EOF once every process of the group is gone
            if proc.stderr is not None and (reader is None or not reader.is_alive()):
                proc.stderr.close()


def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    """Signal the browser's process group (it started it), not any other process."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _answer(ws: websocket.WebSocket, ident: int, timeout_s: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = json.loads(ws.recv())
        if message.get("id") == ident:
            if "error" in message:
                raise RuntimeError(f"DevTools command {ident} failed: {message['error']}")
            return dict(message["result"])
    raise TimeoutError(f"DevTools command {ident}: no answer within {timeout_s} s")
