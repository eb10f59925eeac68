"""The scenario sections that shape requests and judge answers: openai, kserve and check."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import quote

from benchaction.config.checker import Checker
from benchaction.config.fields import (
    FieldError,
    KeyPath,
    boolean,
    canonical_json,
    choice,
    describe,
    did_you_mean,
    expected,
    integer,
    json_lines,
    mismatch,
    string,
)
from benchaction.config.model import (
    KServeSpec,
    KServeTensor,
    OpenAISpec,
    Protocol,
    ResponseCheck,
)

__all__ = [
    "CHECK_KEYS",
    "DATATYPES",
    "KSERVE_KEYS",
    "OPENAI_KEYS",
    "build_check",
    "default_path",
    "protocol_sections",
]

CHECK_KEYS = ("equals", "json", "matches", "status")
OPENAI_KEYS = ("endpoint", "extra_body", "max_tokens", "model", "prompts", "stream")
KSERVE_KEYS = ("inputs", "model", "outputs", "version")
TENSOR_KEYS = ("data", "datatype", "name", "shape")
DATATYPES = (
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
    "FP16", "FP32", "FP64", "BF16", "BYTES",
)  # fmt: skip
_OWN_BODY_KEYS = {
    "model": "openai.model",
    "messages": "openai.prompts",
    "prompt": "openai.prompts",
    "stream": "openai.stream",
    "max_tokens": "openai.max_tokens",
}
"""Request body keys openai sets from its own settings, and the setting to use instead."""
_INT_RE = re.compile(r"(U?)INT(\d+)")
_PROTOCOL_SECTIONS: dict[str, Protocol] = {"openai": "openai", "kserve": "kserve-v2"}


def build_check(ck: Checker, value: object, path: KeyPath) -> ResponseCheck | None:
    """The `check` section: what every good answer must show."""
    m = ck.mapping(value, path, CHECK_KEYS)
    if not isinstance(value, Mapping):
        return None
    if not m:
        ck.add(path, "expected at least one of status, json, equals, matches, got an empty mapping")
        return None
    return ResponseCheck(
        status=ck.field(m, "status", path, lambda v: integer(v, minimum=100, maximum=599), None),
        json_path=ck.field(m, "json", path, _json_path, None),
        equals_json=ck.field(m, "equals", path, canonical_json, None),
        matches=ck.field(m, "matches", path, _regex, None),
    )


def protocol_sections(
    ck: Checker,
    m: Mapping[Any, Any],
    path: KeyPath,
    base: Path,
    protocol: Protocol,
    given_path: str | None,
) -> tuple[OpenAISpec | None, KServeSpec | None]:
    """The scenario's openai or kserve section: required by its protocol, refused by the others."""
    for key, owner in _PROTOCOL_SECTIONS.items():
        if key in m and protocol != owner:
            ck.add(
                (*path, key),
                f"only used with protocol {owner}; set protocol: {owner} or remove {key}",
            )
        elif key not in m and protocol == owner:
            what = "model and prompts" if key == "openai" else "model and inputs"
            ck.add((*path, key), f"required key is missing (protocol {owner} needs {what})")
    openai = kserve = None
    if protocol == "openai" and "openai" in m:
        openai = _openai(ck, m["openai"], (*path, "openai"), base, given_path)
    if protocol == "kserve-v2" and "kserve" in m:
        kserve = _kserve(ck, m["kserve"], (*path, "kserve"), "payloads" in m)
    return openai, kserve


def default_path(protocol: Protocol, openai: OpenAISpec | None, kserve: KServeSpec | None) -> str:
    """The request path a protocol implies when the scenario names none."""
    if protocol == "openai":
        return (
            "/v1/completions"
            if openai and openai.endpoint == "completions"
            else "/v1/chat/completions"
        )
    if protocol == "kserve-v2" and kserve is not None:
        model = f"/v2/models/{quote(kserve.model, safe='')}"
        version = "" if kserve.version is None else f"/versions/{quote(kserve.version, safe='')}"
        return f"{model}{version}/infer"
    return "/"


