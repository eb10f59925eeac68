"""Accuracy, base against head, paired on the same labelled examples.

Right-or-wrong metrics (accuracy, exact match): McNemar's exact test, a binomial test of the
discordant examples (right on one side only); the change is the difference of the two rates in
percentage points, its interval the Agresti-Min adjusted Wald interval of a paired
difference. Scored metrics (token F1; mean absolute and RMS error): the Wilcoxon
signed-rank test of the per-example differences, the interval a paired bootstrap over examples
(seeded). Verdicts follow the performance rows: significant after Benjamini-Hochberg across the
accuracy rows and at least the threshold is a regression or improvement; an interval within the
threshold is unchanged; otherwise inconclusive. Accuracy rows always decide the overall verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

from benchaction.results import (
    ACCURACY_LABELS,
    FLAG_METRICS,
    HIGHER_IS_BETTER,
    AccuracyResults,
    ResultsDocument,
    example_scores,
)
from benchaction.stats.compare import MetricComparison, Verdict
from benchaction.stats.estimate import Change
from benchaction.stats.fdr import bh_adjust
from benchaction.stats.settings import StatsSettings

__all__ = ["BOOTSTRAP_RESAMPLES", "accuracy_change", "compare_accuracy"]

BOOTSTRAP_RESAMPLES = 4000
_SEED = 20260601  # the bootstrap is part of the verdict: the same inputs give the same interval


def accuracy_change(
    metric: str, base: Sequence[float | None], head: Sequence[float | None], confidence: float
) -> Change | None:
    """Head versus base on the same examples; None when no example was scored on both sides
    (or an error metric's base is zero, where a relative change means nothing)."""
    if len(base) != len(head):
        raise ValueError(f"paired examples needed: {len(base)} base, {len(head)} head")
    if metric in FLAG_METRICS:
        return _mcnemar([s == 1.0 for s in base], [s == 1.0 for s in head], confidence)
    pairs = [(b, h) for b, h in zip(base, head, strict=True) if b is not None and h is not None]
    if not pairs:
        return None
    b = np.array([p[0] for p in pairs], dtype=float)
    h = np.array([p[1] for p in pairs], dtype=float)
    if metric == "token_f1":
        return _paired(b, h, confidence, lambda x, y: float(y.mean() - x.mean()), False)
    if metric == "rmse":
        b, h = b**2, h**2  # the test compares squared errors, the change is of their root mean
        if b.sum() == 0:
            return None
        return _paired(b, h, confidence, lambda x, y: math.sqrt(y.mean() / x.mean()) - 1, True)
    if b.sum() == 0:
        return None
    return _paired(b, h, confidence, lambda x, y: float(y.mean() / x.mean() - 1), True)


def _mcnemar(base: Sequence[bool], head: Sequence[bool], confidence: float) -> Change:
    n = len(base)
    gained = sum(1 for b, h in zip(base, head, strict=True) if h and not b)
    lost = sum(1 for b, h in zip(base, head, strict=True) if b and not h)
    discordant = gained + lost
    if discordant == 0:
        return Change(0.0, 0.0, 0.0, 1.0, 0.0, 0.0, n, n, log_scale=False)
    test = stats.binomtest(gained, discordant, 0.5)
    low, high = _agresti_min(gained, lost, n, confidence)
    diffs = np.array([float(h) - float(b) for b, h in zip(base, head, strict=True)])
    return Change(
        estimate=(gained - lost) / n,
        ci_low=low,
        ci_high=high,
        p_value=float(test.pvalue),
        mdc=(high - low) / 2,
        sd=float(diffs.std(ddof=1)) if n > 1 else 0.0,
        n_base=n,
        n_head=n,
        log_scale=False,
    )


Statistic = Callable[[np.ndarray, np.ndarray], float]


def _agresti_min(gained: int, lost: int, n: int, confidence: float) -> tuple[float, float]:
    """The interval of a paired difference of proportions: Wald on the 2x2 table with 0.5 added
    to each cell (Agresti & Min 2005), which keeps its coverage near nominal with few
    discordant examples, where plain Wald collapses."""
    total = n + 2.0
    up, down = (gained + 0.5) / total, (lost + 0.5) / total
    diff = up - down
    half = float(stats.norm.ppf((1 + confidence) / 2)) * math.sqrt(
        max(0.0, (up + down - diff * diff) / total)
    )
    return max(-1.0, diff - half), min(1.0, diff + half)


def _paired(
    b: np.ndarray, h: np.ndarray, confidence: float, f: Statistic, relative: bool
) -> Change:
    """Wilcoxon signed-rank on h - b; a percentile bootstrap interval of `f(b, h)`."""
    diffs = h - b
    n = len(diffs)
    estimate = float(f(b, h))
    if not np.any(diffs):
        return Change(estimate, estimate, estimate, 1.0, 0.0, 0.0, n, n, log_scale=relative)
    p_value = float(stats.wilcoxon(diffs, zero_method="wilcox").pvalue)
    rng = np.random.default_rng(_SEED)
    picks = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    boot = np.array([f(b[i], h[i]) for i in picks], dtype=float)
    boot = boot[np.isfinite(boot)]
    tail = (1 - confidence) / 2 * 100
    low, high = (float(v) for v in np.percentile(boot, [tail, 100 - tail]))
    return Change(
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        mdc=(high - low) / 2,
        sd=float(diffs.std(ddof=1)) if n > 1 else 0.0,
        n_base=n,
        n_head=n,
        log_scale=relative,
    )


def _size(x: float, relative: bool) -> float:
    return abs(math.log1p(x)) if relative else abs(x)


def _shown(x: float, relative: bool) -> str:
    return f"{x * 100:g} %" if relative else f"{x * 100:g} pp"


def _decide(
    change: Change, q: float, threshold: float, higher_is_better: bool, settings: StatsSettings
) -> tuple[Verdict, str]:
    rel = change.log_scale
    shown = _shown(threshold, rel)
    level = f"{settings.confidence:.0%}"
    alpha = settings.alpha_per_look
    if q < alpha and _size(change.estimate, rel) >= _size(threshold, rel):
        worse = (change.estimate < 0) == higher_is_better
        return ("regression" if worse else "improvement"), (
            f"significant (paired test over the examples, q = {q:.3g}) and at least {shown}"
        )
    if max(_size(change.ci_low, rel), _size(change.ci_high, rel)) < _size(threshold, rel):
        return "unchanged", f"the {level} interval lies within ±{shown}"
    if q < alpha:
        return (
            "inconclusive",
            f"significant (q = {q:.3g}) but the {level} interval reaches past ±{shown}",
        )
    return "inconclusive", (
        f"too few examples to tell: q = {q:.3g} and the {level} interval reaches past ±{shown};"
        " a larger labelled set would resolve it"
    )


def _section(doc: ResultsDocument, name: str) -> AccuracyResults | None:
    for s in doc["scenarios"]:
        if s["name"] == name:
            return s.get("accuracy")
    return None


def compare_accuracy(
    base_doc: ResultsDocument, head_doc: ResultsDocument, settings: StatsSettings
) -> list[MetricComparison]:
    """One deciding row per scenario whose labelled set both sides scored."""
    plans: list[tuple[str, AccuracyResults, AccuracyResults, Change | None, str]] = []
    identical: set[int] = set()
    for scenario in head_doc["scenarios"]:
        head = scenario.get("accuracy")
        base = _section(base_doc, scenario["name"])
        if head is None or base is None:
            continue
        why = ""
        change = None
        if base["metric"] != head["metric"]:
            why = f"base scored {base['metric']}, head {head['metric']}: nothing to pair"
        elif base["sha256"] != head["sha256"] or base["n"] != head["n"]:
            why = f"the labelled sets differ (base {base['file']} {base['sha256'][:12]}, head {head['file']} {head['sha256'][:12]}): examples cannot be paired"
        else:
            b, h = example_scores(base), example_scores(head)
            change = accuracy_change(head["metric"], b, h, settings.confidence)
            if b == h:
                identical.add(len(plans))
            if change is None:
                why = "no example was scored on both sides (or the base error is zero)"
        plans.append((scenario["name"], base, head, change, why))
    tested = [i for i, p in enumerate(plans) if p[3] is not None and i not in identical]
    qs = dict(zip(tested, bh_adjust([plans[i][3].p_value for i in tested]), strict=True))  # type: ignore[union-attr]
    rows = []
    for i, (name, base, head, change, why) in enumerate(plans):
        metric = head["metric"]
        higher = HIGHER_IS_BETTER[metric]
        threshold = settings.thresholds.get(metric, head["threshold"])
        q = qs.get(i)
        verdict: Verdict
        if change is None:
            verdict, reason = "inconclusive", why
        elif q is None:
            verdict, reason = "unchanged", "every example scored the same on both sides"
        else:
            verdict, reason = _decide(change, q, threshold, higher, settings)
        failed = f"; failed answers: base {base['failed']}, head {head['failed']}"
        rows.append(
            MetricComparison(
                scenario=name,
                metric=metric,
                label=ACCURACY_LABELS[metric],
                unit="",
                higher_is_better=higher,
                base_center=base["value"],
                head_center=head["value"],
                n_base=base["n"],
                n_head=head["n"],
                change=change,
                q_value=q,
                threshold=threshold,
                verdict=verdict,
                reason=reason + (failed if base["failed"] or head["failed"] else ""),
                primary=True,
                scope="example",
            )
        )
    return rows
