"""One comparison as a whole: fingerprints, per-metric rows, absolute gates, overall verdict, exit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchaction.errors import ConfigError
from benchaction.results import (
    ResultsDocument,
    is_accuracy_metric,
    metric_by_name,
    metric_values,
)
from benchaction.stats.accuracy import compare_accuracy
from benchaction.stats.compare import SERVER_ROWS, MetricComparison, Verdict, compare_scenarios
from benchaction.stats.estimate import center, side_center
from benchaction.stats.settings import Gate, StatsSettings

__all__ = [
    "Comparison",
    "GateResult",
    "compare_documents",
    "fingerprint_differences",
    "overall_verdict",
]

_HOST_KEYS = (("cpu_model", "CPU model"), ("cores", "cores"), ("docker_version", "Docker version"))


def fingerprint_differences(base: ResultsDocument, head: ResultsDocument) -> list[str]:
    """What differs between the setups of two runs, in words; empty when they are comparable."""
    out = []
    for key, label in _HOST_KEYS:
        b, h = base["host"].get(key), head["host"].get(key)
        if b != h:
            out.append(f"{label} {b!r} vs {h!r}")
    if base["config"]["hash"] != head["config"]["hash"]:
        out.append(
            f"config {base['config']['hash'][:15]} vs {head['config']['hash'][:15]} "
            "(load settings, trials or server options differ)"
        )
    base_load = {s["name"]: s["load"] for s in base["scenarios"]}
    for s in head["scenarios"]:
        if s["name"] in base_load and base_load[s["name"]] != s["load"]:
            out.append(f"scenario {s['name']}: load settings differ")
    for key in ("gpu",):  # written by the telemetry step once it exists
        if base.get(key) != head.get(key):
            out.append(f"{key} {base.get(key)!r} vs {head.get(key)!r}")
    if _cpu_split(base) != _cpu_split(head):
        out.append(f"CPU isolation {_cpu_split(base)} vs {_cpu_split(head)}")
    return out


def _cpu_split(doc: ResultsDocument) -> str:
    """A run's CPU isolation as compared: its mode and the sizes of the server and load sets."""
    iso = doc.get("isolation")
    if iso is None:
        return "not recorded"
    server, load = (len(iso[k]) if iso[k] else "any" for k in ("server_cpus", "load_cpus"))
    return f"{iso['mode']} (server {server}, load {load} cores)"


@dataclass(frozen=True)
class GateResult:
    """An absolute gate checked on the head of one scenario (the same center the table shows)."""

    gate: Gate
    scenario: str
    value: float | None
    passed: bool


@dataclass(frozen=True)
class Comparison:
    """Everything a report, a check run or an exit code needs about one comparison."""

    rows: list[MetricComparison]
    gates: list[GateResult]
    fingerprint: list[str]
    verdict: Verdict
    failed: bool
    settings: StatsSettings

    @property
    def decided(self) -> bool:
        """Every deciding row reached regression, improvement or unchanged: more trials would
        not change the verdict's kind (sequential trials stop here)."""
        # Accuracy rows rest on the labelled set, which more trials do not grow.
        deciding = [r for r in self.rows if r.primary and r.scope != "example"] or self.rows
        return bool(deciding) and all(r.verdict != "inconclusive" for r in deciding)

    def to_json(self) -> dict[str, Any]:
        """The verdicts document written by `benchaction compare --json`."""
        s = self.settings
        return {
            "verdict": self.verdict,
            "failed": self.failed,
            "fingerprint_mismatch": self.fingerprint,
            "settings": {
                "alpha": s.alpha,
                "threshold": s.threshold,
                "thresholds": dict(s.thresholds),
                "confidence": s.confidence,
                "min_trials": s.min_trials,
                "fail_on": s.fail_on,
                "primary": list(s.primary),
                "looks": s.looks,
            },
            "metrics": [r.to_json() for r in self.rows],
            "gates": [
                {"gate": str(g.gate), "scenario": g.scenario, "value": g.value, "passed": g.passed}
                for g in self.gates
            ],
        }