def _openai(
    ck: Checker, value: object, path: KeyPath, base: Path, given_path: str | None
) -> OpenAISpec | None:
    m = ck.mapping(value, path, OPENAI_KEYS)
    if not isinstance(value, Mapping):
        return None
    for key in ("model", "prompts"):
        if key not in m:
            ck.add((*path, key), "required key is missing")
    completions = (given_path or "").endswith("/v1/completions")
    implied: Literal["chat", "completions"] = "completions" if completions else "chat"
    endpoint = ck.field(m, "endpoint", path, _endpoint, implied)
    model = ck.field(m, "model", path, string, None)
    prompts = _prompts(ck, m["prompts"], (*path, "prompts"), base) if "prompts" in m else ()
    stream = ck.field(m, "stream", path, boolean, OpenAISpec.stream)
    max_tokens = ck.field(m, "max_tokens", path, _max_tokens, OpenAISpec.max_tokens)
    extra = (
        _extra_body(ck, m["extra_body"], (*path, "extra_body"))
        if "extra_body" in m
        else OpenAISpec.extra_body_json
    )
    if model is None or not prompts:
        return None
    return OpenAISpec(endpoint, model, prompts, stream, max_tokens, extra)


def _endpoint(value: object) -> Literal["chat", "completions"]:
    return cast(Literal["chat", "completions"], choice(value, ("chat", "completions")))


def _max_tokens(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise mismatch("an integer >= 1, or null to send no limit", value)
    return value


def _prompts(ck: Checker, value: object, path: KeyPath, base: Path) -> tuple[str, ...]:
    if isinstance(value, Mapping):
        return ck.jsonl_file(value, path, base, ("prompt", "prompt"), _prompt_lines)
    if not isinstance(value, list):
        ck.add(path, expected("a list of prompts or a mapping {file: prompts.jsonl}", value))
        return ()
    if not value:
        ck.add(path, "expected at least one prompt, got an empty list")
    out: list[str] = []
    for index, item in enumerate(value):
        try:
            out.append(string(item))
        except FieldError as exc:
            ck.add((*path, index), str(exc))
    return tuple(out)


def _prompt_lines(data: bytes, name: str) -> tuple[list[str], list[str]]:
    """One prompt per non-empty line: a JSON string, or an object with a "prompt" string."""
    prompts: list[str] = []
    good, bad = json_lines(data, name)
    for number, _, item in good:
        text = item.get("prompt") if isinstance(item, dict) else item
        if isinstance(text, str) and text.strip():
            prompts.append(text)
        else:
            what = 'a JSON string or an object {"prompt": "..."} with a non-empty prompt'
            bad.append((number, f"{name}:{number}: {expected(what, item)}"))
    return prompts, [message for _, message in sorted(bad)]


def _extra_body(ck: Checker, value: object, path: KeyPath) -> str:
    if not isinstance(value, Mapping):
        ck.add(path, expected("a mapping of request body keys to values", value))
        return "{}"
    for key in value:
        if key in _OWN_BODY_KEYS:
            ck.add((*path, str(key)), f"set by {_OWN_BODY_KEYS[key]}; use that instead")
    try:
        return canonical_json(dict(value))
    except FieldError as exc:
        ck.add(path, str(exc))
        return "{}"


def _kserve(ck: Checker, value: object, path: KeyPath, has_payloads: bool) -> KServeSpec | None:
    m = ck.mapping(value, path, KSERVE_KEYS)
    if not isinstance(value, Mapping):
        return None
    if "model" not in m:
        ck.add((*path, "model"), "required key is missing")
    model = ck.field(m, "model", path, string, None)
    version = ck.field(m, "version", path, _model_version, None)
    if "inputs" in m and has_payloads:
        ck.add((*path, "inputs"), "give the request as kserve.inputs or as payloads, not both")
    elif "inputs" not in m and not has_payloads:
        ck.add(
            path, "expected inputs (the request's tensors) or payloads on the scenario, got neither"
        )
    inputs = _tensors(ck, m["inputs"], (*path, "inputs")) if "inputs" in m else ()
    outputs: tuple[str, ...] = ck.field(m, "outputs", path, _output_names, ())
    return None if model is None else KServeSpec(model, inputs, version, outputs)


def _model_version(value: object) -> str:
    if isinstance(value, float):
        fix = f"quote it: YAML reads {value!r} as a number, so 1.10 would become 1.1"
        raise FieldError(f"expected a version string, got the number {value!r}; {fix}")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return string(value)


def _output_names(value: object) -> tuple[str, ...]:
    names = value if isinstance(value, list) else None
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise mismatch("a non-empty list of output tensor names", value)
    if len(set(names)) != len(names):
        raise FieldError(f"output names must be unique, got {', '.join(map(str, names))}")
    return tuple(names)


def _tensors(ck: Checker, value: object, path: KeyPath) -> tuple[KServeTensor, ...]:
    if not isinstance(value, list) or not value:
        ck.add(path, expected("a non-empty list of tensors {name, datatype, shape, data}", value))
        return ()
    out: list[KServeTensor] = []
    for index, item in enumerate(value):
        tensor = _tensor(ck, item, (*path, index))
        if tensor is None:
            continue
        if any(t.name == tensor.name for t in out):
            ck.add((*path, index, "name"), f"duplicate input name {tensor.name!r}")
        out.append(tensor)
    return tuple(out)


def _tensor(ck: Checker, value: object, path: KeyPath) -> KServeTensor | None:
    m = ck.mapping(value, path, TENSOR_KEYS)
    if not isinstance(value, Mapping):
        return None
    for key in ("name", "datatype", "shape", "data"):
        if key not in m:
            ck.add((*path, key), "required key is missing")
    name = ck.field(m, "name", path, string, None)
    datatype = ck.field(m, "datatype", path, _datatype, None)
    shape = ck.field(m, "shape", path, _shape, None)
    data = ck.field(m, "data", path, canonical_json, None)
    if name is None or datatype is None or shape is None or data is None:
        return None
    problem = _data_problem(m["data"], datatype, shape)
    if problem:
        ck.add((*path, "data"), problem)
    return KServeTensor(name, datatype, shape, data)


def _datatype(value: object) -> str:
    """A KServe v2 tensor type, any case (FP32, fp32), returned in upper case."""
    if isinstance(value, str) and value.upper() in DATATYPES:
        return value.upper()
    hint = did_you_mean(value.upper(), DATATYPES) if isinstance(value, str) else ""
    raise FieldError(expected("one of: " + ", ".join(DATATYPES), value) + hint)


def _shape(value: object) -> tuple[int, ...]:
    dims = value if isinstance(value, list) else None
    if dims is None or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims
    ):
        raise mismatch("a list of dimensions (integers >= 0), e.g. [1, 4]", value)
    return tuple(dims)


