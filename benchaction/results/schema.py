"""Results documents in and out: read and check against the JSON Schema, write atomically.

Later runs read it as their baseline, so it is written even when a run fails half way
(`status: "partial"` with the error), and read back only if its schema version is ours.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from benchaction.errors import ResultsError
from benchaction.results.document import SCHEMA_VERSION, ResultsDocument

__all__ = ["load_results", "results_schema", "validate_results", "write_results"]


@cache
def results_schema() -> dict[str, Any]:
    """The JSON Schema of the version this code writes (shipped as package data)."""
    text = (
        resources.files("benchaction")
        .joinpath(f"results/schemas/results-v{SCHEMA_VERSION}.schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_results(doc: Any, *, source: str = "results") -> None:
    """Raise ResultsError unless `doc` is a results document of this schema version."""
    if not isinstance(doc, dict):
        raise ResultsError(
            f"{source}: not a bench-action results document (top level is not an object)"
        )
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsError(
            f"{source}: results schema version {version!r} cannot be read by this bench-action, "
            f"which reads version {SCHEMA_VERSION}; re-run the baseline with a matching "
            "bench-action version"
        )
    validator = jsonschema.Draft202012Validator(results_schema())
    problems = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if problems:
        lines = [
            f"  - {'/'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
            for e in problems[:10]
        ]
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise ResultsError(
            f"{source}: does not match the results schema:\n" + "\n".join(lines) + more
        )


def load_results(path: str | Path) -> ResultsDocument:
    """Read and check a results file; every failure is a ResultsError naming the file."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{p}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{p}: cannot read results file: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    validate_results(doc, source=str(p))
    result: ResultsDocument = doc
    return result


def write_results(doc: ResultsDocument, path: str | Path) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves half a baseline behind."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
            f.write("\n")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
