"""Which estimator should a tail percentile (p90, p99) row use when there are few trials?

Four candidates judge the same resampled comparisons of real trials of the unslowed level
(collect.py data with each trial's histogram): k trials for the base and k others for the head,
either as they are (A/A) or with every request of the head a known 5, 10 or 20 % slower (the
nominal SLOWDOWN levels stretch only the handler's time, so their true effect is unknown). Each
method applies the product's rule on its 90 % interval: "unchanged" when it lies
within +-theta (log scale), "regression" when it excludes 0 on the worse side and the estimate
is at least theta, else "inconclusive". One row alone, so no multiplicity correction.

- per-trial: the product's estimator for every other metric: one quantile per trial, Welch's t
  on the logs (trial-level noise and the quantile's own sampling noise estimated together).
- pooled bootstrap: the quantile of all requests of a side pooled, interval from a hierarchical
  bootstrap (trials with replacement, then requests within each trial).
- pooled, bootstrap se + t: the same pooled estimate; the bootstrap's standard error scaled by
  k / (k - 1) in variance, in a t interval with k_b + k_h - 2 degrees of freedom.
- random effects: one log-quantile per trial with its own sampling variance read from the
  trial's histogram (the order-statistic interval), a DerSimonian-Laird trial effect, the
  weighted mean, a t interval with k_b + k_h - 2 degrees of freedom.

The regime matters: the example serves about 4,000 requests a second, so a 3 s trial's p99
rests on some 120 requests; an LLM server's trial can hold a few hundred requests, whose p99
rests on a handful. `--thin N` keeps a random N requests of every trial (hypergeometric, once
per pool) to reproduce that regime from the same real trials, and `--trial-cv X` replaces this
noisy VM's between-trial spread by a quieter host's (each trial's histogram moved to the pool's
median, then by a drawn lognormal factor), so the quantile's own sampling noise is what is left.

    python benchmarks/calibration/tail.py --data benchmarks/calibration/data/real-<date>.json \\
        [--ks 5 10] [--thin 0 1000 300] [--quantiles 90 99] [--trial-cv 0.018] [-r 400] [--boot 300]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import BASE_LEVEL, load_levels
from scipy import stats

from benchaction.histogram import GROWTH, MIN_NS

THETA = 0.05
CONFIDENCE = 0.90
Z_RANK = float(stats.norm.ppf(0.975))
PAD = 60  # buckets of room on either side of the data (1 % each)
EFFECTS = (0.05, 0.10, 0.20)  # known slowdowns: every request of the head trials this much slower


@dataclass(frozen=True)
class Pool:
    """The trials of one level as a dense trials x buckets count matrix on a shared bucket grid;
    `values` are the buckets' midpoints in ms."""

    counts: np.ndarray
    values: np.ndarray

    def thinned(self, n: int, rng: np.random.Generator) -> Pool:
        """Keep n requests of each trial, drawn without replacement."""
        if n <= 0:
            return self
        rows = [rng.multivariate_hypergeometric(c, min(n, int(c.sum()))) for c in self.counts]
        return Pool(np.array(rows), self.values)

    def with_trial_cv(self, cv: float, rng: np.random.Generator) -> Pool:
        """Replace each trial's own level by a drawn one: shift its histogram so its median sits
        on the pool's median, then by a lognormal factor of this CV (in whole 1 % buckets)."""
        cum = np.cumsum(self.counts, axis=1)
        medians = (cum < np.ceil(0.5 * cum[:, -1:])).sum(axis=1)
        target = int(np.median(medians))
        shifts = target - medians + np.round(rng.normal(0, cv, medians.size) / math.log(GROWTH))
        moved = [shift(c, int(s)) for c, s in zip(self.counts, shifts, strict=True)]
        return Pool(np.array(moved), self.values)


def shift(counts: np.ndarray, buckets: int) -> np.ndarray:
    """Every request of every row `buckets` 1 % buckets slower (or faster when negative)."""
    out = np.roll(counts, buckets, axis=-1)
    if buckets > 0:
        out[..., :buckets] = 0
    elif buckets < 0:
        out[..., buckets:] = 0
    return out


def dense_pools(levels: dict[str, list[dict[str, Any]]]) -> dict[str, Pool]:
    """Every level on one bucket grid, so quantiles of pooled requests are sums of rows."""
    used = np.concatenate([t["histogram"]["index"] for v in levels.values() for t in v])
    # contiguous, with room above and below: shifting a trial is then rolling its row
    grid = np.arange(max(0, int(used.min()) - PAD), int(used.max()) + PAD)
    values = MIN_NS * np.power(GROWTH, grid + 0.5) / 1e6  # ms, the bucket midpoints
    pools = {}
    for level, trials in levels.items():
        counts = np.zeros((len(trials), grid.size), dtype=np.int64)
        for i, t in enumerate(trials):
            counts[i, np.searchsorted(grid, t["histogram"]["index"])] = t["histogram"]["count"]
        pools[level] = Pool(counts, values)
    return pools


