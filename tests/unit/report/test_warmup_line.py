"""The run report's line on a steady warmup, and the trial record it reads in the schema."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from benchaction.engine import LoadResult, SteadyWarmup, Window, warmup_record
from benchaction.engine.records import COLUMNS, Records
from benchaction.errors import ResultsError
from benchaction.report.markdown import render_markdown
from benchaction.results import validate_results
from tests.support.documents import two_scenario_doc


def _result(w0_ns: int) -> LoadResult:
    rows = Records(np.zeros((0, len(COLUMNS)), dtype=np.int64))
    return LoadResult(rows, w0_ns, w0_ns + 10**9, True, 0)


def test_the_record_validates_and_the_report_says_how_warmup_ended() -> None:
    doc = two_scenario_doc("predict", 1.0, 1.0, "b" * 40)
    plain = render_markdown(doc)
    assert "Warmup" not in plain  # fixed warmups (and older documents) add nothing
    warm = [
        SteadyWarmup((Window(400.0, 9.0),) * n, n * 0.5, ok) for n, ok in ((3, True), (4, True))
    ]
    for trial, w in zip(doc["scenarios"][0]["trials"], [*warm, *warm, warm[0]], strict=True):
        trial["warmup"] = warmup_record(_result(0), w)
    for trial in doc["scenarios"][1]["trials"]:
        trial["warmup"] = warmup_record(_result(10**9), None)
    validate_results(doc)
    text = render_markdown(doc)
    assert "Warmup: steady in 5 of 5 trials after 1.5–2.0 s (3–4 windows)." in text
    assert text.count("Warmup:") == 1
    one = copy.deepcopy(doc)
    del one["scenarios"][0]["trials"][1:]
    one["scenarios"][0]["trials"][0]["warmup"] = warmup_record(
        _result(0), SteadyWarmup((Window(1.0, 1.0),) * 30, 30.4, False)
    )
    assert "Warmup: not steady, stopped at the maximum after 30.4 s (30 windows)." in (
        render_markdown(one)
    )
    bad = copy.deepcopy(doc)
    bad["scenarios"][0]["trials"][0]["warmup"]["mode"] = "soon"
    with pytest.raises(ResultsError, match="warmup"):
        validate_results(bad)
