"""Which metrics are compared, which direction is better, and how to read them from one trial.

Latency percentiles (and TTFT, TPOT, ITL ones) are recomputed from each trial's stored histograms,
so base and head are read the same way whatever version wrote them; the mean and the rates are read
as stored. A metric a trial does not have (no streamed tokens, no SLO) reads as None and is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchaction.histogram import LogHistogram
from benchaction.results.document import Trial

__all__ = [
    "ERROR_RATE",
    "METRICS",
    "OUTPUT_METRICS",
    "THROUGHPUT",
    "MetricDef",
    "metric_by_name",
    "trial_values",
]


@dataclass(frozen=True)
class MetricDef:
    """One compared metric: how to read it, and whether bigger is better."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    log_scale: bool
    reader: Callable[[Trial], float | None]
    default_threshold: float | None = None  # None: the global threshold applies

    def read(self, trial: Trial) -> float | None:
        """The metric of one trial; a trial pooled from the history carries its values, not
        histograms."""
        stored = trial.get("values")
        if isinstance(stored, Mapping):
            value = stored.get(self.name)
            return None if value is None else float(value)
        return self.reader(trial)


def _histogram_percentile(p: float, *path: str) -> Callable[[Trial], float | None]:
    def read(trial: Trial) -> float | None:
        hist: Any = trial
        for key in path or ("histogram",):
            hist = hist.get(key) if isinstance(hist, Mapping) else None
        if not hist or not hist.get("count"):
            return None
        return LogHistogram.from_json(hist).percentile_ns(p) / 1e6

    return read


def _field(*path: str) -> Callable[[Trial], float | None]:
    def read(trial: Trial) -> float | None:
        value: Any = trial
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        return None if value is None else float(value)

    return read


def _hist_p(p: float, name: str) -> Callable[[Trial], float | None]:
    return _histogram_percentile(p, "histograms", name)


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


OUTPUT_METRICS = ("latency_p50_ms", "latency_p99_ms", THROUGHPUT.name)
"""The metrics the action sets `head-*` and `change-*` outputs for (action.yml lists them)."""


def metric_by_name(name: str) -> MetricDef:
    """Look up a metric; the error lists the known names."""
    for m in METRICS:
        if m.name == name:
            return m
    raise KeyError(f"unknown metric {name!r}; known: {', '.join(m.name for m in METRICS)}")


def trial_values(trials: Sequence[Trial], metric: MetricDef) -> list[float]:
    """The metric of every valid trial that has it (invalid trials never enter a comparison)."""
    out = []
    for t in trials:
        if not t.get("valid", False):
            continue
        v = metric.read(t)
        if v is not None and (not metric.log_scale or v > 0):
            out.append(v)
    return out
