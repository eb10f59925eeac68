"""Simulated per-trial metrics shaped like the real ones, with noise fitted to the real data.

Each trial draws a between-trial drift factor on its mean latency (log-normal; the machine, the
server start, the neighbours differ from trial to trial), a between-trial factor on the width of
its latency distribution (on the 2-vCPU host the shape changes between trials: p90/p50 moves
between about 1.6 and 2.4 while the mean stays steadier, so p50 moves against the width) and,
with a small probability, an outlier factor (a noisy neighbour for the whole trial). Within the
trial, per-request latencies come from a log-normal body with a Pareto tail; p50/p90/p99/mean are computed from them exactly (nearest
rank) and also as the product reads them (1 % histogram buckets). Throughput follows the closed
loop, concurrency / mean latency, with its own small noise. A slowdown s stretches every latency
by (1 + s), so throughput falls by 1 / (1 + s).

    python benchmarks/calibration/simulate.py [--data real.json] [--n 30] [--slowdown 0.05]

prints the fitted parameters and the between-trial CV of simulated trials next to the real ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import BASE_LEVEL, METRIC_NAMES, Trial, load_levels, robust_sd, spread_summary
from scipy import stats

from benchaction.histogram import GROWTH, MIN_NS

Z90, Z99 = 1.2815515655446004, 2.3263478740408408


@dataclass(frozen=True)
class SimParams:
    """Knobs of the simulated server; defaults resemble the numpy-mlp example on 2 vCPU."""

    mean_ms: float = 1.7  # per-request mean latency at slowdown 0
    body_sigma: float = 0.64  # log-normal sd of the body (p90/p50 about 2.3)
    tail_prob: float = 0.005  # share of requests in the Pareto tail (starts at the body's p99)
    tail_alpha: float = 2.5  # Pareto shape of the tail (smaller: heavier)
    drift_sd: float = 0.015  # between-trial log-normal drift of the mean latency
    shape_sd: float = 0.0  # between-trial log-normal spread of body_sigma (the width varies)
    throughput_sd: float = 0.005  # throughput noise beyond concurrency / mean latency
    outlier_prob: float = 0.05  # chance that a whole trial is an outlier
    outlier_factor: float = 1.3  # how much slower an outlier trial is
    requests: int = 3000  # measured requests per trial
    concurrency: int = 4  # closed-loop virtual users (throughput = concurrency / mean)


def fit_params(trials: Sequence[Trial], **overrides: Any) -> SimParams:
    """Fit the latency shape and the between-trial noise to real trials of one level.

    Robust (MAD) spreads are used so the real outlier trials are not counted twice: the
    simulator adds its own outliers on top of the drift.
    """
    p50 = np.array([t["latency_ms"]["p50"] for t in trials], dtype=float)
    p90 = np.array([t["latency_ms"]["p90"] for t in trials], dtype=float)
    p99 = np.array([t["latency_ms"]["p99"] for t in trials], dtype=float)
    mean = np.array([t["latency_ms"]["mean"] for t in trials], dtype=float)
    tput = np.array([t["throughput_rps"] for t in trials], dtype=float)
    # Closed loop: throughput * mean latency = concurrency, up to window edges.
    conc = float(np.median(tput * mean / 1000))
    sigma = float(np.median(np.log(p90 / p50))) / Z90
    # The tail share that puts the median p99 where it is: the body alone reaches sigma * Z99;
    # requests moved to the tail push p99 up to the body quantile with (1 % - tail) above it.
    z99 = float(np.median(np.log(p99 / p50))) / sigma
    tail_prob = min(0.009, max(0.0, 0.01 - float(stats.norm.sf(z99))))
    # log(p90 / p50) = sigma_i * Z90: its spread between trials is the spread of sigma_i.
    shape_sd = robust_sd(np.log(np.log(p90 / p50)))
    fitted = SimParams(
        mean_ms=float(np.median(mean)),
        body_sigma=sigma,
        tail_prob=tail_prob,
        shape_sd=shape_sd,
        drift_sd=robust_sd(np.log(mean)),
        throughput_sd=robust_sd(np.log(tput * mean / 1000 / conc)),
        concurrency=max(1, round(conc)),
    )
    return dataclasses.replace(fitted, **overrides)


def _bucket_midpoint_ms(values_ms: np.ndarray) -> np.ndarray:
    """What a value reads as after the product's histogram (1 % buckets, geometric midpoint)."""
    ns = np.maximum(values_ms * 1e6, MIN_NS)
    index = np.floor(np.log(ns / MIN_NS) / math.log(GROWTH))
    out: np.ndarray = MIN_NS * GROWTH ** (index + 0.5) / 1e6
    return out


