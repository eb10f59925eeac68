"""Per metric and scenario: estimate, interval, BH-adjusted p-value and one of four verdicts.

regression / improvement: significant after FDR control AND at least the practical threshold;
unchanged: the (1 - 2 alpha) interval lies inside +-threshold (two one-sided tests, an
equivalence decision); inconclusive: neither, with the trials that would resolve it. Primary
and other metrics are separate FDR families, and a row identical on every trial of both sides
leaves its family (it is unchanged by inspection). A regression on mismatched fingerprints is
held back as inconclusive unless the settings allow it.

Per-run metrics (cold start per instance, image size) make one row a run, under `SERVER_ROWS`
instead of a scenario, so a test is never counted once per scenario. The image size is exact:
its delta is decided by the threshold alone and enters no FDR family.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from benchaction.results import (
    ALL_METRICS,
    MetricDef,
    ResultsDocument,
    ScenarioResults,
    Scope,
    Trial,
    metric_by_name,
    metric_values,
)
from benchaction.stats.estimate import Change, center, estimate_change, trials_to_resolve
from benchaction.stats.fdr import bh_adjust
from benchaction.stats.settings import StatsSettings

__all__ = [
    "SERVER_ROWS",
    "MetricComparison",
    "ScenarioVerdict",
    "Verdict",
    "compare_metric_sets",
    "compare_scenarios",
]

Verdict = Literal["regression", "improvement", "unchanged", "inconclusive"]
Key = tuple[str, str]  # (scenario, metric)

SERVER_ROWS = "(server)"
"""The scenario column of per-run rows (image size, cold start); no scenario name starts with
a parenthesis."""


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
    scope: Scope = "trial"  # what n_base and n_head count: trials, instances, or the image
    delta: float | None = None  # an exact row's change (head / base - 1); no interval then

    @property
    def exact(self) -> bool:
        """An exact row: its delta decides by the threshold alone, no test statistic."""
        return self.scope == "image"

    @property
    def estimate(self) -> float | None:
        """The change shown: the estimate of a tested row, or the delta of an exact one."""
        return self.delta if self.change is None else self.change.estimate

    @property
    def counted(self) -> str:
        """What the row rests on, in words: "trials 5 base, 5 head", or that it is exact."""
        if self.exact:
            return "exact: one image a side"
        unit = {"instance": "instances", "example": "paired examples"}.get(self.scope, "trials")
        if self.scope == "example":
            return f"{unit}: {self.n_head}"
        return f"{unit} {self.n_base} base, {self.n_head} head"

    def to_json(self) -> dict[str, Any]:
        """The machine-readable row (action outputs and the verdicts JSON)."""
        c = self.change
        log_scale = c is None or c.log_scale
        center = "exact" if self.exact else ("geometric mean" if log_scale else "mean")
        if self.scope == "example":  # the metric over the labelled set, paired example by example
            center = "labelled set"
        return {
            "scenario": self.scenario,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "primary": self.primary,
            "scope": self.scope,
            "exact": self.exact,
            "center": center,
            "base": self.base_center,
            "head": self.head_center,
            "n_base": self.n_base,
            "n_head": self.n_head,
            "change": self.estimate,
            "ci_low": None if c is None else c.ci_low,
            "ci_high": None if c is None else c.ci_high,
            "relative": self.exact or (None if c is None else c.log_scale),
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
    unit = "instances" if metric.scope == "instance" else "trials"
    more = f"; about {needed} {unit} a side would resolve it" if needed else ""
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


def _decide_exact(metric: MetricDef, delta: float, threshold: float) -> tuple[Verdict, str]:
    """An exact change (the image size): the threshold alone decides, on the same symmetric
    log-ratio size as a tested row, so growing 5 % and shrinking 4.76 % weigh the same."""
    shown = _fmt_change(threshold, True).lstrip("+")
    change = _fmt_change(delta, True)
    if delta == 0:
        return "unchanged", "exact: identical"
    if _size(delta, True) < _size(threshold, True):
        return "unchanged", f"exact: {change}, within ±{shown}"
    worse = delta * (-1.0 if metric.higher_is_better else 1.0) > 0
    return ("regression" if worse else "improvement"), f"exact: {change}, at least {shown}"


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
    the others in another. `choices` are a scenario's own deciding metrics and threshold.

    Rows under `SERVER_ROWS` are per run: primary when any scenario's deciding metrics name them.
    An exact metric (one value a side) is decided by its threshold alone.
    """
    choices = choices or {}
    keys = [k for k in base if k in head] + [k for k in head if k not in base]
    plans: list[tuple[Key, MetricDef, list[float], list[float], float, Change | None]] = []
    for key in keys:
        metric = metric_by_name(key[1])
        b, h = list(base.get(key, ())), list(head.get(key, ()))
        own = choices.get(key[0], ScenarioVerdict())
        default = metric.default_threshold
        if default is None and own.threshold is not None:
            default = own.threshold  # a relative margin; the error rate keeps its own (in pp)
        threshold = settings.threshold_for(metric.name, default)
        change = None
        if not metric.exact and min(len(b), len(h)) >= max(2, settings.min_trials):
            change = estimate_change(
                b,
                h,
                log_scale=metric.log_scale,
                confidence=settings.confidence,
                alpha=settings.alpha,
                power=settings.power,
            )
        plans.append((key, metric, b, h, threshold, change))

    deciding = [own.metrics or settings.primary for own in choices.values()] or [settings.primary]

    def is_primary(key: Key) -> bool:
        if key[0] == SERVER_ROWS:  # the run's: deciding if any scenario decides by it
            return any(key[1] in names for names in deciding)
        own = choices.get(key[0], ScenarioVerdict())
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
        delta: float | None = None
        verdict: Verdict
        if metric.exact and not (b and h):
            verdict, reason = "inconclusive", f"no {'base' if not b else 'head'} value"
        elif metric.exact:
            if len(b) != 1 or len(h) != 1:
                raise ValueError(
                    f"{metric.name} is exact: one value a side, got {len(b)}, {len(h)}"
                )
            delta = h[0] / b[0] - 1  # sizes: a relative change, like every ratio row
            verdict, reason = _decide_exact(metric, delta, threshold)
        elif change is None:
            side = "base" if len(b) < len(h) else "head"
            unit = "instance" if metric.scope == "instance" else "trial"
            verdict = "inconclusive"
            reason = (
                f"only {min(len(b), len(h))} valid {side} {unit}(s); "
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
                scope=metric.scope,
                delta=delta,
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
    """Read every metric of every scenario both documents have, and the per-run metrics both
    record, then compare them as one comparison (per-run rows last)."""
    base_sections = {s["name"]: s for s in base_doc["scenarios"]}
    base: dict[Key, list[float]] = {}
    head: dict[Key, list[float]] = {}
    for scenario in head_doc["scenarios"]:
        name = scenario["name"]
        if name not in base_sections:
            continue
        other = base_sections[name]
        for metric in ALL_METRICS:
            if metric.per_run:
                continue
            if _lacks(scenario["trials"], metric) or _lacks(other["trials"], metric):
                continue
            hv = metric_values(head_doc, metric, scenario)
            bv = metric_values(base_doc, metric, other)
            if not hv and not bv:
                continue
            base[(name, metric.name)] = bv
            head[(name, metric.name)] = hv
    for metric in ALL_METRICS:
        if not metric.per_run:
            continue
        bv, hv = metric_values(base_doc, metric), metric_values(head_doc, metric)
        if bv and hv:  # a side without it (a URL server: no image, no start) has no row
            base[(SERVER_ROWS, metric.name)] = bv
            head[(SERVER_ROWS, metric.name)] = hv
    choices = {s["name"]: ScenarioVerdict.of(s) for s in head_doc["scenarios"]}
    return compare_metric_sets(
        base, head, settings, fingerprint_mismatch=fingerprint_mismatch, choices=choices
    )
