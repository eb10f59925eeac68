"""The server and scenario sections of bench.yml: checked with a Checker, built into the typed model."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

from benchaction._config_fields import (
    DURATION_FORMS,
    FieldError,
    KeyPath,
    command,
    did_you_mean,
    duration,
    expected,
    gpus,
    header,
    integer,
    is_json,
    jsonl_bodies,
    method,
    payload,
    positive_number,
    runtime,
    scenario_name,
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
    Scenario,
    ServerSpec,
    Warmup,
)

__all__ = ["SCENARIO_KEYS", "SERVER_KEYS", "Checker", "build_scenarios", "build_server"]

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
SCENARIO_KEYS = (
    "concurrency",
    "duration",
    "headers",
    "method",
    "name",
    "path",
    "payloads",
    "requests",
    "timeout",
    "warmup",
)


def build_server(ck: Checker, value: object, path: KeyPath, base: Path) -> ServerSpec:
    """The `server` section; `base` is the config file's folder."""
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
            path=ck.field(ready, "path", qpath, url_path, "/"),
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


def build_scenarios(ck: Checker, value: object, path: KeyPath, base: Path) -> tuple[Scenario, ...]:
    """The `scenarios` list; names must be unique."""
    if not isinstance(value, list) or not value:
        ck.add(path, expected("a non-empty list of scenarios", value))
        return ()
    seen: dict[str, int] = {}
    out: list[Scenario] = []
    for index, item in enumerate(value):
        scenario = _scenario(ck, item, (*path, index), base)
        if scenario is None:
            continue
        if scenario.name in seen:
            first = show_path((*path, seen[scenario.name]))
            ck.add((*path, index, "name"), f"duplicate scenario name (also {first})")
        seen.setdefault(scenario.name, index)
        out.append(scenario)
    return tuple(out)


def _scenario(ck: Checker, value: object, path: KeyPath, base: Path) -> Scenario | None:
    m = ck.mapping(value, path, SCENARIO_KEYS)
    if not isinstance(value, Mapping):
        return None
    if "name" not in m:
        ck.add((*path, "name"), "required key is missing")
    name = ck.field(m, "name", path, scenario_name, None)
    verb = ck.field(m, "method", path, method, "GET")
    headers = _headers(ck, m.get("headers", {}), (*path, "headers"))
    bodies = _payloads(ck, m["payloads"], (*path, "payloads"), base) if "payloads" in m else ()
    if bodies and verb in ("GET", "HEAD"):
        ck.add((*path, "payloads"), f"{verb} requests carry no body; remove payloads or use POST")
    if (
        bodies
        and all(h.lower() != "content-type" for h, _ in headers)
        and all(map(is_json, bodies))
    ):
        headers.append(("Content-Type", "application/json"))
    if "duration" in m and "requests" in m:
        ck.add(path, "expected exactly one of duration or requests, got both")
    elif "duration" not in m and "requests" not in m:
        ck.add(path, "expected exactly one of duration or requests, got neither")
    scenario = Scenario(
        name=name or "",
        path=ck.field(m, "path", path, url_path, "/"),
        method=verb,
        headers=tuple(headers),
        payloads=bodies,
        concurrency=ck.field(m, "concurrency", path, lambda v: integer(v, minimum=1), 1),
        duration_s=ck.field(m, "duration", path, duration, None),
        requests=ck.field(m, "requests", path, lambda v: integer(v, minimum=1), None),
        warmup=_warmup(ck, m["warmup"], (*path, "warmup")) if "warmup" in m else Warmup(),
        timeout_s=ck.field(m, "timeout", path, duration, 30.0),
    )
    return None if name is None else scenario


def _headers(ck: Checker, value: object, path: KeyPath) -> list[tuple[str, str]]:
    if not isinstance(value, Mapping):
        ck.add(path, expected("a mapping of header names to values", value))
        return []
    out: list[tuple[str, str]] = []
    for name, item in value.items():
        try:
            pair = header(name, item)
        except FieldError as exc:
            ck.add((*path, str(name)), str(exc))
            continue
        if any(pair[0].lower() == h.lower() for h, _ in out):
            ck.add((*path, pair[0]), "duplicate header (names are case-insensitive)")
        out.append(pair)
    return out


def _payloads(ck: Checker, value: object, path: KeyPath, base: Path) -> tuple[bytes, ...]:
    if isinstance(value, list):
        if not value:
            ck.add(path, "expected at least one payload, got an empty list")
        out: list[bytes] = []
        for index, item in enumerate(value):
            try:
                out.append(payload(item))
            except FieldError as exc:
                ck.add((*path, index), str(exc))
        return tuple(out)
    if not isinstance(value, Mapping):
        ck.add(path, expected("a list of payloads or a mapping {file: payloads.jsonl}", value))
        return ()
    m = ck.mapping(value, path, ("file",))
    if "file" not in m:
        ck.add((*path, "file"), "required key is missing (a JSONL file, one body a line)")
    name = ck.field(m, "file", path, string, None)
    if name is None:
        return ()
    try:
        data = (base / name).read_bytes()
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else exc.strerror
        ck.add((*path, "file"), f"cannot read payload file {name}: {reason} ({base / name})")
        return ()
    bodies, bad = jsonl_bodies(data, name)
    for problem in bad[:5]:
        ck.add((*path, "file"), problem)
    if len(bad) > 5:
        ck.add((*path, "file"), f"{name}: {len(bad) - 5} more lines are not valid JSON")
    if not bodies and not bad:
        ck.add((*path, "file"), f"{name} holds no payloads (one JSON body a line)")
    return tuple(bodies)


def _warmup(ck: Checker, value: object, path: KeyPath) -> Warmup:
    if not isinstance(value, Mapping):
        try:
            return Warmup(duration_s=duration(value, positive=False))
        except FieldError:
            ck.add(
                path, str(expected(f"{DURATION_FORMS}, or a mapping {{duration, requests}}", value))
            )
            return Warmup()
    m = ck.mapping(value, path, ("duration", "requests"))
    if not m:
        ck.add(path, "expected duration and/or requests, got an empty mapping")
    return Warmup(
        duration_s=ck.field(m, "duration", path, lambda v: duration(v, positive=False), 0.0),
        requests=ck.field(m, "requests", path, lambda v: integer(v, minimum=0), 0),
    )
