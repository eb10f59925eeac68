"""The report's server-metrics table: what the model server's own Prometheus metrics did in each
trial's window (telemetry.server), as the mean over a scenario's valid trials."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from benchaction.results import Trial

__all__ = ["ServerMetricRow", "server_metric_notes", "server_metric_rows"]

# Per family type, the readings shown: (label, key in the family's summary).
_READINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "counter": (("increase", "increase"),),
    "gauge": (("mean", "mean"), ("max", "max")),
    "histogram": (("observations", "count"), ("mean observation", "mean")),
    "summary": (("observations", "count"), ("mean observation", "mean")),
}


@dataclass(frozen=True)
class ServerMetricRow:
    """One reading of one family across trials: its mean and range, and how many trials had it."""

    family: str
    reading: str
    mean: float
    low: float
    high: float
    trials: int


def _summaries(trials: list[Trial]) -> list[dict[str, Any]]:
    out = []
    for t in trials:
        server = (t.get("telemetry") or {}).get("server")
        if server is not None and server.get("status") == "ok":
            out.append(server)
    return out


def server_metric_rows(trials: list[Trial]) -> list[ServerMetricRow]:
    """Rows for the families the trials kept, in the order the first trial lists them."""
    summaries = _summaries(trials)
    order: dict[str, str] = {}
    for s in summaries:
        for name, family in s["families"].items():
            order.setdefault(name, family["type"])
    rows = []
    for name, kind in order.items():
        for label, key in _READINGS.get(kind, ()):
            values = [
                float(v)
                for s in summaries
                if (v := (s["families"].get(name) or {}).get(key)) is not None
            ]
            if values:
                mean = statistics.fmean(values)
                rows.append(
                    ServerMetricRow(name, label, mean, min(values), max(values), len(values))
                )
    return rows


def server_metric_notes(trials: list[Trial]) -> list[str]:
    """Which server was detected, and why any trial has no server metrics."""
    notes = []
    servers = sorted({s["server"] for s in _summaries(trials) if s.get("server")})
    if servers:
        notes.append("detected " + ", ".join(servers))
    for t in trials:
        server = (t.get("telemetry") or {}).get("server")
        if server is not None and server.get("status") != "ok":
            notes.append(f"trial {t['trial'] + 1}: {server.get('reason') or server['status']}")
    return notes
