"""bench.yml in tests: the `write` fixture's type and the expected-error helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchaction.config import load_config
from benchaction.errors import ConfigError

# The `write` fixture (tests/unit/config/conftest.py): write(text, name="bench.yml") -> name.
Write = Callable[..., str]


def problems(path: str | Path, **kwargs: Any) -> list[str]:
    """The problems load_config reports for `path` (it must refuse the file)."""
    with pytest.raises(ConfigError) as info:
        load_config(path, **kwargs)
    return info.value.problems


def only_problem(path: str | Path, **kwargs: Any) -> str:
    """The single problem load_config reports for `path`."""
    found = problems(path, **kwargs)
    assert len(found) == 1, found
    return found[0]


ONE_SCENARIO = """\
version: 1
server:
  image: example/model:1
scenarios:
  - name: predict
    requests: 10
"""
"""The smallest valid bench.yml (six lines: keys appended to it land on line 7)."""