def _check_gates(head: ResultsDocument, gates: tuple[Gate, ...]) -> list[GateResult]:
    names = [s["name"] for s in head["scenarios"]]
    unknown = [g for g in gates if g.scenario is not None and g.scenario not in names]
    if unknown:  # a gate that checks nothing would pass silently
        raise ConfigError(
            [
                f"gate {str(g)!r}: the head has no scenario {g.scenario!r} "
                f"(it has: {', '.join(names) or 'none'})"
                for g in unknown
            ]
        )
    out = []
    for gate in gates:
        if is_accuracy_metric(gate.metric):
            out += _accuracy_gate(head, gate)
            continue
        metric = metric_by_name(gate.metric)
        if metric.per_run:  # the run's image or starts: one value, whichever scenario is named
            values = metric_values(head, metric)
            value = center(values, log_scale=metric.log_scale) if values else None
            where = gate.scenario or SERVER_ROWS
            out.append(GateResult(gate, where, value, value is not None and gate.holds(value)))
            continue
        for s in head["scenarios"]:
            if gate.scenario not in (None, s["name"]):
                continue
            if s.get("skipped"):
                continue  # a sweep level not run because the server saturated below it
            trials = s["trials"]
            if gate.scenario is None and trials and all(metric.read(t) is None for t in trials):
                continue  # a metric this scenario does not have (no tokens, no SLO)
            value = side_center(s["trials"], metric)
            out.append(GateResult(gate, s["name"], value, value is not None and gate.holds(value)))
    return out


def _accuracy_gate(head: ResultsDocument, gate: Gate) -> list[GateResult]:
    """An absolute limit on a scenario's accuracy value (the head's, as the table shows it)."""
    out = []
    for s in head["scenarios"]:
        acc = s.get("accuracy")
        if gate.scenario not in (None, s["name"]) or (acc is None and gate.scenario is None):
            continue
        if acc is not None and acc["metric"] != gate.metric:
            if gate.scenario is None:
                continue
            raise ConfigError(
                [
                    f"gate {str(gate)!r}: scenario {s['name']!r} scores {acc['metric']}, not {gate.metric}"
                ]
            )
        value = None if acc is None else acc["value"]
        out.append(GateResult(gate, s["name"], value, value is not None and gate.holds(value)))
    if not out and gate.scenario is None:
        raise ConfigError([f"gate {str(gate)!r}: no scenario of the head scored {gate.metric}"])
    return out


def _beside(rows: list[MetricComparison], extra: list[MetricComparison]) -> list[MetricComparison]:
    """Each accuracy row right after its scenario's speed rows, so the table reads them together."""
    out = list(rows)
    for row in extra:
        at = max((i for i, r in enumerate(out) if r.scenario == row.scenario), default=len(out) - 1)
        out.insert(at + 1, row)
    return out


def overall_verdict(rows: Sequence[MetricComparison]) -> Verdict:
    """The primary rows decide; the others are shown with their own verdicts."""
    deciding = [r for r in rows if r.primary] or rows
    verdicts = {r.verdict for r in deciding}
    order: tuple[Verdict, ...] = ("regression", "inconclusive", "improvement")
    for v in order:
        if v in verdicts:
            return v
    return "unchanged" if rows else "inconclusive"


def compare_documents(
    base: ResultsDocument | None, head: ResultsDocument, settings: StatsSettings
) -> Comparison:
    """Compare two results documents; without a baseline the verdict is inconclusive."""
    gates = _check_gates(head, settings.gates)
    if base is None:
        rows: list[MetricComparison] = []
        fingerprint: list[str] = []
        verdict: Verdict = "inconclusive"
    else:
        fingerprint = fingerprint_differences(base, head)
        rows = compare_scenarios(base, head, settings, fingerprint_mismatch=fingerprint)
        rows = _beside(rows, compare_accuracy(base, head, settings))  # deciding rows
        verdict = overall_verdict(rows)
    failed = any(not g.passed for g in gates)
    if settings.fail_on == "regression":
        failed |= verdict == "regression"
    elif settings.fail_on == "regression-or-inconclusive":
        failed |= verdict in ("regression", "inconclusive")
    return Comparison(rows, gates, fingerprint, verdict, failed, settings)
