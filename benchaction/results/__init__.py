"""The results document: its schema I/O at the edges, and the metrics read from its trials.

The document is one versioned JSON file per run; `metrics` names each compared metric once,
with its direction, for stats, report and outputs alike.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from benchaction.results.schema import (
        load_results,
        results_schema,
        validate_results,
        write_results,
    )

# Schema I/O loads jsonschema (a fifth of a second): imported when first used, so a command that
# only names metrics (`benchaction validate`, `--help`) starts without it.
_LAZY = {
    "load_results": "schema",
    "results_schema": "schema",
    "validate_results": "schema",
    "write_results": "schema",
}


def __getattr__(name: str) -> Any:
    """Import a lazily exported name's module on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


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
