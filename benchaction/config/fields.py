"""Parsers for single bench.yml values: YAML data in, typed value out, or a FieldError saying why."""

from __future__ import annotations

import difflib
import json
import math
import re
import shlex
from collections.abc import Collection, Mapping
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

from benchaction.config.model import (
    PROTOCOLS,
    RUNTIMES,
    GpuSpec,
    Protocol,
    Runtime,
)

__all__ = [
    "DURATION_FORMS",
    "PERCENT_FORMS",
    "SIZE_FORMS",
    "FieldError",
    "KeyPath",
    "canonical_json",
    "choice",
    "cpu_list",
    "describe",
    "did_you_mean",
    "duration",
    "expected",
    "fraction",
    "integer",
    "metric_families",
    "show_path",
    "size",
    "string",
]

T = TypeVar("T")
KeyPath = tuple[str | int, ...]
"""Where a value sits in the document: keys and list indexes, e.g. ("scenarios", 0, "path")."""

DURATION_FORMS = (
    "a duration: a number of seconds or a string like 250ms, 1.5s, 2m (units: ns, us, ms, s, m, h)"
)
SIZE_FORMS = (
    "a size: a number of bytes or a string like 512m, 2g, 1GiB"
    " (units: b, k, kb, kib, m, mb, mib, g, gb, gib; all 1024-based)"
)
PERCENT_FORMS = "a percentage like 5% or a fraction from 0 to 1"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ENGINE_HEADERS = ("content-length", "host", "transfer-encoding")

_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|μs|ms|s|m|h)\s*")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0}
_DURATION_UNITS |= {"m": 60.0, "h": 3600.0}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*")
_SIZE_UNITS = {"": 1, "b": 1} | {
    f"{u}{s}": 1024**p for p, u in ((1, "k"), (2, "m"), (3, "g")) for s in ("", "b", "ib")
}
_PERCENT_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TOKEN_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_METRIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_CPU_LIST_RE = re.compile(r" *\d{1,4}( *- *\d{1,4})?( *, *\d{1,4}( *- *\d{1,4})?)* *")


class FieldError(ValueError):
    """One value is wrong; the message says what was expected and what was found."""


def describe(value: object) -> str:
    """How a value is shown in a message: YAML spelling for scalars, a kind for collections."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def expected(what: str, value: object) -> str:
    """The standard 'expected X, got Y' message ('; got' after a list of choices)."""
    sep = ";" if what.startswith("one of:") else ","
    return f"expected {what}{sep} got {describe(value)}"


def mismatch(what: str, value: object) -> FieldError:
    """A FieldError saying what was expected and what was found."""
    return FieldError(expected(what, value))


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """A "; did you mean 'x'?" suffix when a choice is close to `word`, else ""."""
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def integer(value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer within the bounds given (booleans and floats are rejected)."""
    if minimum is not None and maximum is not None:
        what = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        what = f"an integer >= {minimum}"
    else:
        what = "an integer"
    if not _is_int(value):
        raise mismatch(what, value)
    number = cast(int, value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise mismatch(what, value)
    return number


def positive_number(value: object) -> float:
    """A finite number > 0."""
    if not _is_number(value) or not math.isfinite(cast(float, value)) or cast(float, value) <= 0:
        raise mismatch("a number > 0", value)
    return float(cast(float, value))


def boolean(value: object) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise mismatch("true or false", value)
    return value


def string(value: object) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise mismatch("a non-empty string", value)
    return value


def runtime(value: object) -> Runtime:
    """Where a built or pulled server runs."""
    for name in RUNTIMES:
        if value == name:
            return cast(Runtime, name)
    raise mismatch("one of: " + ", ".join(RUNTIMES), value)


def choice(value: object, choices: Collection[str]) -> str:
    """One of a fixed set of words, spelled exactly; a near miss gets a did-you-mean."""
    if isinstance(value, str) and value in choices:
        return value
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    raise FieldError(expected("one of: " + ", ".join(choices), value) + hint)


def protocol(value: object) -> Protocol:
    """How requests are built and answers read."""
    return cast(Protocol, choice(value, PROTOCOLS))


def arrival(value: object) -> Literal["poisson", "constant"]:
    """How open-loop send times are spaced."""
    return cast(Literal["poisson", "constant"], choice(value, ("poisson", "constant")))


def payload_order(value: object) -> Literal["cycle", "random"]:
    """Whether payloads (or prompts) are sent in turn or sampled."""
    return cast(Literal["cycle", "random"], choice(value, ("cycle", "random")))


def workers(value: object) -> int | None:
    """Load-generating processes: a count, or 'auto' (None: one per available core)."""
    if value == "auto":
        return None
    if not _is_int(value) or cast(int, value) < 1:
        raise mismatch("an integer >= 1 or 'auto'", value)
    return cast(int, value)


def cpu_list(value: object) -> tuple[int, ...]:
    """CPU numbers in Linux cpu-list syntax: '0-2,4' (or one number), sorted, each once."""
    what = "a CPU list like '0-2,4' (CPU numbers and ranges, comma-separated)"
    if _is_int(value) and cast(int, value) >= 0:
        return (cast(int, value),)
    if not isinstance(value, str) or not _CPU_LIST_RE.fullmatch(value):
        raise mismatch(what, value)
    cpus: set[int] = set()
    for part in value.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if last < first:
            raise FieldError(f"{what}: the range {part!r} runs backwards")
        cpus.update(range(first, last + 1))
    return tuple(sorted(cpus))


def fraction(value: object, *, positive: bool = False) -> float:
    """A share from 0 to 1, written as a percentage (5%) or a fraction (0.05)."""
    if _is_number(value):
        share = float(cast(float, value))
    elif isinstance(value, str) and (match := _PERCENT_RE.fullmatch(value)):
        share = float(match[1]) / 100
    else:
        raise mismatch(PERCENT_FORMS, value)
    if not 0 <= share <= 1 or (positive and share == 0):
        raise mismatch(f"{PERCENT_FORMS}{', above 0' if positive else ''}", value)
    return share


def canonical_json(value: object) -> str:
    """Any YAML value as JSON text with sorted keys and no spaces, so equal values hash equal."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise FieldError(f"cannot encode as JSON: {exc}") from None


def text(value: object) -> str:
    """A scalar turned into the string a process or a header sees; booleans are true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) or _is_number(value):
        return str(value)
    raise mismatch("a string, number or boolean", value)


