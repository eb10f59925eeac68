"""Dashboard data for tests: a small seeded history with two profiles, two runners and shifts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from benchaction.report import (
    DashboardChangePoint,
    DashboardConfig,
    DashboardData,
    DashboardPoint,
    DashboardSeries,
    LatestChange,
)

REPO = "https://github.com/acme/model"
METRICS = (
    ("latency_p50_ms", "latency p50", "ms", False, 12.0),
    ("throughput_rps", "throughput", "req/s", True, 850.0),
)


def sha(i: int) -> str:
    """A 40-hex commit id that differs per run."""
    return f"{(i * 2654435761) % 16**8:08x}" * 5


def history_point(
    i: int, value: float, *, profile: str = "pr", fingerprint: str = "a1b2c3d4"
) -> DashboardPoint:
    """One run's point: run i on 2026-11-01 + i hours, its links, and a +/-3 % trial spread."""
    return {
        "commit": sha(i),
        "date": (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i)).isoformat(),
        "url": f"{REPO}/actions/runs/{1000 + i}",
        "commit_url": f"{REPO}/commit/{sha(i)}",
        "profile": profile,
        "fingerprint": fingerprint,
        "center": value,
        "low": value * 0.97,
        "high": value * 1.03,
        "n": 5,
    }


def history_config(name: str, runs: int, seed: int, shift_at: int | None) -> DashboardConfig:
    """A config whose every series shifts by +12 % (worse for latency) from run `shift_at`.

    Every fourth run is a `full` profile run and every third runs on runner `e5f6a7b8`.
    """
    rng = random.Random(seed)
    series: list[DashboardSeries] = []
    latest: LatestChange | None = None
    for scenario in ("default", "burst"):
        for metric, label, unit, higher_is_better, base in METRICS:
            points = [
                history_point(
                    i,
                    base
                    * (1.12 if shift_at is not None and i >= shift_at else 1.0)
                    * rng.uniform(0.98, 1.02),
                    profile="full" if i % 4 == 3 else "pr",
                    fingerprint="e5f6a7b8" if i % 3 == 2 else "a1b2c3d4",
                )
                for i in range(runs)
            ]
            changes: list[DashboardChangePoint] = []
            if shift_at is not None:
                worse = not higher_is_better
                p = points[shift_at]
                changes.append(
                    {
                        "index": shift_at,
                        "commit": p["commit"],
                        "date": p["date"],
                        "change": 0.12,
                        "worse": worse,
                    }
                )
                latest = {
                    "scenario": scenario,
                    "metric": metric,
                    "label": label,
                    "commit": p["commit"],
                    "date": p["date"],
                    "url": p["url"],
                    "change": 0.12,
                    "worse": worse,
                    "text": f"{label} is 12.0 % {'slower' if worse else 'faster'} since {p['commit'][:7]}",
                }
            series.append(
                {
                    "scenario": scenario,
                    "metric": metric,
                    "label": label,
                    "unit": unit,
                    "higher_is_better": higher_is_better,
                    "points": points,
                    "change_points": changes,
                }
            )
    return {"name": name, "runs": runs, "latest_change": latest, "series": series}


def history_data(runs: int = 24, seed: int = 7) -> DashboardData:
    """Two configs of `runs` runs: one with a shift two thirds in, one without change points."""
    shifted = history_config("numpy-mlp", runs, seed, shift_at=runs * 2 // 3)
    steady = history_config("tiny-llm", runs, seed + 1, shift_at=None)
    return {
        "title": "bench-action history: acme/model",
        "generated_at": "2026-12-03T10:00:00+00:00",
        "tool_version": "0.1.0",
        "latest_change": shifted["latest_change"],
        "configs": [shifted, steady],
    }
