"""The base side taken from the history: main's comparable runs since its last change point.

Runs after the last change point measure the same main, so their trials pool into one base
side with more trials than any single run has. Only runs with the head's profile, runner and
config hash pool; they are the runs `fingerprint_differences` would find nothing against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchaction.history.record import HistoryRecord, record_of
from benchaction.history.series import Change, group_of, latest_change, series_of
from benchaction.results import COLD_START, Instance, ResultsDocument, ScenarioResults, Trial

__all__ = ["DEFAULT_POOL_RUNS", "Pooled", "comparable_runs", "pool_document", "pooled_base"]

DEFAULT_POOL_RUNS = 10


@dataclass(frozen=True)
class Pooled:
    """A base document rebuilt from stored runs, the runs it pools and main's last change."""

    document: ResultsDocument
    runs: tuple[HistoryRecord, ...]
    since: Change | None

    @property
    def trials(self) -> int:
        """The fewest pooled trials of any scenario."""
        return min((len(s["trials"]) for s in self.document["scenarios"]), default=0)

    def note(self) -> str:
        newest, oldest = self.runs[-1], self.runs[0]
        span = f"{_short(oldest['commit'])}..{_short(newest['commit'])}"
        where = (
            f"since main's last change at {_short(self.since.run['commit'])}" if self.since else ""
        )
        return (
            f"{len(self.runs)} main run(s) {span} pooled{(' ' + where) if where else ''} "
            f"({self.trials} trials a scenario, same runner, profile and config)"
        )


def _short(sha: str | None) -> str:
    return sha[:7] if sha else "?"


def comparable_runs(runs: Sequence[HistoryRecord], head: HistoryRecord) -> list[HistoryRecord]:
    """The stored runs the head can be compared with: same group and config, finished, not itself."""
    return [
        r
        for r in runs
        if group_of(r) == group_of(head)
        and r["config_hash"] == head["config_hash"]
        and r["status"] == "complete"
        and r["key"] != head["key"]
    ]


def _trials(runs: Sequence[HistoryRecord], scenario: str) -> list[Trial]:
    """Pooled trials: each stored value becomes a trial that carries its values, not histograms."""
    out: list[Trial] = []
    for run in runs:
        section = run["scenarios"].get(scenario)
        values = section["values"] if section is not None else {}
        for i in range(max((len(v) for v in values.values()), default=0)):
            out.append(
                {
                    "trial": len(out),
                    "valid": True,
                    "values": {m: v[i] for m, v in values.items() if i < len(v)},
                    "from_run": run["key"],
                }
            )
    return out


def pool_document(runs: Sequence[HistoryRecord], head: ResultsDocument) -> ResultsDocument:
    """A base document for `head` whose trials are the stored trials of `runs` (oldest first)."""
    newest = runs[-1]
    setup = newest["setup"]
    host: dict[str, Any] = dict(head["host"])
    host.update(setup.get("host") or {})
    scenarios: list[ScenarioResults] = []
    for section in head["scenarios"]:
        trials = _trials(runs, section["name"])
        stored = newest["scenarios"].get(section["name"])
        load = stored["load"] if stored is not None else section["load"]
        if trials:
            scenarios.append({"name": section["name"], "load": load, "trials": trials})
    instances: list[Instance] = []
    for run in runs:  # the run's cold starts, once (every scenario lists the same instances)
        first = next(iter(run["scenarios"].values()), None)
        for value in (first or {"values": {}})["values"].get(COLD_START.name, []):
            instances.append(
                {
                    "instance": len(instances),
                    "cold_start_s": value,
                    "container_id": None,
                    "pid": None,
                }
            )
    doc: ResultsDocument = {
        "schema_version": head["schema_version"],
        "tool": {"name": head["tool"]["name"], "version": newest["tool_version"]},
        "created_at": newest["date"],
        "status": "complete",
        "error": None,
        "config": {**head["config"], "hash": newest["config_hash"]},
        "git": {"sha": newest["commit"], "ref": newest["ref"], "dirty": False},
        "host": host,
        "server": {**head["server"], "image": newest["image"]},
        "instances": instances,
        "scenarios": scenarios,
    }
    if setup.get("gpu") is not None:
        doc["gpu"] = setup["gpu"]
    if setup.get("isolation") is not None:
        doc["isolation"] = setup["isolation"]
    return doc


def pooled_base(
    runs: Sequence[HistoryRecord],
    head: ResultsDocument,
    *,
    deciding: Sequence[str],
    max_runs: int = DEFAULT_POOL_RUNS,
) -> Pooled | None:
    """The head's comparable runs after the last change point of a deciding metric (at most
    `max_runs`, newest kept); None when the history has none."""
    me = record_of(head)
    comparable = comparable_runs(runs, me)
    if not comparable:
        return None
    since = latest_change(series_of(comparable), metrics=deciding)
    window = [r for r in comparable if since is None or r["date"] >= since.run["date"]]
    window = window[-max_runs:]
    document = pool_document(window, head)
    if not document["scenarios"]:
        return None
    return Pooled(document, tuple(window), since)
