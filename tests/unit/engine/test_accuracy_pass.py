"""The accuracy pass against a real HTTP server: answers scored, failures counted and listed with
their reason (the path that failed), the time bound kept, and the per-example record compact."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from benchaction.config import AccuracySpec
from benchaction.engine.accuracy import run_accuracy, summarize_scores
from benchaction.engine.scoring import normalize_text, score_answer, token_f1
from benchaction.results import example_scores, pack_flags, unpack_flags
from tests.support.httpserver import stdlib_http_server


class Answers(BaseHTTPRequestHandler):
    """{"x": n} -> {"out": [n % 3]}; n = 5: no `out`; 6: status 500; 7: not JSON; 8: slow."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        n = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["x"]
        status, body = 200, json.dumps({"out": [n % 3]}).encode()
        if n == 5:
            body = b'{"other": 1}'
        elif n == 6:
            status = 500
        elif n == 7:
            body = b"<html>"
        elif n >= 8:
            time.sleep(2.0)
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the pass gave up on a slow answer at its time bound: what the test wants


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with stdlib_http_server(Answers) as base:
        yield base + "infer"


def _spec(xs: list[int], labels: list[object], **kw: object) -> AccuracySpec:
    fields: dict[str, object] = {
        "file": "l.jsonl",
        "metric": "accuracy",
        "prediction": "out.0",
        "requests": tuple(json.dumps({"x": x}).encode() for x in xs),
        "labels": tuple(json.dumps(v) for v in labels),
        "sha256": "0" * 64,
        "threshold": 0.01,
        "concurrency": 3,
        "timeout_s": 10.0,
    }
    fields.update(kw)
    return AccuracySpec(**fields)  # type: ignore[arg-type]


def test_answers_are_scored_and_failures_listed_with_the_path_that_failed(url: str) -> None:
    xs = [0, 1, 2, 3, 4, 5, 6, 7]
    labels: list[object] = [0, 1, 2, 0, 0, 2, 0, 1]  # x=4 answers 1: wrong on purpose
    result = run_accuracy(_spec(xs, labels), url, headers=[("Content-Type", "application/json")])
    assert (result["n"], result["correct"], result["failed"]) == (8, 4, 3)
    assert result["value"] == 4 / 8  # failed answers count as wrong
    assert result["failures"] == [
        {"example": 5, "reason": "path out not found (prediction: out.0)"},
        {"example": 6, "reason": "status 500"},
        {"example": 7, "reason": "answer is not JSON"},
    ]
    assert example_scores(result) == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_a_prediction_path_that_never_exists_fails_every_example_without_a_crash(
    url: str,
) -> None:
    result = run_accuracy(_spec([0, 1, 2], [0, 1, 2], prediction="outputs.0.data.0"), url)
    assert (result["value"], result["failed"]) == (0.0, 3)
    assert {f["reason"] for f in result["failures"]} == {
        "path outputs not found (prediction: outputs.0.data.0)"
    }


def test_the_pass_ends_at_its_time_bound(url: str) -> None:
    spec = _spec([8, 8, 8, 8, 0, 1], [2] * 6, timeout_s=0.6, concurrency=2)
    started = time.monotonic()
    result = run_accuracy(spec, url, request_timeout_s=30.0)
    elapsed = time.monotonic() - started
    assert elapsed < 1.8, elapsed  # requests in flight end by the bound, not their own 30 s
    assert result["failed"] == 6 and result["correct"] == 0
    reasons = {f["reason"] for f in result["failures"]}
    assert reasons <= {"not answered within the accuracy time bound", "no answer: ReadTimeout"}
    assert "not answered within the accuracy time bound" in reasons


def test_error_metrics_keep_absolute_errors_and_leave_failures_out_of_the_value() -> None:
    spec = _spec([0, 1, 2], [1.0, 2.0, 3.0], metric="rmse")
    result = summarize_scores(spec, [(0.5, None), (None, "status 500"), (1.5, None)], 0.1)
    assert result["value"] == pytest.approx(math.sqrt((0.25 + 2.25) / 2))
    assert (result["scored"], result["failed"], result["scores"]) == (2, 1, [0.5, None, 1.5])
    assert result["abs_error_sum"] == 2.0 and result["squared_error_sum"] == 2.5
    mae = summarize_scores(_spec([0, 1], [1.0, 2.0], metric="mae"), [(0.5, None), (1.5, None)], 0.1)
    assert mae["value"] == 1.0


def test_flags_pack_eight_examples_a_byte_and_round_trip() -> None:
    flags = [True, False, True, True, False, False, False, True, True]
    text = pack_flags(flags)
    assert len(text) == 4  # two bytes, base64
    assert unpack_flags(text, 9) == flags
    with pytest.raises(ValueError, match="hold 16 examples, expected 17"):
        unpack_flags(text, 17)


@pytest.mark.parametrize(
    ("metric", "prediction", "label", "score"),
    [
        ("accuracy", 2, 2, 1.0),
        ("accuracy", 2.0, 2, 1.0),  # JSON has one number type
        ("accuracy", "2", 2, 0.0),
        ("accuracy", True, 1, 0.0),  # true is not 1
        ("accuracy", [0.1, 0.7, 0.2], 1, 1.0),  # class scores: the argmax is the class
        ("exact_match", "  New  York. ", "new york", 1.0),
        ("exact_match", "28", "-28", 0.0),
        ("exact_match", {"a": [1]}, {"a": [1.0]}, 1.0),
        ("token_f1", "the cat sat", "a cat sat down", 0.8),
        ("mae", 2.5, 4, 1.5),
    ],
)
def test_scores(metric: str, prediction: object, label: object, score: float) -> None:
    assert score_answer(metric, prediction, label) == (pytest.approx(score), None)


@pytest.mark.parametrize(
    ("metric", "prediction", "reason"),
    [
        ("accuracy", {"c": 1}, 'prediction is {"c":1}, expected one class'),
        ("token_f1", 5, "prediction is 5, expected text"),
        ("mae", "3", 'prediction is "3", expected a number'),
    ],
)
def test_a_prediction_of_the_wrong_type_is_a_failure_with_its_reason(
    metric: str, prediction: object, reason: str
) -> None:
    assert score_answer(metric, prediction, 1) == (None, reason)


def test_token_f1_follows_squad_normalisation() -> None:
    assert normalize_text("The  Eiffel-Tower!") == "eiffeltower"
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0
    assert token_f1("blue whale", "blue whale") == 1.0
