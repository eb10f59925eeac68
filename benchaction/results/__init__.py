"""The results document: its schema I/O at the edges, and the metrics read from its trials.

The document is one versioned JSON file per run, upgraded from older versions where it is
read (`migrations`); `metrics` names each compared metric once, with its direction, for stats,
report and outputs alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchaction.lazy_exports import lazy_getattr
from benchaction.results.accuracy import (
    ACCURACY_LABELS,
    FLAG_METRICS,
    HIGHER_IS_BETTER,
    AccuracyFailure,
    AccuracyResults,
    describe_accuracy,
    example_scores,
    is_accuracy_metric,
    pack_flags,
    unpack_flags,
)
from benchaction.results.document import (
    SCHEMA_VERSION,
    ConfigSection,
    Instance,
    ResultsDocument,
    ScenarioResults,
    ServerSection,
    Trial,
    new_document,
    unfinished,
)
from benchaction.results.metrics import (
    ALL_METRICS,
    COLD_START,
    ERROR_RATE,
    IMAGE_SIZE,
    METRICS,
    OUTPUT_METRICS,
    RESOURCE_METRICS,
    THROUGHPUT,
    MetricDef,
    Scope,
    document_values,
    metric_by_name,
    metric_values,
    trial_values,
)
from benchaction.results.migrations import RESULTS_MIGRATIONS, Migrations, Step

if TYPE_CHECKING:
    from benchaction.results.schema import (
        load_results,
        results_schema,
        upgrade_results,
        validate_results,
        write_results,
    )

# Schema I/O loads jsonschema (a fifth of a second): imported when first used, so a command that
# only names metrics (`benchaction validate`, `--help`) starts without it.
_LAZY = {
    "load_results": "schema",
    "results_schema": "schema",
    "upgrade_results": "schema",
    "validate_results": "schema",
    "write_results": "schema",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


__all__ = [
    "ACCURACY_LABELS",
    "ALL_METRICS",
    "COLD_START",
    "ERROR_RATE",
    "FLAG_METRICS",
    "HIGHER_IS_BETTER",
    "IMAGE_SIZE",
    "METRICS",
    "OUTPUT_METRICS",
    "RESOURCE_METRICS",
    "RESULTS_MIGRATIONS",
    "SCHEMA_VERSION",
    "THROUGHPUT",
    "AccuracyFailure",
    "AccuracyResults",
    "ConfigSection",
    "Instance",
    "MetricDef",
    "Migrations",
    "ResultsDocument",
    "ScenarioResults",
    "Scope",
    "ServerSection",
    "Step",
    "Trial",
    "describe_accuracy",
    "document_values",
    "example_scores",
    "is_accuracy_metric",
    "load_results",
    "metric_by_name",
    "metric_values",
    "new_document",
    "pack_flags",
    "results_schema",
    "trial_values",
    "unfinished",
    "unpack_flags",
    "upgrade_results",
    "validate_results",
    "write_results",
]
