"""What a comparison decides with: significance level, practical threshold, guards and gates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from benchaction.errors import ConfigError
from benchaction.results import ALL_METRICS, HIGHER_IS_BETTER, is_accuracy_metric, metric_by_name

__all__ = ["FAIL_ON", "PRIMARY_METRICS", "Gate", "StatsSettings", "parse_gate", "parse_share"]

FAIL_ON = ("regression", "regression-or-inconclusive", "never")

PRIMARY_METRICS = ("throughput_rps", "latency_p50_ms", "error_rate")
"""What decides by default: how much is served, how fast the typical request is, and whether it
works. Tail percentiles rest on a few requests per trial and are shown, not decisive."""
"""When the gate fails the job: on a regression, also on an inconclusive result, or never."""


@dataclass(frozen=True)
class Gate:
    """An absolute limit on the head's center, e.g. latency_p99_ms <= 250 (any scenario or one);
    a per-run metric (image_size_mib <= 500) is checked once, whichever scenario is named."""

    metric: str
    op: str
    limit: float
    scenario: str | None = None

    def holds(self, value: float) -> bool:
        """Whether a value satisfies the limit."""
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def __str__(self) -> str:
        where = f"{self.scenario}:" if self.scenario else ""
        return f"{where}{self.metric} {self.op} {self.limit:g}"


_GATE_RE = re.compile(r"^\s*(?:([A-Za-z0-9._-]+):)?([a-z0-9_]+)\s*(<=|>=)\s*([-+0-9.eE]+)\s*$")


def parse_gate(text: str) -> Gate:
    """Read `[scenario:]metric<=value` or `>=`; errors say the accepted form."""
    m = _GATE_RE.match(text)
    if m is None:
        raise ConfigError(
            [
                f"gate {text!r}: expected `[scenario:]metric<=value` or `>=`, e.g. latency_p99_ms<=250"
            ]
        )
    try:
        limit = float(m.group(4))
    except ValueError:
        raise ConfigError([f"gate {text!r}: {m.group(4)!r} is not a number"]) from None
    try:
        if not is_accuracy_metric(m.group(2)):
            metric_by_name(m.group(2))
    except KeyError as exc:
        scored = ", ".join(HIGHER_IS_BETTER)
        raise ConfigError([f"gate {text!r}: {exc.args[0]}; accuracy: {scored}"]) from None
    return Gate(metric=m.group(2), op=m.group(3), limit=limit, scenario=m.group(1))


def parse_metrics(text: str) -> tuple[str, ...]:
    """Comma-separated metric names (`--deciding`, the `deciding-metrics` input), each known.

    The one reader of such lists for the CLI and the action; the ValueError's message completes
    "--deciding ..." or "input `deciding-metrics` ...".
    """
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    known = [m.name for m in ALL_METRICS]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"names an unknown metric {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
        )
    return names


def parse_share(text: str) -> float:
    """A threshold or significance level, `0.05` or `5%`: above 0 and below 1.

    The one reader of such values for the CLI flags and the action inputs; the ValueError's
    message completes "--threshold ..." or "input `threshold` ...".
    """
    value = text.strip()
    percent = value.endswith("%")
    try:
        share = float(value[:-1] if percent else value) / (100 if percent else 1)
    except ValueError:
        share = float("nan")
    if not 0 < share < 1:
        raise ValueError(f"must be a fraction between 0 and 1 (or a percentage), got {text!r}")
    return share


@dataclass(frozen=True)
class StatsSettings:
    """Defaults follow docs/statistics.md; every field can be set from the CLI or the action."""

    alpha: float = 0.05
    threshold: float = 0.05
    thresholds: Mapping[str, float] = field(default_factory=dict)
    # The interval shown and used for "unchanged": 1 - 2 alpha, i.e. two one-sided tests at alpha.
    confidence: float = 0.90
    power: float = 0.8
    min_trials: int = 3
    allow_fingerprint_mismatch: bool = False
    fail_on: str = "regression"
    gates: tuple[Gate, ...] = ()
    # The metrics that decide the overall verdict; the rest are shown with their own verdicts.
    primary: tuple[str, ...] = PRIMARY_METRICS
    # Sequential trials: how many times the comparison may be looked at before it stops. Each
    # look spends alpha / looks on a regression (Bonferroni spending), so false regressions
    # stay at most alpha over all looks.
    looks: int = 1

    @property
    def alpha_per_look(self) -> float:
        """The significance level of one look."""
        return self.alpha / max(1, self.looks)

    def threshold_for(self, metric: str, default: float | None = None) -> float:
        """The practical threshold of one metric: its override, its own default, or the global one."""
        if metric in self.thresholds:
            return self.thresholds[metric]
        return self.threshold if default is None else default