def duration(value: object, *, positive: bool = True) -> float:
    """Seconds from a number of seconds or a string with a unit (ns, us, µs, ms, s, m, h)."""
    if _is_number(value):
        seconds = float(cast(float, value))
    elif isinstance(value, str) and (match := _DURATION_RE.fullmatch(value)):
        seconds = float(match[1]) * _DURATION_UNITS[match[2]]
    else:
        raise mismatch(DURATION_FORMS, value)
    if not math.isfinite(seconds) or seconds < 0 or (positive and seconds == 0):
        raise mismatch("a duration > 0" if positive else "a duration >= 0", value)
    return seconds


def size(value: object) -> int:
    """Bytes (> 0) from a number of bytes or a string with a unit; k, m, g are 1024-based."""
    if _is_int(value):
        count = cast(int, value)
    elif isinstance(value, str) and (match := _SIZE_RE.fullmatch(value.lower())):
        if match[2] not in _SIZE_UNITS:
            raise mismatch(SIZE_FORMS, value)
        count = round(float(match[1]) * _SIZE_UNITS[match[2]])
    else:
        raise mismatch(SIZE_FORMS, value)
    if count <= 0:
        raise mismatch("a size > 0", value)
    return count


def command(value: object) -> tuple[str, ...]:
    """A command line: a string split like a shell would, or a list of arguments."""
    if isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as exc:
            raise FieldError(f"cannot split the command {describe(value)}: {exc}") from None
        if parts:
            return tuple(parts)
    elif (
        isinstance(value, list)
        and value
        and all(isinstance(p, str) or _is_number(p) for p in value)
    ):
        return tuple(str(p) for p in value)
    raise mismatch("a command: a string or a non-empty list of strings", value)


def gpus(value: object) -> GpuSpec:
    """`all`, a count of GPUs, or a list of device ids."""
    what = "'all', a GPU count (an integer >= 0) or a non-empty list of device ids"
    if value == "all":
        return GpuSpec(all=True)
    if _is_int(value) and cast(int, value) >= 0:
        return GpuSpec(count=cast(int, value))
    if isinstance(value, list) and value:
        ids = [str(v) for v in value if (_is_int(v) and v >= 0) or (isinstance(v, str) and v)]
        if len(ids) == len(value):
            return GpuSpec(device_ids=tuple(ids))
    raise mismatch(what, value)


