"""Comparing base and head: per-trial statistics, FDR control, verdicts and gates; change points
in a main-branch history."""

from benchaction.stats.changepoints import CHANGE_POINTS_MIN_LENGTH, ChangePoint, change_points
from benchaction.stats.compare import (
    SERVER_ROWS,
    MetricComparison,
    ScenarioVerdict,
    Verdict,
    compare_metric_sets,
    compare_scenarios,
)
from benchaction.stats.estimate import (
    Change,
    center,
    estimate_change,
    side_center,
    trials_needed,
    trials_to_resolve,
)
from benchaction.stats.fdr import bh_adjust
from benchaction.stats.overall import (
    Comparison,
    GateResult,
    compare_documents,
    fingerprint_differences,
    overall_verdict,
)
from benchaction.stats.settings import (
    FAIL_ON,
    PRIMARY_METRICS,
    Gate,
    StatsSettings,
    parse_gate,
    parse_metrics,
    parse_share,
)

__all__ = [
    "CHANGE_POINTS_MIN_LENGTH",
    "FAIL_ON",
    "PRIMARY_METRICS",
    "SERVER_ROWS",
    "Change",
    "ChangePoint",
    "Comparison",
    "Gate",
    "GateResult",
    "MetricComparison",
    "ScenarioVerdict",
    "StatsSettings",
    "Verdict",
    "bh_adjust",
    "center",
    "change_points",
    "compare_documents",
    "compare_metric_sets",
    "compare_scenarios",
    "estimate_change",
    "fingerprint_differences",
    "overall_verdict",
    "parse_gate",
    "parse_metrics",
    "parse_share",
    "side_center",
    "trials_needed",
    "trials_to_resolve",
]
