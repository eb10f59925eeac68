"""The dashboard's data from history files: every series of every config, its changes marked.

The groups (profile x runner) a series was split into for change points are merged back here
into one line a metric, in date order; the page filters them by profile and runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchaction.history.series import Change, Series, changes_of, latest_change, series_of
from benchaction.history.store import HistoryFile
from benchaction.report import DashboardData, write_site
from benchaction.results import METRICS

__all__ = ["build_site", "dashboard_data"]


def _point(series: Series, i: int) -> dict[str, Any]:
    run = series.runs[i]
    return {
        "commit": run["commit"] or "",
        "date": run["date"],
        "url": run["url"],
        "commit_url": run["commit_url"],
        "profile": run["profile"] or "",
        "fingerprint": run["fingerprint"],
        "center": series.centers[i],
        "low": series.lows[i],
        "high": series.highs[i],
        "n": series.counts[i],
    }


def _merged(parts: Sequence[Series]) -> dict[str, Any]:
    """One line for a scenario x metric: the groups' points in date order, change points mapped."""
    entries: list[tuple[str, int, Series, int]] = []
    for k, series in enumerate(parts):
        entries.extend((series.runs[i]["date"], k, series, i) for i in range(len(series.runs)))
    entries.sort(key=lambda e: (e[0], e[1]))
    position = {(id(s), i): n for n, (_, _, s, i) in enumerate(entries)}
    marks = []
    for series in parts:
        for change in changes_of(series):
            marks.append(
                {
                    "index": position[(id(series), change.index)],
                    "commit": change.run["commit"] or "",
                    "date": change.run["date"],
                    "change": change.change,
                    "worse": change.worse,
                }
            )
    first = parts[0]
    return {
        "scenario": first.scenario,
        "metric": first.metric.name,
        "label": first.metric.label,
        "unit": first.metric.unit,
        "higher_is_better": first.metric.higher_is_better,
        "points": [_point(s, i) for _, _, s, i in entries],
        "change_points": sorted(marks, key=lambda m: m["index"]),
    }


def _latest(change: Change | None) -> dict[str, Any] | None:
    return None if change is None else change.to_json()


def dashboard_data(
    histories: Sequence[HistoryFile], *, title: str, tool_version: str
) -> DashboardData:
    """Every config's series (metrics in their declared order) and its latest change."""
    configs: list[dict[str, Any]] = []
    for history in histories:
        series = series_of(history["runs"])
        by_line: dict[tuple[str, str], list[Series]] = {}
        for s in series:
            by_line.setdefault((s.scenario, s.metric.name), []).append(s)
        order = {m.name: i for i, m in enumerate(METRICS)}
        scenarios = list(dict.fromkeys(s.scenario for s in series))
        keys = sorted(by_line, key=lambda k: (scenarios.index(k[0]), order.get(k[1], len(order))))
        lines = [_merged(by_line[k]) for k in keys]
        newest = history["runs"][-1] if history["runs"] else None
        group = (newest["profile"], newest["fingerprint"]) if newest else None
        configs.append(
            {
                "name": history["config"],
                "runs": len(history["runs"]),
                "latest_change": _latest(latest_change(series, group=group)),
                "series": lines,
            }
        )
    changes = [c["latest_change"] for c in configs if c["latest_change"]]
    data: dict[str, Any] = {
        "title": title,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool_version": tool_version,
        "latest_change": max(changes, key=lambda c: c["date"]) if changes else None,
        "configs": configs,
    }
    return data  # type: ignore[return-value]


def build_site(
    histories: Sequence[HistoryFile], out_dir: Path, *, title: str, tool_version: str
) -> Path:
    """Write the static dashboard for these histories; the index page's path."""
    return write_site(dashboard_data(histories, title=title, tool_version=tool_version), out_dir)
