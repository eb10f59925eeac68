"""The results document: its schema I/O at the edges, and the metrics read from its trials.

The document is one versioned JSON file per run, upgraded from older versions where it is
read (`migrations`); `metrics` names each compared metric once, with its direction, for stats,
report and outputs alike.
"""

from benchaction.results.document import (
    SCHEMA_VERSION,
    ConfigSection,
    Instance,
    ResultsDocument,
    ScenarioResults,
    ServerSection,
    Trial,
    new_document,
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
from benchaction.results.schema import (
    load_results,
    results_schema,
    upgrade_results,
    validate_results,
    write_results,
)

__all__ = [
    "ALL_METRICS",
    "COLD_START",
    "ERROR_RATE",
    "IMAGE_SIZE",
    "METRICS",
    "OUTPUT_METRICS",
    "RESOURCE_METRICS",
    "RESULTS_MIGRATIONS",
    "SCHEMA_VERSION",
    "THROUGHPUT",
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
    "document_values",
    "load_results",
    "metric_by_name",
    "metric_values",
    "new_document",
    "results_schema",
    "trial_values",
    "upgrade_results",
    "validate_results",
    "write_results",
]
