"""Per metric and scenario: estimate, interval, BH-adjusted p-value and one of four verdicts.

regression / improvement: significant after FDR control AND at least the practical threshold;
unchanged: the whole interval lies inside +-threshold; inconclusive: neither, with the minimum
detectable change and the trials that would be needed. A regression on mismatched fingerprints
is held back as inconclusive unless the settings allow it.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from benchaction.results import (
    METRICS,
    MetricDef,
    ResultsDocument,
    Trial,
    metric_by_name,
    trial_values,
)
from benchaction.stats.estimate import Change, estimate_change, trials_needed
from benchaction.stats.fdr import bh_adjust
from benchaction.stats.settings import StatsSettings

__all__ = ["MetricComparison", "Verdict", "compare_metric_sets", "compare_scenarios"]

Verdict = Literal["regression", "improvement", "unchanged", "inconclusive"]
Key = tuple[str, str]  # (scenario, metric)


@dataclass(frozen=True)
class MetricComparison:
    """One row of the comparison table."""

    scenario: str
    metric: str
    label: str
    unit: str
    higher_is_better: bool
    base_median: float | None
    head_median: float | None
    n_base: int
    n_head: int
    change: Change | None
    q_value: float | None
    threshold: float
    verdict: Verdict
    reason: str
    trials_needed: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The machine-readable row (action outputs and the verdicts JSON)."""
        c = self.change
        return {
            "scenario": self.scenario,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "base_median": self.base_median,
            "head_median": self.head_median,
            "n_base": self.n_base,
            "n_head": self.n_head,
            "change": None if c is None else c.estimate,
            "ci_low": None if c is None else c.ci_low,
            "ci_high": None if c is None else c.ci_high,
            "relative": None if c is None else c.log_scale,
            "p_value": None if c is None else c.p_value,
            "q_value": self.q_value,
            "mdc": None if c is None else c.mdc,
            "threshold": self.threshold,
            "verdict": self.verdict,
            "reason": self.reason,
            "trials_needed": self.trials_needed,
        }


def _fmt_change(x: float, log_scale: bool) -> str:
    return f"{x * 100:+.1f} %" if log_scale else f"{x * 100:+.2f} pp"


def _decide(
    metric: MetricDef, change: Change, q: float, threshold: float, settings: StatsSettings
) -> tuple[Verdict, str, int | None]:
    worse_sign = -1.0 if metric.higher_is_better else 1.0
    worse = change.estimate * worse_sign > 0
    big = abs(change.estimate) >= threshold
    shown = _fmt_change(threshold, change.log_scale).lstrip("+")
    if q < settings.alpha and big:
        verdict: Verdict = "regression" if worse else "improvement"
        return verdict, f"significant (q = {q:.3g}) and at least {shown}", None
    if -threshold < change.ci_low and change.ci_high < threshold:
        return "unchanged", f"the {settings.confidence:.0%} interval lies within ±{shown}", None
    needed = trials_needed(
        change.sd,
        threshold,
        log_scale=change.log_scale,
        alpha=settings.alpha,
        power=settings.power,
    )
    mdc = _fmt_change(change.mdc, change.log_scale).lstrip("+")
    more = f"; about {needed} trials a side would resolve ±{shown}" if needed else ""
    if q < settings.alpha:
        why = (
            f"significant (q = {q:.3g}) but smaller than {shown}, and the interval reaches past it"
        )
    else:
        why = f"too noisy to tell: this noise and trial count detect changes of {mdc} or more"
    return "inconclusive", why + more, needed


def compare_metric_sets(
    base: Mapping[Key, Sequence[float]],
    head: Mapping[Key, Sequence[float]],
    settings: StatsSettings,
    *,
    fingerprint_mismatch: Sequence[str] = (),
) -> list[MetricComparison]:
    """Compare per-trial values keyed by (scenario, metric name); one BH family for all rows."""
    keys = [k for k in base if k in head] + [k for k in head if k not in base]
    plans: list[tuple[Key, MetricDef, list[float], list[float], float, Change | None]] = []
    for key in keys:
        metric = metric_by_name(key[1])
        b, h = list(base.get(key, ())), list(head.get(key, ()))
        threshold = settings.threshold_for(metric.name, metric.default_threshold)
        change = None
        if min(len(b), len(h)) >= max(2, settings.min_trials):
            change = estimate_change(
                b,
                h,
                log_scale=metric.log_scale,
                confidence=settings.confidence,
                alpha=settings.alpha,
                power=settings.power,
            )
        plans.append((key, metric, b, h, threshold, change))
    qs = iter(bh_adjust([c.p_value for *_, c in plans if c is not None]))
    rows = []
    for key, metric, b, h, threshold, change in plans:
        q: float | None = None
        needed: int | None = None
        if change is None:
            side = "base" if len(b) < len(h) else "head"
            verdict: Verdict = "inconclusive"
            reason = (
                f"only {min(len(b), len(h))} valid {side} trial(s); "
                f"at least {settings.min_trials} are needed"
            )
        else:
            q = next(qs)
            verdict, reason, needed = _decide(metric, change, q, threshold, settings)
            if (
                verdict == "regression"
                and fingerprint_mismatch
                and not settings.allow_fingerprint_mismatch
            ):
                verdict = "inconclusive"
                reason = (
                    f"would be a regression ({reason}), but base and head ran on different "
                    "setups: " + "; ".join(fingerprint_mismatch)
                )
        rows.append(
            MetricComparison(
                scenario=key[0],
                metric=metric.name,
                label=metric.label,
                unit=metric.unit,
                higher_is_better=metric.higher_is_better,
                base_median=statistics.median(b) if b else None,
                head_median=statistics.median(h) if h else None,
                n_base=len(b),
                n_head=len(h),
                change=change,
                q_value=q,
                threshold=threshold,
                verdict=verdict,
                reason=reason,
                trials_needed=needed,
            )
        )
    return rows


def _lacks(trials: Sequence[Trial], metric: MetricDef) -> bool:
    """Trials that do not measure this metric at all (no tokens, no SLO, an older version)."""
    return bool(trials) and all(metric.read(t) is None for t in trials)


def compare_scenarios(
    base_doc: ResultsDocument,
    head_doc: ResultsDocument,
    settings: StatsSettings,
    *,
    fingerprint_mismatch: Sequence[str] = (),
) -> list[MetricComparison]:
    """Read every metric of every scenario both documents have, then compare them as one family."""
    base_trials = {s["name"]: s["trials"] for s in base_doc["scenarios"]}
    base: dict[Key, list[float]] = {}
    head: dict[Key, list[float]] = {}
    for scenario in head_doc["scenarios"]:
        name = scenario["name"]
        if name not in base_trials:
            continue
        for metric in METRICS:
            if _lacks(scenario["trials"], metric) or _lacks(base_trials[name], metric):
                continue
            hv = trial_values(scenario["trials"], metric)
            bv = trial_values(base_trials[name], metric)
            if not hv and not bv:
                continue
            base[(name, metric.name)] = bv
            head[(name, metric.name)] = hv
    return compare_metric_sets(base, head, settings, fingerprint_mismatch=fingerprint_mismatch)
