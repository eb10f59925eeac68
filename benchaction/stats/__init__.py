"""Comparing base and head: per-trial statistics, FDR control, verdicts and gates."""

from benchaction.stats.compare import (
    MetricComparison,
    Verdict,
    compare_metric_sets,
    compare_scenarios,
)
from benchaction.stats.estimate import Change, estimate_change, trials_needed
from benchaction.stats.fdr import bh_adjust
from benchaction.stats.metrics import METRICS, MetricDef
from benchaction.stats.settings import FAIL_ON, Gate, StatsSettings, parse_gate
from benchaction.stats.verdict import (
    Comparison,
    GateResult,
    compare_documents,
    fingerprint_differences,
)

__all__ = [
    "FAIL_ON",
    "METRICS",
    "Change",
    "Comparison",
    "Gate",
    "GateResult",
    "MetricComparison",
    "MetricDef",
    "StatsSettings",
    "Verdict",
    "bh_adjust",
    "compare_documents",
    "compare_metric_sets",
    "compare_scenarios",
    "estimate_change",
    "fingerprint_differences",
    "parse_gate",
    "trials_needed",
]
