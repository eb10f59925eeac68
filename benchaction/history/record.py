"""One main-branch run, compacted for the history: per-trial values and where they came from.

A record keeps what a later comparison needs (every valid trial's value of every compared
metric, the scenario's load, the setup that must match) and what a reader needs to find the
run again (commit, date, links, image digest), and nothing else: a thousand runs stay a few MB.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypedDict

from benchaction.results import ResultsDocument, document_values

__all__ = ["HistoryRecord", "RunLinks", "ScenarioRecord", "record_of", "runner_fingerprint"]

_HOST_KEYS = ("cpu_model", "cores", "docker_version")


class ScenarioRecord(TypedDict):
    """One scenario of a run: its load settings and, per metric, the valid trials' values."""

    load: dict[str, Any]
    values: dict[str, list[float]]


class HistoryRecord(TypedDict):
    """One run in the history; `key` makes adding it again a no-op (or a replacement)."""

    key: str
    commit: str | None
    ref: str | None
    date: str
    url: str | None
    commit_url: str | None
    profile: str | None
    config_hash: str
    fingerprint: str
    setup: dict[str, Any]
    image: dict[str, Any] | None
    tool_version: str
    status: str
    scenarios: dict[str, ScenarioRecord]


class RunLinks(TypedDict, total=False):
    """Where the run can be seen: the Actions run and the commit (both optional locally)."""

    key: str
    url: str
    commit_url: str


def _setup(doc: ResultsDocument) -> dict[str, Any]:
    """What must match for two runs to be compared: host, GPUs and CPU isolation."""
    host = {k: doc["host"].get(k) for k in _HOST_KEYS}
    return {"host": host, "gpu": doc.get("gpu"), "isolation": doc.get("isolation")}


def runner_fingerprint(setup: dict[str, Any]) -> str:
    """A short name for a setup, so the dashboard can filter by runner and series never mix."""
    iso = setup.get("isolation") or {}
    split = {k: len(iso.get(k) or ()) for k in ("server_cpus", "load_cpus")}
    canonical = {"host": setup.get("host"), "gpu": setup.get("gpu"), "split": split}
    blob = json.dumps(canonical, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:8]


def _six(value: float) -> float:
    """Six significant digits: far below any trial's noise, and a third of the file's size."""
    return float(f"{value:.6g}")


def _default_key(doc: ResultsDocument) -> str:
    """Locally there is no run id: the same results file gives the same key, so adding is idempotent."""
    git = doc.get("git") or {}
    blob = json.dumps(
        [doc["created_at"], doc["config"]["name"], doc["config"]["hash"], git.get("sha")],
        sort_keys=True,
    ).encode()
    return "local-" + hashlib.sha256(blob).hexdigest()[:16]


def _image(doc: ResultsDocument) -> dict[str, Any] | None:
    image = doc["server"].get("image")
    if not image:
        return None
    keep = ("ref", "id", "digest", "size_bytes", "source")
    return {k: image[k] for k in keep if image.get(k) is not None}


def record_of(doc: ResultsDocument, links: RunLinks | None = None) -> HistoryRecord:
    """The compact record of a finished run: every compared metric, load and resource alike, of
    valid trials only (as every comparison reads them)."""
    links = links or {}
    git = doc.get("git") or {}
    setup = _setup(doc)
    scenarios: dict[str, ScenarioRecord] = {}
    measured = document_values(doc)
    for section in doc["scenarios"]:
        if section.get("skipped") or section["name"] not in measured:
            continue
        values = {
            name: [_six(v) for v in found] for name, found in measured[section["name"]].items()
        }
        scenarios[section["name"]] = {"load": dict(section["load"]), "values": values}
    return {
        "key": links.get("key") or _default_key(doc),
        "commit": git.get("sha"),
        "ref": git.get("ref"),
        "date": doc["created_at"],
        "url": links.get("url"),
        "commit_url": links.get("commit_url"),
        "profile": doc["config"].get("profile"),
        "config_hash": doc["config"]["hash"],
        "fingerprint": runner_fingerprint(setup),
        "setup": setup,
        "image": _image(doc),
        "tool_version": doc["tool"]["version"],
        "status": doc["status"],
        "scenarios": scenarios,
    }
