"""A server that dies mid-measurement stops the run with its exit code and last words, and the
trials measured before it are kept."""

from __future__ import annotations

import io
from pathlib import Path

from benchaction.config import load_config
from benchaction.errors import ServingError
from benchaction.flow.measure import RunOptions, RunOutcome, run_benchmark
from benchaction.progress import ProgressDisplay

# Answers 250 requests, then says why and exits with code 3.
SERVER = """
import os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

served = 0

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *a):
        pass
    def do_GET(self):
        global served
        served += 1
        if served > 250:
            print("out of model memory after", served - 1, "answers", file=sys.stderr, flush=True)
            os._exit(3)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def _run_against_the_crashing_server(folder: Path, bench_yml: str, run_id: str) -> RunOutcome:
    """Write SERVER, a stub Dockerfile and `bench_yml` into `folder`, then run the benchmark."""
    (folder / "server.py").write_text(SERVER)
    (folder / "Dockerfile").write_text("FROM scratch\n")
    (folder / "bench.yml").write_text(bench_yml)
    return run_benchmark(
        load_config(folder / "bench.yml"),
        RunOptions(output_dir=folder / "out", run_id=run_id),
        ProgressDisplay(io.StringIO()),
    )


def test_a_server_dying_mid_run_stops_it_with_the_log_tail(tmp_path: Path, free_port: int) -> None:
    bench_yml = f"""
version: 1
name: crash
server:
  runtime: process
  build: {{context: .}}
  port: {free_port}
  process: {{command: [python3, server.py]}}
  ready: {{path: /, timeout: 10s}}
scenarios:
  - name: first
    concurrency: 1
    requests: 120
  - name: second
    concurrency: 1
    duration: 1s
    timeout: 2s
trials: 1
"""
    outcome = _run_against_the_crashing_server(tmp_path, bench_yml, "crash")
    assert isinstance(outcome.error, ServingError)
    message = str(outcome.error)
    assert "exited with code 3 during the measurement" in message
    assert "out of model memory after 250 answers" in message
    doc = outcome.document
    assert doc["status"] == "partial"
    first, second = doc["scenarios"]
    assert first["trials"][0]["counts"]["succeeded"] == 120
    # The trial during which it died is kept too, with its errors.
    assert second["trials"][0]["errors"]


def test_a_port_taken_by_another_process_is_refused_before_starting(tmp_path: Path) -> None:
    """Otherwise the other process would answer the readiness probe and take the load."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bench_yml = f"""
version: 1
server:
  runtime: process
  build: {{context: .}}
  port: {port}
  process: {{command: [python3, server.py]}}
scenarios:
  - {{name: first, requests: 10}}
trials: 1
"""
        outcome = _run_against_the_crashing_server(tmp_path, bench_yml, "taken")
    assert isinstance(outcome.error, ServingError)
    assert f"port {port} on 127.0.0.1 is already in use by another process" in str(outcome.error)
    assert outcome.document["scenarios"][0]["trials"] == []
