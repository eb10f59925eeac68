"""Per metric and scenario: estimate, interval, BH-adjusted p-value and one of four verdicts.

regression / improvement: significant after FDR control AND at least the practical threshold;
unchanged: the (1 - 2 alpha) interval lies inside +-threshold (two one-sided tests, an
equivalence decision); inconclusive: neither, with the trials that would resolve it. Primary
and other metrics are separate FDR families, and a row identical on every trial of both sides
leaves its family (it is unchanged by inspection). A regression on mismatched fingerprints is
held back as inconclusive unless the settings allow it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from benchaction.results import (
    METRICS,
    MetricDef,
    ResultsDocument,
    ScenarioResults,
    Trial,
    metric_by_name,
    trial_values,
)
from benchaction.stats.estimate import Change, center, estimate_change, trials_to_resolve
from benchaction.stats.fdr import bh_adjust
from benchaction.stats.settings import StatsSettings

__all__ = [
    "MetricComparison",
    "ScenarioVerdict",
    "Verdict",
    "compare_metric_sets",
    "compare_scenarios",
]

Verdict = Literal["regression", "improvement", "unchanged", "inconclusive"]
Key = tuple[str, str]  # (scenario, metric)


@dataclass(frozen=True)
class ScenarioVerdict:
    """A scenario's own choice (bench.yml `verdict:`): the metrics that decide, and the margin.

    The margin is relative and applies to the ratio metrics; the error rate keeps its own
    (0.1 percentage point); a `--threshold-for` override beats both.
    """

    metrics: tuple[str, ...] = ()
    threshold: float | None = None

    @classmethod
    def of(cls, section: ScenarioResults) -> ScenarioVerdict:
        """The choice recorded in a scenario of the head's results (none: the settings apply)."""
        raw = section.get("verdict") or {}
        return cls(tuple(raw.get("metrics") or ()), raw.get("threshold"))


@dataclass(frozen=True)
class MetricComparison:
    """One row of the comparison table."""

    scenario: str
    metric: str
    label: str
    unit: str
    higher_is_better: bool
    base_center: float | None  # geometric mean over trials (log scale), else the mean
    head_center: float | None
    n_base: int
    n_head: int
    change: Change | None
    q_value: float | None
    threshold: float
    verdict: Verdict
    reason: str
    trials_needed: int | None = None
    primary: bool = True

    def to_json(self) -> dict[str, Any]:
        """The machine-readable row (action outputs and the verdicts JSON)."""
        c = self.change
        return {
            "scenario": self.scenario,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "primary": self.primary,
            "center": "geometric mean" if self.change is None or self.change.log_scale else "mean",
            "base": self.base_center,
            "head": self.head_center,
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
    metric: MetricDef, change: Change, q: float, threshold: float, settings: StatsSettings, m: int
) -> tuple[Verdict, str, int | None]:
    worse_sign = -1.0 if metric.higher_is_better else 1.0
    worse = change.estimate * worse_sign > 0
    big = _size(change.estimate, change.log_scale) >= _size(threshold, change.log_scale)
    shown = _fmt_change(threshold, change.log_scale).lstrip("+")
    level = f"{settings.confidence:.0%}"
    alpha = settings.alpha_per_look
    looks = f", α/{settings.looks} a look" if settings.looks > 1 else ""
    if q < alpha and big:
        verdict: Verdict = "regression" if worse else "improvement"
        return (
            verdict,
            f"significant (q = {q:.3g} over {m} tests{looks}) and at least {shown}",
            None,
        )
    margin = _size(threshold, change.log_scale)
    if (
        max(_size(change.ci_low, change.log_scale), _size(change.ci_high, change.log_scale))
        < margin
    ):
        return "unchanged", f"the {level} interval lies within ±{shown}", None
    needed = trials_to_resolve(change, threshold)
    more = f"; about {needed} trials a side would resolve it" if needed else ""
    if q < alpha:
        why = f"significant (q = {q:.3g}) but the {level} interval reaches past ±{shown}"
    elif change.ci_low > 0 or change.ci_high < 0:
        why = (
            f"the {level} interval excludes 0 but, corrected for {m} tests (Benjamini-Hochberg), "
            f"q = {q:.3g} is not below {alpha:g}{looks}"
        )
    else:
        why = f"too noisy to tell: the {level} interval reaches past ±{shown} and includes 0"
    return "inconclusive", why + more, needed


