"""Comparing base and head: per-trial statistics, FDR control, verdicts and gates; change points
in a main-branch history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchaction.lazy_exports import lazy_getattr
from benchaction.stats.settings import (
    FAIL_ON,
    PRIMARY_METRICS,
    Gate,
    StatsSettings,
    parse_gate,
    parse_metrics,
    parse_share,
)

if TYPE_CHECKING:
    from benchaction.stats.changepoints import (
        CHANGE_POINTS_MIN_LENGTH,
        ChangePoint,
        change_points,
    )
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
    from benchaction.stats.fdr import (
        bh_adjust,
    )
    from benchaction.stats.overall import (
        Comparison,
        GateResult,
        compare_documents,
        fingerprint_differences,
        overall_verdict,
    )

# The computing modules load scipy (most of a second): imported when first used, so the CLI's
# parser and `validate` (which need only the settings) start without it.
_LAZY = {
    "CHANGE_POINTS_MIN_LENGTH": "changepoints",
    "ChangePoint": "changepoints",
    "change_points": "changepoints",
    "SERVER_ROWS": "compare",
    "MetricComparison": "compare",
    "ScenarioVerdict": "compare",
    "Verdict": "compare",
    "compare_metric_sets": "compare",
    "compare_scenarios": "compare",
    "Change": "estimate",
    "center": "estimate",
    "estimate_change": "estimate",
    "side_center": "estimate",
    "trials_needed": "estimate",
    "trials_to_resolve": "estimate",
    "bh_adjust": "fdr",
    "Comparison": "overall",
    "GateResult": "overall",
    "compare_documents": "overall",
    "fingerprint_differences": "overall",
    "overall_verdict": "overall",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


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
