"""Sweeps: one scenario run at several load levels in order, stopped once the server saturates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchaction.config import Scenario
from benchaction.results import ERROR_RATE, THROUGHPUT, ScenarioResults, Trial

__all__ = ["GROWTH_FLOOR", "Point", "saturation", "sweep_points"]

GROWTH_FLOOR = 1.05
"""A closed-loop level that adds less than 5 % throughput over the previous one is saturated."""


@dataclass(frozen=True)
class Point:
    """One load level of a scenario: the whole scenario when it has no sweep."""

    scenario: Scenario
    name: str
    key: str | None = None  # "concurrency" or "rate"
    value: float | None = None

    @property
    def concurrency(self) -> int | None:
        """The concurrency this point overrides, if it is a concurrency level."""
        return int(self.value) if self.key == "concurrency" and self.value is not None else None

    @property
    def rate(self) -> float | None:
        """The rate this point overrides, if it is a rate level."""
        return self.value if self.key == "rate" else None

    def section(self, load: dict[str, Any]) -> ScenarioResults:
        """The point's empty section of the results document, labelled with its sweep level."""
        section: ScenarioResults = {"name": self.name, "load": load, "trials": []}
        if self.key is not None:
            section["sweep"] = {"of": self.scenario.name, "key": self.key, "value": self.value}
        verdict = self.scenario.verdict
        if verdict is not None:  # the comparison reads the head's choice from here
            section["verdict"] = {}
            if verdict.metrics:
                section["verdict"]["metrics"] = list(verdict.metrics)
            if verdict.threshold is not None:
                section["verdict"]["threshold"] = verdict.threshold
        return section


def _label(key: str, value: float) -> str:
    return f"c={int(value)}" if key == "concurrency" else f"rate={value:g}/s"


def sweep_points(scenario: Scenario) -> list[Point]:
    """The scenario's load levels, lowest first (its own level when it has no sweep)."""
    sweep = scenario.sweep
    if sweep is None:
        return [Point(scenario, scenario.name)]
    return [
        Point(scenario, f"{scenario.name} {_label(sweep.key, v)}", sweep.key, v)
        for v in sweep.values
    ]


def saturation(metrics: Trial, previous: Trial | None, scenario: Scenario) -> str | None:
    """Why the server is saturated at this level (so higher levels are not run), or None."""
    sweep = scenario.sweep
    max_errors = sweep.max_error_rate if sweep is not None else 0.05
    tolerance = scenario.limits.rate_tolerance
    error_rate = ERROR_RATE.read(metrics) or 0.0
    if error_rate > max_errors:
        return f"error rate {error_rate:.1%} is over the sweep's limit of {max_errors:.1%}"
    offered = metrics.get("offered_rps")
    if offered:
        achieved = float(metrics.get("achieved_send_rps") or 0.0)
        if achieved < offered * (1 - tolerance):
            return (
                f"the achieved send rate {achieved:,.1f}/s fell below the offered {offered:,.1f}/s"
            )
        not_sent = int(metrics.get("counts", {}).get("not_sent") or 0)
        if not_sent:
            return f"{not_sent} requests due in the window were still queued at its end"
    if not metrics.get("valid", True):
        return "the trial is invalid: " + "; ".join(metrics.get("invalid_reasons") or [])
    if offered:
        return None
    if previous is not None:
        before = THROUGHPUT.read(previous) or 0.0
        now = THROUGHPUT.read(metrics) or 0.0
        if before > 0 and now < before * GROWTH_FLOOR:
            return (
                f"throughput grew only {now / before - 1:+.1%} over the previous level "
                f"({before:,.1f} -> {now:,.1f} req/s)"
            )
    return None
