"""How noisy is this host for anyone? wrk against the example server, no bench-action involved.

The between-trial spread of a benchmark has two sources: the host (CPU steal, frequency,
neighbours) and the tool. This measures the first with the reference load generator: wrk,
repeated short runs against one running server, and against a fresh server each time, with the
server and wrk on disjoint cores (wrk on the highest quarter, at least one; the rest for the
server), so neither takes the other's CPU time. If wrk's runs spread as
much as bench-action's trials, the noise is the host's and only more trials (or a quieter
runner) can narrow a verdict.

    python benchmarks/calibration/host_noise.py [--runs 10] [--duration 3] [--warmup 1]

Needs `wrk` on PATH; all load goes to 127.0.0.1 on a free port. About 2 minutes with defaults.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "numpy-mlp"
LUA = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
"""


def free_port() -> int:
    """A port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cores() -> tuple[str, str]:
    """Server and load cores, disjoint: the load the highest quarter (at least one)."""
    usable = sorted(os.sched_getaffinity(0))
    n_load = max(1, len(usable) // 4)
    if len(usable) < 2:
        return "", ""
    return ",".join(map(str, usable[:-n_load])), ",".join(map(str, usable[-n_load:]))


@contextmanager
def server(port: int, server_cores: str) -> Iterator[None]:
    """The example model server as a process on `server_cores`, until /health answers."""
    command = [sys.executable, str(EXAMPLE / "server.py")]
    if server_cores:
        command = ["taskset", "-c", server_cores, *command]
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the example server did not become ready") from None
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(10)


def wrk(port: int, load_cores: str, script: Path, seconds: float) -> tuple[float, float]:
    """One wrk run (1 thread, 4 connections, as the calibration's scenario): req/s, p50 ms."""
    command = ["wrk", "-t1", "-c4", f"-d{seconds:g}s", "--latency", "-s", str(script)]
    command.append(f"http://127.0.0.1:{port}/predict")
    if load_cores:
        command = ["taskset", "-c", load_cores, *command]
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rps, float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def cv(values: list[float]) -> float:
    """Between-run CV on the log scale, as the calibration reports trials."""
    return math.expm1(float(np.log(values).std(ddof=1)))


def main() -> int:
    """Print wrk's between-run CV of throughput and p50, one server and fresh servers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured a run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of wrk before each run")
    parser.add_argument("--json", type=Path, help="also write the runs here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not on PATH (Debian: apt-get install wrk)")
    body = json.dumps((EXAMPLE / "payloads.jsonl").read_text().splitlines()[0])
    server_cores, load_cores = cores()
    results: dict[str, list[tuple[float, float]]] = {"one server": [], "fresh servers": []}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(LUA.format(body=body))
        port = free_port()
        with server(port, server_cores):
            wrk(port, load_cores, script, args.warmup)
            for _ in range(args.runs):
                results["one server"].append(wrk(port, load_cores, script, args.duration))
        for _ in range(args.runs):
            port = free_port()
            with server(port, server_cores):
                wrk(port, load_cores, script, args.warmup)
                results["fresh servers"].append(wrk(port, load_cores, script, args.duration))
    print(f"wrk -t1 -c4, {args.runs} runs of {args.duration:g} s after {args.warmup:g} s warmup;")
    print(f"server on cores {server_cores or 'any'}, wrk on {load_cores or 'any'}")
    print(f"{'':15}{'throughput CV':>15}{'p50 CV':>10}{'throughput range':>24}")
    for name, runs in results.items():
        rps, p50 = [r for r, _ in runs], [p for _, p in runs]
        print(
            f"{name:15}{100 * cv(rps):14.1f}%{100 * cv(p50):9.1f}%"
            f"{min(rps):12,.0f} - {max(rps):,.0f} req/s"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
