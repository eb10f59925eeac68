"""Closed-loop throughput of the bench-action engine next to wrk, against one nginx on loopback.

Both clients hit the same nginx (a fixed 200 answer, keep-alive) with the same connection
count for the same time, one after the other, several rounds alternating the order. Prints
requests/s of each and the ratio engine/wrk. Needs `nginx` and `wrk` on PATH (Debian packages
nginx-light and wrk). Usage:

    python benchmarks/engine_vs_wrk.py [--connections 32] [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchaction.engine import LoadPlan, prepare_requests, run_load, trial_metrics

NGINX_CONF = """
daemon off;
worker_processes 1;
error_log {tmp}/error.log;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    keepalive_requests 1000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nginx did not listen on 127.0.0.1:{port}")


def _wrk(port: int, connections: int, seconds: float) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    return float(match.group(1))


def _engine(port: int, connections: int, seconds: float) -> float:
    plan = LoadPlan(
        host="127.0.0.1",
        port=port,
        requests=prepare_requests("127.0.0.1", port, "GET", "/", (), ()),
        concurrency=connections,
        duration_s=seconds,
        warmup_s=0.5,
        timeout_s=5.0,
    )
    metrics = trial_metrics(run_load(plan))
    if metrics["counts"]["failed"]:
        raise SystemExit(f"engine saw errors: {metrics['errors']}")
    return float(metrics["throughput_rps"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found on PATH (Debian: apt-get install nginx-light wrk)")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", tmp])
        try:
            _wait_listening(port)
            # Pin each side to its own core when there are two, as wrk's own docs advise.
            cores = sorted(os.sched_getaffinity(0))
            if len(cores) >= 2:
                os.sched_setaffinity(nginx.pid, {cores[0]})
                os.sched_setaffinity(0, {cores[1]})
            engine, wrk = [], []
            for r in range(args.rounds):
                order = [("wrk", wrk), ("engine", engine)]
                for name, sink in order if r % 2 == 0 else reversed(order):
                    fn = _wrk if name == "wrk" else _engine
                    sink.append(fn(port, args.connections, args.seconds))
                    print(f"round {r + 1} {name:6s} {sink[-1]:>10,.0f} req/s", flush=True)
        finally:
            nginx.terminate()
            nginx.wait(10)
    e, w = statistics.median(engine), statistics.median(wrk)
    print(
        f"\nnginx on loopback, {args.connections} connections, {args.seconds:g} s x "
        f"{args.rounds} rounds (median):\n"
        f"  wrk    {w:>10,.0f} req/s\n  engine {e:>10,.0f} req/s\n  ratio engine/wrk {e / w:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
