"""The typed, validated configuration every later step reads: frozen, plain data, no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ACCURACY_METRICS",
    "AUTO_PORT",
    "PROTOCOLS",
    "RUNTIMES",
    "AccuracyMetric",
    "AccuracySpec",
    "Arrivals",
    "BuildSpec",
    "Config",
    "GpuSpec",
    "Isolation",
    "KServeSpec",
    "KServeTensor",
    "Limits",
    "MetricsSpec",
    "OpenAISpec",
    "ProcessSpec",
    "ReadySpec",
    "Resources",
    "ResponseCheck",
    "Scenario",
    "ServerSpec",
    "Slo",
    "Steady",
    "Sweep",
    "VerdictSpec",
    "Warmup",
]

PROTOCOLS = ("http", "openai", "kserve-v2")
Protocol = Literal["http", "openai", "kserve-v2"]


RUNTIMES = ("auto", "docker", "process")
"""Where a built or pulled server runs: `auto` uses Docker when an engine answers, else a process."""

Runtime = Literal["auto", "docker", "process"]

ACCURACY_METRICS = ("accuracy", "exact_match", "mae", "rmse", "token_f1")
"""How answers are scored against labels: rates of right answers, or errors of numbers."""

AccuracyMetric = Literal["accuracy", "exact_match", "mae", "rmse", "token_f1"]


AUTO_PORT = 0
"""`server.port: auto`: each server instance gets a port that is free when it starts."""


@dataclass(frozen=True)
class BuildSpec:
    """How to build the server image: `docker build` of `context` with these settings."""

    context: Path
    dockerfile: str = "Dockerfile"
    target: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    keep_images: int = 3  # built images of this server kept in the engine, the newest included


@dataclass(frozen=True)
class ReadySpec:
    """The readiness probe: GET `path` until it answers `status`, polling every `interval_s`."""

    path: str = "/"
    status: int = 200
    timeout_s: float = 120.0
    interval_s: float = 0.25
    # Also probed once `path` answers 404; set only when `path` is a protocol's default, which
    # not every server of that protocol has (LitServe's OpenAI API has /health, no /v1/models).
    fallback_path: str | None = None


@dataclass(frozen=True)
class Resources:
    """Container limits; None leaves Docker's default."""

    cpus: float | None = None
    memory_bytes: int | None = None
    shm_size_bytes: int | None = None


@dataclass(frozen=True)
class GpuSpec:
    """Which GPUs the server container gets: all of them, a count, or device ids."""

    all: bool = False
    count: int | None = None
    device_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcessSpec:
    """How to run the same server as a local subprocess (the `process` runtime)."""

    command: tuple[str, ...]
    cwd: Path


@dataclass(frozen=True)
class MetricsSpec:
    """Where the server's Prometheus metrics are scraped around each measurement window.

    `port` None scrapes the server's own port; `families` None keeps the defaults of the
    server detected from the family names it exposes (docs/telemetry.md).
    """

    path: str = "/metrics"
    port: int | None = None
    families: tuple[str, ...] | None = None
    interval_s: float = 1.0
    timeout_s: float = 2.0


@dataclass(frozen=True)
class ServerSpec:
    """The server under test: exactly one of `image`, `build` or `url` is set."""

    image: str | None = None
    build: BuildSpec | None = None
    url: str | None = None
    port: int = 8000  # 0 (`port: auto`): a free port picked for each server instance
    env: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    gpus: GpuSpec | None = None
    resources: Resources = field(default_factory=Resources)
    ready: ReadySpec = field(default_factory=ReadySpec)
    process: ProcessSpec | None = None
    runtime: Runtime = "auto"
    metrics: MetricsSpec | None = None  # None: no Prometheus scrape

    @property
    def source(self) -> Literal["image", "build", "url"]:
        """Which of the three ways to get a server this spec uses."""
        if self.url is not None:
            return "url"
        return "build" if self.build is not None else "image"


@dataclass(frozen=True)
class Steady:
    """Warm up until steady: windows of `window_s` until one's rate and p50 are both within
    `tolerance` of the previous window's (not before `min_s`), or `max_s` is reached."""

    window_s: float = 1.0
    tolerance: float = 0.05
    max_s: float = 30.0
    min_s: float = 1.0


