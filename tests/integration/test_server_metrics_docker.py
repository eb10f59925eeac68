"""Server metrics from a container: the Docker runtime scrapes a metrics port of the server's own.

The server in the image is a few lines of stdlib Python: answers on $PORT, and Prometheus text
on $METRICS_PORT (a counter of the answers it gave and a gauge of those in flight), as
MLServer and Triton serve metrics on a port apart from inference.
"""

from __future__ import annotations

import io
import socket
from pathlib import Path

import docker
import pytest

from benchaction.config import load_config
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.results import validate_results

pytestmark = pytest.mark.docker

SERVER = """\
import os, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
answered = in_flight = 0


class Predict(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global answered, in_flight
        with lock:
            in_flight += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            in_flight -= 1
            answered += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Metrics(BaseHTTPRequestHandler):
    def do_GET(self):
        with lock:
            body = (
                "# HELP demo_answers_total Answers given.\\n"
                "# TYPE demo_answers_total counter\\n"
                f'demo_answers_total{{route="/predict"}} {answered}\\n'
                "# HELP demo_in_flight Requests being answered.\\n"
                "# TYPE demo_in_flight gauge\\n"
                f"demo_in_flight {in_flight}\\n"
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


metrics = ThreadingHTTPServer(("127.0.0.1", int(os.environ["METRICS_PORT"])), Metrics)
threading.Thread(target=metrics.serve_forever, daemon=True).start()
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Predict).serve_forever()
"""


def _ports(count: int) -> list[int]:
    """`count` distinct free ports on 127.0.0.1."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_a_container_metrics_port_is_scraped_around_each_window(
    docker_client: docker.DockerClient, base_image: str, run_id: str, tmp_path: Path
) -> None:
    port, metrics_port = _ports(2)
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY server.py /srv/server.py\n"
        'CMD ["python3", "/srv/server.py"]\n'
    )
    (tmp_path / "bench.yml").write_text(
        f"""
version: 1
name: metrics-port
server:
  build: {{context: ., args: {{BASE_IMAGE: {base_image}}}}}
  runtime: docker
  port: {port}
  env: {{PORT: "{port}", METRICS_PORT: "{metrics_port}"}}
  ready: {{path: /, timeout: 60s}}
  metrics: {{port: {metrics_port}, families: [demo_answers_total, demo_in_flight], interval: 200ms}}
scenarios:
  - name: predict
    method: POST
    path: /predict
    payloads: ['{{"x": 1}}']
    concurrency: 2
    requests: 120
    limits: {{dispatch_lag_p99: 1s}}
trials: 2
isolation: off
"""
    )
    outcome = run_benchmark(
        load_config(tmp_path / "bench.yml"),
        RunOptions(output_dir=tmp_path / "out", run_id=run_id),
        ProgressDisplay(io.StringIO()),
    )
    assert outcome.error is None, outcome.error
    validate_results(outcome.document)
    assert outcome.document["server"]["runtime"] == "docker"
    for trial in outcome.document["scenarios"][0]["trials"]:
        server = trial["telemetry"]["server"]
        assert server["status"] == "ok", server
        assert server["server"] is None and server["notes"] == [] and server["missing"] == []
        answers = server["families"]["demo_answers"]
        # A fresh container per trial, and the window opens with the load: exact.
        assert answers["increase"] == trial["counts"]["scheduled"] == 120
        assert answers["series"] == [{"labels": {"route": "/predict"}, "increase": 120}]
        in_flight = server["families"]["demo_in_flight"]
        assert in_flight["type"] == "gauge" and 0 <= in_flight["max"] <= 2