def server_url(value: object) -> str:
    """The http:// address of a server that is already running, without a trailing slash."""
    if not isinstance(value, str):
        raise mismatch("an http:// URL like http://127.0.0.1:8000", value)
    parts = urlsplit(value)
    if parts.scheme.lower() == "https":
        raise FieldError(f"TLS is not supported yet: use an http:// URL, got {describe(value)}")
    try:
        port_ok = parts.port != 0
    except ValueError:
        port_ok = False
    if parts.scheme.lower() != "http" or not parts.hostname or not port_ok:
        raise mismatch("an http:// URL like http://127.0.0.1:8000", value)
    return value.rstrip("/")


def metric_families(value: object) -> tuple[str, ...]:
    """Prometheus metric family names (letters, digits, '_' and ':'), each once."""
    what = "a non-empty list of Prometheus metric names like vllm:num_preemptions"
    if not isinstance(value, list) or not value:
        raise mismatch(what, value)
    for item in value:
        if not isinstance(item, str) or not _METRIC_NAME_RE.fullmatch(item):
            raise FieldError(
                expected("a Prometheus metric name (letters, digits, '_' and ':')", item)
                + " in the list"
            )
    twice = sorted({n for n in value if value.count(n) > 1})
    if twice:
        raise FieldError(f"each family may be listed once; listed twice: {', '.join(twice)}")
    return tuple(value)


def url_path(value: object) -> str:
    """A request path such as /predict (no spaces or line breaks)."""
    if not isinstance(value, str) or not value.startswith("/") or re.search(r"\s", value):
        raise mismatch("a path starting with '/' (no spaces)", value)
    return value


def method(value: object) -> str:
    """An HTTP method, any case, returned in upper case."""
    if not isinstance(value, str) or value.upper() not in METHODS:
        raise mismatch("one of: " + ", ".join(METHODS), value)
    return value.upper()


def scenario_name(value: object) -> str:
    """A name fit for file names and report rows."""
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise mismatch(
            "a name of 1 to 64 letters, digits, '.', '_' or '-' starting with a letter or digit",
            value,
        )
    return value


def header(name: object, value: object) -> tuple[str, str]:
    """One request header; the ones the load engine sets itself are refused."""
    if not isinstance(name, str) or not name:
        raise mismatch("a header name", name)
    if "\r" in name or "\n" in name:
        raise FieldError("header names must not contain CR or LF")
    if not _TOKEN_RE.fullmatch(name):
        raise mismatch("a header name made of letters, digits and !#$%&'*+-.^_`|~", name)
    if name.lower() in ENGINE_HEADERS:
        raise FieldError(f"{name} is set by the load engine for every request; remove it")
    rendered = text(value)
    if "\r" in rendered or "\n" in rendered:
        raise FieldError("header values must not contain CR or LF")
    return name, rendered


def payload(item: object) -> bytes:
    """An inline body: mappings and lists as compact JSON, strings as UTF-8 as written."""
    if isinstance(item, str):
        try:
            return item.encode()
        except UnicodeEncodeError as exc:
            raise FieldError(f"cannot encode the string as UTF-8: {exc.reason}") from None
    if isinstance(item, Mapping | list):
        try:
            return json.dumps(item, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise FieldError(f"cannot encode as JSON: {exc}") from None
    raise mismatch("a mapping or list (sent as JSON) or a string (sent as written)", item)


def json_lines(
    data: bytes, name: str
) -> tuple[list[tuple[int, bytes, Any]], list[tuple[int, str]]]:
    """Every non-empty line of a JSONL file as (line number, bytes, value), and the bad lines."""
    good: list[tuple[int, bytes, Any]] = []
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.removesuffix(b"\r")
        if not line.strip():
            continue
        try:
            good.append((number, line, json.loads(line)))
        except json.JSONDecodeError as exc:
            bad.append((number, f"{name}:{number}: not valid JSON: {exc.msg} (column {exc.colno})"))
        except ValueError:
            bad.append((number, f"{name}:{number}: not valid UTF-8 JSON"))
    return good, bad


def jsonl_bodies(data: bytes, name: str) -> tuple[list[bytes], list[str]]:
    """One body per non-empty line of a JSONL file (line breaks removed), and the bad lines."""
    good, bad = json_lines(data, name)
    return [line for _, line, _ in good], [message for _, message in bad]


def is_json(body: bytes) -> bool:
    """Whether a body parses as JSON."""
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def show_path(path: KeyPath) -> str:
    """A key path as written in messages: server.ready.path, scenarios[0].name."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
