"""GitHub Actions workflow commands: step outputs, job summary, log groups, annotations, masks.

Written in-house rather than on `actions_toolkit.core`: that package reads `GITHUB_OUTPUT` from
os.environ itself, always prints to sys.stdout, has no job-summary API and an async `group`.
Here the caller passes the file paths and the stream, so tests need no environment.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TextIO

__all__ = [
    "SUMMARY_LIMIT",
    "add_mask",
    "append_summary",
    "error",
    "escape_data",
    "escape_property",
    "group",
    "notice",
    "set_output",
    "warning",
]

# The runner refuses a step summary above 1 MiB (FileCommandManager.AttachmentSizeLimit).
SUMMARY_LIMIT = 1024 * 1024
TRUNCATED_NOTE = (
    "\n\n> [!WARNING]\n> This summary was truncated: it exceeded GitHub's {limit} byte limit.\n"
)


def escape_data(text: str) -> str:
    """Escape a command's message the way the runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value; `:` and `,` would otherwise end the property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, properties: Mapping[str, object] | None = None) -> str:
    """One `::name k=v,k=v::message` line (without newline); None-valued properties are left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def set_output(path: str | Path, name: str, value: str) -> None:
    """Append `name` to the GITHUB_OUTPUT file in heredoc form with a random delimiter."""
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in name or delimiter in value:
        raise ValueError(f"output {name!r}: the value contains the delimiter {delimiter!r}")
    if not name or "\n" in name or "\r" in name:
        raise ValueError(f"output name {name!r} must be one non-empty line")
    with open(path, "a", encoding="utf-8", newline="\n") as stream:
        stream.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def truncate_summary(markdown: str, limit: int = SUMMARY_LIMIT) -> str:
    """`markdown` itself if it fits in `limit` UTF-8 bytes, else its start plus a visible note."""
    if len(markdown.encode("utf-8")) <= limit:
        return markdown
    note = TRUNCATED_NOTE.format(limit=limit)
    room = limit - len(note.encode("utf-8"))
    if room < 0:
        raise ValueError(f"summary limit {limit} is smaller than the truncation note")
    head = markdown.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return head + note


def append_summary(path: str | Path, markdown: str, limit: int = SUMMARY_LIMIT) -> str:
    """Append markdown to the GITHUB_STEP_SUMMARY file, keeping the file under `limit` bytes.

    Returns what was written, so the caller can tell whether it was truncated.
    """
    target = Path(path)
    used = target.stat().st_size if target.exists() else 0
    if used >= limit:
        return ""
    text = truncate_summary(markdown, limit - used)
    with open(target, "a", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
    return text


@contextlib.contextmanager
def group(title: str, stream: TextIO | None = None) -> Iterator[None]:
    """Fold the log lines printed inside the block under `title`."""
    out = stream or sys.stdout
    print(command("group", title), file=out, flush=True)
    try:
        yield
    finally:
        print("::endgroup::", file=out, flush=True)


def _annotate(
    kind: str,
    message: str,
    title: str | None,
    file: str | None,
    line: int | None,
    stream: TextIO | None,
) -> str:
    text = command(kind, message, {"title": title, "file": file, "line": line})
    print(text, file=stream or sys.stdout, flush=True)
    return text


def notice(
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    stream: TextIO | None = None,
) -> str:
    """A notice annotation on the run (and the file/line when given); returns the line printed."""
    return _annotate("notice", message, title, file, line, stream)


def warning(
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    stream: TextIO | None = None,
) -> str:
    """A warning annotation; returns the line printed."""
    return _annotate("warning", message, title, file, line, stream)


def error(
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    stream: TextIO | None = None,
) -> str:
    """An error annotation (does not fail the step by itself); returns the line printed."""
    return _annotate("error", message, title, file, line, stream)


def add_mask(value: str, stream: TextIO | None = None) -> None:
    """Ask the runner to mask `value` in the rest of the log, one line at a time."""
    out = stream or sys.stdout
    for piece in value.splitlines() or [value]:
        if piece.strip():
            print(command("add-mask", piece), file=out, flush=True)
