"""The scenarios section of bench.yml: requests, load shape, objectives and validity limits."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Literal

from benchaction.config.accuracy import build_accuracy
from benchaction.config.checker import Checker
from benchaction.config.fields import (
    DURATION_FORMS,
    FieldError,
    KeyPath,
    arrival,
    describe,
    did_you_mean,
    duration,
    expected,
    fraction,
    header,
    integer,
    is_json,
    jsonl_bodies,
    method,
    payload,
    payload_order,
    positive_number,
    protocol,
    scenario_name,
    show_path,
    url_path,
    workers,
)
from benchaction.config.model import (
    Arrivals,
    Limits,
    OpenAISpec,
    Protocol,
    ReadySpec,
    Scenario,
    Slo,
    Steady,
    Sweep,
    VerdictSpec,
    Warmup,
)
from benchaction.config.protocols import build_check, default_path, protocol_sections
from benchaction.results import ALL_METRICS

__all__ = ["SCENARIO_KEYS", "build_scenarios", "ready_path"]

SCENARIO_KEYS = (
    "accuracy",
    "arrival",
    "check",
    "concurrency",
    "duration",
    "headers",
    "kserve",
    "limits",
    "max_concurrency",
    "method",
    "name",
    "openai",
    "path",
    "payload_order",
    "payloads",
    "protocol",
    "rate",
    "requests",
    "seed",
    "slo",
    "sweep",
    "timeout",
    "verdict",
    "warmup",
    "workers",
)
READY_PATHS: dict[str, str] = {"kserve-v2": "/v2/health/ready", "openai": "/v1/models"}
"""The readiness path servers of one protocol answer, used when server.ready.path is not set."""


READY_FALLBACKS: dict[str, str] = {"openai": "/health"}
"""Probed as well when the protocol's readiness path answers 404 (a server without that route)."""


def _common_protocol(scenarios: object) -> str | None:
    items = scenarios if isinstance(scenarios, list) else []
    found = [s.get("protocol", "http") if isinstance(s, Mapping) else None for s in items]
    first = found[0] if found else None
    return first if isinstance(first, str) and all(p == first for p in found) else None


def ready_path(scenarios: object) -> str:
    """The readiness probe path implied by the (unchecked) scenarios: their common protocol's."""
    return READY_PATHS.get(_common_protocol(scenarios) or "", ReadySpec.path)


def ready_fallback(scenarios: object) -> str | None:
    """The path probed when the implied readiness path answers 404; None: no second guess."""
    return READY_FALLBACKS.get(_common_protocol(scenarios) or "")


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
    proto: Protocol = ck.field(m, "protocol", path, protocol, "http")
    given_path = ck.field(m, "path", path, url_path, None)
    openai, kserve = protocol_sections(ck, m, path, base, proto, given_path)
    verb = ck.field(m, "method", path, method, "GET" if proto == "http" else "POST")
    if proto != "http" and verb in ("GET", "HEAD"):
        fix = "use POST (its default) or remove method"
        ck.add((*path, "method"), f"protocol {proto} sends a JSON body with every request; {fix}")
    headers = _headers(ck, m.get("headers", {}), (*path, "headers"))
    bodies: tuple[bytes, ...] = ()
    if "payloads" in m and proto == "openai":
        fix = "move the texts to openai.prompts and remove payloads"
        ck.add((*path, "payloads"), f"protocol openai builds every body from openai.prompts; {fix}")
    elif "payloads" in m:
        bodies = _payloads(ck, m["payloads"], (*path, "payloads"), base)
    if "accuracy" in m and verb in ("GET", "HEAD"):
        fix = "use POST for the scenario or remove accuracy"
        ck.add(
            (*path, "accuracy"), f"sends each example as a request body, which {verb} lacks; {fix}"
        )
    if bodies and verb in ("GET", "HEAD"):
        ck.add((*path, "payloads"), f"{verb} requests carry no body; remove payloads or use POST")
    if all(h.lower() != "content-type" for h, _ in headers) and (
        proto != "http" or (bodies and all(map(is_json, bodies)))
    ):
        headers.append(("Content-Type", "application/json"))
    if "duration" in m and "requests" in m:
        ck.add(path, "expected exactly one of duration or requests, got both")
    elif "duration" not in m and "requests" not in m:
        ck.add(path, "expected exactly one of duration or requests, got neither")
    scenario = Scenario(
        name=name or "",
        path=given_path or default_path(proto, openai, kserve),
        method=verb,
        headers=tuple(headers),
        payloads=bodies,
        concurrency=ck.field(m, "concurrency", path, lambda v: integer(v, minimum=1), 1),
        duration_s=ck.field(m, "duration", path, duration, None),
        requests=ck.field(m, "requests", path, lambda v: integer(v, minimum=1), None),
        warmup=_warmup(ck, m["warmup"], (*path, "warmup")) if "warmup" in m else Warmup(),
        timeout_s=ck.field(m, "timeout", path, duration, 30.0),
        protocol=proto,
        arrivals=_arrivals(ck, m, path),
        seed=ck.field(m, "seed", path, lambda v: integer(v, minimum=0), 0),
        payload_order=ck.field(m, "payload_order", path, payload_order, "cycle"),
        check=build_check(ck, m["check"], (*path, "check")) if "check" in m else None,
        openai=openai,
        kserve=kserve,
        slo=_slo(ck, m["slo"], (*path, "slo"), proto, openai) if "slo" in m else Slo(),
        sweep=_sweep(ck, m["sweep"], (*path, "sweep"), "rate" in m) if "sweep" in m else None,
        limits=_limits(ck, m["limits"], (*path, "limits")) if "limits" in m else Limits(),
        workers=ck.field(m, "workers", path, workers, None),
        verdict=_verdict(ck, m["verdict"], (*path, "verdict")) if "verdict" in m else None,
        accuracy=build_accuracy(ck, m["accuracy"], (*path, "accuracy"), base, proto, openai)
        if "accuracy" in m
        else None,
    )
    return None if name is None else scenario


