"""Prometheus exposition text in, what changed over a measurement window out.

Parsing is `prometheus_client`'s text parser. Per family the window keeps: for a counter its
increase, for a gauge its start, end, min, max and mean, for a histogram or summary the increase
of its count and sum (and so the mean observation). Each label set is kept on its own, up to
MAX_SERIES per family, and the family total sums every label set (docs/telemetry.md).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from prometheus_client.parser import text_string_to_metric_families

from .server_families import KNOWN_SERVERS

__all__ = [
    "MAX_SERIES",
    "Family",
    "Scrape",
    "Snapshot",
    "default_families",
    "detect_server",
    "family_name",
    "parse_exposition",
    "summarize_window",
]

Kind = Literal["counter", "gauge", "histogram", "summary"]
Labels = tuple[tuple[str, str], ...]

MAX_SERIES = 20
"""Label sets listed per family; the family total still sums them all."""


@dataclass(frozen=True)
class Family:
    """One family of one scrape: per label set a value (counter, gauge) or (count, sum)."""

    kind: Kind
    values: Mapping[Labels, tuple[float, ...]]


Snapshot = Mapping[str, Family]
"""A parsed scrape: family name (counters without `_total`) -> its values."""


@dataclass(frozen=True)
class Scrape:
    """One scrape: when it was answered (perf_counter_ns), and its text or why it failed."""

    t_ns: int
    text: str | None
    error: str | None = None


def _kind(prom_type: str) -> Kind:
    if prom_type in ("counter", "histogram", "summary"):
        return prom_type  # type: ignore[return-value]
    return "gauge"  # gauge, and untyped/unknown: a value read as it is


def parse_exposition(text: str, keep: Collection[str] | None = None) -> dict[str, Family]:
    """Parse Prometheus text; `keep` limits the families parsed into values (None: all).

    Samples that are NaN or infinite are left out. Raises ValueError naming the problem when
    the text is not Prometheus exposition.
    """
    out: dict[str, Family] = {}
    try:
        for family in text_string_to_metric_families(text):
            if keep is not None and family.name not in keep:
                continue
            kind = _kind(family.type)
            values: dict[Labels, list[float]] = {}
            for sample in family.samples:
                suffix = sample.name[len(family.name) :]
                labels = tuple(sorted(sample.labels.items()))
                if not math.isfinite(sample.value):
                    continue  # NaN is "no value" (and JSON has no spelling for either)
                if kind in ("histogram", "summary"):
                    if suffix not in ("_count", "_sum"):
                        continue  # buckets, quantiles and _created are not kept
                    pair = values.setdefault(labels, [math.nan, math.nan])
                    pair[0 if suffix == "_count" else 1] = float(sample.value)
                elif suffix in ("", "_total"):
                    values[labels] = [float(sample.value)]
            out[family.name] = Family(kind, {k: tuple(v) for k, v in values.items()})
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(f"not Prometheus text exposition: {exc}") from None
    return out


def detect_server(names: Iterable[str]) -> str | None:
    """Which known server exposes these families, by a family name of its own (None: none)."""
    names = list(names)
    for server, marker, _ in KNOWN_SERVERS:
        if any(n.startswith(marker) for n in names):
            return server
    return None


def default_families(server: str | None) -> tuple[str, ...]:
    """The families kept for a known server when the config lists none."""
    return next((families for name, _, families in KNOWN_SERVERS if name == server), ())


def family_name(name: str, available: Collection[str]) -> str:
    """A configured name as the parser names it: counters lose `_total` (`x_total` -> `x`)."""
    if name not in available and name.endswith("_total") and name[:-6] in available:
        return name[:-6]
    return name


def _value(family: Family | None, labels: Labels, index: int) -> float | None:
    if family is None:
        return None
    row = family.values.get(labels)
    return None if row is None or math.isnan(row[index]) else row[index]


def _interpolate(
    points: Sequence[tuple[int, Snapshot]], at_ns: int, name: str, labels: Labels, index: int
) -> float:
    """A cumulative value at `at_ns`: linear between the scrapes either side. A series not
    there yet counts 0 (it had no increments); one without a value after `at_ns` holds still."""
    before = [(t, s) for t, s in points if t <= at_ns]
    after = [(t, s) for t, s in points if t >= at_ns]
    if not before:
        return _value(after[0][1].get(name), labels, index) or 0.0
    t0, s0 = before[-1]
    v0 = _value(s0.get(name), labels, index) or 0.0
    if not after or after[0][0] == t0:
        return v0
    t1, s1 = after[0]
    v1 = _value(s1.get(name), labels, index)
    if v1 is None:
        return v0
    return v0 + (v1 - v0) * (at_ns - t0) / (t1 - t0)


def _round(value: float | None) -> float | None:
    """Whole numbers (counts) as they are, others to six significant digits."""
    if value is None or value.is_integer():
        return value
    return float(f"{value:.6g}")


def _increase(
    points: Sequence[tuple[int, Snapshot]], w0_ns: int, name: str, labels: Labels, index: int
) -> float | None:
    """End (the scrape after the load) minus the interpolated value at the window start."""
    end = _value(points[-1][1].get(name), labels, index)
    if end is None:
        return None
    return end - _interpolate(points, w0_ns, name, labels, index)


def _cumulative(
    points: Sequence[tuple[int, Snapshot]], w0_ns: int, name: str, kind: Kind
) -> tuple[dict[str, Any], list[str]]:
    last = points[-1][1][name]
    notes: list[str] = []
    series: list[dict[str, Any]] = []
    fields = ("increase",) if kind == "counter" else ("count", "sum")
    totals = dict.fromkeys(fields, 0.0)
    for labels in sorted(last.values):
        row: dict[str, Any] = {"labels": dict(labels)}
        for index, key in enumerate(fields):
            delta = _increase(points, w0_ns, name, labels, index)
            if delta is not None and delta < 0:
                notes.append(f"{name}{dict(labels)} went down over the window (a reset?)")
                delta = None
            row[key] = _round(delta)
            totals[key] += delta or 0.0
        if kind != "counter":
            row["mean"] = _round(row["sum"] / row["count"]) if row["count"] else None
        series.append(row)
    out: dict[str, Any] = {"type": kind} | {k: _round(v) for k, v in totals.items()}
    if kind != "counter":
        out["mean"] = _round(totals["sum"] / totals["count"]) if totals["count"] else None
    out["label_sets"] = len(series)
    out["series"] = series[:MAX_SERIES]
    return out, notes


def _gauge_points(
    points: Sequence[tuple[int, Snapshot]], w0_ns: int, w1_ns: int, name: str
) -> list[Snapshot]:
    """The scrapes read for a gauge: those taken during the load inside the window, else the
    scrapes nearest to each edge (the ones before and after the load read an idle server)."""
    inside = [s for t, s in points[1:-1] if w0_ns <= t <= w1_ns and name in s]
    if inside:
        return inside
    having = [(t, s) for t, s in points if name in s]
    start = min(having, key=lambda p: abs(p[0] - w0_ns))[1]
    end = min(having, key=lambda p: abs(p[0] - w1_ns))[1]
    return [start, end]


def _stats(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"start": None, "end": None, "min": None, "max": None, "mean": None, "samples": 0}
    return {
        "start": _round(values[0]),
        "end": _round(values[-1]),
        "min": _round(min(values)),
        "max": _round(max(values)),
        "mean": _round(math.fsum(values) / len(values)),
        "samples": len(values),
    }


def _gauge(
    points: Sequence[tuple[int, Snapshot]], w0_ns: int, w1_ns: int, name: str
) -> dict[str, Any]:
    read = _gauge_points(points, w0_ns, w1_ns, name)
    label_sets = sorted({labels for s in read for labels in s[name].values})
    series = []
    for labels in label_sets[:MAX_SERIES]:
        values = [v for s in read if (v := _value(s[name], labels, 0)) is not None]
        series.append({"labels": dict(labels)} | _stats(values))
    totals = [math.fsum(row[0] for row in s[name].values.values()) for s in read]
    out: dict[str, Any] = {"type": "gauge"} | _stats(totals)
    return out | {"label_sets": len(label_sets), "series": series}


def _parse(scrape: Scrape, notes: list[str]) -> dict[str, Family] | None:
    if scrape.text is None:
        notes.append(f"a scrape failed: {scrape.error}")
        return None
    try:
        return parse_exposition(scrape.text)
    except ValueError as exc:
        notes.append(str(exc))
        return None


def _wanted(families: Sequence[str] | None, server: str | None, names: set[str]) -> list[str]:
    """The families to keep, as the parser names them, and a note when none is known."""
    if families is not None:
        return [family_name(n, names) for n in families]
    return list(default_families(server))


def summarize_window(
    before: Scrape,
    during: Sequence[Scrape],
    after: Scrape,
    families: Sequence[str] | None,
    window_ns: tuple[int, int],
    load_start_ns: int,
) -> dict[str, Any]:
    """What the server's metrics did over W = `window_ns` (absolute perf_counter_ns).

    `before` was scraped before the load started at `load_start_ns` and `after` once it ended:
    nothing of this run was sent outside, so `before` stands at the load's start and `after`
    holds every measured request. `families` None keeps the detected server's defaults.
    """
    w0, w1 = window_ns
    notes: list[str] = []
    first, last = _parse(before, notes), _parse(after, notes)
    points: list[tuple[int, Snapshot]] = [] if first is None else [(load_start_ns, first)]
    for scrape in during:
        if scrape.t_ns > load_start_ns and (snapshot := _parse(scrape, notes)) is not None:
            points.append((scrape.t_ns, snapshot))
    head = {
        "scrapes": 2 + len(during),
        "failed_scrapes": 2 + len(during) - len(points) - (last is not None),
        "window_s": round((w1 - w0) / 1e9, 6),
    }
    del notes[3:]  # the first few say why; the count says how many
    if first is None or last is None:
        reason = "the scrape before or after the load failed"
        return (
            {"status": "failed", "reason": reason, "server": None, "families": {}}
            | head
            | {
                "start_gap_s": None,
                "missing": [],
                "notes": notes,
            }
        )
    points.append((max(after.t_ns, points[-1][0]), last))
    names = set(last)
    server = detect_server(names)
    if families is None and server is None:
        shown = ", ".join(sorted(n for n in names if not n.endswith("_created"))[:15])
        notes.append(
            "no known server's families found (vLLM, TGI, Triton, MLServer, TorchServe);"
            f" list the families to keep under server.metrics.families (exposed: {shown})"
        )
    earlier = [t for t, _ in points if t <= w0]
    later = [t for t, _ in points if t >= w0]
    kept: dict[str, Any] = {}
    missing: list[str] = []
    for name in _wanted(families, server, names):
        if name not in names:
            missing.append(name)
        elif last[name].kind == "gauge":
            kept[name] = _gauge(points, w0, w1, name)
        else:
            kept[name], problems = _cumulative(points, w0, name, last[name].kind)
            notes.extend(problems[:3])
    start_gap = (later[0] - earlier[-1]) / 1e9 if earlier and later else None
    return (
        {"status": "ok", "reason": None, "server": server, "families": kept}
        | head
        | {
            "start_gap_s": None if start_gap is None else round(start_gap, 6),
            "missing": missing,
            "notes": notes,
        }
    )
