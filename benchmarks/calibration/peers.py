"""Decision rules of other benchmark tools, applied to the same per-trial data as ours.

Each rule takes base trials and head trials (dicts shaped like collect.py's) and says whether the
whole comparison flags a regression on any of p50, p90, p99, mean latency or throughput
(latency: higher is worse; throughput: lower is worse).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from common import METRICS, Trial, metric_matrix
from scipy import stats

Rule = Callable[[Sequence[Trial], Sequence[Trial]], bool]

# +1 where a bigger value is worse (latency), -1 where a smaller one is (throughput).
WORSE_SIGN = np.array([-1.0 if higher_is_better else 1.0 for _, higher_is_better in METRICS])


def ratio_rule(threshold: float) -> Rule:
    """github-action-benchmark style: one stored number per run, alert when worse by > threshold x.

    That tool keeps one value per benchmark per run, so only the first trial of each side counts.
    """

    def rule(base: Sequence[Trial], head: Sequence[Trial]) -> bool:
        b, h = metric_matrix(base[:1])[0], metric_matrix(head[:1])[0]
        worse_ratio = np.where(WORSE_SIGN > 0, h / b, b / h)
        return bool((worse_ratio > threshold).any())

    rule.__name__ = f"ratio_{threshold:g}x"
    return rule


def mann_whitney(base: Sequence[Trial], head: Sequence[Trial], alpha: float = 0.05) -> bool:
    """benchstat style: two-sided Mann-Whitney U per metric, no effect floor, no FDR control."""
    b, h = metric_matrix(base), metric_matrix(head)
    p = stats.mannwhitneyu(h, b, alternative="two-sided", axis=0).pvalue
    worse = (np.median(h, axis=0) - np.median(b, axis=0)) * WORSE_SIGN > 0
    return bool(((p < alpha) & worse).any())


def zscore(base: Sequence[Trial], head: Sequence[Trial], limit: float = 2.0) -> bool:
    """History-based alerting: the first head value against the base trials' mean and sd."""
    b, h = metric_matrix(base), metric_matrix(head[:1])[0]
    sd = b.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, (h - b.mean(axis=0)) / sd, 0.0)
    return bool((z * WORSE_SIGN > limit).any())


PEERS: dict[str, Rule] = {
    "ratio 1.1x": ratio_rule(1.1),
    "ratio 2x": ratio_rule(2.0),
    "Mann-Whitney": mann_whitney,
    "z-score": zscore,
}
