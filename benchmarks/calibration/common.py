"""Shared by the calibration scripts: the compared metrics, reading trials, between-trial spread."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Trial = Mapping[str, Any]

# (metric name as benchaction.stats knows it, higher is better)
METRICS: tuple[tuple[str, bool], ...] = (
    ("latency_p50_ms", False),
    ("latency_p90_ms", False),
    ("latency_p99_ms", False),
    ("latency_mean_ms", False),
    ("throughput_rps", True),
)
METRIC_NAMES = tuple(name for name, _ in METRICS)
BASE_LEVEL = "0"


def metric_value(trial: Trial, name: str) -> float:
    """One metric of one trial, percentiles read from the histogram when stored, as the product does."""
    if name == "throughput_rps":
        return float(trial["throughput_rps"])
    if name == "latency_mean_ms":
        return float(trial["latency_ms"]["mean"])
    key = name.removeprefix("latency_").removesuffix("_ms")
    source = trial.get("latency_hist_ms") or trial["latency_ms"]
    return float(source[key])


def metric_matrix(trials: Sequence[Trial]) -> np.ndarray:
    """Trials x metrics array (METRICS order), so resampling and summaries are vectorised."""
    return np.array([[metric_value(t, m) for m in METRIC_NAMES] for t in trials], dtype=float)


def load_levels(path: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Read a collect.py data file; keep valid trials only (invalid ones never enter a comparison)."""
    doc = json.loads(path.read_text())
    levels = {k: [t for t in v if t.get("valid")] for k, v in doc["levels"].items()}
    return levels, doc.get("meta", {})


def robust_sd(x: np.ndarray) -> float:
    """Normal-consistent MAD, so a few outlier trials do not inflate the drift estimate."""
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def spread_summary(trials: Sequence[Trial]) -> dict[str, dict[str, float]]:
    """Between-trial CV per metric: plain (sd/mean) and robust (MAD of logs), in percent."""
    m = metric_matrix(trials)
    out = {}
    for j, name in enumerate(METRIC_NAMES):
        col = m[:, j]
        out[name] = {
            "cv_pct": 100 * float(col.std(ddof=1) / col.mean()),
            "robust_cv_pct": 100 * math.expm1(robust_sd(np.log(col))),
            "median": float(np.median(col)),
        }
    return out


def pooled_spread(levels: Mapping[str, Sequence[Trial]]) -> dict[str, dict[str, float]]:
    """Between-trial CV per metric pooled over all levels (logs centred on each level's median).

    A slowdown moves a level's centre, not its spread, so pooling uses every trial for the noise.
    """
    resid = np.vstack(
        [
            np.log(metric_matrix(t)) - np.median(np.log(metric_matrix(t)), axis=0)
            for t in levels.values()
        ]
    )
    out = {}
    for j, name in enumerate(METRIC_NAMES):
        col = resid[:, j]
        out[name] = {
            "cv_pct": 100 * math.expm1(float(np.sqrt(np.mean(col**2)))),
            "robust_cv_pct": 100 * math.expm1(robust_sd(col)),
        }
    return out


def level_sort_key(key: str) -> float:
    """Order level keys numerically ('0' < '0.02' < '0.1')."""
    return float(key)
