"""Comparing base and head: per-trial statistics, FDR control, verdicts and gates."""

from benchaction.stats.compare import (
    MetricComparison,
    Verdict,
    compare_metric_sets,
    compare_scenarios,
)
from benchaction.stats.estimate import Change, estimate_change, trials_needed
from benchaction.stats.fdr import bh_adjust
from benchaction.stats.overall import (
    Comparison,
    GateResult,
    compare_documents,
    fingerprint_differences,
)
from benchaction.stats.settings import FAIL_ON, Gate, StatsSettings, parse_gate, parse_share

__all__ = [
    "FAIL_ON",
    "Change",
    "Comparison",
    "Gate",
    "GateResult",
    "MetricComparison",
    "StatsSettings",
    "Verdict",
    "bh_adjust",
    "compare_documents",
    "compare_metric_sets",
    "compare_scenarios",
    "estimate_change",
    "fingerprint_differences",
    "parse_gate",
    "parse_share",
    "trials_needed",
]
