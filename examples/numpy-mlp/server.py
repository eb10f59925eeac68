"""A small real model server: a numpy MLP classifier behind HTTP/1.1 JSON, standard library only.

POST /predict  {"inputs": [[f1..f16], ...]}  ->  {"outputs": [[p1..p4], ...], "classes": [c, ...],
               "model": "mlp-16-64-64-4"}   (classes: each row's most likely class, 0..3)
GET  /health   200 once the weights are loaded (after STARTUP_DELAY seconds)
GET  /metadata the model's shape and parameter count

The same model also speaks the KServe v2 (Open Inference Protocol) REST API, as Triton, KServe
and MLServer do: GET /v2/health/ready, GET /v2/models/mlp, and
POST /v2/models/mlp/infer  {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [n, 16],
"data": [...]}]}  ->  {"model_name": "mlp", "outputs": [{"name": "OUTPUT0", "datatype": "FP32",
"shape": [n, 4], "data": [...]}]}.

Environment: PORT (default 8000), HOST (default 127.0.0.1), STARTUP_DELAY (seconds, default 0),
SLOWDOWN (extra service time as a fraction of the handler's own time, default 0; used to
inject known regressions), SEED (weights, default 0), FLIP (the share of inputs, from 0 to 1,
whose class is answered wrong on purpose, default 0: an input flips when `flipped(row, FLIP)`,
a hash of its values, says so, the same on every run, so a test knows which answers are wrong;
labelled.jsonl holds 200 inputs with the unflipped model's classes).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

LAYERS = (16, 64, 64, 4)
MAX_BATCH = 256


class MLP:
    """Dense ReLU layers with a softmax head; weights fixed by a seed so every run is the same model."""

    def __init__(self, sizes: tuple[int, ...], seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.weights = [
            rng.standard_normal((a, b)).astype(np.float32) / np.sqrt(a)
            for a, b in itertools.pairwise(sizes)
        ]
        self.biases = [np.zeros(b, dtype=np.float32) for b in sizes[1:]]

    @property
    def parameters(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True))

    def predict(self, x: np.ndarray) -> np.ndarray:
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            x = np.maximum(x @ w + b, 0.0)
        logits = x @ self.weights[-1] + self.biases[-1]
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


V2_MODEL = "/v2/models/mlp"


def flipped(row: np.ndarray, share: float) -> bool:
    """Whether the class of this input is answered wrong under FLIP=share: a hash of its float32
    values read as a number in [0, 1) falls below the share (about that share of inputs)."""
    digest = hashlib.sha256(np.asarray(row, dtype=np.float32).tobytes()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def classes(inputs: np.ndarray, outputs: np.ndarray, flip: float) -> list[int]:
    """Each row's most likely class; a flipped row answers the next class instead."""
    best = outputs.argmax(axis=1)
    return [
        int((c + 1) % LAYERS[-1]) if flip > 0 and flipped(row, flip) else int(c)
        for row, c in zip(inputs, best, strict=True)
    ]


def _inputs(body: dict[str, object]) -> np.ndarray:
    inputs = np.asarray(body["inputs"], dtype=np.float32)
    if inputs.ndim != 2 or inputs.shape[1] != LAYERS[0] or not 0 < len(inputs) <= MAX_BATCH:
        raise ValueError(f"inputs must be 1..{MAX_BATCH} rows of {LAYERS[0]} numbers")
    return inputs


def _v2_inputs(body: dict[str, object]) -> np.ndarray:
    """The INPUT0 tensor of a KServe v2 request, reshaped to its declared shape."""
    tensors = body["inputs"]
    if not isinstance(tensors, list) or len(tensors) != 1 or not isinstance(tensors[0], dict):
        raise ValueError("expected one input tensor, INPUT0")
    t = tensors[0]
    if t.get("name") != "INPUT0" or t.get("datatype") != "FP32":
        raise ValueError("expected INPUT0 of datatype FP32")
    return _inputs({"inputs": np.asarray(t["data"], dtype=np.float32).reshape(t["shape"])})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real model servers do
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK and every answer takes 40 ms more on a keep-alive connection.
    disable_nagle_algorithm = True
    model: MLP
    slowdown: float = 0.0
    flip: float = 0.0

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would dominate the cost of a small model

    def _send(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path in ("/health", "/v2/health/ready", "/v2/health/live"):
            self._send(200, {"status": "ok"})
        elif self.path == V2_MODEL:
            self._send(
                200,
                {
                    "name": "mlp",
                    "platform": "numpy",
                    "inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [-1, LAYERS[0]]}],
                    "outputs": [{"name": "OUTPUT0", "datatype": "FP32", "shape": [-1, LAYERS[-1]]}],
                },
            )
        elif self.path == "/metadata":
            self._send(200, {"layers": list(LAYERS), "parameters": self.model.parameters})
        else:
            self._send(404, {"error": f"no route {self.path}"})

    def do_POST(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path not in ("/predict", V2_MODEL + "/infer"):
            self._send(404, {"error": f"no route {self.path}"})
            return
        v2 = self.path != "/predict"
        try:
            inputs = _v2_inputs(json.loads(raw)) if v2 else _inputs(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            self._send(400, {"error": str(exc)})
            return
        outputs = self.model.predict(inputs)
        if self.slowdown > 0:
            # Busy-wait, not sleep: a real slowdown costs CPU, and sleep granularity is too coarse.
            # The handler's own time (read, parse, predict) is stretched by the given fraction.
            until = time.perf_counter() + (time.perf_counter() - started) * self.slowdown
            while time.perf_counter() < until:
                pass
        if v2:
            out = {
                "name": "OUTPUT0",
                "datatype": "FP32",
                "shape": list(outputs.shape),
                "data": np.round(outputs, 6).ravel().tolist(),
            }
            self._send(200, {"model_name": "mlp", "outputs": [out]})
            return
        self._send(
            200,
            {
                "outputs": np.round(outputs, 6).tolist(),
                "classes": classes(inputs, outputs, self.flip),
                "model": "mlp-16-64-64-4",
            },
        )


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    time.sleep(float(os.environ.get("STARTUP_DELAY", "0")))
    Handler.model = MLP(LAYERS, seed=int(os.environ.get("SEED", "0")))
    Handler.slowdown = float(os.environ.get("SLOWDOWN", "0"))
    Handler.flip = float(os.environ.get("FLIP", "0"))
    server = Server((host, port), Handler)
    print(f"numpy-mlp: serving {LAYERS} on http://{host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
