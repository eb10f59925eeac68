"""The history of main-branch runs: compact records, their store, change points, the dashboard.

Main-branch runs add a record to a history file per config (a folder locally, a branch of the
repository in the action); pull requests compare with main's runs since its last change point.
The dashboard (`history.site`) is imported by whoever builds it, not here: it loads the renderer.
"""

from benchaction.history.baseline import (
    DEFAULT_POOL_RUNS,
    Pooled,
    comparable_runs,
    pool_document,
    pooled_base,
)
from benchaction.history.record import HistoryRecord, RunLinks, record_of, runner_fingerprint
from benchaction.history.series import (
    Change,
    Series,
    changes_of,
    describe_change,
    latest_change,
    series_of,
)
from benchaction.history.store import (
    DEFAULT_MAX_RUNS,
    Added,
    HistoryFile,
    LocalStore,
    add_record,
    dump_history,
    file_name,
    new_history,
    parse_history,
)

__all__ = [
    "DEFAULT_MAX_RUNS",
    "DEFAULT_POOL_RUNS",
    "Added",
    "Change",
    "HistoryFile",
    "HistoryRecord",
    "LocalStore",
    "Pooled",
    "RunLinks",
    "Series",
    "add_record",
    "changes_of",
    "comparable_runs",
    "describe_change",
    "dump_history",
    "file_name",
    "latest_change",
    "new_history",
    "parse_history",
    "pool_document",
    "pooled_base",
    "record_of",
    "runner_fingerprint",
    "series_of",
]
