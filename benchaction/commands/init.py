"""`benchaction init`: a starter bench.yml next to a Dockerfile, filled from what the folder shows."""

from __future__ import annotations

import argparse
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchaction.errors import ExitCode, UsageError

__all__ = ["Seen", "add_init_parser", "look_at", "starter_config"]

HEALTH_PATHS = (
    "/health",
    "/healthz",
    "/v2/health/ready",
    "/ready",
    "/readyz",
    "/ping",
    "/v1/models",
)
"""Readiness routes of common servers, in the order preferred when a source file names several."""
REQUEST_PATHS = (
    "/predict",
    "/invocations",
    "/v1/chat/completions",
    "/v1/completions",
    "/generate",
    "/infer",
)
"""Inference routes of common servers; one seen in the sources is offered as a commented example."""
_DEFAULT_PORT = 8000  # server.port's default in the config
_MAX_SOURCES = 200  # source files read for route names, at most
_MAX_SOURCE_BYTES = 1_000_000
_SOURCE_SUFFIXES = (".py", ".js", ".ts", ".go", ".rs", ".java", ".toml", ".yaml", ".yml", ".sh")


@dataclass(frozen=True)
class Seen:
    """What the folder says about the server, and where each value came from."""

    port: int
    port_from: str
    health: str
    health_from: str
    request: str | None  # an inference route named in the sources, if any
    request_from: str | None


def _exposed(dockerfile: Path) -> tuple[list[int], list[str]]:
    """The TCP ports the final stage EXPOSEs (ARG and ENV values put in), and words not understood."""
    from dockerfile_parse import DockerfileParser
    from dockerfile_parse.util import WordSplitter

    # By path, the parser takes a name other than "Dockerfile" for a folder: hand it the bytes.
    parser = DockerfileParser(fileobj=io.BytesIO(dockerfile.read_bytes()))
    lines: list[tuple[dict[str, Any], Any]] = list(
        zip(parser.structure, parser.context_structure, strict=True)
    )
    froms = [i for i, (line, _) in enumerate(lines) if line["instruction"] == "FROM"]
    ports: list[int] = []
    odd: list[str] = []
    for line, context in lines[froms[-1] if froms else 0 :]:
        if line["instruction"] != "EXPOSE":
            continue
        for word in WordSplitter(line["value"], args=context.args, envs=context.envs).split():
            number, _, proto = word.partition("/")
            if number.isdigit() and proto in ("", "tcp") and 0 < int(number) < 65536:
                ports.append(int(number))
            elif proto != "udp":
                odd.append(word)
    return ports, odd


def _healthcheck_path(dockerfile: Path) -> str | None:
    """The path of an http URL in the Dockerfile's HEALTHCHECK, if it has one."""
    text = dockerfile.read_text(encoding="utf-8", errors="replace")
    for line in re.findall(r"(?im)^\s*HEALTHCHECK\b.*$", text):
        if m := re.search(r"https?://[^\s'\"]+", line):
            return urlsplit(m.group(0)).path or None
    return None


def _sources(folder: Path) -> list[Path]:
    found: list[Path] = []
    for path in sorted(folder.rglob("*")):
        if len(found) >= _MAX_SOURCES:
            break
        if any(
            part.startswith(".") or part == "node_modules"
            for part in path.relative_to(folder).parts
        ):
            continue
        if (
            path.suffix in _SOURCE_SUFFIXES
            and path.is_file()
            and path.stat().st_size <= _MAX_SOURCE_BYTES
        ):
            found.append(path)
    return found


def _first_route(
    sources: list[Path], folder: Path, routes: tuple[str, ...]
) -> tuple[str, str] | None:
    """The first of `routes` that a source file names as a quoted string, and that file."""
    texts = [(p, p.read_text(encoding="utf-8", errors="replace")) for p in sources]
    for route in routes:
        quoted = re.compile(rf"""["']{re.escape(route)}["']""")
        for path, text in texts:
            if quoted.search(text):
                return route, str(path.relative_to(folder))
    return None