def _verdict(ck: Checker, value: object, path: KeyPath) -> VerdictSpec:
    """The metrics that decide this scenario's verdict, and its practical threshold."""
    m = ck.mapping(value, path, ("metrics", "threshold"))
    if isinstance(value, Mapping) and not m:
        ck.add(path, "expected metrics and/or threshold, got an empty mapping")
    names: tuple[str, ...] | None = None
    if "metrics" in m:
        raw = m["metrics"]
        if not isinstance(raw, list) or not raw:
            ck.add((*path, "metrics"), expected("a non-empty list of metric names", raw))
        else:
            known = [d.name for d in ALL_METRICS]
            good = []
            for index, item in enumerate(raw):
                if item in known:
                    good.append(str(item))
                else:
                    hint = did_you_mean(str(item), known)
                    ck.add(
                        (*path, "metrics", index),
                        f"expected one of: {', '.join(known)}; got {item!r}{hint}",
                    )
            names = tuple(good)
    share = ck.field(m, "threshold", path, lambda v: fraction(v, positive=True), None)
    if share is not None and share >= 1:
        ck.add((*path, "threshold"), f"expected a margin below 100 %, got {m['threshold']!r}")
    return VerdictSpec(metrics=names, threshold=share)


def _arrivals(ck: Checker, m: Mapping[object, object], path: KeyPath) -> Arrivals | None:
    """Open loop when `rate` is set; `arrival` and `max_concurrency` only mean something then."""
    rate = ck.field(m, "rate", path, positive_number, None)
    spacing: Literal["poisson", "constant"] = ck.field(m, "arrival", path, arrival, "poisson")
    cap = ck.field(m, "max_concurrency", path, lambda v: integer(v, minimum=1), None)
    if "rate" in m and "concurrency" in m:
        why = "open loop uses max_concurrency to cap in-flight requests"
        ck.add(
            (*path, "rate"),
            f"rate (open loop) and concurrency (closed loop) exclude each other: remove"
            f" concurrency ({why})",
        )
    if "rate" not in m and "arrival" in m:
        why = "only an open-loop scenario has arrivals to space"
        ck.add((*path, "arrival"), f"needs rate: {why}; set rate (requests/s) or remove arrival")
    if "rate" not in m and "max_concurrency" in m:
        why = "it caps the in-flight requests of an open-loop scenario"
        fix = "set rate (requests/s), or use concurrency for a closed loop"
        ck.add((*path, "max_concurrency"), f"needs rate: {why}; {fix}")
    return None if rate is None else Arrivals(rate, spacing, cap)


def _sweep(ck: Checker, value: object, path: KeyPath, open_loop: bool) -> Sweep | None:
    """Load levels: concurrency for a closed loop, rate for an open one, strictly increasing."""
    m = ck.mapping(value, path, ("concurrency", "max_error_rate", "rate"))
    max_error = ck.field(m, "max_error_rate", path, fraction, Sweep.max_error_rate)
    keys = [k for k in ("concurrency", "rate") if k in m]
    if len(keys) != 1:
        if isinstance(value, Mapping):
            got = "both" if keys else "neither"
            ck.add(path, f"expected exactly one of concurrency or rate, got {got}")
        return None
    key: Literal["concurrency", "rate"] = "concurrency" if "concurrency" in m else "rate"
    if key == "concurrency" and open_loop:
        fix = "sweep rate instead, e.g. sweep: {rate: [10, 50, 100]}"
        ck.add((*path, key), f"needs a closed-loop scenario, but this one sets rate; {fix}")
    elif key == "rate" and not open_loop:
        fix = "set rate on the scenario (the base level) or sweep concurrency instead"
        ck.add((*path, key), f"needs an open-loop scenario; {fix}")
    levels = _levels(ck, m[key], (*path, key), integers=key == "concurrency")
    return Sweep(key, levels, max_error) if levels else None


