"""Shared by the engine benchmarks: the machine, core pinning, a pinned nginx, and child processes.

Every benchmark puts the server on one core and the client on the other (`taskset`), so the
two never compete for a core and the figures are the client's, not the scheduler's. Children
print one JSON line last on stdout; everything runs on 127.0.0.1 with bounded timeouts.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"

NGINX_CONF = """
daemon off;
worker_processes 1;
error_log {tmp}/error.log;
pid {tmp}/nginx.pid;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {{
        listen {host}:{port} backlog=4096;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def cores() -> tuple[int, int]:
    """(server core, client core): the first two cores this process may use."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        raise SystemExit("these benchmarks need two cores: one for the server, one for the client")
    return allowed[0], allowed[1]


def pinned(core: int | None, argv: Sequence[str]) -> list[str]:
    """`argv` run on one core (taskset), or unpinned for None."""
    return list(argv) if core is None else ["taskset", "-c", str(core), *argv]


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise SystemExit(
            f"not found on PATH: {', '.join(missing)} (Debian: apt-get install nginx-light wrk util-linux)"
        )


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    """What the figures were taken on, printed by every benchmark before its table."""
    return {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} online, {len(os.sched_getaffinity(0))} usable",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "uvloop": _version("uvloop"),
        "httptools": _version("httptools"),
        "load average (1 min)": f"{os.getloadavg()[0]:.2f}",
        "commit": _commit(),
    }


def _commit() -> str:
    """The checkout's commit, and whether the engine's files differ from it."""
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "benchaction/engine"],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" (engine files modified)" if dirty else "")


def print_machine(extra: dict[str, str] | None = None) -> None:
    info = {**machine(), **(extra or {})}
    width = max(len(k) for k in info)
    print("machine:")
    for key, value in info.items():
        print(f"  {key:<{width}}  {value}")
    load = os.getloadavg()[0]
    if load >= 0.5:
        print(f"  NOTE: 1-minute load average {load:.2f} >= 0.5: other work shares these cores")
    print(flush=True)


def tool_version(argv: Sequence[str]) -> str:
    """First line a tool prints about its version (nginx and wrk print to stderr)."""
    try:
        out = subprocess.run(list(argv), check=False, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[Any], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before listening")
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listened on {HOST}:{port} within {timeout_s:g} s")


def stop(proc: subprocess.Popen[Any], timeout_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5.0)


@contextlib.contextmanager
def nginx(
    core: int, conf_template: str = NGINX_CONF, files: dict[str, bytes] | None = None
) -> Iterator[tuple[int, int]]:
    """One nginx worker on loopback, pinned to `core`; yields (port, the worker's pid).

    The default configuration answers every request with a fixed 200 "ok"; `files` are
    written next to the configuration (its `{tmp}`) first.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        for name, data in (files or {}).items():
            Path(tmp, name).write_bytes(data)
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(conf_template.format(tmp=tmp, host=HOST, port=port))
        proc = subprocess.Popen(
            pinned(core, ["nginx", "-e", f"{tmp}/error.log", "-c", str(conf), "-p", tmp])
        )
        try:
            wait_listening(port, proc)
            yield port, _only_child(proc.pid)
        finally:
            stop(proc)  # SIGTERM: nginx's fast shutdown, master and worker


def _only_child(pid: int) -> int:
    """The pid of a process's one child (nginx's worker), or the process itself."""
    with contextlib.suppress(OSError, ValueError):
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(kids) == 1:
            return int(kids[0])
    return pid


def proc_cpu_s(pid: int) -> float:
    """User + system CPU time of a process so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuSampler:
    """CPU use of one process (CPU time / wall time) between two offsets after start()."""

    def __init__(self, pid: int | None, span: tuple[float, float]) -> None:
        self.pid = pid
        self.span = span
        self.value = float("nan")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        if self.pid is None:
            return
        t = time.monotonic()
        time.sleep(self.span[0])
        with contextlib.suppress(OSError):
            c0, w0 = proc_cpu_s(self.pid), time.monotonic()
            time.sleep(max(0.1, self.span[1] - (time.monotonic() - t)))
            self.value = (proc_cpu_s(self.pid) - c0) / (time.monotonic() - w0)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(self.span[1] + 5.0)


class HostWatch:
    """How quiet the machine was over a benchmark: CPU used by other processes, and steal time.

    Call summary() after every server has been stopped: our own CPU is this process and its
    waited-for children (servers, clients, workers), taken from getrusage; the rest of the user
    and system time the kernel counted on all cores belongs to other processes.
    """

    def __init__(self) -> None:
        self.stat0 = self._stat()
        self.ours0 = self._ours()
        self.t0 = time.monotonic()

    @staticmethod
    def _stat() -> list[int]:
        with contextlib.suppress(OSError):
            return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return []

    @staticmethod
    def _ours() -> float:
        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            r = resource.getrusage(who)
            total += r.ru_utime + r.ru_stime
        return total

    def summary(self) -> str:
        stat1 = self._stat()
        wall = time.monotonic() - self.t0
        if len(self.stat0) < 8 or len(stat1) < 8 or wall <= 0:
            return "host during the run: /proc/stat not readable"
        d = [b - a for a, b in zip(self.stat0, stat1, strict=False)]
        hz = os.sysconf("SC_CLK_TCK")
        busy_s = (d[0] + d[1] + d[2]) / hz  # user, nice, system
        others_s = max(0.0, busy_s - (self._ours() - self.ours0))
        total = sum(d[:8])
        steal = 100.0 * d[7] / total if total else 0.0
        ncpu = len(os.sched_getaffinity(0))
        return (
            f"host during the run ({wall:.0f} s): other processes used {others_s:.1f} CPU-s "
            f"({100.0 * others_s / (wall * ncpu):.1f} % of {ncpu} cores); steal {steal:.1f} % "
            f"of CPU time; 1-min load average now {os.getloadavg()[0]:.2f} (ours included)"
        )


def run_child(argv: Sequence[str], timeout_s: float, env: dict[str, str] | None = None) -> Any:
    """Run a child to completion and return the JSON it printed last on stdout."""
    try:
        out = subprocess.run(
            list(argv),
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=None if env is None else {**os.environ, **env},
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{argv[0]} ... did not finish within {timeout_s:g} s") from None
    if out.returncode != 0:
        raise SystemExit(f"child failed ({out.returncode}): {' '.join(argv)}\n{out.stderr[-3000:]}")
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise SystemExit(f"child printed nothing: {' '.join(argv)}\n{out.stderr[-3000:]}")
    return json.loads(lines[-1])


def python_child(script: str, *args: str) -> list[str]:
    """This interpreter running one of the benchmark scripts in child mode."""
    return [sys.executable, str(Path(__file__).with_name(script)), *args]


def client_cpu(workers: Sequence[Any]) -> float:
    """CPU time over wall time of the engine's workers, summed (1.0 = one core fully busy)."""
    return sum(w.cpu_s / w.wall_s for w in workers if w.wall_s > 0)


def print_table(head: list[str], rows: list[list[str]]) -> None:
    """A markdown table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        cells = [r[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        print("| " + " | ".join(cells) + " |")


def fmt_goal(met: bool) -> str:
    return "MET" if met else "NOT MET"
