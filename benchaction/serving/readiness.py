"""The readiness probe all runtimes share: poll one URL until it answers the expected status."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from ..config import AUTO_PORT, ReadySpec
from ..errors import ServingError

__all__ = [
    "LOG_TAIL_LINES",
    "format_tail",
    "free_port",
    "http_base_url",
    "probe_once",
    "server_port",
    "wait_until_ready",
]

LOG_TAIL_LINES = 50
_MAX_POLL_TIMEOUT_S = 2.0


def free_port(host: str) -> int:
    """A TCP port nothing listens on at `host` right now, chosen by the kernel (`port: auto`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def server_port(host: str, port: int, who: str) -> int:
    """The port a new server instance listens on: `port` once checked free, or a free one (0)."""
    if port == AUTO_PORT:
        return free_port(host)
    ensure_port_free(host, port, who)
    return port


def ensure_port_free(host: str, port: int, who: str) -> None:
    """Refuse to start when something already listens where the server will: the readiness
    probe would be answered, and the load taken, by that other process."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            pass
    except OSError:
        return
    raise ServingError(
        f"port {port} on {host} is already in use by another process, so {who} could not be "
        f"measured alone there; stop that process, choose another server.port, or set "
        "`server.port: auto` for a port that is free at each start"
    )


def http_base_url(host: str, port: int) -> str:
    """`http://host:port`, with IPv6 literals bracketed."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def format_tail(lines: Sequence[str], what: str = "server output") -> str:
    """The last lines of a server's output, indented under a heading, for an error message."""
    if not lines:
        return f"\n  ({what} is empty)"
    tail = lines[-LOG_TAIL_LINES:]
    body = "\n".join(f"    | {line}" for line in tail)
    heading = "the last line" if len(tail) == 1 else f"the last {len(tail)} lines"
    return f"\n  {heading} of {what}:\n{body}"


def probe_once(url: str, timeout_s: float) -> tuple[int | None, str]:
    """One GET of `url`: (status, description) or (None, why it failed), never raising."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    conn_type = http.client.HTTPSConnection if secure else http.client.HTTPConnection
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    conn = conn_type(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_s)
    try:
        conn.request("GET", target, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read(65536)
        return response.status, f"answered {response.status}"
    except ConnectionRefusedError:
        return None, "failed: connection refused"
    except TimeoutError:
        return None, f"failed: no answer within {timeout_s:.1f}s"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"failed: {type(exc).__name__}: {exc}".rstrip(": ")
    finally:
        conn.close()


def wait_until_ready(
    url: str,
    ready: ReadySpec,
    *,
    log: Callable[[str], None],
    check_alive: Callable[[], None],
    recent_logs: Callable[[], list[str]],
    what: str | None = "server output",
) -> float:
    """Poll `url` until it answers `ready.status`; returns time.perf_counter() of that answer.

    `check_alive` runs between polls and raises ServingError once the server has exited, so an
    early crash is reported as a crash instead of as a timeout. `what` names the output that
    `recent_logs` returns, for the timeout message; None leaves that section out. Once `url`
    answers 404, `ready.fallback_path` (if set) is polled as well, and either may answer.
    """
    deadline = time.perf_counter() + ready.timeout_s
    urls = [url]
    last: dict[str, str] = {url: "was never polled"}
    log(f"waiting for {url} to answer {ready.status} (timeout {ready.timeout_s:g}s)")
    while True:
        polled_at = time.perf_counter()
        for probe in urls:  # a fallback appended below is polled in this same round
            check_alive()
            remaining = deadline - time.perf_counter()
            status, description = probe_once(probe, max(0.1, min(_MAX_POLL_TIMEOUT_S, remaining)))
            if status == ready.status:
                if probe != url:
                    log(
                        f"readiness: {ready.fallback_path} answered {status}, so the server is "
                        f"ready ({ready.path} {last[url]}); set server.ready.path: "
                        f"{ready.fallback_path} to probe it directly"
                    )
                return time.perf_counter()
            if description != last.get(probe):
                log(f"readiness: GET {probe} {description}")
                last[probe] = description
            fallback = _fallback_url(url, ready)
            if status == 404 and probe == url and fallback is not None and fallback not in urls:
                log(
                    f"readiness: this server has no {ready.path} route (404), the protocol's "
                    f"default readiness path; probing {ready.fallback_path} as well "
                    "(server.ready.path chooses the path)"
                )
                urls.append(fallback)
        now = time.perf_counter()
        if now >= deadline:
            break
        time.sleep(max(0.0, min(polled_at + ready.interval_s, deadline) - now))
    check_alive()
    raise ServingError(
        _timeout_message(urls, last, ready)
        + (format_tail(recent_logs(), what) if what else "")
        + _timeout_hint(urls, ready)
    )


def _fallback_url(url: str, ready: ReadySpec) -> str | None:
    if ready.fallback_path is None or not url.endswith(ready.path):
        return None
    return url.removesuffix(ready.path) + ready.fallback_path


def _timeout_message(urls: list[str], last: dict[str, str], ready: ReadySpec) -> str:
    answers = " and ".join(f"the last GET {u} {last.get(u, 'was never polled')}" for u in urls)
    wanted = f"(waiting for status {ready.status})"
    return f"server not ready after {ready.timeout_s:g}s: {answers} {wanted}."


def _timeout_hint(urls: list[str], ready: ReadySpec) -> str:
    if len(urls) > 1:
        return (
            f"\n  hint: this server has no {ready.path} route (404), and {ready.fallback_path} "
            f"never answered {ready.status} either; set `server.ready.path` to the path that "
            f"answers {ready.status} once the server is up (and `server.ready.status` if it "
            "answers another status), or raise `server.ready.timeout` if it needs longer to load."
        )
    return (
        "\n  hint: if the server needs longer to load, raise `server.ready.timeout`; "
        "check that `server.ready.path` and `server.ready.status` match what it answers."
    )
