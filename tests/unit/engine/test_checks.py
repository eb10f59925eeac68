"""The response check: status, a JSON path, equality and patterns, and the reasons it gives."""

from __future__ import annotations

import pytest

from benchaction.config.model import ResponseCheck
from benchaction.engine.checks import compile_check, needs_body

BODY = (
    b'{"model_name":"mlp","outputs":[{"name":"label","datatype":"FP32","shape":[2],'
    b'"data":[3,1.5]},{"name":"ok","datatype":"BOOL","data":[true]}]}'
)


def test_without_a_check_any_2xx_is_good() -> None:
    verdict = compile_check(None)
    assert verdict(200, b"") is None
    assert verdict(204, b"whatever") is None
    assert verdict(503, b"") == "status 503"
    assert verdict(302, b"") == "status 302"


def test_status_only() -> None:
    assert compile_check(ResponseCheck(status=201))(201, b"") is None
    assert compile_check(ResponseCheck(status=201))(200, b"") == "status 200, expected 201"
    assert compile_check(ResponseCheck())(503, b"") == "status 503, expected 2xx"
    assert compile_check(ResponseCheck())(299, b"not json either") is None


def test_status_is_checked_before_the_body() -> None:
    verdict = compile_check(ResponseCheck(status=200, json_path="outputs"))
    assert verdict(503, b"<html>") == "status 503, expected 200"


@pytest.mark.parametrize(
    ("path", "equals", "reason"),
    [
        ("model_name", '"mlp"', None),
        ("outputs.0.datatype", '"FP32"', None),
        ("outputs.0.datatype", '"INT64"', 'outputs.0.datatype is "FP32", expected "INT64"'),
        ("outputs.0.data", "[3,1.5]", None),
        ("outputs.0.data.0", "3.0", None),  # one number type in JSON
        ("outputs.0.data.1", "1.5", None),
        ("outputs.1.data.0", "true", None),
        ("outputs.1.data.0", "1", "outputs.1.data.0 is true, expected 1"),  # true is not 1
        ("outputs.0.shape", "[2.0]", None),
        ("outputs.0.shape", "[2,1]", "outputs.0.shape is [2], expected [2,1]"),
    ],
)
def test_json_path_equals(path: str, equals: str, reason: str | None) -> None:
    verdict = compile_check(ResponseCheck(json_path=path, equals_json=equals))
    assert verdict(200, BODY) == reason


def test_objects_compare_whole() -> None:
    whole = '{"name":"ok","datatype":"BOOL","data":[true]}'
    assert compile_check(ResponseCheck(json_path="outputs.1", equals_json=whole))(200, BODY) is None
    part = ResponseCheck(json_path="outputs.1", equals_json='{"name":"ok"}')
    assert compile_check(part)(200, BODY) == (
        'outputs.1 is {"name":"ok","datatype":"BOOL","data":[true]}, expected {"name":"ok"}'
    )


@pytest.mark.parametrize(
    ("path", "missing"),
    [
        ("outputs.3", "outputs.3"),
        ("outputs.0.nope", "outputs.0.nope"),
        ("outputs.x", "outputs.x"),
        ("outputs.-1", "outputs.-1"),
        ("model_name.0", "model_name.0"),
        ("outputs.0.data.1.2", "outputs.0.data.1.2"),
        ("absent.deeper", "absent"),
    ],
)
def test_missing_paths(path: str, missing: str) -> None:
    verdict = compile_check(ResponseCheck(json_path=path))
    assert verdict(200, BODY) == f"path {missing} not found"


def test_a_path_alone_only_needs_the_value_to_exist() -> None:
    assert compile_check(ResponseCheck(json_path="outputs.1.data"))(200, BODY) is None


def test_numeric_keys_of_objects() -> None:
    verdict = compile_check(ResponseCheck(json_path="a.0", equals_json='"x"'))
    assert verdict(200, b'{"a":{"0":"x"}}') is None


def test_body_not_json() -> None:
    verdict = compile_check(ResponseCheck(json_path="outputs"))
    assert verdict(200, b"<html>oops</html>") == "body is not JSON"
    assert verdict(200, b"") == "body is not JSON"
    assert verdict(200, b"[" * 100_000) == "body is not JSON"


def test_matches_strings_and_other_values() -> None:
    verdict = compile_check(ResponseCheck(json_path="model_name", matches=r"^ml"))
    assert verdict(200, BODY) is None
    verdict = compile_check(ResponseCheck(json_path="outputs.0.data", matches=r"^\[3,1\.5\]$"))
    assert verdict(200, BODY) is None
    verdict = compile_check(ResponseCheck(json_path="outputs.0.name", matches=r"^prob"))
    assert verdict(200, BODY) == 'outputs.0.name is "label", does not match /^prob/'


def test_equals_and_matches_must_both_hold() -> None:
    both = ResponseCheck(json_path="model_name", equals_json='"mlp"', matches="l")
    assert compile_check(both)(200, BODY) is None
    bad_pattern = ResponseCheck(json_path="model_name", equals_json='"mlp"', matches="z")
    assert compile_check(bad_pattern)(200, BODY) == 'model_name is "mlp", does not match /z/'
    bad_value = ResponseCheck(json_path="model_name", equals_json='"x"', matches="l")
    assert compile_check(bad_value)(200, BODY) == 'model_name is "mlp", expected "x"'


def test_without_a_path_the_whole_body_is_the_value() -> None:
    assert compile_check(ResponseCheck(matches="mlp"))(200, BODY) is None
    assert compile_check(ResponseCheck(matches="^ok$"))(200, b"ok") is None
    assert compile_check(ResponseCheck(matches="^ok$"))(200, b"no") == "body does not match /^ok$/"
    assert compile_check(ResponseCheck(equals_json="[1,2]"))(200, b"[1, 2]") is None
    assert compile_check(ResponseCheck(equals_json="[1,2]"))(200, b"[2]") == (
        "body is [2], expected [1,2]"
    )


def test_long_values_are_cut_in_reasons() -> None:
    body = b'{"v":"' + b"a" * 500 + b'"}'
    reason = compile_check(ResponseCheck(json_path="v", equals_json='"b"'))(200, body)
    assert reason is not None
    assert len(reason) < 120
    assert reason.endswith('…, expected "b"')


def test_needs_body() -> None:
    assert not needs_body(None)
    assert not needs_body(ResponseCheck(status=200))
    assert needs_body(ResponseCheck(json_path="a"))
    assert needs_body(ResponseCheck(matches="a"))
    assert needs_body(ResponseCheck(equals_json="1"))
