"""The optional response check, compiled once so that each answer costs one parse and a walk."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from benchaction.config import ResponseCheck

__all__ = ["Verdict", "compile_check", "json_equal", "needs_body", "walk"]

Verdict = Callable[[int, bytes], str | None]
"""(HTTP status, whole body) -> None for a good answer, else a short reason."""

_SHOWN = 80  # characters of a value quoted in a reason


def needs_body(check: ResponseCheck | None) -> bool:
    """Whether the engine must buffer bodies: only checks that look inside one do."""
    return check is not None and (
        check.json_path is not None or check.equals_json is not None or check.matches is not None
    )


def compile_check(check: ResponseCheck | None) -> Verdict:
    """A verdict function for `check`; without a check every 2xx answer is good.

    `equals_json` and `matches` apply to the value at `json_path`, or to the whole body without one
    (`matches` then searches the body's text, which need not be JSON).
    """
    if check is None:
        return _any_2xx
    want_status = check.status
    steps = tuple(check.json_path.split(".")) if check.json_path is not None else None
    where = check.json_path if check.json_path is not None else "body"
    has_expected = check.equals_json is not None
    expected = json.loads(check.equals_json) if check.equals_json is not None else None
    pattern = re.compile(check.matches) if check.matches is not None else None
    parse = steps is not None or has_expected

    def verdict(status: int, body: bytes) -> str | None:
        if want_status is None:
            if not 200 <= status < 300:
                return f"status {status}, expected 2xx"
        elif status != want_status:
            return f"status {status}, expected {want_status}"
        if not parse:
            if pattern is None:
                return None
            text = body.decode("utf-8", "replace")
            return None if pattern.search(text) else f"body does not match {_shown(pattern)}"
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return "body is not JSON"
        if steps is not None:
            for depth, step in enumerate(steps):
                found, value = _step(value, step)
                if not found:
                    return f"path {'.'.join(steps[: depth + 1])} not found"
        if has_expected and not _same(value, expected):
            return f"{where} is {_shown(value)}, expected {check.equals_json}"
        if pattern is not None:
            text = value if isinstance(value, str) else _compact(value)
            if not pattern.search(text):
                return f"{where} is {_shown(value)}, does not match {_shown(pattern)}"
        return None

    return verdict


def _any_2xx(status: int, body: bytes) -> str | None:
    return None if 200 <= status < 300 else f"status {status}"


def walk(value: object, path: str) -> tuple[bool, object, str]:
    """The value at a dotted path (as `check` reads it): (found, value, the prefix that failed)."""
    steps = path.split(".")
    for depth, step in enumerate(steps):
        found, value = _step(value, step)
        if not found:
            return False, None, ".".join(steps[: depth + 1])
    return True, value, ""


def json_equal(a: object, b: object) -> bool:
    """JSON equality, as `check`'s equals compares: 1 equals 1.0, true is not 1."""
    return _same(a, b)


def _step(value: object, step: str) -> tuple[bool, object]:
    """One path step: a key of an object, or a non-negative index of a list."""
    if isinstance(value, dict):
        return (True, value[step]) if step in value else (False, None)
    if isinstance(value, list) and step.isdigit() and int(step) < len(value):
        return True, value[int(step)]
    return False, None


def _same(a: object, b: object) -> bool:
    """JSON equality: 1 equals 1.0 (JSON has one number type), but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return a == b


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _shown(value: object) -> str:
    """A value as it reads in a reason: compact JSON (a pattern as /.../), cut to a line."""
    text = f"/{value.pattern}/" if isinstance(value, re.Pattern) else _compact(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
