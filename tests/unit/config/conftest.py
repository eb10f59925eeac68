"""The `write` fixture for the bench.yml tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.config_files import Write


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """Write files into a fresh folder that is also the working directory; returns the name."""
    monkeypatch.chdir(tmp_path)

    def _write(text: str, name: str = "bench.yml") -> str:
        (tmp_path / name).write_text(text, encoding="utf-8")
        return name

    return _write
