"""The `server` section of bench.yml: where the model server comes from and how it is run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from benchaction.config.checker import Checker
from benchaction.config.fields import (
    FieldError,
    KeyPath,
    command,
    describe,
    duration,
    expected,
    gpus,
    integer,
    metric_families,
    mismatch,
    positive_number,
    runtime,
    server_url,
    size,
    string,
    url_path,
)
from benchaction.config.model import (
    AUTO_PORT,
    BuildSpec,
    MetricsSpec,
    ProcessSpec,
    ReadySpec,
    Resources,
    Runtime,
    ServerSpec,
)

__all__ = ["SERVER_KEYS", "build_server", "server_port"]


SERVER_KEYS = (
    "build",
    "command",
    "env",
    "gpus",
    "image",
    "metrics",
    "port",
    "process",
    "ready",
    "resources",
    "runtime",
    "url",
)


def build_server(
    ck: Checker,
    value: object,
    path: KeyPath,
    base: Path,
    ready_path: str = ReadySpec.path,
    ready_fallback: str | None = None,
) -> ServerSpec:
    """The `server` section; `base` is the config file's folder.

    `ready_path` is the probe path when the file names none (it follows the scenarios' protocol);
    `ready_fallback` is probed too when that implied path answers 404.
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
    port = ck.field(m, "port", path, server_port, 8000)
    env = ck.text_map(m, "env", path)
    if port == AUTO_PORT and "PORT" in env:
        ck.add(
            (*path, "env", "PORT"),
            "with `server.port: auto` the chosen port is passed as PORT; remove env.PORT, or set "
            "server.port to the port the server listens on",
        )
    return ServerSpec(
        image=ck.field(m, "image", path, string, None),
        build=build,
        url=url,
        port=port,
        env=env,
        command=ck.field(m, "command", path, command, None),
        gpus=ck.field(m, "gpus", path, gpus, None),
        resources=Resources(
            cpus=ck.field(resources, "cpus", rpath, positive_number, None),
            memory_bytes=ck.field(resources, "memory", rpath, size, None),
            shm_size_bytes=ck.field(resources, "shm_size", rpath, size, None),
        ),
        ready=ReadySpec(
            path=ck.field(ready, "path", qpath, url_path, ready_path),
            fallback_path=None if "path" in ready else ready_fallback,
            status=ck.field(
                ready, "status", qpath, lambda v: integer(v, minimum=100, maximum=599), 200
            ),
            timeout_s=ck.field(ready, "timeout", qpath, duration, 120.0),
            interval_s=ck.field(ready, "interval", qpath, duration, 0.25),
        ),
        process=process,
        runtime=run_on,
        metrics=_metrics(ck, m["metrics"], (*path, "metrics")) if "metrics" in m else None,
    )


def server_port(value: object) -> int:
    """`server.port`: 1..65535, or `auto` (AUTO_PORT) for a free port picked at each start."""
    if value == "auto":
        return AUTO_PORT
    try:
        return integer(value, minimum=1, maximum=65535)
    except FieldError:
        raise mismatch("an integer from 1 to 65535, or auto", value) from None


def _build(ck: Checker, value: object, path: KeyPath, base: Path) -> BuildSpec:
    m = ck.mapping(value, path, ("args", "context", "dockerfile", "keep_images", "target"))
    context = (base / ck.field(m, "context", path, string, ".")).resolve()
    dockerfile = ck.field(m, "dockerfile", path, string, "Dockerfile")
    if not context.is_dir():
        ck.add((*path, "context"), f"folder not found: {context}")
    elif not (context / dockerfile).is_file():
        ck.add((*path, "dockerfile"), f"file not found: {context / dockerfile}")
    target = ck.field(m, "target", path, string, None)
    keep = ck.field(m, "keep_images", path, lambda v: integer(v, minimum=1), BuildSpec.keep_images)
    return BuildSpec(context, dockerfile, target, ck.text_map(m, "args", path), keep)


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


METRICS_KEYS = ("families", "interval", "path", "port", "timeout")
MIN_SCRAPE_INTERVAL_S = 0.1
"""Scraping more often than this loads the server being measured more than it tells."""
MAX_SCRAPE_TIMEOUT_S = 10.0


def _metrics(ck: Checker, value: object, path: KeyPath) -> MetricsSpec | None:
    """`metrics: /metrics`, or the mapping form with a port, families, interval and timeout."""
    if isinstance(value, str):
        try:
            return MetricsSpec(path=url_path(value))
        except FieldError as exc:
            ck.add(path, str(exc))
            return None
    if not isinstance(value, Mapping):
        forms = "a path like /metrics or a mapping (keys: " + ", ".join(METRICS_KEYS) + ")"
        ck.add(path, expected(forms, value))
        return None
    m = ck.mapping(value, path, METRICS_KEYS)
    interval = ck.field(m, "interval", path, duration, MetricsSpec.interval_s)
    if interval < MIN_SCRAPE_INTERVAL_S:
        ck.add((*path, "interval"), f"expected a duration >= 100ms, got {describe(m['interval'])}")
    timeout = ck.field(m, "timeout", path, duration, MetricsSpec.timeout_s)
    if timeout > MAX_SCRAPE_TIMEOUT_S:
        ck.add((*path, "timeout"), f"expected a duration <= 10s, got {describe(m['timeout'])}")
    return MetricsSpec(
        path=ck.field(m, "path", path, url_path, MetricsSpec.path),
        port=ck.field(m, "port", path, lambda v: integer(v, minimum=1, maximum=65535), None),
        families=ck.field(m, "families", path, metric_families, None),
        interval_s=interval,
        timeout_s=timeout,
    )
