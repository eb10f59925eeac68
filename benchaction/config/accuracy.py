"""A scenario's `accuracy` block: a labelled set, where the prediction sits, and how it is scored.

Everything knowable before a server answers is checked here: the file, every line's request and
label, the label's type against the metric, the threshold's unit against the metric's kind. What
only an answer can tell (a prediction path the answers lack) is counted per example at run time.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from benchaction.config.checker import Checker
from benchaction.config.fields import (
    FieldError,
    KeyPath,
    choice,
    describe,
    duration,
    expected,
    integer,
    json_lines,
    mismatch,
    string,
)
from benchaction.config.model import (
    ACCURACY_METRICS,
    AccuracyMetric,
    AccuracySpec,
    OpenAISpec,
    Protocol,
)

__all__ = ["ACCURACY_KEYS", "RATE_METRICS", "build_accuracy", "parse_accuracy_threshold"]

ACCURACY_KEYS = ("concurrency", "file", "metric", "prediction", "threshold", "timeout")
RATE_METRICS = ("accuracy", "exact_match", "token_f1")
"""Metrics that are a share of right answers (changes in percentage points); the rest are errors."""
DEFAULT_THRESHOLDS = {"rate": 0.01, "error": 0.05}
"""1 percentage point of a rate, 5 % of an error: below these a change does not count."""
_LINE_FORM = 'an object {"request": ..., "label": ...}'
_THRESHOLD_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(pp|%)\s*")


def parse_accuracy_threshold(value: object, metric: str) -> float:
    """`0.5pp` for a rate metric (an absolute difference), `5%` for an error (relative)."""
    rate = metric in RATE_METRICS
    unit, example = ("pp", "0.5pp") if rate else ("%", "5%")
    kind = "a rate of right answers" if rate else "an error"
    if isinstance(value, str) and (m := _THRESHOLD_RE.fullmatch(value)):
        if m[2] != unit:
            raise FieldError(
                f"{metric} is {kind}: give its threshold in {unit}, e.g. {example} (got {value!r})"
            )
        share = float(m[1]) / 100
    elif isinstance(value, int | float) and not isinstance(value, bool):
        share = float(value)
    else:
        raise mismatch(f"a threshold like {example} (or a fraction like 0.05)", value)
    if not 0 < share < 1 or not math.isfinite(share):
        raise mismatch(f"a threshold above 0 and below 100{unit}, e.g. {example}", value)
    return share


def build_accuracy(
    ck: Checker,
    value: object,
    path: KeyPath,
    base: Path,
    protocol: Protocol,
    openai: OpenAISpec | None,
) -> AccuracySpec | None:
    """The `accuracy` block of one scenario, its labelled file read and checked line by line."""
    m = ck.mapping(value, path, ACCURACY_KEYS)
    if not isinstance(value, Mapping):
        return None
    if "file" not in m:
        ck.add((*path, "file"), 'required key is missing (a JSONL file of {"request", "label"})')
    metric = cast(
        AccuracyMetric,
        ck.field(m, "metric", path, lambda v: choice(v, ACCURACY_METRICS), "accuracy"),
    )
    prediction = ck.field(m, "prediction", path, _prediction_path, None)
    if prediction is None and protocol != "openai" and "prediction" not in m:
        ck.add(
            (*path, "prediction"),
            "required key is missing: the dotted path of the prediction in each answer,"
            " e.g. outputs.0.data.0 (only protocol openai has a default: the answer's text)",
        )
    kind = "rate" if metric in RATE_METRICS else "error"
    threshold = ck.field(
        m,
        "threshold",
        path,
        lambda v: parse_accuracy_threshold(v, metric),
        DEFAULT_THRESHOLDS[kind],
    )
    concurrency = ck.field(m, "concurrency", path, lambda v: integer(v, minimum=1), 4)
    timeout_s = ck.field(m, "timeout", path, duration, 300.0)
    name = ck.field(m, "file", path, string, None)
    if name is None:
        return None
    try:
        data = (base / name).read_bytes()
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else exc.strerror
        ck.add((*path, "file"), f"cannot read labelled file {name}: {reason} ({base / name})")
        return None
    bodies, labels, bad = _examples(data, name, metric, protocol, openai)
    for problem in bad[:5]:
        ck.add((*path, "file"), problem)
    if len(bad) > 5:
        ck.add((*path, "file"), f"{name}: {len(bad) - 5} more lines have problems")
    if not bodies and not bad:
        what = '{"request": <body>, "label": <value>}'
        ck.add((*path, "file"), f"{name} holds no examples (one JSON object {what} a line)")
    if bad or not bodies:
        return None
    return AccuracySpec(
        file=name,
        metric=metric,
        prediction=prediction,
        requests=tuple(bodies),
        labels=tuple(labels),
        sha256=hashlib.sha256(data).hexdigest(),
        threshold=threshold,
        concurrency=concurrency,
        timeout_s=timeout_s,
    )


def _prediction_path(value: object) -> str:
    if not isinstance(value, str) or not value or any(not p.strip() for p in value.split(".")):
        raise mismatch("a dotted path like outputs.0.data.0 (no empty parts)", value)
    return value


def _examples(
    data: bytes, name: str, metric: str, protocol: Protocol, openai: OpenAISpec | None
) -> tuple[list[bytes], list[str], list[str]]:
    """Request bodies as sent, labels as canonical JSON, and each bad line's problem."""
    bodies: list[bytes] = []
    labels: list[str] = []
    good, bad_lines = json_lines(data, name)
    bad = [message for _, message in bad_lines]
    for number, _, item in good:
        where = f"{name}:{number}"
        if not isinstance(item, dict):
            bad.append(f"{where}: {expected(_LINE_FORM, item)}")
            continue
        missing = [k for k in ("request", "label") if k not in item]
        if missing:
            bad.append(f"{where}: missing {' and '.join(missing)} (each line needs both)")
            continue
        problem = _label_problem(item["label"], metric)
        try:
            body = _body(item["request"], protocol, openai)
        except FieldError as exc:
            problem = problem or f"request: {exc}"
            body = b""
        if problem:
            bad.append(f"{where}: {problem}")
            continue
        bodies.append(body)
        labels.append(json.dumps(item["label"], sort_keys=True, separators=(",", ":")))
    return bodies, labels, sorted(bad, key=_line_number)


