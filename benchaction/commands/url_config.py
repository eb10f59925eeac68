"""`benchaction run --url`: a config from flags for a server that is already running."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchaction.config import Config, config_from_mapping, parse_duration
from benchaction.errors import ConfigError

__all__ = ["URL_DEFAULTS", "URL_ONLY", "add_url_options", "url_config"]

URL_DEFAULTS: dict[str, Any] = {
    "concurrency": 4,
    "duration": "10s",
    "warmup": "2s",
    "ready_timeout": "10s",
}
"""The default scenario's load: a few users for a short window, enough for a first look."""
URL_ONLY: tuple[str, ...] = (
    "method",
    "data",
    "header",
    "concurrency",
    "duration",
    "warmup",
    "ready_path",
    "ready_timeout",
    "name",
)
"""The flags that describe the server at --url (None when not given: refused without --url)."""


def add_url_options(run: argparse.ArgumentParser) -> None:
    """`run`'s flags for a server at a URL (used with --url, refused without it)."""
    g = run.add_argument_group(
        "a running server (--url, no bench.yml)",
        "benchmark one endpoint of a server someone else started: nothing is built or started",
    )
    g.add_argument(
        "--url",
        help="http://host:port/path of the endpoint (default: none, the config file is used)",
    )
    g.add_argument(
        "-X",
        "--method",
        choices=("GET", "POST"),
        help="request method (default: POST with --data, else GET)",
    )
    g.add_argument(
        "-d",
        "--data",
        help="request body, or @FILE to read it from a file (default: no body)",
    )
    g.add_argument(
        "-H",
        "--header",
        action="append",
        metavar="'NAME: VALUE'",
        help="request header, repeatable (default: Content-Type: application/json with --data)",
    )
    g.add_argument(
        "--concurrency",
        type=int,
        help="users, each sending its next request when the last answered "
        f"(default: {URL_DEFAULTS['concurrency']})",
    )
    g.add_argument(
        "--duration", help=f"measured time a trial (default: {URL_DEFAULTS['duration']})"
    )
    g.add_argument("--warmup", help=f"load before measuring (default: {URL_DEFAULTS['warmup']})")
    g.add_argument(
        "--ready-path",
        help="path that answers 200 once the server is ready (default: the URL's path for GET, "
        "/health for POST)",
    )
    g.add_argument(
        "--ready-timeout",
        help=f"how long to wait for the ready answer (default: {URL_DEFAULTS['ready_timeout']})",
    )
    g.add_argument("--name", help="the config name in the results (default: url)")


def _headers(items: list[str] | None, body: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ConfigError([f"--header {item!r}: expected 'NAME: VALUE'"])
        out[name.strip()] = value.strip()
    if body and not any(k.lower() == "content-type" for k in out):
        out["Content-Type"] = "application/json"
    return out


def _body(data: str | None) -> str | None:
    if data is None or not data.startswith("@"):
        return data
    path = Path(data[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"--data {data}: cannot read {path}: {exc.strerror}"]) from None


def url_config(args: argparse.Namespace, overrides: dict[str, Any]) -> Config:
    """A one-scenario config for the endpoint at `args.url`; bad flags are a ConfigError (exit 2)."""
    parts = urlsplit(args.url)
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(
            [f"--url {args.url!r}: expected http://host:port/path (https is not supported yet)"]
        )
    given = {k: getattr(args, k) for k in URL_ONLY}
    flags = {**URL_DEFAULTS, "name": "url", **{k: v for k, v in given.items() if v is not None}}
    problems = []
    if flags["concurrency"] < 1:
        problems.append(f"--concurrency {flags['concurrency']}: expected at least 1 user")
    seconds = {}
    for flag in ("duration", "warmup", "ready_timeout"):
        try:
            where = f"--{flag.replace('_', '-')}"
            seconds[flag] = parse_duration(flags[flag], where=where, positive=flag != "warmup")
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    body = _body(args.data)
    method = args.method or ("POST" if body is not None else "GET")
    if method == "GET" and body is not None:
        raise ConfigError(["--data with -X GET: GET requests carry no body; use -X POST"])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    scenario: dict[str, Any] = {
        "name": flags["name"],
        "path": path,
        "method": method,
        "concurrency": flags["concurrency"],
        "duration": seconds["duration"],
        "warmup": seconds["warmup"],
    }
    if headers := _headers(args.header, body is not None):
        scenario["headers"] = headers
    if body is not None:
        scenario["payloads"] = [body]
    ready = args.ready_path or (path if method == "GET" else "/health")
    data = {
        "version": 1,
        "name": flags["name"],
        "server": {
            "url": f"{parts.scheme}://{parts.netloc}",
            "ready": {"path": ready, "timeout": seconds["ready_timeout"]},
        },
        "scenarios": [scenario],
    }
    return config_from_mapping(
        data, source="--url flags", file=Path.cwd() / "bench.yml", profile=None, overrides=overrides
    )
