"""Our decision rule on lognormal per-trial values at known between-trial noise (CV).

For each CV and trial count k: the share of A/A comparisons that end "unchanged", that end in a
false regression, and the share of +10 % slowdowns detected; 1000 seeded draws a cell, the
product's default settings, one metric (p50). Shows which noise level the goals need:

    python benchmarks/calibration/noise_levels.py [--cvs 0.018 0.03 0.05 0.10] [--ks 5 12]
"""

from __future__ import annotations

import argparse

import numpy as np

from benchaction.stats import StatsSettings, compare_metric_sets

KEY = ("s", "latency_p50_ms")


def shares(cv: float, k: int, draws: int, seed: int) -> tuple[float, float, float]:
    """(A/A unchanged, A/A false regression, +10 % detected) at this noise and trial count."""
    rng = np.random.default_rng([seed, k, int(cv * 1e4)])
    settings = StatsSettings()

    def verdict(effect: float) -> str:
        b = list(10 * np.exp(rng.normal(0.0, cv, k)))
        h = list(10 * (1 + effect) * np.exp(rng.normal(0.0, cv, k)))
        (row,) = compare_metric_sets({KEY: b}, {KEY: h}, settings)
        return row.verdict

    aa = [verdict(0.0) for _ in range(draws)]
    slow = [verdict(0.10) for _ in range(draws)]
    return (
        aa.count("unchanged") / draws,
        aa.count("regression") / draws,
        slow.count("regression") / draws,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cvs", type=float, nargs="+", default=[0.018, 0.03, 0.05, 0.10])
    ap.add_argument("--ks", type=int, nargs="+", default=[5, 12])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print("| between-trial CV | k | A/A unchanged | A/A false regression | +10 % detected |")
    print("|---:|---:|---:|---:|---:|")
    for cv in args.cvs:
        for k in args.ks:
            u, f, d = shares(cv, k, args.draws, args.seed)
            print(f"| {cv:.1%} | {k} | {u:.1%} | {f:.1%} | {d:.1%} |")


if __name__ == "__main__":
    main()