def quantile(counts: np.ndarray, values: np.ndarray, q: float) -> np.ndarray:
    """Nearest-rank quantile of each row of a count matrix (as LogHistogram.percentile_ns)."""
    counts = np.atleast_2d(counts)
    cum = np.cumsum(counts, axis=1)
    rank = np.maximum(1, np.ceil(q * cum[:, -1]))
    idx = (cum < rank[:, None]).sum(axis=1)
    return np.asarray(values[np.minimum(idx, values.size - 1)])


def rank_variance(counts: np.ndarray, values: np.ndarray, q: float) -> np.ndarray:
    """Sampling variance of each row's log quantile, from the distribution-free order-statistic
    interval: ranks n q +- z sqrt(n q (1 - q)) read off the row's own histogram."""
    n = counts.sum(axis=1)
    spread = Z_RANK * np.sqrt(n * q * (1 - q))
    cum = np.cumsum(counts, axis=1)
    lo_rank = np.clip(np.floor(n * q - spread), 1, n)
    hi_rank = np.clip(np.ceil(n * q + spread), 1, n)
    lo = values[np.minimum((cum < lo_rank[:, None]).sum(axis=1), values.size - 1)]
    hi = values[np.minimum((cum < hi_rank[:, None]).sum(axis=1), values.size - 1)]
    bucket = math.log(GROWTH) ** 2 / 12  # a value is known to within its 1 % bucket
    return np.asarray(((np.log(hi) - np.log(lo)) / (2 * Z_RANK)) ** 2 + bucket)


def per_trial(b: np.ndarray, h: np.ndarray, vals: np.ndarray, q: float, _: Any) -> tuple:
    """Welch's t on log per-trial quantiles (the product's estimator for the other rows)."""
    lb, lh = np.log(quantile(b, vals, q)), np.log(quantile(h, vals, q))
    d = lh.mean() - lb.mean()
    vb, vh = lb.var(ddof=1) / lb.size, lh.var(ddof=1) / lh.size
    se = math.sqrt(vb + vh)
    if se == 0:
        return d, d, d
    df = se**4 / (vb**2 / (lb.size - 1) + vh**2 / (lh.size - 1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df)) * se
    return d, d - half, d + half


def _two_level(side: np.ndarray, vals: np.ndarray, q: float, rng: Any, boots: int) -> np.ndarray:
    """Log pooled quantiles of `boots` resamples: trials with replacement, then requests within
    each drawn trial (a multinomial on that trial's own histogram)."""
    k = side.shape[0]
    pick = rng.integers(0, k, (boots, k))
    totals = np.zeros((boots, side.shape[1]))
    for i in range(k):
        rows = side[pick[:, i]]
        n = rows.sum(axis=1)
        totals += rng.multinomial(n, rows / n[:, None])
    return np.log(quantile(totals, vals, q))


def _pooled_diff(b: np.ndarray, h: np.ndarray, vals: np.ndarray, q: float) -> float:
    return float(np.log(quantile(h.sum(0), vals, q))[0] - np.log(quantile(b.sum(0), vals, q))[0])


def pooled_bootstrap(b: np.ndarray, h: np.ndarray, vals: np.ndarray, q: float, ctx: Any) -> tuple:
    """Pooled quantile per side; percentile interval of a two-level bootstrap."""
    rng, boots = ctx
    diffs = _two_level(h, vals, q, rng, boots) - _two_level(b, vals, q, rng, boots)
    tail = (1 - CONFIDENCE) / 2
    lo, hi = np.quantile(diffs, [tail, 1 - tail])
    return _pooled_diff(b, h, vals, q), float(lo), float(hi)


def pooled_bootstrap_t(b: np.ndarray, h: np.ndarray, vals: np.ndarray, q: float, ctx: Any) -> tuple:
    """Pooled quantile per side; the two-level bootstrap's standard error, corrected for the
    bootstrap's shrinkage with few trials (k / (k - 1) in variance), in a t interval with
    k_b + k_h - 2 degrees of freedom, as the per-trial rows widen with few trials."""
    rng, boots = ctx
    kb, kh = b.shape[0], h.shape[0]
    vb = _two_level(b, vals, q, rng, boots).var(ddof=1) * kb / (kb - 1)
    vh = _two_level(h, vals, q, rng, boots).var(ddof=1) * kh / (kh - 1)
    d = _pooled_diff(b, h, vals, q)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, kb + kh - 2)) * math.sqrt(vb + vh)
    return d, d - half, d + half