def _line_number(message: str) -> int:
    found = re.search(r":(\d+):", message)
    return int(found[1]) if found else 0


def _label_problem(label: object, metric: str) -> str | None:
    """Why a label cannot be scored by `metric`, or None."""
    if metric in ("mae", "rmse"):
        if isinstance(label, bool) or not isinstance(label, int | float):
            return f"label: {metric} scores numbers; {expected('a number', label)}"
    elif metric == "token_f1":
        if not isinstance(label, str):
            return f"label: token_f1 compares words; {expected('a string', label)}"
    elif metric == "accuracy" and (label is None or isinstance(label, dict | list)):
        fix = "use exact_match to compare whole JSON values"
        got = describe(label)
        return f"label: accuracy compares one class; expected a string, number or boolean, got {got} ({fix})"
    return None


def _body(request: object, protocol: Protocol, openai: OpenAISpec | None) -> bytes:
    """The request as sent: the whole body (http, kserve-v2), or the prompt's body (openai)."""
    if protocol == "openai":
        if not isinstance(request, str) or not request.strip():
            raise mismatch("the prompt, a non-empty string (protocol openai)", request)
        return _openai_body(request, openai)
    if protocol == "kserve-v2" and not isinstance(request, dict):
        raise mismatch("an inference request object {inputs: [...]}", request)
    if isinstance(request, str):
        return request.encode()
    if isinstance(request, dict | list):
        return json.dumps(request, separators=(",", ":"), allow_nan=False).encode()
    raise mismatch("a JSON object or list (sent as JSON) or a string (sent as written)", request)


def _openai_body(prompt: str, spec: OpenAISpec | None) -> bytes:
    """One deterministic, unstreamed request: temperature 0 so the answer is the model's best."""
    if spec is None:
        return b""  # the openai section's own problem is reported with it
    body: dict[str, Any] = {"model": spec.model}
    if spec.endpoint == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if spec.max_tokens is not None:
        body["max_tokens"] = spec.max_tokens
    body.update(json.loads(spec.extra_body_json))
    body.update(stream=False, temperature=0)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
