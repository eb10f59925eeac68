"""The history's steps in order, for the CLI's folder store: add a run, list changes, build the site.

The action's branch store runs the same steps through `flow.main_history`; both read and write
history files only through `history.store`, so a file they cannot read is never overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchaction import __version__
from benchaction.errors import HistoryError
from benchaction.history import (
    Added,
    HistoryFile,
    HistoryRecord,
    LocalStore,
    RunLinks,
    changes_of,
    record_of,
    series_of,
)
from benchaction.results import ResultsDocument, load_results, unfinished
from benchaction.stats import CHANGE_POINTS_MIN_LENGTH

__all__ = [
    "HistoryNote",
    "add_run",
    "build_dashboard",
    "changes_json",
    "fingerprint_note",
    "write_changes",
]


@dataclass(frozen=True)
class HistoryNote:
    """What adding a run did, in words for the log."""

    added: Added
    record: HistoryRecord
    notes: tuple[str, ...]

    def line(self, where: str) -> str:
        r = self.added
        what = {
            "added": "added to",
            "replaced": "replaced in",
            "unchanged": "already in",
        }[r.how]
        commit = (self.record["commit"] or "no commit")[:12]
        dropped = f"; {r.dropped} oldest run(s) dropped (max runs)" if r.dropped else ""
        return (
            f"history: run {self.record['key']} ({commit}) {what} {where}: {r.runs} run(s){dropped}"
        )


def fingerprint_note(history: HistoryFile | None, record: HistoryRecord) -> str | None:
    """A run on another runner or profile starts its own series; say so rather than mix them."""
    if history is None or not history["runs"]:
        return None
    last = history["runs"][-1]
    if last["fingerprint"] != record["fingerprint"]:
        return (
            f"this run's runner fingerprint {record['fingerprint']} differs from the last stored "
            f"run's {last['fingerprint']} ({_setup_words(last, record)}): it starts a series of "
            "its own; change points and baselines never mix runners"
        )
    if last["profile"] != record["profile"]:
        return (
            f"profile {record['profile']!r} differs from the last stored run's "
            f"{last['profile']!r}: a series of its own"
        )
    return None


def _setup_words(a: HistoryRecord, b: HistoryRecord) -> str:
    diffs = []
    for part in ("host", "gpu", "isolation"):
        if a["setup"].get(part) != b["setup"].get(part):
            diffs.append(part)
    return ", ".join(diffs) + " differ" if diffs else "setup differs"


def _finished(doc: ResultsDocument, where: Path) -> None:
    why = unfinished(doc)
    if why is not None:
        raise HistoryError(f"{where}: {why}; only complete runs join the history")


def add_run(results: Path, store: Path, *, max_runs: int, links: RunLinks) -> HistoryNote:
    """Add one results file to the folder store (idempotent: the same run is added once)."""
    doc = load_results(results)
    _finished(doc, results)
    record = record_of(doc, links)
    local = LocalStore(store)
    config = doc["config"]["name"]
    before = local.read(config)
    note = fingerprint_note(before, record)
    added = local.add(record, config, max_runs)
    return HistoryNote(added, record, (note,) if note else ())


def _histories(store: Path) -> list[HistoryFile]:
    histories = list(LocalStore(store).histories())
    if not histories:
        raise HistoryError(f"{store}: the history store is empty; add a run with `history add`")
    return histories


def changes_json(store: Path) -> dict[str, Any]:
    """Every change point of every config, oldest first, and each config's runs count."""
    out = []
    for history in _histories(store):
        changes = [c for s in series_of(history["runs"]) for c in changes_of(s)]
        changes.sort(key=lambda c: (c.run["date"], c.scenario, c.metric.name))
        out.append(
            {
                "config": history["config"],
                "runs": len(history["runs"]),
                "changes": [c.to_json() for c in changes],
                "note": _short_history_note(history),
            }
        )
    return {"tool_version": __version__, "configs": out}


def _short_history_note(history: HistoryFile) -> str | None:
    n = len(history["runs"])
    if n < CHANGE_POINTS_MIN_LENGTH:
        return (
            f"{n} run(s): change points need at least {CHANGE_POINTS_MIN_LENGTH} runs of a "
            "runner and profile, with runs on both sides of a change"
        )
    return None


def build_dashboard(store: Path, out_dir: Path, *, title: str) -> Path:
    """Write the static dashboard of every history in the folder store."""
    from benchaction.history.site import build_site  # the renderer loads only when building

    return build_site(_histories(store), out_dir, title=title, tool_version=__version__)


def write_changes(store: Path, out: Path) -> dict[str, Any]:
    data = changes_json(store)
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data
