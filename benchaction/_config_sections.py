"""The Checker every section is read with, and the server section of bench.yml."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

from benchaction._config_fields import (
    FieldError,
    KeyPath,
    command,
    did_you_mean,
    duration,
    expected,
    gpus,
    integer,
    positive_number,
    runtime,
    server_url,
    show_path,
    size,
    string,
    text,
    url_path,
)
from benchaction.config_model import (
    BuildSpec,
    ProcessSpec,
    ReadySpec,
    Resources,
    Runtime,
    ServerSpec,
)

__all__ = ["SERVER_KEYS", "Checker", "build_server"]

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


SERVER_KEYS = (
    "build",
    "command",
    "env",
    "gpus",
    "image",
    "port",
    "process",
    "ready",
    "resources",
    "runtime",
    "url",
)


def build_server(
    ck: Checker, value: object, path: KeyPath, base: Path, ready_path: str = ReadySpec.path
) -> ServerSpec:
    """The `server` section; `base` is the config file's folder.

    `ready_path` is the probe path when the file names none (it follows the scenarios' protocol).
    """
    m = ck.mapping(value, path, SERVER_KEYS)
    sources = [k for k in ("image", "build", "url") if k in m]
    if len(sources) != 1 and isinstance(value, Mapping):
        got = " and ".join(sources) or "none"
        ck.add(path, f"expected exactly one of image, build or url, got {got}")
    build = _build(ck, m["build"], (*path, "build"), base) if "build" in m else None
    url = ck.field(m, "url", path, server_url, None)
    run_on: Runtime = ck.field(m, "runtime", path, runtime, "auto")
    cwd = build.context if build is not None else base
    process = _process(ck, m["process"], (*path, "process"), base, cwd) if "process" in m else None
    if run_on == "process" and "process" not in m and "url" not in m:
        ck.add((*path, "runtime"), "runtime 'process' needs a server.process section")
    resources = ck.mapping(
        m.get("resources", {}), (*path, "resources"), ("cpus", "memory", "shm_size")
    )
    ready = ck.mapping(
        m.get("ready", {}), (*path, "ready"), ("interval", "path", "status", "timeout")
    )
    rpath, qpath = (*path, "resources"), (*path, "ready")
    return ServerSpec(
        image=ck.field(m, "image", path, string, None),
        build=build,
        url=url,
        port=ck.field(m, "port", path, lambda v: integer(v, minimum=1, maximum=65535), 8000),
        env=ck.text_map(m, "env", path),
        command=ck.field(m, "command", path, command, None),
        gpus=ck.field(m, "gpus", path, gpus, None),
        resources=Resources(
            cpus=ck.field(resources, "cpus", rpath, positive_number, None),
            memory_bytes=ck.field(resources, "memory", rpath, size, None),
            shm_size_bytes=ck.field(resources, "shm_size", rpath, size, None),
        ),
        ready=ReadySpec(
            path=ck.field(ready, "path", qpath, url_path, ready_path),
            status=ck.field(
                ready, "status", qpath, lambda v: integer(v, minimum=100, maximum=599), 200
            ),
            timeout_s=ck.field(ready, "timeout", qpath, duration, 120.0),
            interval_s=ck.field(ready, "interval", qpath, duration, 0.25),
        ),
        process=process,
        runtime=run_on,
    )


def _build(ck: Checker, value: object, path: KeyPath, base: Path) -> BuildSpec:
    m = ck.mapping(value, path, ("args", "context", "dockerfile", "target"))
    context = (base / ck.field(m, "context", path, string, ".")).resolve()
    dockerfile = ck.field(m, "dockerfile", path, string, "Dockerfile")
    if not context.is_dir():
        ck.add((*path, "context"), f"folder not found: {context}")
    elif not (context / dockerfile).is_file():
        ck.add((*path, "dockerfile"), f"file not found: {context / dockerfile}")
    target = ck.field(m, "target", path, string, None)
    return BuildSpec(context, dockerfile, target, ck.text_map(m, "args", path))


def _process(
    ck: Checker, value: object, path: KeyPath, base: Path, cwd: Path
) -> ProcessSpec | None:
    m = ck.mapping(value, path, ("command", "cwd"))
    if "cwd" in m:
        cwd = (base / ck.field(m, "cwd", path, string, ".")).resolve()
        if not cwd.is_dir():
            ck.add((*path, "cwd"), f"folder not found: {cwd}")
    if "command" not in m:
        if isinstance(value, Mapping):
            ck.add((*path, "command"), "required key is missing")
        return None
    argv = ck.field(m, "command", path, command, None)
    return None if argv is None else ProcessSpec(argv, cwd)
