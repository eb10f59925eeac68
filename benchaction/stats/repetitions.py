"""Where repetitions should go: longer windows or more trials (Kalibera and Jones, ISMM 2013).

Two levels of repetition: slices of a trial's window (level 1, cost c1 = a slice's seconds) and
trials, each a fresh server (level 2, cost c2 = start-up and warmup). On the log scale, with
y_ij the value of slice j of trial i (n1 slices, n2 trials):

    S1² = sum_i sum_j (y_ij - ȳ_i)² / (n2 (n1 - 1))       within-trial variance of a slice
    S2² = sum_i (ȳ_i - ȳ)² / (n2 - 1)                     variance of the trial means
    T2² = S2² - S1² / n1                                  between-trial variance component
    n1* = ceil(sqrt((c2 / c1) · (S1² / T2²)))             slices per trial worth their cost

capped at ten times the current window (when the trials agree beyond what the slices explain,
T2² is near zero and the formula asks for ever longer windows), and the trials a side that
resolve a change of θ at that window, by the comparison's own rule (`trials_needed`: the normal
formula n2 = 2 (z_(1-α/2) + z_power)² (T2² + S1² / n1*) / log(1 + θ)², raised until t fits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchaction.stats.estimate import trials_needed

__all__ = ["Recommendation", "recommend"]


@dataclass(frozen=True)
class Recommendation:
    """The noise at both levels and the window and trial count worth running."""

    metric: str
    within_cv: float  # one slice's spread within a trial (log-scale sd)
    between_cv: float  # the trials' own spread beyond what the slices explain
    window_s: float  # recommended measurement window
    trials: int  # recommended trials a side to resolve the threshold
    current_window_s: float
    current_trials: int
    capped: bool  # the trials agree beyond the slices' noise: the window stops at max_factor


def recommend(
    metric: str,
    slices: Sequence[Sequence[float]],
    slice_s: float,
    overhead_s: float,
    *,
    threshold: float = 0.05,
    alpha: float = 0.05,
    power: float = 0.8,
    max_trials: int = 1000,
    max_factor: int = 10,
) -> Recommendation | None:
    """None unless there are two trials with two positive slices each to read the noise from."""
    rows = [np.log([v for v in s if v is not None and v > 0]) for s in slices]
    n1 = min((r.size for r in rows), default=0)
    if len(rows) < 2 or n1 < 2 or slice_s <= 0:
        return None
    y = np.array([r[:n1] for r in rows])  # equal slices a trial, as the formulas assume
    n2 = y.shape[0]
    means = y.mean(axis=1)
    s1 = float(((y - means[:, None]) ** 2).sum() / (n2 * (n1 - 1)))
    s2 = float(means.var(ddof=1))
    t2 = max(s2 - s1 / n1, 1e-12)  # a negative estimate means the trials agree beyond the slices
    c1, c2 = slice_s, max(overhead_s, slice_s)
    ideal = math.ceil(math.sqrt((c2 / c1) * (s1 / t2)))
    best = max(1, min(ideal, max_factor * n1))  # no window beyond max_factor times today's
    noise = math.sqrt(t2 + s1 / best)  # a trial mean's sd at the recommended window
    trials = trials_needed(noise, threshold, alpha=alpha, power=power) or max_trials
    return Recommendation(
        metric=metric,
        within_cv=math.sqrt(s1),
        between_cv=math.sqrt(t2),
        window_s=best * slice_s,
        trials=min(max(2, trials), max_trials),
        current_window_s=n1 * slice_s,
        current_trials=n2,
        capped=ideal > max_factor * n1,
    )