def _size(change: float, log_scale: bool) -> float:
    """How far a change is from none: |log ratio| for ratios, so +5 % and its mirror -4.76 %
    (base and head swapped) are the same size; |difference| otherwise."""
    return abs(math.log1p(change)) if log_scale else abs(change)


def _identical(b: Sequence[float], h: Sequence[float]) -> bool:
    """Every trial of both sides has the same value (an error rate of zero, say)."""
    return len(set(b)) == 1 and set(b) == set(h)


def compare_metric_sets(
    base: Mapping[Key, Sequence[float]],
    head: Mapping[Key, Sequence[float]],
    settings: StatsSettings,
    *,
    fingerprint_mismatch: Sequence[str] = (),
    choices: Mapping[str, ScenarioVerdict] | None = None,
) -> list[MetricComparison]:
    """Compare per-trial values keyed by (scenario, metric name): primary rows in one BH family,
    the others in another. `choices` are a scenario's own deciding metrics and threshold."""
    keys = [k for k in base if k in head] + [k for k in head if k not in base]
    plans: list[tuple[Key, MetricDef, list[float], list[float], float, Change | None]] = []
    for key in keys:
        metric = metric_by_name(key[1])
        b, h = list(base.get(key, ())), list(head.get(key, ()))
        own = (choices or {}).get(key[0], ScenarioVerdict())
        default = metric.default_threshold
        if default is None and own.threshold is not None:
            default = own.threshold  # a relative margin; the error rate keeps its own (in pp)
        threshold = settings.threshold_for(metric.name, default)
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

    def is_primary(key: Key) -> bool:
        own = (choices or {}).get(key[0], ScenarioVerdict())
        return key[1] in (own.metrics or settings.primary)

    families: dict[bool, list[int]] = {True: [], False: []}
    for i, (key, _, b, h, _, change) in enumerate(plans):
        if change is not None and not _identical(b, h):
            families[is_primary(key)].append(i)
    q_of: dict[int, float] = {}
    for members in families.values():
        qs = bh_adjust([plans[i][5].p_value for i in members])  # type: ignore[union-attr]
        q_of.update(zip(members, qs, strict=True))
    rows = []
    for i, (key, metric, b, h, threshold, change) in enumerate(plans):
        q: float | None = q_of.get(i)
        needed: int | None = None
        if change is None:
            side = "base" if len(b) < len(h) else "head"
            verdict: Verdict = "inconclusive"
            reason = (
                f"only {min(len(b), len(h))} valid {side} trial(s); "
                f"at least {settings.min_trials} are needed"
            )
        elif q is None:
            verdict, reason = "unchanged", "identical on every trial of both sides"
        else:
            m = len(families[is_primary(key)])
            verdict, reason, needed = _decide(metric, change, q, threshold, settings, m)
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
                base_center=center(b, log_scale=metric.log_scale) if b else None,
                head_center=center(h, log_scale=metric.log_scale) if h else None,
                n_base=len(b),
                n_head=len(h),
                change=change,
                q_value=q,
                threshold=threshold,
                verdict=verdict,
                reason=reason,
                trials_needed=needed,
                primary=is_primary(key),
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
    choices = {s["name"]: ScenarioVerdict.of(s) for s in head_doc["scenarios"]}
    return compare_metric_sets(
        base, head, settings, fingerprint_mismatch=fingerprint_mismatch, choices=choices
    )
