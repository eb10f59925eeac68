"""History records and results documents with known levels, for the history's tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from benchaction.history import HistoryRecord, record_of
from benchaction.results import ResultsDocument
from tests.support.documents import two_scenario_doc

START = datetime(2026, 10, 1, tzinfo=UTC)


def sha(i: int) -> str:
    return f"{i:07x}" + "c" * 33


def when(i: int) -> str:
    return (START + timedelta(hours=6 * i)).isoformat(timespec="seconds")


def run_doc(i: int, factor: float = 1.0) -> ResultsDocument:
    """Run `i` of main: the two-scenario document (5 trials), latencies scaled by `factor`."""
    doc: dict[str, Any] = two_scenario_doc("predict", factor, 1.0, sha(i))
    doc["created_at"] = when(i)
    doc["git"]["ref"] = "refs/heads/main"
    return doc  # type: ignore[return-value]


def stored(i: int, factor: float = 1.0) -> HistoryRecord:
    """Run `i` as the action stores it (key from the run id, links set)."""
    return record_of(
        run_doc(i, factor),
        {"key": f"gh-{1000 + i}", "url": f"https://github.com/o/r/actions/runs/{1000 + i}"},
    )


def noisy_runs(
    levels: Sequence[float],
    *,
    cv: float = 0.02,
    seed: int = 7,
    fingerprint: str | None = None,
    profile: str = "pr",
    trials: int = 5,
    offset: int = 0,
) -> list[HistoryRecord]:
    """One record a level: latency p50 around the level (trial CV `cv`), throughput its inverse;
    the runner is that of `run_doc` unless `fingerprint` names another."""
    rng = np.random.default_rng(seed)
    out = []
    for n, level in enumerate(levels):
        i = n + offset
        p50 = [float(level * (1 + rng.normal(0, cv))) for _ in range(trials)]
        base = stored(i)
        record: HistoryRecord = {
            **base,
            "fingerprint": fingerprint or base["fingerprint"],
            "profile": profile,
            "scenarios": {
                "predict": {
                    "load": base["scenarios"]["predict"]["load"],
                    "values": {
                        "latency_p50_ms": p50,
                        "throughput_rps": [2000.0 / v for v in p50],
                        "error_rate": [0.0] * trials,
                    },
                }
            },
        }
        out.append(record)
    return out
