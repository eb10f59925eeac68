"""bench.yml's `accuracy` block: read, bodies built per protocol, and every bad input it can know."""

from __future__ import annotations

import json

import pytest

from benchaction.config import load_config
from tests.support.config_files import ONE_SCENARIO, Write, only_problem, problems

HTTP = ONE_SCENARIO + "    method: POST\n"


def _lines(*items: object) -> str:
    return "".join(json.dumps(i) + "\n" for i in items)


def test_an_http_block_keeps_whole_bodies_and_labels(write: Write) -> None:
    write(
        _lines({"request": {"x": [1, 2]}, "label": 1}, {"request": {"x": [3]}, "label": "b"}),
        "l.jsonl",
    )
    text = (
        HTTP
        + "    accuracy: {file: l.jsonl, prediction: out.0, threshold: 0.5pp, concurrency: 2}\n"
    )
    config = load_config(write(text))
    spec = config.scenarios[0].accuracy
    assert spec is not None
    assert spec.requests == (b'{"x":[1,2]}', b'{"x":[3]}')
    assert spec.labels == ("1", '"b"')
    assert (spec.metric, spec.prediction, spec.threshold, spec.concurrency) == (
        "accuracy", "out.0", 0.005, 2,
    )  # fmt: skip
    assert len(spec.sha256) == 64
    # Scoring happens after the trials: the block does not change the setup's hash.
    assert config.hash() == load_config(write(HTTP, "plain.yml")).hash()
    assert config.to_dict()["scenarios"][0]["accuracy"]["examples"] == 2


def test_error_metrics_take_a_relative_threshold_and_default_to_5_percent(write: Write) -> None:
    write(_lines({"request": {"x": 1}, "label": 2.5}), "l.jsonl")
    spec = load_config(write(HTTP + "    accuracy: {file: l.jsonl, prediction: y, metric: mae}\n"))
    assert spec.scenarios[0].accuracy is not None
    assert spec.scenarios[0].accuracy.threshold == 0.05
    text = HTTP + "    accuracy: {file: l.jsonl, prediction: y, metric: rmse, threshold: 10%}\n"
    rmse = load_config(write(text)).scenarios[0].accuracy
    assert rmse is not None and rmse.threshold == 0.10


def test_openai_examples_are_prompts_sent_at_temperature_0_unstreamed(write: Write) -> None:
    write(_lines({"request": "What is 2 + 3?", "label": "5"}), "qa.jsonl")
    text = """\
version: 1
server: {image: example/model:1}
scenarios:
  - name: chat
    protocol: openai
    openai: {model: m, prompts: [hi], max_tokens: 8, extra_body: {temperature: 0.7}}
    requests: 10
    accuracy: {file: qa.jsonl, metric: exact_match}
"""
    spec = load_config(write(text)).scenarios[0].accuracy
    assert spec is not None and spec.prediction is None
    body = json.loads(spec.requests[0])
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "What is 2 + 3?"}],
        "max_tokens": 8,
        "stream": False,
        "temperature": 0,
    }


@pytest.mark.parametrize(
    ("lines", "block", "message"),
    [
        (
            _lines({"request": {"x": 1}}),
            "prediction: y",
            "bench.yml:8: scenarios[0].accuracy.file: l.jsonl:1: missing label (each line needs both)",
        ),
        (
            _lines({"request": {"x": 1}, "label": "seven"}),
            "prediction: y, metric: mae",
            "l.jsonl:1: label: mae scores numbers; expected a number, got 'seven'",
        ),
        (
            _lines({"request": {"x": 1}, "label": [1, 2]}),
            "prediction: y",
            "l.jsonl:1: label: accuracy compares one class; expected a string, number or boolean",
        ),
        (
            _lines({"request": {"x": 1}, "label": 3}),
            "prediction: y, metric: token_f1",
            "l.jsonl:1: label: token_f1 compares words; expected a string",
        ),
        ("\n\n", "prediction: y", "l.jsonl holds no examples"),
        (
            _lines({"request": {"x": 1}, "label": 1}),
            "prediction: y",
            "accuracy.file: required key is missing",
        ),
        (
            _lines({"request": {"x": 1}, "label": 1}),
            "prediction: y, threshold: 2%",
            "accuracy.threshold: accuracy is a rate of right answers: give its threshold in pp",
        ),
        (
            _lines({"request": {"x": 1}, "label": 1.0}),
            "prediction: y, metric: rmse, threshold: 1pp",
            "rmse is an error: give its threshold in %, e.g. 5%",
        ),
        (
            _lines({"request": {"x": 1}, "label": 1}),
            "prediction: y, metric: f1",
            "accuracy.metric: expected one of: accuracy, exact_match, mae, rmse, token_f1",
        ),
        (
            _lines({"request": {"x": 1}, "label": 1}),
            "prediction: 'outputs..0'",
            "accuracy.prediction: expected a dotted path like outputs.0.data.0",
        ),
        (
            "{not json\n",
            "prediction: y",
            "l.jsonl:1: not valid JSON",
        ),
    ],
)
def test_bad_input_is_refused_at_load_with_file_and_line(
    write: Write, lines: str, block: str, message: str
) -> None:
    write(lines, "l.jsonl")
    named = "" if "file: required" in message else "file: l.jsonl, "
    text = HTTP + f"    accuracy: {{{named}{block}}}\n"
    assert message in only_problem(write(text))


def test_http_needs_a_prediction_path_and_a_readable_file(write: Write) -> None:
    found = problems(write(HTTP + "    accuracy: {file: missing.jsonl}\n"))
    assert any("accuracy.prediction: required key is missing" in p for p in found), found
    assert any("cannot read labelled file missing.jsonl: file not found" in p for p in found)


def test_an_openai_example_must_be_a_prompt(write: Write) -> None:
    write(_lines({"request": {"messages": []}, "label": "5"}), "qa.jsonl")
    text = """\
version: 1
server: {image: example/model:1}
scenarios:
  - name: chat
    protocol: openai
    openai: {model: m, prompts: [hi]}
    requests: 10
    accuracy: {file: qa.jsonl, metric: exact_match}
"""
    assert "qa.jsonl:1: request: expected the prompt, a non-empty string" in only_problem(
        write(text)
    )


def test_a_get_scenario_cannot_carry_examples(write: Write) -> None:
    write(_lines({"request": {"x": 1}, "label": 1}), "l.jsonl")
    text = ONE_SCENARIO + "    accuracy: {file: l.jsonl, prediction: y}\n"
    assert "accuracy: sends each example as a request body, which GET lacks" in only_problem(
        write(text)
    )
