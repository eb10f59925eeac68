"""The run report's CPU isolation line, and the results schema with and without the section."""

from __future__ import annotations

import pytest

from benchaction.errors import ResultsError
from benchaction.report import render_markdown
from benchaction.results import validate_results
from tests.support.documents import two_scenario_doc

ISOLATION = {
    "mode": "auto",
    "server_cpus": [0],
    "load_cpus": [1],
    "reason": "2 usable cores (0-1): the server gets 0, the load 1",
}


def test_report_says_where_server_and_load_ran() -> None:
    doc = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    doc["isolation"] = ISOLATION
    validate_results(doc)
    lines = render_markdown(doc).splitlines()
    server = next(i for i, line in enumerate(lines) if line.startswith("Server: "))
    assert lines[server + 1] == (
        "CPU isolation: auto, 2 usable cores (0-1): the server gets 0, the load 1."
    )


def test_older_documents_have_no_isolation_line() -> None:
    doc = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    validate_results(doc)  # schema version 1 without the section still loads
    assert "CPU isolation" not in render_markdown(doc)


def test_schema_refuses_a_malformed_section() -> None:
    doc = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    doc["isolation"] = {**ISOLATION, "load_cpus": []}
    with pytest.raises(ResultsError, match="isolation"):
        validate_results(doc)
