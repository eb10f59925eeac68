"""The history file of one config (`<config>.json`): its format, checks and bounded, idempotent adds.

The same text lives in a folder (`benchaction history --store DIR`) or on the history branch of
the user's repository; both go through `parse_history` and `add_record`, so a corrupt, foreign
or newer file is refused the same way everywhere, an older one is upgraded a step per version
(as results documents are), and nothing already stored is dropped by a failed add.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

from benchaction.errors import HistoryError
from benchaction.history.record import HistoryRecord
from benchaction.results import Migrations

__all__ = [
    "DEFAULT_MAX_RUNS",
    "FORMAT",
    "HISTORY_MIGRATIONS",
    "VERSION",
    "Added",
    "HistoryFile",
    "LocalStore",
    "add_record",
    "dump_history",
    "file_name",
    "new_history",
    "parse_history",
]

FORMAT = "bench-action-history"
VERSION = 1
DEFAULT_MAX_RUNS = 500
_RECORD_KEYS = ("key", "date", "config_hash", "fingerprint", "scenarios")
# History version 1 is the first; `migrate_v{n}_to_v{n+1}` steps join here, as for results.
HISTORY_MIGRATIONS = Migrations(key="version", current=VERSION, steps={})


class HistoryFile(TypedDict):
    """Every stored run of one config, oldest first."""

    format: str
    version: int
    config: str
    runs: list[HistoryRecord]


@dataclass(frozen=True)
class Added:
    """What an add did: appended, replaced a record with the same key, or found it already there."""

    how: Literal["added", "replaced", "unchanged"]
    dropped: int  # the oldest runs removed to stay within max_runs
    runs: int


def file_name(config: str) -> str:
    """The file of a config: its name, kept to characters safe in a path and a URL."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", config).strip("-.") or "config"
    return f"{safe}.json"


def new_history(config: str) -> HistoryFile:
    return {"format": FORMAT, "version": VERSION, "config": config, "runs": []}


def parse_history(
    text: str, where: str, migrations: Migrations = HISTORY_MIGRATIONS
) -> HistoryFile:
    """Read a history file, upgrading an older version step by step; refuse (never repair)
    anything this version cannot read in full."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}); the history store holds "
            "something else. Move the file aside (it is left as it is) and the next run starts a "
            "new history."
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise HistoryError(
            f"{where}: not a bench-action history file (format {found!r}, expected {FORMAT!r}); "
            "point the store at a folder or branch of its own (history-branch input, --store)"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < migrations.oldest:
        raise HistoryError(
            f"{where}: history version {version!r} is not one this bench-action reads "
            f"({migrations.oldest} to {migrations.current}); move the file aside and the next "
            "run starts a new history"
        )
    if version > migrations.current:
        raise HistoryError(
            f"{where}: written by a newer bench-action (history version {version}; this one "
            f"reads up to {migrations.current}). Use that bench-action (or newer) with this "
            "store; nothing was changed."
        )
    try:
        data = migrations.upgrade(data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise HistoryError(
            f"{where}: cannot upgrade history version {version} to {migrations.current} "
            f"({type(exc).__name__}: {exc}); the file was edited by hand or by another tool"
        ) from None
    runs = data.get("runs")
    if not isinstance(runs, list):
        raise HistoryError(f"{where}: `runs` is {type(runs).__name__}, expected a list")
    for i, run in enumerate(runs):
        missing = [k for k in _RECORD_KEYS if not isinstance(run, dict) or k not in run]
        if missing:
            raise HistoryError(
                f"{where}: run {i} lacks {', '.join(missing)}; the file was edited by hand or "
                "by another tool"
            )
    return {"format": FORMAT, "version": VERSION, "config": str(data.get("config")), "runs": runs}


def dump_history(history: HistoryFile) -> str:
    """Compact JSON, one run a line: small to store, and a diff on the branch shows one run."""
    head = {"format": history["format"], "version": history["version"], "config": history["config"]}
    runs = ",\n".join(json.dumps(r, sort_keys=True, separators=(",", ":")) for r in history["runs"])
    opening = json.dumps(head, sort_keys=True)[:-1]
    return f'{opening}, "runs": [\n{runs}\n]}}\n' if runs else f'{opening}, "runs": []}}\n'


def add_record(
    history: HistoryFile, record: HistoryRecord, max_runs: int = DEFAULT_MAX_RUNS
) -> tuple[HistoryFile, Added]:
    """A new history with `record` in date order (same key: replaced), the oldest beyond max_runs
    dropped. The input is not modified, so a failed write leaves the caller's copy intact."""
    if max_runs < 1:
        raise HistoryError(f"history-max-runs must be at least 1, not {max_runs}")
    runs = list(history["runs"])
    how: Literal["added", "replaced", "unchanged"] = "added"
    for i, old in enumerate(runs):
        if old["key"] == record["key"]:
            if old == record:
                return history, Added("unchanged", 0, len(runs))
            runs.pop(i)
            how = "replaced"
            break
    runs.append(record)
    runs.sort(key=lambda r: r["date"])
    dropped = max(0, len(runs) - max_runs)
    runs = runs[dropped:]
    out: HistoryFile = {**history, "runs": runs}
    return out, Added(how, dropped, len(runs))


class LocalStore:
    """A folder of history files (`<config>.json`), the local twin of the history branch."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, config: str) -> Path:
        return self.folder / file_name(config)

    def read(self, config: str) -> HistoryFile | None:
        path = self.path(config)
        if not path.is_file():
            return None
        return parse_history(path.read_text(encoding="utf-8"), str(path))

    def histories(self) -> Iterator[HistoryFile]:
        """Every history file in the folder; a file of another kind stops the reading with why."""
        if not self.folder.is_dir():
            raise HistoryError(f"{self.folder}: no such history store (a folder); add a run first")
        for path in sorted(self.folder.glob("*.json")):
            yield parse_history(path.read_text(encoding="utf-8"), str(path))

    def add(self, record: HistoryRecord, config: str, max_runs: int = DEFAULT_MAX_RUNS) -> Added:
        """Add a record to the config's file; written whole and renamed, so never half written."""
        history = self.read(config) or new_history(config)
        updated, added = add_record(history, record, max_runs)
        if added.how != "unchanged":
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.path(config), dump_history(updated))
        return added


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
