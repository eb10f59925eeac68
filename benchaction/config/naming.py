"""The name a config goes by, read even from a config that does not load.

The name keys the sticky comment, the history and the alert issue; a run that fails on its
config must post under the same name as the runs that succeed before and after it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["config_name", "default_name"]

_NAME_LINE = re.compile(r"^name:[^\n]*$", re.MULTILINE)


def default_name(file: Path) -> str:
    """The name of a config without `name:`: its folder's (examples/numpy-mlp/bench.yml)."""
    return file.resolve().parent.name


def _named(layer: object) -> str | None:
    value = layer.get("name") if isinstance(layer, Mapping) else None
    return value if isinstance(value, str) and value.strip() else None


def _name_line(text: str) -> str | None:
    """The top-level `name:` line alone, when the whole document is not valid YAML."""
    for line in _NAME_LINE.findall(text):
        try:
            found = _named(yaml.safe_load(line))
        except yaml.YAMLError:
            continue
        if found is not None:
            return found
    return None


def config_name(
    path: str | Path,
    *,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> str:
    """The config's `name` as `load_config` would give it (after the profile and overrides),
    read as far as the file allows: the whole YAML, else its top-level `name:` line, else the
    default. Never raises."""
    file = Path(path)
    chosen = _named(overrides)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return chosen or default_name(file)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return chosen or _name_line(text) or default_name(file)
    profiles = data.get("profiles") if isinstance(data, Mapping) else None
    layer = profiles.get(profile) if isinstance(profiles, Mapping) and profile else None
    return chosen or _named(layer) or _named(data) or default_name(file)
