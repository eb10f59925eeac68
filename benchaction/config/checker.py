"""The Checker every section of bench.yml is read with: it collects every problem at once."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

from benchaction.config.fields import (
    FieldError,
    KeyPath,
    did_you_mean,
    expected,
    show_path,
    string,
    text,
)

__all__ = ["Checker"]

T = TypeVar("T")


class Checker:
    """Collects every problem found, each as 'file:line: key.path: message'."""

    def __init__(self, source: str, lines: Mapping[KeyPath, int | None]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[str] = []

    def line(self, path: KeyPath) -> int | None:
        """The line of the closest enclosing key known (None for values set without a file)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def format(self, path: KeyPath, message: str) -> str:
        """One problem as a line of text."""
        line = self.line(path)
        where = self.source if line is None else f"{self.source}:{line}"
        return f"{where}: {show_path(path)}: {message}" if path else f"{where}: {message}"

    def add(self, path: KeyPath, message: str) -> None:
        """Record one problem."""
        self.problems.append(self.format(path, message))

    def mapping(self, value: object, path: KeyPath, allowed: Collection[str]) -> Mapping[Any, Any]:
        """`value` as a mapping (empty if it is not one), reporting keys outside `allowed`."""
        if not isinstance(value, Mapping):
            self.add(path, expected("a mapping", value))
            return {}
        for key in value:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed)
                self.add((*path, str(key)), f"unknown key{hint} (allowed: {', '.join(allowed)})")
        return value

    def field(
        self,
        data: Mapping[Any, Any],
        key: str,
        path: KeyPath,
        parse: Callable[[Any], T],
        default: T,
    ) -> T:
        """`data[key]` parsed, or `default` when it is absent or wrong (a problem is recorded)."""
        if key not in data:
            return default
        try:
            return parse(data[key])
        except FieldError as exc:
            self.add((*path, key), str(exc))
            return default

    def text_map(self, data: Mapping[Any, Any], key: str, path: KeyPath) -> dict[str, str]:
        """A mapping of names to scalars, as strings (env, build args)."""
        value, path = data.get(key, {}), (*path, key)
        if not isinstance(value, Mapping):
            self.add(path, expected("a mapping of names to values", value))
            return {}
        out: dict[str, str] = {}
        for name, item in value.items():
            if not isinstance(name, str) or not name or "=" in name or "\0" in name:
                self.add((*path, str(name)), expected("a name without '='", name))
                continue
            try:
                out[name] = text(item)
            except FieldError as exc:
                self.add((*path, name), str(exc))
        return out

    def jsonl_file(
        self,
        value: object,
        path: KeyPath,
        base: Path,
        what: tuple[str, str],
        parse: Callable[[bytes, str], tuple[list[T], list[str]]],
    ) -> tuple[T, ...]:
        """The `{file: x.jsonl}` form of a list: one item a line, bad lines named by number.

        `what` names the items twice, e.g. ("payload", "body"), for the messages.
        """
        m = self.mapping(value, path, ("file",))
        kind, item = what
        if "file" not in m:
            self.add((*path, "file"), f"required key is missing (a JSONL file, one {item} a line)")
        name = self.field(m, "file", path, string, None)
        if name is None:
            return ()
        try:
            data = (base / name).read_bytes()
        except OSError as exc:
            reason = "file not found" if isinstance(exc, FileNotFoundError) else exc.strerror
            self.add((*path, "file"), f"cannot read {kind} file {name}: {reason} ({base / name})")
            return ()
        items, bad = parse(data, name)
        for problem in bad[:5]:
            self.add((*path, "file"), problem)
        if len(bad) > 5:
            self.add((*path, "file"), f"{name}: {len(bad) - 5} more lines have problems")
        if not items and not bad:
            self.add((*path, "file"), f"{name} holds no {kind}s (one JSON {item} a line)")
        return tuple(items)
