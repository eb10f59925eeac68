"""Which metrics are compared, which direction is better, and how to read them from a document.

Latency percentiles (and TTFT, TPOT, ITL ones) are recomputed from each trial's stored histograms,
so base and head are read the same way whatever version wrote them; the mean and the rates are read
as stored. A metric a trial does not have (no streamed tokens, no SLO) reads as None and is skipped.

The resource metrics are read where they are recorded: per trial (server memory, GPU memory and
energy over the trial's window), per server instance (cold start) or once per run from the image
inspect (image size, an exact number: no test statistic, its threshold alone decides).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from benchaction.results.document import ResultsDocument, ScenarioResults, Trial

__all__ = [
    "ALL_METRICS",
    "COLD_START",
    "ERROR_RATE",
    "IMAGE_SIZE",
    "METRICS",
    "OUTPUT_METRICS",
    "RESOURCE_METRICS",
    "THROUGHPUT",
    "MetricDef",
    "Scope",
    "document_values",
    "metric_by_name",
    "metric_values",
    "trial_values",
]

Scope = Literal["trial", "instance", "image", "example"]
"""Where one value of a metric comes from: a trial, a server instance, the run's image, or (the
accuracy rows) one labelled example."""

Record = Mapping[str, Any]
MIB = 1024 * 1024


@dataclass(frozen=True)
class MetricDef:
    """One compared metric: how to read it from one record of its scope, and whether bigger is
    better. `default_threshold` None means the global (or the scenario's) threshold applies."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    log_scale: bool
    reader: Callable[[Record], float | None]
    default_threshold: float | None = None  # None: the global threshold applies
    scope: Scope = "trial"

    @property
    def exact(self) -> bool:
        """One exact value a side (the image size): compared by its threshold alone, no test."""
        return self.scope == "image"

    @property
    def per_run(self) -> bool:
        """Recorded for the run's server, not a scenario: compared once, not once per scenario."""
        return self.scope != "trial"

    def read(self, trial: Record) -> float | None:
        """The metric of one trial (or instance, or image); a trial pooled from the history
        carries its values, not histograms."""
        stored = trial.get("values")
        if isinstance(stored, Mapping):
            value = stored.get(self.name)
            return None if value is None else float(value)
        return self.reader(trial)


def _histogram_percentile(p: float, *path: str) -> Callable[[Record], float | None]:
    def read(trial: Record) -> float | None:
        hist: Any = trial
        for key in path or ("histogram",):
            hist = hist.get(key) if isinstance(hist, Mapping) else None
        if not hist or not hist.get("count"):
            return None
        from benchaction.histogram import LogHistogram  # numpy: only when a histogram is read

        return LogHistogram.from_json(hist).percentile_ns(p) / 1e6

    return read


def _dig(record: Record, path: Sequence[str]) -> Any:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _field(*path: str, scale: float = 1.0) -> Callable[[Record], float | None]:
    def read(record: Record) -> float | None:
        value = _dig(record, path)
        return None if value is None else float(value) / scale

    return read


def _hist_p(p: float, name: str) -> Callable[[Record], float | None]:
    return _histogram_percentile(p, "histograms", name)


def _container_memory(trial: Record) -> float | None:
    """The server container's peak memory over the window (Docker stats, as `docker stats`
    shows it); None without samples or when the stats stream failed."""
    stats = _dig(trial, ("telemetry", "container"))
    if not isinstance(stats, Mapping) or stats.get("status") != "ok" or not stats.get("samples"):
        return None
    value = stats.get("memory_max_bytes")
    return None if value is None else float(value) / MIB


def _gpu_total(key: str, scale: float = 1.0) -> Callable[[Record], float | None]:
    """A number from the trial's GPU total, only when every GPU was sampled through the window
    ("ok"): a lost or failed sampler, or a GPU without samples, would undercount."""

    def read(trial: Record) -> float | None:
        gpu = _dig(trial, ("telemetry", "gpu"))
        if not isinstance(gpu, Mapping) or gpu.get("status") != "ok":
            return None
        gpus, total = gpu.get("gpus") or [], gpu.get("total")
        if not isinstance(total, Mapping) or not gpus or any(not g.get("samples") for g in gpus):
            return None
        value = total.get(key)
        return None if value is None else float(value) / scale

    return read


THROUGHPUT = MetricDef(
    "throughput_rps", "throughput", "req/s", True, True, _field("throughput_rps")
)
# A rate that is usually zero: compared as a difference; 0.1 percentage point matters.
ERROR_RATE = MetricDef("error_rate", "error rate", "", False, False, _field("error_rate"), 0.001)

METRICS: tuple[MetricDef, ...] = (
    THROUGHPUT,
    MetricDef("latency_p50_ms", "latency p50", "ms", False, True, _histogram_percentile(50)),
    MetricDef("latency_p90_ms", "latency p90", "ms", False, True, _histogram_percentile(90)),
    MetricDef("latency_p99_ms", "latency p99", "ms", False, True, _histogram_percentile(99)),
    MetricDef("latency_mean_ms", "latency mean", "ms", False, True, _field("latency_ms", "mean")),
    MetricDef("ttft_p50_ms", "TTFT p50", "ms", False, True, _hist_p(50, "ttft")),
    MetricDef("ttft_p99_ms", "TTFT p99", "ms", False, True, _hist_p(99, "ttft")),
    MetricDef("tpot_p50_ms", "TPOT p50", "ms", False, True, _hist_p(50, "tpot")),
    MetricDef("tpot_p99_ms", "TPOT p99", "ms", False, True, _hist_p(99, "tpot")),
    MetricDef("itl_p99_ms", "ITL p99", "ms", False, True, _hist_p(99, "itl")),
    MetricDef(
        "output_tokens_per_s", "output tokens", "tok/s", True, True, _field("output_tokens_per_s")
    ),
    MetricDef("goodput_rps", "goodput", "req/s", True, True, _field("goodput_rps")),
    ERROR_RATE,
)
"""The load metrics, read from each trial."""

# Thresholds of their own (docs/statistics.md says why): the global margin is for speed.
IMAGE_SIZE = MetricDef(
    "image_size_mib",
    "image size",
    "MiB",
    False,
    True,
    _field("size_bytes", scale=MIB),
    0.05,
    "image",
)
COLD_START = MetricDef(
    "cold_start_s", "cold start", "s", False, True, _field("cold_start_s"), 0.10, "instance"
)
SERVER_MEMORY = MetricDef(
    "memory_peak_mib", "server memory peak", "MiB", False, True, _container_memory, 0.05
)
GPU_MEMORY = MetricDef(
    "gpu_memory_peak_mib",
    "GPU memory peak",
    "MiB",
    False,
    True,
    _gpu_total("memory_used_max_bytes", MIB),
    0.05,
)

RESOURCE_METRICS: tuple[MetricDef, ...] = (
    IMAGE_SIZE,
    COLD_START,
    SERVER_MEMORY,
    GPU_MEMORY,
    MetricDef(
        "energy_per_request_j",
        "GPU energy per request",
        "J",
        False,
        True,
        _gpu_total("energy_per_request_j"),
        0.10,
    ),
    MetricDef(
        "energy_per_output_token_j",
        "GPU energy per output token",
        "J",
        False,
        True,
        _gpu_total("energy_per_output_token_j"),
        0.10,
    ),
)
"""What serving costs: image, start, memory, energy. Shown with verdicts, deciding only on request."""

ALL_METRICS: tuple[MetricDef, ...] = METRICS + RESOURCE_METRICS
"""Every compared metric: the names `--deciding`, `--gate`, `--threshold-for` and `verdict` accept."""


OUTPUT_METRICS = ("latency_p50_ms", "latency_p99_ms", THROUGHPUT.name)
"""The metrics the action sets `head-*` and `change-*` outputs for (action.yml lists them)."""


def metric_by_name(name: str) -> MetricDef:
    """Look up a metric; the error lists the known names."""
    for m in ALL_METRICS:
        if m.name == name:
            return m
    raise KeyError(f"unknown metric {name!r}; known: {', '.join(m.name for m in ALL_METRICS)}")


def _usable(metric: MetricDef, value: float) -> bool:
    """A log-scale metric needs positive values (a zero image size, say, is not a measurement)."""
    return not metric.log_scale or value > 0


def trial_values(trials: Sequence[Trial], metric: MetricDef) -> list[float]:
    """The metric of every valid trial that has it (invalid trials never enter a comparison)."""
    if metric.scope != "trial":
        raise ValueError(f"{metric.name} is read per {metric.scope}, not per trial")
    out = []
    for t in trials:
        if not t.get("valid", False):
            continue
        v = metric.read(t)
        if v is not None and _usable(metric, v):
            out.append(v)
    return out


def metric_values(
    doc: ResultsDocument, metric: MetricDef, scenario: ScenarioResults | None = None
) -> list[float]:
    """The values one side contributes: per valid trial of `scenario`; per server instance (the
    ones the scenario's trials ran on, or all of the run's); or the run's one image size."""
    if metric.scope == "trial":
        if scenario is None:
            raise ValueError(f"{metric.name} is read per trial: name the scenario")
        return trial_values(scenario["trials"], metric)
    if metric.scope == "instance":
        used = None if scenario is None else {t.get("instance") for t in scenario["trials"]}
        records: list[Record] = [
            i for i in doc.get("instances") or [] if used is None or i["instance"] in used
        ]
    else:  # .get: hand-made documents in tests and tools may leave the sections out
        image = (doc.get("server") or {}).get("image")
        records = [image] if image else []
    return [v for r in records if (v := metric.read(r)) is not None and _usable(metric, v)]


def document_values(doc: ResultsDocument) -> dict[str, dict[str, list[float]]]:
    """Scenario name -> metric name -> its values (per trial, per instance, or the one image
    size), for every compared metric the scenario has; what a history store keeps of a run.

    Per-run metrics appear under every scenario that ran: the cold starts of the instances its
    trials ran on, and the image size.
    """
    out: dict[str, dict[str, list[float]]] = {}
    for scenario in doc["scenarios"]:
        if not scenario["trials"]:
            continue  # a sweep level not run
        values = {m.name: metric_values(doc, m, scenario) for m in ALL_METRICS}
        out[scenario["name"]] = {name: v for name, v in values.items() if v}
    return out