def look_at(folder: Path, dockerfile: str) -> Seen:
    """Read the Dockerfile and the sources beside it; a missing Dockerfile is a ConfigError."""
    file = folder / dockerfile
    if not file.is_file():
        raise UsageError(
            f"{file}: no Dockerfile here; run `benchaction init` in the folder of your model "
            "server's Dockerfile (or pass --dir / --dockerfile), or benchmark a server that is "
            "already running with `benchaction run --url http://HOST:PORT/PATH`"
        )
    ports, odd = _exposed(file)
    if ports:
        port, port_from = ports[0], f"EXPOSE {ports[0]} in {dockerfile}"
    else:
        why = f"EXPOSE {' '.join(odd)} is not a number" if odd else f"{dockerfile} has no EXPOSE"
        port, port_from = _DEFAULT_PORT, f"a guess: {why}; set the port your server listens on"
    sources = _sources(folder)
    health = _healthcheck_path(file)
    if health is not None:
        health_from = f"from the HEALTHCHECK in {dockerfile}"
    elif found := _first_route(sources, folder, HEALTH_PATHS):
        health, health_from = found[0], f"a guess: named in {found[1]}"
    else:
        health, health_from = "/health", "a guess: no health route was seen; set yours"
    request = _first_route(sources, folder, REQUEST_PATHS)
    return Seen(
        port,
        port_from,
        health,
        health_from,
        request[0] if request else None,
        f"named in {request[1]}" if request else None,
    )


def _q(text: str) -> str:
    """A YAML scalar: JSON strings are valid YAML."""
    return json.dumps(text)


def starter_config(name: str, dockerfile: str, seen: Seen) -> str:
    """The text of a starter bench.yml: valid as written, with comments on what to edit."""
    request = ""
    if seen.request is not None:
        request = f"""
  # A request route {seen.request_from}. To measure it, uncomment and put a real request body in
  # payloads (or payloads: {{file: payloads.jsonl}}, one body a line):
  # - name: request
  #   path: {seen.request}
  #   method: POST
  #   headers: {{Content-Type: application/json}}
  #   payloads: ['{{"inputs": [[0.0, 1.0]]}}']
  #   concurrency: 4
  #   duration: 30s
  #   warmup: 5s
"""
    return f"""# bench-action configuration, written by `benchaction init` from {dockerfile}.
# Check it with `benchaction validate`, run it with `benchaction run`.
# Every key is described in docs/configuration.md of bench-action.
version: 1
name: {_q(name)}

server:
  build:
    context: .
    dockerfile: {_q(dockerfile)}
  port: {seen.port}  # {seen.port_from}
  ready:
    path: {_q(seen.health)}  # {seen.health_from}
    timeout: 120s  # model loading counts; raise it for large models

scenarios:
  # Edit: the request your model serves (path, method, headers, payloads) and its load.
  - name: health
    path: {_q(seen.health)}
    concurrency: 4
    duration: 30s
    warmup: 5s
{request}
trials: 5  # each trial starts a fresh container

profiles:
  pr:  # benchaction run --profile pr: shorter, for pull requests
    trials: 3
    scenarios:
      "*":
        duration: 10s
"""


def cmd_init(args: argparse.Namespace) -> int:
    """Write bench.yml into --dir; an existing one is kept unless --force."""
    folder = Path(args.dir)
    target = folder / "bench.yml"
    if target.exists() and not args.force:
        raise UsageError(
            f"{target} exists; keeping it (pass --force to replace it, or check it with "
            f"`benchaction validate -c {target}`)"
        )
    seen = look_at(folder, args.dockerfile)
    name = folder.resolve().name or "model-server"
    target.write_text(starter_config(name, args.dockerfile, seen), encoding="utf-8")
    print(f"wrote {target}; edit before the first run:")
    print(f"  server.port: {seen.port} ({seen.port_from})")
    print(f"  server.ready.path: {seen.health} ({seen.health_from})")
    print(
        "  scenarios: the starter measures GET "
        f"{seen.health}; replace it with the request your model serves"
        + (f" (an example for {seen.request} is commented out)" if seen.request else "")
    )
    print(f"then: benchaction validate -c {target} && benchaction run -c {target}")
    return ExitCode.OK


def add_init_parser(sub: Any) -> None:
    """The `init` subcommand."""
    init = sub.add_parser(
        "init", help="write a starter bench.yml next to a Dockerfile (port and health path from it)"
    )
    init.add_argument("--dir", default=".", help="folder with the Dockerfile; bench.yml goes here")
    init.add_argument("--dockerfile", default="Dockerfile", help="the Dockerfile's name in --dir")
    init.add_argument(
        "--force", action="store_true", help="replace an existing bench.yml (default: refuse)"
    )
    init.set_defaults(func=cmd_init)
