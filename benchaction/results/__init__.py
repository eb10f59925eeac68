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
    ERROR_RATE,
    METRICS,
    OUTPUT_METRICS,
    THROUGHPUT,
    MetricDef,
    metric_by_name,
    trial_values,
)
from benchaction.results.schema import load_results, results_schema, validate_results, write_results

__all__ = [
    "ERROR_RATE",
    "METRICS",
    "OUTPUT_METRICS",
    "SCHEMA_VERSION",
    "THROUGHPUT",
    "ConfigSection",
    "Instance",
    "MetricDef",
    "ResultsDocument",
    "ScenarioResults",
    "ServerSection",
    "Trial",
    "load_results",
    "metric_by_name",
    "new_document",
    "results_schema",
    "trial_values",
    "validate_results",
    "write_results",
]
