"""Workflow commands: output heredocs, summary truncation, annotation escaping, groups, masks."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from benchaction.github import commands
from benchaction.github.commands import (
    add_mask,
    append_summary,
    error,
    group,
    notice,
    set_output,
    warning,
)


def test_set_output_heredoc(tmp_path: Path) -> None:
    out = tmp_path / "output"
    set_output(out, "verdict", "slower")
    set_output(out, "report", "line one\nline two")
    text = out.read_text()
    blocks = re.findall(r"^(\w+)<<(ghadelimiter_[0-9a-f-]{36})\n(.*?)\n\2\n", text, re.S | re.M)
    assert [(name, value) for name, _, value in blocks] == [
        ("verdict", "slower"),
        ("report", "line one\nline two"),
    ]
    assert blocks[0][1] != blocks[1][1]  # a fresh delimiter each time
    assert text.endswith("\n")


def test_set_output_refuses_value_containing_delimiter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = uuid.UUID(int=7)
    monkeypatch.setattr(uuid, "uuid4", lambda: fixed)
    out = tmp_path / "output"
    with pytest.raises(ValueError, match="contains the delimiter"):
        set_output(out, "evil", f"x\nghadelimiter_{fixed}\ninjected=1")
    assert not out.exists()


def test_set_output_refuses_multiline_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one non-empty line"):
        set_output(tmp_path / "output", "a\nb", "v")


def test_summary_short_is_written_whole(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    assert append_summary(summary, "# Bench\n") == "# Bench\n"
    assert append_summary(summary, "more\n") == "more\n"
    assert summary.read_text() == "# Bench\nmore\n"


def test_summary_truncated_under_limit_in_bytes(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("already\n")
    markdown = "| é | 漢 |\n" * 200_000  # multi-byte text: the limit is bytes, not characters
    written = append_summary(summary, markdown)
    size = summary.stat().st_size
    assert size <= commands.SUMMARY_LIMIT
    assert size > commands.SUMMARY_LIMIT - 100
    assert "This summary was truncated" in written
    summary.read_bytes().decode("utf-8")  # no character cut in half


def test_summary_full_file_gets_nothing(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * 50)
    assert append_summary(summary, "more", limit=50) == ""
    assert summary.stat().st_size == 50


def test_summary_small_limit(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    written = append_summary(summary, "a" * 1000, limit=300)
    assert len(written.encode()) <= 300
    assert written.startswith("a")


def test_annotation_escaping() -> None:
    stream = io.StringIO()
    line = error(
        "50% slower\r\nsee: summary",
        title="p99, latency: up",
        file="bench/a,b.yml",
        line=3,
        stream=stream,
    )
    assert line == (
        "::error title=p99%2C latency%3A up,file=bench/a%2Cb.yml,line=3::50%25 slower%0D%0Asee: summary"
    )
    assert stream.getvalue() == line + "\n"


@pytest.mark.parametrize(("write", "kind"), [(notice, "notice"), (warning, "warning")])
def test_annotation_without_properties(write: Callable[..., str], kind: str) -> None:
    stream = io.StringIO()
    write("plain", stream=stream)
    assert stream.getvalue() == f"::{kind}::plain\n"


def test_group_markers_even_on_error() -> None:
    stream = io.StringIO()

    def fold() -> None:
        with group("Run: 50% load", stream=stream):
            print("inside", file=stream)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fold()
    assert stream.getvalue() == "::group::Run: 50%25 load\ninside\n::endgroup::\n"


def test_add_mask_line_by_line() -> None:
    stream = io.StringIO()
    add_mask("secret-one\nsecret-two", stream=stream)
    assert stream.getvalue() == "::add-mask::secret-one\n::add-mask::secret-two\n"
