"""Results documents in and out: read, upgrade and check against the JSON Schema, write atomically.

Later runs read it as their baseline, so it is written even when a run fails half way
(`status: "partial"` with the error), and read back by any later bench-action: an older schema
version is migrated step by step (`migrations`), a newer one refused with what reads it.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import jsonschema

from benchaction.errors import ResultsError
from benchaction.results.document import SCHEMA_VERSION, ResultsDocument
from benchaction.results.migrations import RESULTS_MIGRATIONS, Migrations
from benchaction.results.recognize import results_version as _identify

__all__ = [
    "load_results",
    "results_schema",
    "upgrade_results",
    "validate_results",
    "write_results",
]


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
    """Raise ResultsError unless `doc` is a results document of this very schema version.

    For documents as written; a stored one is read with `upgrade_results`, which migrates it.
    """
    version = _identify(doc, source, RESULTS_MIGRATIONS)
    if version != SCHEMA_VERSION:
        raise ResultsError(
            f"{source}: results schema {version} is older than the {SCHEMA_VERSION} this "
            "bench-action writes; read it with load_results or upgrade_results, which migrate it"
        )
    _check_schema(doc, source, upgraded_from=None)


def upgrade_results(
    doc: Any, *, source: str = "results", migrations: Migrations | None = None
) -> ResultsDocument:
    """`doc` migrated step by step to this schema version and checked against its schema.

    Refuses (ResultsError) JSON of another tool and documents of a newer bench-action, saying
    which bench-action reads them; `doc` itself is left as it was. `migrations` defaults to
    RESULTS_MIGRATIONS as it is when called.
    """
    migrations = migrations or RESULTS_MIGRATIONS
    version = _identify(doc, source, migrations)
    try:
        upgraded = migrations.upgrade(doc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ResultsError(
            f"{source}: cannot upgrade results schema {version} to {migrations.current} "
            f"({type(exc).__name__}: {exc}); the file does not match schema {version}: it was "
            "edited by hand or cut short, so re-run the benchmark that wrote it"
        ) from None
    _check_schema(
        upgraded, source, upgraded_from=version if version != migrations.current else None
    )
    return cast(ResultsDocument, upgraded)


def _check_schema(doc: dict[str, Any], source: str, *, upgraded_from: int | None) -> None:
    validator = jsonschema.Draft202012Validator(results_schema())
    problems = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if problems:
        lines = [
            f"  - {'/'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
            for e in problems[:10]
        ]
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        after = (
            "" if upgraded_from is None else f" (after upgrading it from schema {upgraded_from})"
        )
        raise ResultsError(
            f"{source}: does not match the results schema{after}:\n" + "\n".join(lines) + more
        )


def load_results(path: str | Path, *, migrations: Migrations | None = None) -> ResultsDocument:
    """Read, upgrade and check a results file; every failure is a ResultsError naming the file."""
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
    return upgrade_results(doc, source=str(p), migrations=migrations)


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