def simulate_trials(
    rng: np.random.Generator, n: int, slowdown: float, params: SimParams | None = None
) -> list[dict[str, Any]]:
    """n trials at a relative slowdown, as dicts shaped like collect.py's real trials."""
    p = params or SimParams()
    drift = np.exp(rng.normal(0.0, p.drift_sd, n))
    drift *= np.where(rng.random(n) < p.outlier_prob, p.outlier_factor, 1.0)
    sigma = p.body_sigma * np.exp(rng.normal(0.0, p.shape_sd, n))
    tail_start = np.exp(sigma * Z99)  # the tail begins where the body's p99 is
    # Scale each trial so its expected mean is mean_ms * drift * (1 + s), whatever its width.
    unit_mean = (1 - p.tail_prob) * np.exp(sigma**2 / 2)
    unit_mean += p.tail_prob * tail_start * p.tail_alpha / (p.tail_alpha - 1)
    scale = p.mean_ms * (1 + slowdown) * drift / unit_mean  # per trial, ms
    lat = np.exp(sigma[:, None] * rng.standard_normal((n, p.requests)))
    tail = rng.random((n, p.requests)) < p.tail_prob
    pareto = tail_start[:, None] * (1 + rng.pareto(p.tail_alpha, (n, p.requests)))
    lat = np.sort(np.where(tail, pareto, lat) * scale[:, None], axis=1)
    ranks = {q: math.ceil(q / 100 * p.requests) - 1 for q in (50, 90, 99)}  # nearest rank
    exact = {q: lat[:, r] for q, r in ranks.items()}
    hist = {q: _bucket_midpoint_ms(v) for q, v in exact.items()}
    mean = lat.mean(axis=1)
    tput = p.concurrency / (mean / 1000) * np.exp(rng.normal(0.0, p.throughput_sd, n))
    return [
        {
            "valid": True,
            "throughput_rps": float(tput[i]),
            "latency_ms": {
                "p50": float(exact[50][i]),
                "p90": float(exact[90][i]),
                "p99": float(exact[99][i]),
                "mean": float(mean[i]),
            },
            "error_rate": 0.0,
            "round": 0,
            "latency_hist_ms": {f"p{q}": float(hist[q][i]) for q in (50, 90, 99)},
        }
        for i in range(n)
    ]


def main() -> None:
    """Show the fitted parameters and compare simulated spread with the real one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="real data from collect.py (fits the noise)")
    parser.add_argument("--n", type=int, default=30, help="simulated trials")
    parser.add_argument("--slowdown", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    real = load_levels(args.data)[0][BASE_LEVEL] if args.data else None
    params = fit_params(real) if real else SimParams()
    print(params)
    sim = simulate_trials(np.random.default_rng(args.seed), args.n, args.slowdown, params)
    rows = [("simulated", spread_summary(sim))]
    if real:
        rows.append(("real level 0", spread_summary(real)))
    print(f"{'between-trial CV %':20}" + "".join(f"{m:>17}" for m in METRIC_NAMES))
    for label, summary in rows:
        cells = "".join(
            f"{summary[m]['cv_pct']:8.2f} ({summary[m]['robust_cv_pct']:5.2f})"
            for m in METRIC_NAMES
        )
        print(f"{label:20}{cells}")
    print("(plain CV, robust CV from the MAD of logs in parentheses)")


if __name__ == "__main__":
    main()
