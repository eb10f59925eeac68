"""What a JSON document handed to us as results is: ours (of which version), or something else.

A wrong file (another tool's JSON, a GitHub error page saved as the artifact) or one of a newer
bench-action must say so and what to use instead, not "schema version None".
"""

from __future__ import annotations

import re
from typing import Any

from benchaction import __version__
from benchaction.errors import ResultsError
from benchaction.results.document import TOOL_NAME
from benchaction.results.migrations import Migrations

__all__ = ["results_version"]

_FIX = (
    "bench-action compares the results.json that `benchaction run` writes (the action's "
    "results-path output): check the file name, or the artifact that baseline-artifact names"
)
# Files people point us at by mistake, told apart by keys they always have.
_LOOKS_LIKE: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"message", "documentation_url"}), "a GitHub API error"),
    (frozenset({"machine_info", "benchmarks"}), "pytest-benchmark output"),
    (frozenset({"request_throughput", "mean_ttft_ms"}), "`vllm bench serve` output"),
    (frozenset({"format", "runs"}), "a bench-action history file"),
)
_MAX_KEYS = 8
_VERSION_TEXT = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}")


def results_version(doc: Any, source: str, migrations: Migrations) -> int:
    """The schema version of a bench-action results document that `migrations` can upgrade.

    Anything else raises ResultsError naming `source`: another tool's JSON (with its top-level
    keys), a newer bench-action's document (with the bench-action that reads it), a broken one.
    """
    if not isinstance(doc, dict):
        raise ResultsError(
            f"{source}: not a bench-action results document (the top level is "
            f"{_json_kind(doc)}, not an object); {_FIX}"
        )
    tool = doc.get("tool")
    name = tool.get("name") if isinstance(tool, dict) else None
    if (name is not None and name != TOOL_NAME) or (
        migrations.key not in doc and name != TOOL_NAME
    ):
        raise ResultsError(f"{source}: not a bench-action results document ({_looks(doc)}); {_FIX}")
    version = doc.get(migrations.key)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ResultsError(
            f"{source}: a bench-action results document without a usable {migrations.key} "
            f"(found {_short(version)}); it was edited by hand or cut short: re-run the "
            "benchmark that wrote it"
        )
    if version > migrations.current:
        raise ResultsError(_newer(source, version, tool, migrations.current))
    if version < migrations.oldest:
        raise ResultsError(
            f"{source}: results schema {version} is older than any this bench-action "
            f"{__version__} can upgrade (the oldest is {migrations.oldest}); re-run the "
            "benchmark that wrote it with this bench-action"
        )
    return version


def _newer(source: str, version: int, tool: Any, current: int) -> str:
    written = tool.get("version") if isinstance(tool, dict) else None
    if isinstance(written, str) and _VERSION_TEXT.fullmatch(written):
        by, use = f"bench-action {written}", f"bench-action >= {written}"
    else:
        by, use = "a newer bench-action", "the bench-action release that wrote it (or newer)"
    return (
        f"{source}: written by {by} (results schema {version}); this bench-action "
        f"{__version__} reads up to {current}; use {use} to compare with it"
    )


def _looks(doc: dict[str, Any]) -> str:
    """What the document looks like: a known kind when its keys say so, and its top-level keys."""
    keys = list(doc)
    shown = ", ".join(_short(k) for k in keys[:_MAX_KEYS])
    if len(keys) > _MAX_KEYS:
        shown += f", ... ({len(keys)} keys)"
    tool = doc.get("tool")
    name = tool.get("name") if isinstance(tool, dict) else None
    kind = next((what for need, what in _LOOKS_LIKE if need <= doc.keys()), None)
    if kind == "a GitHub API error" and isinstance(doc.get("message"), str):
        kind += f" ({_short(doc['message'])})"
    if kind is None and name is not None:
        kind = f"written by {_short(name)}"
    head = f"it looks like {kind}" if kind else "it looks like JSON of another tool"
    return f"{head}; top-level keys: {shown}" if keys else f"{head}; an empty object"


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