def random_effects(b: np.ndarray, h: np.ndarray, vals: np.ndarray, q: float, _: Any) -> tuple:
    """Per-trial log quantiles weighted by 1 / (own sampling variance + trial effect)."""

    def side(counts: np.ndarray) -> tuple[float, float]:
        y = np.log(quantile(counts, vals, q))
        v = rank_variance(counts, vals, q)
        w = 1 / v
        mean_fixed = (w * y).sum() / w.sum()
        qstat = (w * (y - mean_fixed) ** 2).sum()
        c = w.sum() - (w**2).sum() / w.sum()
        tau2 = max(0.0, (qstat - (y.size - 1)) / c)  # DerSimonian-Laird
        w = 1 / (v + tau2)
        return float((w * y).sum() / w.sum()), float(1 / w.sum())

    mb, sb = side(b)
    mh, sh = side(h)
    d, se = mh - mb, math.sqrt(sb + sh)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, b.shape[0] + h.shape[0] - 2)) * se
    return d, d - half, d + half


METHODS: dict[str, Callable[..., tuple]] = {
    "per-trial (Welch)": per_trial,
    "pooled bootstrap": pooled_bootstrap,
    "pooled boot-se + t": pooled_bootstrap_t,
    "random effects": random_effects,
}


VERDICTS = ("regression", "unchanged", "inconclusive", "improvement")


def decide(d: float, lo: float, hi: float) -> str:
    """The product's rule on a log-scale interval; latency is worse when higher."""
    margin = math.log1p(THETA)
    if max(abs(lo), abs(hi)) < margin:
        return "unchanged"
    if abs(d) >= margin and (lo > 0 or hi < 0):
        return "regression" if d > 0 else "improvement"
    return "inconclusive"


def cell(pool: Pool, effect: float, k: int, q: float, r: int, boots: int, seed: list) -> dict:
    """How each method's comparisons end over r draws of 2k distinct trials of level 0: k for
    the base, k for the head with every request `effect` slower (0: an A/A comparison)."""
    rng = np.random.default_rng(seed)
    buckets = round(math.log1p(effect) / math.log(GROWTH))
    ends = {m: dict.fromkeys(VERDICTS, 0) for m in METHODS}
    for _ in range(r):
        order = rng.permutation(pool.counts.shape[0])
        b = pool.counts[order[:k]]
        h = shift(pool.counts[order[k : 2 * k]], buckets)
        for name, method in METHODS.items():
            ends[name][decide(*method(b, h, pool.values, q, (rng, boots)))] += 1
    return {m: {key: v / r for key, v in e.items()} for m, e in ends.items()}


def main() -> int:
    """Print, per regime and k, each method's A/A and detection rates for each quantile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="collect.py data with histograms")
    parser.add_argument("--ks", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--thin", type=int, nargs="+", default=[0, 1000, 300])
    parser.add_argument("--quantiles", type=float, nargs="+", default=[90, 99])
    parser.add_argument("-r", type=int, default=400, help="draws per cell")
    parser.add_argument("--boot", type=int, default=300, help="bootstrap resamples per draw")
    parser.add_argument(
        "--trial-cv",
        type=float,
        default=None,
        help="replace the trials' own between-trial spread by this CV (e.g. 0.018, a quiet host)",
    )
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    levels, meta = load_levels(args.data)
    if any("histogram" not in t for v in levels.values() for t in v):
        parser.error(f"{args.data}: trials without a histogram; collect them with collect.py")
    pools = dense_pools(levels)
    print(f"data: {args.data} ({meta.get('command', '')})")
    if args.trial_cv is not None:
        print(f"each trial's own level replaced by a drawn one, CV {args.trial_cv:.1%}")
    print(f"rule: 90 % interval, theta {THETA:.0%}; R = {args.r} draws a cell, {args.boot} boots")
    started = time.monotonic()
    for thin in args.thin:
        rng = np.random.default_rng([args.seed, thin])
        base = pools[BASE_LEVEL].thinned(thin, rng)
        if args.trial_cv is not None:
            base = base.with_trial_cv(args.trial_cv, rng)
        n = int(np.median(base.counts.sum(axis=1)))
        for pct in args.quantiles:
            q = pct / 100
            above = n * (1 - q)
            print(f"\n== p{pct:g}, {n} requests a trial ({above:.0f} above the quantile) ==")
            for k in args.ks:
                if len(levels[BASE_LEVEL]) < 2 * k:
                    print(f"k = {k}: needs {2 * k} trials of level 0", file=sys.stderr)
                    continue
                print(f"k = {k}: A/A unchanged / false regression / inconclusive; detected at")
                results = {
                    e: cell(base, e, k, q, args.r, args.boot, [args.seed, thin, int(pct), k, i])
                    for i, e in enumerate((0.0, *EFFECTS))
                }
                for m in METHODS:
                    aa = results[0.0][m]
                    line = (
                        f"  {m:20} A/A {100 * aa['unchanged']:5.1f} / {100 * aa['regression']:4.1f}"
                        f" / {100 * aa['inconclusive']:5.1f} %;"
                    )
                    line += "".join(
                        f"  +{e:.0%}: {100 * results[e][m]['regression']:5.1f} %" for e in EFFECTS
                    )
                    print(line, flush=True)
    print(f"\n({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