def _levels(ck: Checker, value: object, path: KeyPath, *, integers: bool) -> tuple[float, ...]:
    what = "integers >= 1" if integers else "numbers > 0"
    if not isinstance(value, list) or not value:
        ck.add(path, expected(f"a non-empty list of {what}, in increasing order", value))
        return ()
    levels: list[float] = []
    previous: object = None
    for index, item in enumerate(value):
        try:
            level: float = integer(item, minimum=1) if integers else positive_number(item)
        except FieldError as exc:
            ck.add((*path, index), str(exc))
            continue
        if levels and level <= levels[-1]:
            got = f"{describe(item)} after {describe(previous)}"
            ck.add((*path, index), f"expected strictly increasing levels, got {got}")
        levels.append(level)
        previous = item
    ordered = all(a < b for a, b in pairwise(levels))
    return tuple(levels) if ordered and len(levels) == len(value) else ()


def _slo(
    ck: Checker, value: object, path: KeyPath, proto: Protocol, openai: OpenAISpec | None
) -> Slo:
    """Objectives per request; time to first token and per token need streamed OpenAI answers."""
    m = ck.mapping(value, path, ("e2e", "latency", "tpot", "ttft"))
    if isinstance(value, Mapping) and not m:
        ck.add(path, "expected at least one of ttft, tpot, e2e, latency, got an empty mapping")
    for key in ("ttft", "tpot"):
        if key in m and (proto != "openai" or (openai is not None and not openai.stream)):
            why = f"protocol is {proto}" if proto != "openai" else "openai.stream is false"
            need = "protocol openai with openai.stream true"
            ck.add((*path, key), f"is measured on streamed tokens and needs {need} ({why})")
    return Slo(
        ttft_s=ck.field(m, "ttft", path, duration, None),
        tpot_s=ck.field(m, "tpot", path, duration, None),
        e2e_s=ck.field(m, "e2e", path, duration, None),
        latency_s=ck.field(m, "latency", path, duration, None),
    )


def _limits(ck: Checker, value: object, path: KeyPath) -> Limits:
    """When a trial measured the load generator rather than the server."""
    m = ck.mapping(value, path, ("client_cpu", "dispatch_lag_p99", "rate_tolerance"))
    default = Limits()
    return Limits(
        max_dispatch_lag_p99_s=ck.field(
            m, "dispatch_lag_p99", path, duration, default.max_dispatch_lag_p99_s
        ),
        rate_tolerance=ck.field(m, "rate_tolerance", path, fraction, default.rate_tolerance),
        max_client_cpu=ck.field(
            m, "client_cpu", path, lambda v: fraction(v, positive=True), default.max_client_cpu
        ),
    )


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
    return ck.jsonl_file(value, path, base, ("payload", "body"), jsonl_bodies)


def _warmup(ck: Checker, value: object, path: KeyPath) -> Warmup:
    if value == "steady":
        return Warmup(steady=Steady())
    if not isinstance(value, Mapping):
        try:
            return Warmup(duration_s=duration(value, positive=False))
        except FieldError:
            forms = f"{DURATION_FORMS}, 'steady', or a mapping {{duration, requests, steady}}"
            hint = did_you_mean(value, ("steady",)) if isinstance(value, str) else ""
            ck.add(path, str(expected(forms, value)) + hint)
            return Warmup()
    m = ck.mapping(value, path, ("duration", "requests", "steady"))
    if not m:
        ck.add(path, "expected duration and/or requests, or steady, got an empty mapping")
    return Warmup(
        duration_s=ck.field(m, "duration", path, lambda v: duration(v, positive=False), 0.0),
        requests=ck.field(m, "requests", path, lambda v: integer(v, minimum=0), 0),
        steady=_steady(ck, m["steady"], (*path, "steady")) if "steady" in m else None,
    )


def _steady(ck: Checker, value: object, path: KeyPath) -> Steady | None:
    """Warm up until steady: true (the defaults), false (off), or {window, tolerance, max, min}."""
    if isinstance(value, bool):
        return Steady() if value else None
    if not isinstance(value, Mapping):
        ck.add(path, expected("true, false, or a mapping {window, tolerance, max, min}", value))
        return None
    m = ck.mapping(value, path, ("max", "min", "tolerance", "window"))
    d = Steady()
    rule = Steady(
        window_s=ck.field(m, "window", path, duration, d.window_s),
        tolerance=ck.field(m, "tolerance", path, lambda v: fraction(v, positive=True), d.tolerance),
        max_s=ck.field(m, "max", path, duration, d.max_s),
        min_s=ck.field(m, "min", path, lambda v: duration(v, positive=False), d.min_s),
    )
    if rule.max_s < 2 * rule.window_s * (1 - 1e-9):
        where = (*path, "max") if "max" in m else path
        ck.add(
            where,
            f"max {rule.max_s:g}s leaves room for fewer than two windows of {rule.window_s:g}s"
            f" (each window is compared with the one before it); set max to at least"
            f" {2 * rule.window_s:g}s",
        )
    elif rule.min_s > rule.max_s:
        where = (*path, "min") if "min" in m else path
        ck.add(where, f"min {rule.min_s:g}s is over max {rule.max_s:g}s; expected min <= max")
    return rule