@dataclass(frozen=True)
class Warmup:
    """Load sent before the measurement window opens: a time, a request count, or both;
    with `steady`, first windows of load until the server is steady (docs/metrics.md)."""

    duration_s: float = 0.0
    requests: int = 0
    steady: Steady | None = None


@dataclass(frozen=True)
class Arrivals:
    """Open-loop load: requests are due at `rate` per second whatever the server does."""

    rate: float
    distribution: Literal["poisson", "constant"] = "poisson"
    max_concurrency: int | None = None  # None: as many connections as the schedule needs


@dataclass(frozen=True)
class ResponseCheck:
    """What a good answer looks like; a failed check is counted as the `check` error class."""

    status: int | None = None  # None: any 2xx
    json_path: str | None = None  # dotted, list indexes as numbers: "outputs.0.datatype"
    equals_json: str | None = None  # the expected value as canonical JSON text
    matches: str | None = None  # a regular expression searched in the value's text


@dataclass(frozen=True)
class OpenAISpec:
    """An OpenAI-compatible text generation request; prompts are cycled or sampled like payloads."""

    endpoint: Literal["chat", "completions"]
    model: str
    prompts: tuple[str, ...]
    stream: bool = True
    max_tokens: int | None = 128
    extra_body_json: str = "{}"  # merged into every request body (canonical JSON text)


@dataclass(frozen=True)
class KServeTensor:
    """One input tensor of a KServe v2 inference request."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data_json: str  # the flattened or nested data as canonical JSON text


@dataclass(frozen=True)
class KServeSpec:
    """A KServe v2 (Open Inference Protocol) request: POST /v2/models/{model}[/versions/v]/infer."""

    model: str
    inputs: tuple[KServeTensor, ...]
    version: str | None = None
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slo:
    """Per-request objectives for goodput; None leaves an objective out."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None
    latency_s: float | None = None


@dataclass(frozen=True)
class Sweep:
    """Load levels run in order (a concurrency or rate each), stopped early once the server saturates."""

    key: Literal["concurrency", "rate"]
    values: tuple[float, ...]
    max_error_rate: float = 0.05


@dataclass(frozen=True)
class Limits:
    """When a trial measured the client rather than the server, and is therefore invalid."""

    max_dispatch_lag_p99_s: float = 0.001
    rate_tolerance: float = 0.01  # achieved send rate may fall this fraction below offered
    max_client_cpu: float = 0.95  # busy fraction of one core, any worker (closed loop)


@dataclass(frozen=True)
class AccuracySpec:
    """A labelled set scored once per server image, after its performance trials."""

    file: str
    metric: AccuracyMetric
    prediction: str | None  # dotted path into the answer; None: the OpenAI answer's text
    requests: tuple[bytes, ...]  # one whole request body per example, as sent
    labels: tuple[str, ...]  # each example's label as canonical JSON text
    sha256: str  # of the labelled file: base and head pair examples only on the same set
    threshold: float  # rates: an absolute difference (0.005 = 0.5 pp); errors: relative
    concurrency: int = 4
    timeout_s: float = 300.0  # the whole pass; examples not answered by then count as failures


@dataclass(frozen=True)
class Scenario:
    """One kind of request sent at one load level; `payloads` are whole bodies, cycled in order."""

    name: str
    path: str = "/"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    payloads: tuple[bytes, ...] = ()
    concurrency: int = 1
    duration_s: float | None = None
    requests: int | None = None
    warmup: Warmup = field(default_factory=Warmup)
    timeout_s: float = 30.0
    protocol: Protocol = "http"
    arrivals: Arrivals | None = None  # None: closed loop with `concurrency` users
    seed: int = 0  # arrival schedule and payload sampling
    payload_order: Literal["cycle", "random"] = "cycle"
    check: ResponseCheck | None = None
    openai: OpenAISpec | None = None
    kserve: KServeSpec | None = None
    slo: Slo = field(default_factory=Slo)
    sweep: Sweep | None = None
    limits: Limits = field(default_factory=Limits)
    workers: int | None = None  # None: the cores available to this process
    verdict: VerdictSpec | None = None
    accuracy: AccuracySpec | None = None


