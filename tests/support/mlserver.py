"""A real MLServer serving a scikit-learn classifier, for tests that need a real model server.

MLServer (`mlserver`, `mlserver-sklearn` in the `test` extra) listens on three ports: REST
(the Open Inference Protocol, `/v2/...`), gRPC, and Prometheus metrics (`/metrics` on a port of
its own). Everything here binds 127.0.0.1 on free ports and trains its model in the test, on
the iris data set scikit-learn ships (no download).

Typical use, either as a process bench-action starts itself (`server.runtime: process`; the
config still names the image build it stands for, see `write_dockerfile`)::

    repo = iris_repository(tmp_path / "models")
    ports = MLServerPorts.free()
    server:
      build: {context: write_dockerfile(tmp_path)}
      runtime: process
      port: ports.http
      env: mlserver_env(ports)                 # MLSERVER_* settings
      process: {command: mlserver_command(repo)}
      ready: {path: READY_PATH}

or started by the test::

    with running_mlserver(repo, MLServerPorts.free()) as server:
        requests.post(server.infer_url, json=iris_request(rows))

`iris_request(rows)` builds an inference request for feature rows and `IRIS_ROWS` holds three
rows with their known labels, for tests that score answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.processes import stop_process
from tests.support.skips import skip_or_fail

__all__ = [
    "IRIS_ROWS",
    "MODEL_NAME",
    "READY_PATH",
    "MLServer",
    "MLServerPorts",
    "iris_repository",
    "iris_request",
    "mlserver_command",
    "mlserver_env",
    "running_mlserver",
    "write_dockerfile",
]

MODEL_NAME = "iris"
READY_PATH = "/v2/health/ready"
START_TIMEOUT_S = 90.0
"""MLServer imports pandas, gRPC and FastAPI before it answers: about 3 s here, more when busy."""

# Three iris flowers (sepal length, sepal width, petal length, petal width in cm) and their
# species as load_iris numbers them: 0 setosa, 1 versicolor, 2 virginica (rows 0, 50, 100).
IRIS_ROWS: tuple[tuple[tuple[float, float, float, float], int], ...] = (
    ((5.1, 3.5, 1.4, 0.2), 0),
    ((7.0, 3.2, 4.7, 1.4), 1),
    ((6.3, 3.3, 6.0, 2.5), 2),
)


def _free_ports(count: int) -> list[int]:
    """`count` distinct ports on 127.0.0.1 that nothing listens on (held open until all are picked)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind(("127.0.0.1", 0))
            ports.append(int(s.getsockname()[1]))
        return ports


@dataclass(frozen=True)
class MLServerPorts:
    """The three ports one MLServer listens on."""

    http: int
    grpc: int
    metrics: int

    @classmethod
    def free(cls) -> MLServerPorts:
        """Three distinct free ports on 127.0.0.1."""
        return cls(*_free_ports(3))


def mlserver_env(ports: MLServerPorts) -> dict[str, str]:
    """MLServer's settings as environment variables: loopback only, these ports, and inference
    in the server process itself (no worker pool: faster to start, one process to stop)."""
    return {
        "MLSERVER_HOST": "127.0.0.1",
        "MLSERVER_HTTP_PORT": str(ports.http),
        "MLSERVER_GRPC_PORT": str(ports.grpc),
        "MLSERVER_METRICS_PORT": str(ports.metrics),
        "MLSERVER_PARALLEL_WORKERS": "0",
    }


def mlserver_command(repository: Path) -> list[str]:
    """`mlserver start <repository>` with the `mlserver` script of this interpreter's environment;
    skips (or fails where required) when MLServer is not installed."""
    script = Path(sys.executable).parent / "mlserver"
    if not script.is_file():
        skip_or_fail("MLServer is not installed (pip install -e '.[test]')")
    return [str(script), "start", str(repository)]


def iris_repository(folder: Path, name: str = MODEL_NAME) -> Path:
    """A model repository holding one scikit-learn model: logistic regression trained on iris.

    Returns `folder`, which `mlserver start` takes; the model sits in `folder/name` with its
    model-settings.json (implementation mlserver_sklearn.SKLearnModel, output: predict).
    """
    try:
        import joblib
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        skip_or_fail("scikit-learn is not installed (pip install -e '.[test]')")
    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(features, labels)
    (folder / name).mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / name / "model.joblib")
    settings = {
        "name": name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
    }
    (folder / name / "model-settings.json").write_text(json.dumps(settings, indent=2))
    return folder


def write_dockerfile(folder: Path, repository: str = "models") -> Path:
    """A Dockerfile in `folder` for the same server as an image (the `build` a bench.yml names;
    the process runtime runs the command instead). The base comes from an ARG, as every
    Dockerfile under test does; returns `folder`."""
    (folder / "Dockerfile").write_text(
        "ARG BASE_IMAGE=python:3.11-slim\n"
        "FROM ${BASE_IMAGE}\n"
        "RUN python3 -m pip install --no-cache-dir mlserver mlserver-sklearn\n"
        f"COPY {repository} /models\n"
        "ENV MLSERVER_PARALLEL_WORKERS=0\n"
        'CMD ["mlserver", "start", "/models"]\n'
    )
    return folder


def iris_request(rows: Sequence[Sequence[float]]) -> dict[str, Any]:
    """An Open Inference Protocol request body for feature rows (FP32, shape [n, 4])."""
    flat = [float(v) for row in rows for v in row]
    return {"inputs": [{"name": "x", "datatype": "FP32", "shape": [len(rows), 4], "data": flat}]}


@dataclass(frozen=True)
class MLServer:
    """A running MLServer: where to send requests and where its metrics are."""

    ports: MLServerPorts
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}"

    @property
    def infer_url(self) -> str:
        return f"{self.base_url}/v2/models/{MODEL_NAME}/infer"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.metrics}/metrics"


@contextlib.contextmanager
def running_mlserver(repository: Path, ports: MLServerPorts) -> Iterator[MLServer]:
    """MLServer started on `repository`, ready (within START_TIMEOUT_S), stopped on leaving."""
    log = repository / "mlserver.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            mlserver_command(repository),
            cwd=repository,
            env={**os.environ, **mlserver_env(ports)},
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = MLServer(ports, proc, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"MLServer exited with {proc.returncode}: {log.read_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(server.base_url + READY_PATH, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"MLServer not ready in {START_TIMEOUT_S:.0f} s: {log.read_text()}"
                )
            time.sleep(0.2)
        yield server
    finally:
        stop_process(proc)
