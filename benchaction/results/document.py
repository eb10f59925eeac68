"""The shape of a results document, as types: what `flow.measure` writes and everyone else reads.

TypedDicts, not classes: the document is JSON on disk and in artifacts, and these types let
mypy check every key read along the way without a conversion layer that could drift from the
JSON Schema (`schemas/results-v1.schema.json`, which stays the authority on values).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypedDict

from benchaction.results.accuracy import AccuracyResults

__all__ = [
    "SCHEMA_VERSION",
    "TOOL_NAME",
    "ConfigSection",
    "Instance",
    "ResultsDocument",
    "ScenarioResults",
    "ServerSection",
    "Status",
    "SweepLabel",
    "Trial",
    "VerdictChoice",
    "new_document",
    "unfinished",
]

SCHEMA_VERSION = 1
TOOL_NAME = "bench-action"

Status = Literal["running", "complete", "partial"]

Trial = dict[str, Any]
"""One scenario trial: the engine's trial metrics (docs/results.md) plus `trial`, `instance` and
`telemetry`. Compared values are read through `results.metrics`, never by key."""


class Tool(TypedDict):
    name: str
    version: str


class ConfigSection(TypedDict):
    """Which config ran: its name (the comment's marker), file, profile and hash."""

    name: str
    file: str
    profile: str | None
    hash: str
    settings: dict[str, Any]


class ServerSection(TypedDict):
    runtime: str
    source: str
    image: dict[str, Any] | None
    url: str | None


class Instance(TypedDict):
    """One server instance (a fresh container or process per trial, unless `reuse`)."""

    instance: int
    cold_start_s: float | None
    container_id: str | None
    pid: int | None


class SweepLabel(TypedDict):
    of: str
    key: str
    value: float | None


class VerdictChoice(TypedDict, total=False):
    """The scenario's own deciding metrics and margin (bench.yml `verdict:`)."""

    metrics: list[str]
    threshold: float


class ScenarioResults(TypedDict):
    """One scenario (or one sweep level) with its load settings and every trial measured."""

    name: str
    load: dict[str, Any]
    trials: list[Trial]
    sweep: NotRequired[SweepLabel]
    skipped: NotRequired[str]
    verdict: NotRequired[VerdictChoice]
    accuracy: NotRequired[AccuracyResults]  # the labelled set scored after the trials


class ResultsDocument(TypedDict):
    """One run: provenance (tool, config, git, host, GPU, server), instances and scenarios."""

    schema_version: int
    tool: Tool
    created_at: str
    status: Status
    error: str | None
    config: ConfigSection
    git: dict[str, Any] | None
    host: dict[str, Any]
    server: ServerSection
    gpu: NotRequired[dict[str, Any]]
    isolation: NotRequired[dict[str, Any]]  # mode, server_cpus, load_cpus, reason
    instances: list[Instance]
    scenarios: list[ScenarioResults]


def new_document(
    *,
    tool_version: str,
    config: ConfigSection,
    git: dict[str, Any] | None,
    host: dict[str, Any],
    server: ServerSection,
) -> ResultsDocument:
    """An empty document for one run; the run fills instances and scenarios as trials end."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "running",
        "error": None,
        "config": config,
        "git": git,
        "host": host,
        "server": server,
        "instances": [],
        "scenarios": [],
    }


def unfinished(doc: ResultsDocument) -> str | None:
    """Why a run's results are partial (cancelled, crashed, still running), or None when complete:
    partial results are kept for the person who ran them, never compared or stored as main's."""
    if doc["status"] == "complete":
        return None
    error = f": {doc['error']}" if doc.get("error") else ""
    return f"the run did not finish (status {doc['status']}{error})"