@dataclass(frozen=True)
class Isolation:
    """Which cores the server and the load workers get: disjoint sets, so neither slows the other.

    `auto` splits the cores this run may use, four or more (the load the highest quarter, at
    least one; the server the rest), `off` pins nothing, `explicit` uses `server` and `load` as written (CPU
    numbers; None leaves that side unpinned).
    """

    mode: Literal["auto", "off", "explicit"] = "auto"
    server: tuple[int, ...] | None = None
    load: tuple[int, ...] | None = None


@dataclass(frozen=True)
class VerdictSpec:
    """A scenario's own deciding metrics (None: the defaults) and practical threshold."""

    metrics: tuple[str, ...] | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class Config:
    """A whole benchmark after the profile is applied: what every step below the CLI reads."""

    path: Path
    name: str
    server: ServerSpec
    scenarios: tuple[Scenario, ...]
    trials: int = 3
    reuse: bool = False
    profile: str | None = None
    version: int = 1
    isolation: Isolation = field(default_factory=Isolation)
    # Sequential trials: trials (A/B rounds) added after `trials` while the verdict is undecided.
    max_trials: int | None = None
    budget_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the settings that decide what is measured (for hashing and results)."""
        data: dict[str, Any] = _jsonable(
            {
                "version": self.version,
                "name": self.name,
                "profile": self.profile,
                "server": self.server,
                "scenarios": self.scenarios,
                "trials": self.trials,
                "reuse": self.reuse,
                "isolation": self.isolation,
                "max_trials": self.max_trials,
                "budget_s": self.budget_s,
            }
        )
        for key in ("max_trials", "budget_s"):  # unset, they stay out: older hashes hold
            if data[key] is None:
                del data[key]
        if data["server"]["metrics"] is None:  # unset, it stays out: older configs keep their hash
            del data["server"]["metrics"]
        for scenario in data["scenarios"]:  # unset, it stays out: older configs keep their hash
            if scenario["warmup"]["steady"] is None:
                del scenario["warmup"]["steady"]
            if scenario["verdict"] is None:
                del scenario["verdict"]
            if scenario.get("accuracy") is None:
                scenario.pop("accuracy", None)
        return data

    def hash(self) -> str:
        """A stable fingerprint of how the server is measured; base and head compare only if these match."""
        data = self.to_dict()
        # What is compared (the server: its image, build or URL) must not enter the hash of how
        # it is measured, or every baseline with another image would look like another setup.
        # Paths differ between checkouts of the same repository and change nothing either.
        # Scraping metrics watches the server; a base run without it measured the same thing.
        for key in ("image", "build", "url", "process", "metrics"):
            data["server"].pop(key, None)
        # Where readiness is probed says when the server is up, not how it is measured.
        data["server"].get("ready", {}).pop("fallback_path", None)
        # Default isolation stays out, so configs from before it keep their hash; the split it
        # made is compared from the results' `isolation` (stats fingerprint), not from here.
        if data["isolation"] == _jsonable(Isolation()):
            del data["isolation"]
        # The trial count and profile name change how many samples there are, not what one is.
        data.pop("trials", None)
        data.pop("max_trials", None)
        data.pop("budget_s", None)
        data.pop("profile", None)
        # Scoring answers happens after the trials, outside every window: it changes no sample.
        for scenario in data["scenarios"]:
            scenario.pop("accuracy", None)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + hashlib.sha256(blob).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, AccuracySpec):  # the set by its digest and size, not every example
        keep = ("file", "metric", "prediction", "threshold", "concurrency", "timeout_s", "sha256")
        return {k: getattr(value, k) for k in keep} | {"examples": len(value.requests)}
    if isinstance(value, OpenAISpec):
        # Prompt sets can be as large as payload sets: keep their digest, not every text.
        data = {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
        return data | {"prompts": _payload_digest([p.encode() for p in value.prompts])}
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        if value and all(isinstance(v, bytes) for v in value):
            return _payload_digest(value)
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _payload_digest(payloads: tuple[bytes, ...] | list[bytes]) -> dict[str, Any]:
    """Payload sets can be large; results keep their count, size and one digest instead."""
    digest = hashlib.sha256()
    for body in payloads:
        digest.update(len(body).to_bytes(8, "little"))
        digest.update(body)
    return {"count": len(payloads), "bytes": sum(map(len, payloads)), "sha256": digest.hexdigest()}
