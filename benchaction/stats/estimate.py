"""The change between two sets of per-trial values: estimate, confidence interval, p-value, power.

Ratio metrics (latency, throughput) are compared on the log scale: Welch's t-test on
log(values) gives a mean log-ratio d with interval [lo, hi], reported as exp(d) - 1, a relative
change whose interval is asymmetric as a ratio's should be. Rates that can be zero (error rate)
are compared on the raw scale as a difference. The unit of replication is the trial.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from benchaction.results import MetricDef, Trial, trial_values

__all__ = [
    "Change",
    "center",
    "estimate_change",
    "side_center",
    "trials_needed",
    "trials_to_resolve",
]


@dataclass(frozen=True)
class Change:
    """Head versus base on one metric; `relative` is head/base - 1 (log scale) or head - base."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    mdc: float  # smallest change this noise and trial count would detect with the set power
    sd: float  # between-trial standard deviation on the comparison scale (pooled)
    n_base: int
    n_head: int
    log_scale: bool


def center(values: Sequence[float], *, log_scale: bool = True) -> float:
    """The one estimator shown for a side: the geometric mean on the log scale, else the mean.

    It is the statistic the change is the ratio (or difference) of, so the base and head
    columns, the change, the outputs and the charts can never disagree.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("center of no values")
    if log_scale:
        return float(np.exp(np.log(x).mean()))
    return float(x.mean())


def side_center(trials: Sequence[Trial], metric: MetricDef) -> float | None:
    """One side's `metric` as the table, outputs, gates and charts show it: the center of its
    valid trials; None when no trial has it."""
    values = trial_values(trials, metric)
    return center(values, log_scale=metric.log_scale) if values else None


def _to_scale(x: float, log_scale: bool) -> float:
    return math.expm1(x) if log_scale else x


def estimate_change(
    base: Sequence[float],
    head: Sequence[float],
    *,
    log_scale: bool = True,
    confidence: float = 0.95,
    alpha: float = 0.05,
    power: float = 0.8,
) -> Change:
    """Welch's t on the comparison scale; needs at least two trials on each side."""
    b = np.asarray(base, dtype=float)
    h = np.asarray(head, dtype=float)
    if b.size < 2 or h.size < 2:
        raise ValueError("a comparison needs at least two trials on each side")
    if log_scale:
        if (b <= 0).any() or (h <= 0).any():
            raise ValueError("log-scale comparison needs positive values")
        b, h = np.log(b), np.log(h)
    diff = float(h.mean() - b.mean())
    vb, vh = float(b.var(ddof=1)), float(h.var(ddof=1))
    se = math.sqrt(vb / b.size + vh / h.size)
    sd = math.sqrt(((b.size - 1) * vb + (h.size - 1) * vh) / (b.size + h.size - 2))
    if se <= 1e-12:
        # No spread to speak of (identical or constant values): the difference is exact.
        p = 1.0 if diff == 0.0 else 0.0
        lo = hi = diff
        mdc = 0.0
    else:
        # Welch's t: unequal variances, Welch-Satterthwaite degrees of freedom.
        df = se**4 / ((vb / b.size) ** 2 / (b.size - 1) + (vh / h.size) ** 2 / (h.size - 1))
        p = float(2 * stats.t.sf(abs(diff) / se, df))
        half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
        lo, hi = diff - half, diff + half
        mdc = (stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se
    return Change(
        estimate=_to_scale(diff, log_scale),
        ci_low=_to_scale(lo, log_scale),
        ci_high=_to_scale(hi, log_scale),
        p_value=p,
        mdc=_to_scale(float(mdc), log_scale),
        sd=sd,
        n_base=int(b.size),
        n_head=int(h.size),
        log_scale=log_scale,
    )


def trials_needed(
    sd: float, threshold: float, *, log_scale: bool = True, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Trials per side for a change of `threshold` to be detected with `power` at this noise.

    Normal approximation n = 2 * ((z_(1-alpha/2) + z_power) * sd / delta)^2, then raised until
    the t-based detectable change fits; None when the noise is zero or the threshold is not positive.
    """
    delta = math.log1p(threshold) if log_scale else threshold
    if sd <= 0 or delta <= 0:
        return None
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    n = max(2, math.ceil(2 * (z * sd / delta) ** 2))
    while n < 10_000:
        df = 2 * n - 2
        t = float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))
        if t * sd * math.sqrt(2 / n) <= delta:
            return int(n)
        n += 1
    return None


def trials_to_resolve(change: Change, threshold: float) -> int | None:
    """Trials per side after which this interval would reach the decision its estimate points to.

    The interval's half-width w shrinks as 1/sqrt(n). An estimate inside the margin points to
    "unchanged", reached when w < margin - |estimate|; one at or past it points to a change,
    reached when w < |estimate| (the interval then excludes 0). Hence n' = n (w / room)^2,
    always more than the trials used (an undecided interval has w >= room); None when the
    estimate sits on the margin, where no number of trials settles which side it is on.
    """
    if change.log_scale:
        lo, hi, est = (math.log1p(v) for v in (change.ci_low, change.ci_high, change.estimate))
        margin = math.log1p(threshold)
    else:
        lo, hi, est = change.ci_low, change.ci_high, change.estimate
        margin = threshold
    half = (hi - lo) / 2
    room = margin - abs(est) if abs(est) < margin else abs(est)
    if half <= 0 or room <= half * 1e-3:
        return None
    n = max(change.n_base, change.n_head)
    return max(n + 1, math.ceil(n * (half / room) ** 2))
