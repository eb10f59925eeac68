"""A stand-in GitHub REST server on 127.0.0.1 that checks every request against GitHub's OpenAPI.

Tests program replies per route; the server records each request and validates its method, path
template, query parameters and JSON body against the operation in the REST description, so a
client that builds a wrong URL or body fails the test even when the programmed reply is happy.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

METHODS = ("get", "post", "put", "patch", "delete", "head")


@dataclass(frozen=True)
class Reply:
    """One programmed answer."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it; header names are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    operation: str | None


Responder = Reply | Callable[[Recorded], Reply]


def slim_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Keep only what validation needs (parameters, request bodies): a few MB instead of 70."""
    paths: dict[str, Any] = {}
    for template, item in spec["paths"].items():
        shared = item.get("parameters", [])
        ops: dict[str, Any] = {}
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody")
            schema = None
            if body is not None:
                schema = body.get("content", {}).get("application/json", {}).get("schema")
            ops[method] = {
                "operationId": op.get("operationId"),
                "parameters": [
                    {k: p[k] for k in ("name", "in", "required", "schema") if k in p}
                    for p in [*shared, *op.get("parameters", [])]
                ],
                "requestBody": None
                if body is None
                else {"required": bool(body.get("required")), "schema": schema},
            }
        paths[template] = ops
    return {"paths": paths}


def nullable_to_jsonschema(schema: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` is not JSON Schema; rewrite it so null validates."""
    if isinstance(schema, list):
        return [nullable_to_jsonschema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: nullable_to_jsonschema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") is True:
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:
            return {"anyOf": [out, {"type": "null"}]}
    return out


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """A query or path string as the type its schema declares (so `"abc"` fails `integer`)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


# A file path or a git ref as the last segment spans slashes: /contents/a/b.json, /git/ref/heads/x.
SLASHED_PARAMETERS = ("{path}", "{ref}")


def _template_pattern(template: str) -> re.Pattern[str]:
    """A regex for a path template, one group per parameter."""
    pattern = re.escape(template)
    for name in SLASHED_PARAMETERS:
        if template.endswith("/" + name):
            pattern = pattern[: -len(re.escape(name))] + "(.+)"
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "([^/]+)", pattern) + "$")


class OpenAPIIndex:
    """Path-template matcher and request validator over a (slimmed) GitHub REST description."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._templates: list[tuple[re.Pattern[str], str, Mapping[str, Any]]] = []
        for template, ops in spec["paths"].items():
            self._templates.append((_template_pattern(template), template, ops))
        # Literal segments beat parameters: /issues/comments/{id} before /issues/{n}/{x}.
        self._templates.sort(key=lambda t: -len(re.sub(r"\{[^}]+\}", "", t[1])))

    def match(self, method: str, path: str) -> tuple[str, Mapping[str, Any]] | None:
        """The template and operation that serve `method path`, if any."""
        for pattern, template, ops in self._templates:
            if pattern.match(path) and method.lower() in ops:
                return template, ops[method.lower()]
        return None

    def check(
        self, method: str, path: str, query: Mapping[str, list[str]], body: bytes
    ) -> tuple[str | None, list[str]]:
        """(operationId, problems) for one request; no problems means GitHub would accept its shape."""
        found = self.match(method, path)
        if found is None:
            return None, [f"{method} {path}: no operation in the GitHub REST description"]
        template, op = found
        where = f"{method} {path} ({op['operationId']})"
        problems: list[str] = []
        params = op["parameters"]
        found_values = _template_pattern(template).match(path)
        assert found_values is not None
        names = re.findall(r"\{([^}]+)\}", template)
        path_values = dict(zip(names, found_values.groups(), strict=True))
        by_place: dict[str, dict[str, Mapping[str, Any]]] = {"path": {}, "query": {}}
        for p in params:
            if p["in"] in by_place:
                by_place[p["in"]][p["name"]] = p
        for name, value in path_values.items():
            spec = by_place["path"].get(name)
            if spec is not None:
                problems += self._value_problems(where, f"path parameter {name}", value, spec)
        for name, given in query.items():
            spec = by_place["query"].get(name)
            if spec is None:
                allowed = ", ".join(sorted(by_place["query"])) or "none"
                problems.append(f"{where}: unknown query parameter {name!r} (allowed: {allowed})")
                continue
            for value in given:
                problems += self._value_problems(where, f"query parameter {name}", value, spec)
        for name, spec in by_place["query"].items():
            if spec.get("required") and name not in query:
                problems.append(f"{where}: missing required query parameter {name!r}")
        problems += self._body_problems(where, op.get("requestBody"), body)
        return str(op["operationId"]), problems

    @staticmethod
    def _value_problems(where: str, what: str, value: str, spec: Mapping[str, Any]) -> list[str]:
        schema = nullable_to_jsonschema(spec.get("schema", {}))
        if schema.get("type") == "array":  # form-style arrays: check the items one by one
            return [
                p
                for item in value.split(",")
                for p in OpenAPIIndex._value_problems(
                    where, what, item, {"schema": schema["items"]}
                )
            ]
        errors = list(jsonschema.Draft4Validator(schema).iter_errors(_coerce(value, schema)))
        return [f"{where}: {what}={value!r}: {e.message}" for e in errors]

    @staticmethod
    def _body_problems(
        where: str, request_body: Mapping[str, Any] | None, body: bytes
    ) -> list[str]:
        if request_body is None:
            return [f"{where}: takes no request body, got {len(body)} bytes"] if body else []
        if not body:
            return [f"{where}: request body required"] if request_body["required"] else []
        if request_body["schema"] is None:
            return []
        try:
            document = json.loads(body)
        except ValueError as exc:
            return [f"{where}: body is not JSON: {exc}"]
        validator = jsonschema.Draft4Validator(nullable_to_jsonschema(request_body["schema"]))
        return [
            f"{where}: body{''.join(f'[{p!r}]' for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(document)
        ]


class StandIn:
    """The server: program routes with `route`, read `requests` and `problems` afterwards."""

    def __init__(self, index: OpenAPIIndex | None) -> None:
        self.index = index
        self.requests: list[Recorded] = []
        self.problems: list[str] = []
        self._routes: dict[tuple[str, str], tuple[list[Responder], bool]] = {}
        self._prefixes: list[tuple[str, str, Callable[[Recorded], Reply]]] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                standin._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, used as the client's api_url."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path: str, *replies: Responder, external: bool = False) -> None:
        """Answer `method path` with `replies` in turn (the last repeats).

        `external=True` marks a non-API URL (artifact storage): served but not validated.
        """
        with self._lock:
            self._routes[(method.upper(), path)] = (list(replies), external)

    def route_prefix(
        self, method: str, prefix: str, responder: Callable[[Recorded], Reply]
    ) -> None:
        """Answer every `method` request under `prefix` that has no exact route (stateful fakes).

        The longest matching prefix wins; requests are validated as usual.
        """
        with self._lock:
            self._prefixes.append((method.upper(), prefix, responder))
            self._prefixes.sort(key=lambda item: -len(item[1]))

    def calls(self, path: str) -> list[Recorded]:
        """The recorded requests to `path`, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        query = parse_qs(split.query, keep_blank_values=True)
        method = handler.command
        with self._lock:
            replies, external = self._routes.get((method, split.path), ([], False))
        operation: str | None = None
        problems: list[str] = []
        if not external:
            if self.index is None:
                problems = []
            else:
                operation, problems = self.index.check(method, split.path, query, body)
        recorded = Recorded(
            method=method,
            path=split.path,
            query=query,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            operation=operation,
        )
        with self._lock:
            self.requests.append(recorded)
            self.problems += problems
            chosen: Responder | None = None
            if replies:
                chosen = replies[0] if len(replies) == 1 else replies.pop(0)
            else:
                chosen = next(
                    (
                        r
                        for m, pre, r in self._prefixes
                        if m == method and split.path.startswith(pre)
                    ),
                    None,
                )
            if chosen is None:
                self.problems.append(f"{method} {split.path}: no reply programmed in the test")
                chosen = Reply(404, {"message": "Not Found"})
        # Outside the lock: a stateful fake answering here takes its own lock.
        reply = chosen(recorded) if callable(chosen) else chosen
        payload = reply.body if reply.json is None else json.dumps(reply.json).encode()
        handler.send_response(reply.status)
        headers = dict(reply.headers)
        if reply.json is not None:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(payload)


@contextlib.contextmanager
def serve(index: OpenAPIIndex | None) -> Iterator[StandIn]:
    """Run a stand-in for the duration of a fixture."""
    server = StandIn(index)
    server.start()
    try:
        yield server
    finally:
        server.stop()
