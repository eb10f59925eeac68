"""A history as series (one per scenario x metric x profile x runner) and their change points.

Runs of another profile or runner measure something else, so change points are found within
one group and never across; the dashboard merges the groups back and filters them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchaction.history.record import HistoryRecord
from benchaction.results import MetricDef, metric_by_name
from benchaction.stats import ChangePoint, center, change_points

__all__ = [
    "Change",
    "Group",
    "Series",
    "changes_of",
    "describe_change",
    "group_of",
    "latest_change",
    "series_of",
]

Group = tuple[str | None, str]  # (profile, runner fingerprint)


def group_of(record: HistoryRecord) -> Group:
    return (record["profile"], record["fingerprint"])


@dataclass(frozen=True)
class Series:
    """One metric of one scenario over the runs of one group, oldest first, with its changes."""

    scenario: str
    metric: MetricDef
    group: Group
    runs: tuple[HistoryRecord, ...]
    centers: tuple[float, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    counts: tuple[int, ...]
    changes: tuple[ChangePoint, ...]


@dataclass(frozen=True)
class Change:
    """A change point in words and links: where main moved, by how much, for better or worse."""

    scenario: str
    metric: MetricDef
    group: Group
    run: HistoryRecord  # the first run after the change
    index: int  # its position in the series
    change: float  # relative (after / before - 1); for a rate, the difference in its units
    worse: bool

    @property
    def text(self) -> str:
        return describe_change(self.metric, self.change, self.run["commit"])

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "metric": self.metric.name,
            "label": self.metric.label,
            "profile": self.group[0],
            "fingerprint": self.group[1],
            "commit": self.run["commit"],
            "date": self.run["date"],
            "url": self.run["url"],
            "index": self.index,
            "change": self.change,
            "worse": self.worse,
            "text": self.text,
        }


def describe_change(metric: MetricDef, change: float, commit: str | None) -> str:
    """'latency p50 is 12.0 % slower since abc1234' (times read slower/faster, the rest
    higher/lower; a rate such as the error rate moves in percentage points)."""
    up = change > 0
    words = ("slower", "faster") if metric.unit == "ms" else ("higher", "lower")
    since = f" since {commit[:7]}" if commit else ""
    size = f"{abs(change) * 100:.1f} %" if metric.log_scale else f"{abs(change) * 100:.2f} pp"
    return f"{metric.label} is {size} {words[0] if up else words[1]}{since}"


def _known(name: str) -> MetricDef | None:
    try:
        return metric_by_name(name)
    except KeyError:  # a metric of a newer version: kept in the store, not charted here
        return None


MIN_MAGNITUDE = 0.02
"""Smaller steps are left unmarked: runner noise moves a run's center by 1-2 % (docs/history.md)."""


def series_of(
    runs: Sequence[HistoryRecord],
    *,
    max_pvalue: float = 0.001,
    min_magnitude: float = MIN_MAGNITUDE,
) -> list[Series]:
    """Every series of a history, each with its change points (E-divisive means)."""
    cells: dict[tuple[str, str, Group], list[tuple[HistoryRecord, list[float]]]] = {}
    for run in runs:
        for scenario, section in run["scenarios"].items():
            for name, values in section["values"].items():
                if values:
                    cells.setdefault((scenario, name, group_of(run)), []).append((run, values))
    out = []
    for (scenario, name, group), points in cells.items():
        metric = _known(name)
        if metric is None:
            continue
        centers = [center(v, log_scale=metric.log_scale) for _, v in points]
        found = change_points(centers, max_pvalue=max_pvalue, min_magnitude=min_magnitude)
        out.append(
            Series(
                scenario=scenario,
                metric=metric,
                group=group,
                runs=tuple(r for r, _ in points),
                centers=tuple(centers),
                lows=tuple(min(v) for _, v in points),
                highs=tuple(max(v) for _, v in points),
                counts=tuple(len(v) for _, v in points),
                changes=tuple(found),
            )
        )
    return out


def changes_of(series: Series) -> list[Change]:
    """A series' change points as changes, oldest first."""
    out = []
    for cp in series.changes:
        # Ratios compare relatively; a rate (the error rate, often 0) by its difference.
        size = cp.change if series.metric.log_scale else cp.mean_after - cp.mean_before
        worse = size < 0 if series.metric.higher_is_better else size > 0
        out.append(
            Change(
                series.scenario,
                series.metric,
                series.group,
                series.runs[cp.index],
                cp.index,
                size,
                worse,
            )
        )
    return out


def latest_change(
    series: Sequence[Series], *, group: Group | None = None, metrics: Sequence[str] = ()
) -> Change | None:
    """The most recent change point (of `group` and `metrics` when given); the larger on a tie."""
    found = [
        c
        for s in series
        if (group is None or s.group == group) and (not metrics or s.metric.name in metrics)
        for c in changes_of(s)
    ]
    if not found:
        return None
    return max(found, key=lambda c: (c.run["date"], abs(c.change)))
