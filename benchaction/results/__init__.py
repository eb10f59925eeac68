"""The results document: its schema I/O at the edges, and the metrics read from its trials.

The document is one versioned JSON file per run; `metrics` names each compared metric once,
with its direction, for stats, report and outputs alike.
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
from benchaction.results.schema import load_results, results_schema, validate_results, write_results

__all__ = [
    "ALL_METRICS",
    "COLD_START",
    "ERROR_RATE",
    "IMAGE_SIZE",
    "METRICS",
    "OUTPUT_METRICS",
    "RESOURCE_METRICS",
    "SCHEMA_VERSION",
    "THROUGHPUT",
    "ConfigSection",
    "Instance",
    "MetricDef",
    "ResultsDocument",
    "ScenarioResults",
    "Scope",
    "ServerSection",
    "Trial",
    "document_values",
    "load_results",
    "metric_by_name",
    "metric_values",
    "new_document",
    "results_schema",
    "trial_values",
    "validate_results",
    "write_results",
]