def _data_problem(data: object, datatype: str, shape: tuple[int, ...]) -> str | None:
    """Why `data` cannot be a tensor of this type and shape, or None when it can."""
    values = list(_flatten(data))
    if len(values) != math.prod(shape):
        return f"holds {len(values)} values, but shape {list(shape)} needs {math.prod(shape)}"
    kind, fits = _value_rule(datatype)
    bad = [v for v in values if not fits(v)]
    return f"expected {datatype} values ({kind}), got {describe(bad[0])}" if bad else None


def _flatten(data: object) -> list[object]:
    if not isinstance(data, list):
        return [data]
    return [leaf for item in data for leaf in _flatten(item)]


def _value_rule(datatype: str) -> tuple[str, Callable[[object], bool]]:
    """What one value of a datatype looks like: a description and a test."""
    if datatype == "BOOL":
        return "true or false", lambda v: isinstance(v, bool)
    if datatype == "BYTES":
        return "strings", lambda v: isinstance(v, str)
    if match := _INT_RE.fullmatch(datatype):
        bits, unsigned = int(match[2]), bool(match[1])
        low, high = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return (
            f"integers from {low} to {high}",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high,
        )
    return "numbers", lambda v: isinstance(v, int | float) and not isinstance(v, bool)


def _json_path(value: object) -> str:
    """A dotted path into a JSON answer; list indexes are numbers: outputs.0.datatype."""
    if not isinstance(value, str) or not value or any(not p.strip() for p in value.split(".")):
        raise mismatch("a dotted path like outputs.0.datatype (no empty parts)", value)
    return value


def _regex(value: object) -> str:
    """A regular expression, compiled now so a bad pattern is reported with the config."""
    if not isinstance(value, str):
        raise mismatch("a regular expression (a string)", value)
    try:
        re.compile(value)
    except re.error as exc:
        problem = f"{exc.msg} at position {exc.pos}"
        raise FieldError(f"not a valid regular expression {describe(value)}: {problem}") from None
    return value
