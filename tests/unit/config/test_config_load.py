"""bench.yml scenario keys for protocols, load shape, checks, objectives, sweeps and limits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchaction.config import load_config
from benchaction.config.fields import FieldError, fraction
from benchaction.config.model import (
    PROTOCOLS,
    Arrivals,
    KServeSpec,
    KServeTensor,
    Limits,
    OpenAISpec,
    ResponseCheck,
    Slo,
    Sweep,
)
from tests.support.config_files import Write, only_problem, problems
from tests.support.paths import REPO_ROOT

# Line numbers matter in these documents: tests assert on them.
OPENAI = """\
version: 1
server: {url: "http://127.0.0.1:8000"}
scenarios:
  - name: chat
    protocol: openai
    rate: 50
    arrival: constant
    max_concurrency: 64
    seed: 7
    payload_order: random
    duration: 30s
    check:
      status: 200
      json: choices.0.message.role
      equals: assistant
      matches: "^assi"
    openai:
      model: tiny-stream
      prompts: {file: prompts.jsonl}
      max_tokens: 64
      extra_body: {ignore_eos: true, temperature: 0}
    slo: {ttft: 200ms, tpot: 50ms, e2e: 2s}
    sweep: {rate: [10, 50, 100], max_error_rate: 10%}
    limits: {dispatch_lag_p99: 2ms, rate_tolerance: 2%, client_cpu: 0.9}
    workers: 2
"""

KSERVE = """\
version: 1
server: {image: example/mlp:1}
scenarios:
  - name: infer
    protocol: kserve-v2
    concurrency: 8
    requests: 1000
    check: {json: outputs.0.datatype, equals: FP32}
    kserve:
      model: mlp
      version: 1
      inputs:
        - {name: INPUT0, datatype: fp32, shape: [1, 4], data: [[1, 2.5, 3, 4]]}
        - {name: MASK, datatype: BOOL, shape: [2], data: [true, false]}
      outputs: [OUTPUT0]
    slo: {latency: 100ms}
    sweep: {concurrency: [1, 4, 16]}
    workers: auto
"""

HTTP = """\
version: 1
server: {image: example/model:1}
scenarios:
  - name: predict
    path: /predict
    method: POST
    payloads: [{"x": 1}, {"x": 2}]
    rate: 200
    requests: 500
    check: {status: 201, matches: ok}
"""


def test_openai_full_example(write: Write) -> None:
    write('"Hello"\n\n{"prompt": "Write a haiku", "id": 3}\r\n', name="prompts.jsonl")
    config = load_config(write(OPENAI))
    (chat,) = config.scenarios
    assert (chat.protocol, chat.method, chat.path) == ("openai", "POST", "/v1/chat/completions")
    assert chat.headers == (("Content-Type", "application/json"),)
    assert chat.payloads == ()
    assert chat.arrivals == Arrivals(rate=50.0, distribution="constant", max_concurrency=64)
    assert (chat.seed, chat.payload_order, chat.workers) == (7, "random", 2)
    assert chat.check == ResponseCheck(200, "choices.0.message.role", '"assistant"', "^assi")
    assert chat.openai == OpenAISpec(
        endpoint="chat",
        model="tiny-stream",
        prompts=("Hello", "Write a haiku"),
        stream=True,
        max_tokens=64,
        extra_body_json='{"ignore_eos":true,"temperature":0}',
    )
    assert chat.kserve is None
    assert chat.slo == Slo(ttft_s=0.2, tpot_s=0.05, e2e_s=2.0)
    assert chat.sweep == Sweep("rate", (10.0, 50.0, 100.0), max_error_rate=0.1)
    assert chat.limits == Limits(0.002, 0.02, 0.9)
    assert config.server.ready.path == "/v1/models"


def test_kserve_full_example(write: Write) -> None:
    config = load_config(write(KSERVE))
    (infer,) = config.scenarios
    assert (infer.protocol, infer.method) == ("kserve-v2", "POST")
    assert infer.path == "/v2/models/mlp/versions/1/infer"
    assert infer.headers == (("Content-Type", "application/json"),)
    assert infer.kserve == KServeSpec(
        model="mlp",
        version="1",
        inputs=(
            KServeTensor("INPUT0", "FP32", (1, 4), "[[1,2.5,3,4]]"),
            KServeTensor("MASK", "BOOL", (2,), "[true,false]"),
        ),
        outputs=("OUTPUT0",),
    )
    assert infer.check == ResponseCheck(json_path="outputs.0.datatype", equals_json='"FP32"')
    assert (infer.concurrency, infer.arrivals) == (8, None)
    assert infer.slo == Slo(latency_s=0.1)
    assert infer.sweep == Sweep("concurrency", (1, 4, 16))
    assert infer.workers is None
    assert config.server.ready.path == "/v2/health/ready"


def test_http_open_loop_example(write: Write) -> None:
    config = load_config(write(HTTP))
    (predict,) = config.scenarios
    assert (predict.protocol, predict.method, predict.path) == ("http", "POST", "/predict")
    assert predict.arrivals == Arrivals(rate=200.0)
    assert predict.check == ResponseCheck(status=201, matches="ok")
    assert config.server.ready.path == "/"


def test_defaults_of_the_new_keys(write: Write) -> None:
    path = write("version: 1\nserver: {image: m}\nscenarios:\n  - {name: a, requests: 1}\n")
    (scenario,) = load_config(path).scenarios
    assert (scenario.protocol, scenario.method, scenario.path) == ("http", "GET", "/")
    assert scenario.headers == ()
    assert (scenario.arrivals, scenario.check, scenario.sweep, scenario.workers) == (None,) * 4
    assert (scenario.seed, scenario.payload_order) == (0, "cycle")
    assert (scenario.openai, scenario.kserve) == (None, None)
    assert (scenario.slo, scenario.limits) == (Slo(), Limits())


def test_openai_defaults_and_inline_prompts(write: Write) -> None:
    path = write(
        "version: 1\nserver: {image: m}\nscenarios:\n"
        "  - {name: a, requests: 1, protocol: openai, openai: {model: m, prompts: [hi, there]}}\n"
    )
    spec = load_config(path).scenarios[0].openai
    assert spec == OpenAISpec("chat", "m", ("hi", "there"), True, 128, "{}")


@pytest.mark.parametrize(
    ("keys", "endpoint", "path"),
    [
        ("path: /v1/completions", "completions", "/v1/completions"),
        ("path: /proxy/v1/completions", "completions", "/proxy/v1/completions"),
        ("path: /v1/chat/completions", "chat", "/v1/chat/completions"),
        (
            "openai: {model: m, prompts: [hi], endpoint: completions}",
            "completions",
            "/v1/completions",
        ),
        ("openai: {model: m, prompts: [hi], endpoint: chat}", "chat", "/v1/chat/completions"),
    ],
)
def test_openai_endpoint_and_path_follow_each_other(
    write: Write, keys: str, endpoint: str, path: str
) -> None:
    section = "" if keys.startswith("openai") else "    openai: {model: m, prompts: [hi]}\n"
    doc = "version: 1\nserver: {image: m}\nscenarios:\n  - name: a\n    requests: 1\n"
    (scenario,) = load_config(write(f"{doc}    protocol: openai\n    {keys}\n{section}")).scenarios
    assert scenario.openai is not None
    assert (scenario.openai.endpoint, scenario.path) == (endpoint, path)


def test_kserve_path_without_version_and_quoted_names(write: Write) -> None:
    path = write(
        KSERVE.replace("      model: mlp\n      version: 1\n", "      model: team/mlp v2\n")
    )
    assert load_config(path).scenarios[0].path == "/v2/models/team%2Fmlp%20v2/infer"


def test_kserve_payloads_instead_of_inputs(write: Write) -> None:
    path = write(
        "version: 1\nserver: {image: m}\nscenarios:\n"
        "  - name: a\n    protocol: kserve-v2\n    requests: 1\n    kserve: {model: mlp}\n"
        '    payloads: [{"inputs": []}]\n'
    )
    (scenario,) = load_config(path).scenarios
    assert scenario.kserve == KServeSpec("mlp", ())
    assert scenario.payloads == (b'{"inputs":[]}',)
    assert (scenario.method, scenario.path) == ("POST", "/v2/models/mlp/infer")


def test_protocol_keeps_explicit_method_path_and_content_type(write: Write) -> None:
    path = write(
        KSERVE.replace(
            "    concurrency: 8\n",
            "    method: put\n    path: /custom\n"
            "    headers: {content-type: application/json; charset=utf-8}\n",
        )
    )
    (scenario,) = load_config(path).scenarios
    assert (scenario.method, scenario.path) == ("PUT", "/custom")
    assert scenario.headers == (("content-type", "application/json; charset=utf-8"),)


def test_ready_path_default_follows_a_shared_protocol(write: Write) -> None:
    mixed = KSERVE + "  - {name: health, path: /health, requests: 1}\n"
    assert load_config(write(mixed)).server.ready.path == "/"
    given = KSERVE.replace(
        "server: {image: example/mlp:1}", "server: {image: m, ready: {path: /ok}}"
    )
    assert load_config(write(given)).server.ready.path == "/ok"


def test_openai_default_ready_path_falls_back_to_health_unless_a_path_is_set(
    write: Write,
) -> None:
    write('"Hello"\n', name="prompts.jsonl")
    implied = load_config(write(OPENAI)).server.ready
    assert (implied.path, implied.fallback_path) == ("/v1/models", "/health")
    chosen = OPENAI.replace(
        'server: {url: "http://127.0.0.1:8000"}',
        'server: {url: "http://127.0.0.1:8000", ready: {path: /v1/models}}',
    )
    assert load_config(write(chosen)).server.ready.fallback_path is None
    assert load_config(write(KSERVE)).server.ready.fallback_path is None
    # Where readiness is probed is not part of the setup a comparison checks.
    assert load_config(write(chosen)).hash() == load_config(write(OPENAI)).hash()


def test_hash_covers_the_new_keys_and_stays_stable(write: Write) -> None:
    write('"Hello"\n', name="prompts.jsonl")
    path = write(OPENAI)
    first = load_config(path)
    assert first.hash() == load_config(path).hash()
    for override in ({"seed": 8}, {"slo": {"e2e": "3s"}}, {"sweep": {"rate": [10, 20]}}):
        changed = load_config(path, overrides={"scenarios": {"chat": override}})
        assert changed.hash() != first.hash(), override
    settings = first.to_dict()["scenarios"][0]
    json.dumps(settings)  # JSON-ready
    assert settings["openai"]["prompts"]["count"] == 1
    assert settings["arrivals"] == {"rate": 50.0, "distribution": "constant", "max_concurrency": 64}


@pytest.mark.parametrize(
    ("value", "share"),
    [
        ("5%", 0.05),
        ("100%", 1.0),
        ("0%", 0.0),
        (" 2.5 % ", 0.025),
        (0.05, 0.05),
        (1, 1.0),
        (0, 0.0),
    ],
)
def test_fraction(value: object, share: float) -> None:
    assert fraction(value) == pytest.approx(share)


@pytest.mark.parametrize("value", ["5", "-1%", "101%", 1.5, -0.1, True, None, "five%", [5]])
def test_fraction_rejects(value: object) -> None:
    with pytest.raises(FieldError, match="expected a percentage like 5% or a fraction from 0 to 1"):
        fraction(value)


def test_fraction_positive_rejects_zero() -> None:
    with pytest.raises(FieldError, match="from 0 to 1, above 0, got '0%'"):
        fraction("0%", positive=True)


# --- one error per rule -------------------------------------------------------------------------

HEAD = "version: 1\nserver: {image: m}\nscenarios:\n  - name: s\n    requests: 10\n"
"""A scenario whose keys continue at line 6."""
AS_OPENAI = "    protocol: openai\n    openai: {model: m, prompts: [hi]}\n"  # lines 6-7
AS_KSERVE = (
    "    protocol: kserve-v2\n"
    "    kserve:\n      model: mlp\n"
    "      inputs: [{name: x, datatype: FP32, shape: [2], data: [1, 2]}]\n"
)  # lines 6-9


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        # protocol, load shape and the small keys
        (
            "    protocol: kserve\n",
            "6: scenarios[0].protocol: expected one of: http, openai, kserve-v2; got 'kserve';"
            " did you mean 'kserve-v2'?",
        ),
        (
            "    protocol: [openai]\n",
            "6: scenarios[0].protocol: expected one of: http, openai, kserve-v2; got a list",
        ),
        (
            "    concurrency: 4\n    rate: 10\n",
            "7: scenarios[0].rate: rate (open loop) and concurrency (closed loop) exclude each"
            " other: remove concurrency (open loop uses max_concurrency to cap in-flight requests)",
        ),
        (
            "    arrival: constant\n",
            "6: scenarios[0].arrival: needs rate: only an open-loop scenario has arrivals to space;"
            " set rate (requests/s) or remove arrival",
        ),
        (
            "    max_concurrency: 8\n",
            "6: scenarios[0].max_concurrency: needs rate: it caps the in-flight requests of an"
            " open-loop scenario; set rate (requests/s), or use concurrency for a closed loop",
        ),
        ("    rate: 0\n", "6: scenarios[0].rate: expected a number > 0, got 0"),
        (
            "    rate: 5\n    arrival: uniform\n",
            "7: scenarios[0].arrival: expected one of: poisson, constant; got 'uniform'",
        ),
        (
            "    rate: 5\n    max_concurrency: 0\n",
            "7: scenarios[0].max_concurrency: expected an integer >= 1, got 0",
        ),
        ("    seed: -1\n", "6: scenarios[0].seed: expected an integer >= 0, got -1"),
        (
            "    payload_order: shuffle\n",
            "6: scenarios[0].payload_order: expected one of: cycle, random; got 'shuffle'",
        ),
        ("    workers: 0\n", "6: scenarios[0].workers: expected an integer >= 1 or 'auto', got 0"),
        (
            "    workers: all\n",
            "6: scenarios[0].workers: expected an integer >= 1 or 'auto', got 'all'",
        ),
        # check
        (
            "    check: {}\n",
            "6: scenarios[0].check: expected at least one of status, json, equals, matches,"
            " got an empty mapping",
        ),
        ("    check: [200]\n", "6: scenarios[0].check: expected a mapping, got a list"),
        (
            "    check: {status: 99}\n",
            "6: scenarios[0].check.status: expected an integer from 100 to 599, got 99",
        ),
        (
            "    check: {json: a..b}\n",
            "6: scenarios[0].check.json: expected a dotted path like outputs.0.datatype"
            " (no empty parts), got 'a..b'",
        ),
        (
            "    check: {matches: '(['}\n",
            "6: scenarios[0].check.matches: not a valid regular expression '([':"
            " unterminated character set at position 1",
        ),
        (
            "    check: {equals: 2024-01-01}\n",
            "6: scenarios[0].check.equals: cannot encode as JSON: Object of type date is not"
            " JSON serializable",
        ),
        (
            "    check:\n      stauts: 200\n",
            "7: scenarios[0].check.stauts: unknown key; did you mean 'status'?"
            " (allowed: equals, json, matches, status)",
        ),
        # which protocol section goes with which protocol
        (
            "    protocol: openai\n",
            "4: scenarios[0].openai: required key is missing (protocol openai needs model and"
            " prompts)",
        ),
        (
            "    protocol: kserve-v2\n",
            "4: scenarios[0].kserve: required key is missing (protocol kserve-v2 needs model and"
            " inputs)",
        ),
        (
            "    openai: {model: m, prompts: [hi]}\n",
            "6: scenarios[0].openai: only used with protocol openai; set protocol: openai or"
            " remove openai",
        ),
        (
            "    kserve: {model: m}\n",
            "6: scenarios[0].kserve: only used with protocol kserve-v2; set protocol: kserve-v2 or"
            " remove kserve",
        ),
        (
            AS_OPENAI + "    method: GET\n",
            "8: scenarios[0].method: protocol openai sends a JSON body with every request;"
            " use POST (its default) or remove method",
        ),
        (
            AS_KSERVE + "    method: HEAD\n",
            "10: scenarios[0].method: protocol kserve-v2 sends a JSON body with every request;"
            " use POST (its default) or remove method",
        ),
        (
            AS_OPENAI + "    payloads: [{a: 1}]\n",
            "8: scenarios[0].payloads: protocol openai builds every body from openai.prompts;"
            " move the texts to openai.prompts and remove payloads",
        ),
        # openai
        (
            "    protocol: openai\n    openai: {prompts: [hi]}\n",
            "7: scenarios[0].openai.model: required key is missing",
        ),
        (
            "    protocol: openai\n    openai: {model: m}\n",
            "7: scenarios[0].openai.prompts: required key is missing",
        ),
        (
            "    protocol: openai\n    openai: {model: m, prompts: []}\n",
            "7: scenarios[0].openai.prompts: expected at least one prompt, got an empty list",
        ),
        (
            "    protocol: openai\n    openai:\n      model: m\n      prompts: [hi, 3]\n",
            "9: scenarios[0].openai.prompts[1]: expected a non-empty string, got 3",
        ),
        (
            "    protocol: openai\n    openai: {model: m, prompts: hi}\n",
            "7: scenarios[0].openai.prompts: expected a list of prompts or a mapping"
            " {file: prompts.jsonl}, got 'hi'",
        ),
        (
            AS_OPENAI.replace("}", ", endpoint: chats}"),
            "7: scenarios[0].openai.endpoint: expected one of: chat, completions; got 'chats';"
            " did you mean 'chat'?",
        ),
        (
            AS_OPENAI.replace("}", ", stream: 1}"),
            "7: scenarios[0].openai.stream: expected true or false, got 1",
        ),
        (
            AS_OPENAI.replace("}", ", max_tokens: 0}"),
            "7: scenarios[0].openai.max_tokens: expected an integer >= 1, or null to send no"
            " limit, got 0",
        ),
        (
            AS_OPENAI.replace("}", ", max_token: 5}"),
            "7: scenarios[0].openai.max_token: unknown key; did you mean 'max_tokens'? (allowed:"
            " endpoint, extra_body, max_tokens, model, prompts, stream)",
        ),
        (
            AS_OPENAI.replace("}", ", extra_body: [1]}"),
            "7: scenarios[0].openai.extra_body: expected a mapping of request body keys to"
            " values, got a list",
        ),
        (
            "    protocol: openai\n    openai:\n      model: m\n      prompts: [hi]\n"
            "      extra_body:\n        stream: false\n",
            "11: scenarios[0].openai.extra_body.stream: set by openai.stream; use that instead",
        ),
        (
            AS_OPENAI.replace("}", ", extra_body: {messages: []}}"),
            "7: scenarios[0].openai.extra_body.messages: set by openai.prompts; use that instead",
        ),
        # kserve
        (
            AS_KSERVE.replace("      model: mlp\n", ""),
            "7: scenarios[0].kserve.model: required key is missing",
        ),
        (
            "    protocol: kserve-v2\n    kserve: {model: m}\n",
            "7: scenarios[0].kserve: expected inputs (the request's tensors) or payloads on the"
            " scenario, got neither",
        ),
        (
            AS_KSERVE + "    payloads: [{a: 1}]\n",
            "9: scenarios[0].kserve.inputs: give the request as kserve.inputs or as payloads,"
            " not both",
        ),
        (
            "    protocol: kserve-v2\n    kserve: {model: m, inputs: {x: 1}}\n",
            "7: scenarios[0].kserve.inputs: expected a non-empty list of tensors {name, datatype,"
            " shape, data}, got a mapping",
        ),
        (
            AS_KSERVE.replace("FP32", "fp31"),
            "9: scenarios[0].kserve.inputs[0].datatype: expected one of: BOOL, UINT8, UINT16,"
            " UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BF16, BYTES;"
            " got 'fp31'; did you mean 'FP32'?",
        ),
        (
            AS_KSERVE.replace("[2]", "[2, -1]"),
            "9: scenarios[0].kserve.inputs[0].shape: expected a list of dimensions"
            " (integers >= 0), e.g. [1, 4], got a list",
        ),
        (
            AS_KSERVE.replace("[2]", "[1, 4]"),
            "9: scenarios[0].kserve.inputs[0].data: holds 2 values, but shape [1, 4] needs 4",
        ),
        (
            AS_KSERVE.replace("FP32", "UINT8").replace("[1, 2]", "[1, 256]"),
            "9: scenarios[0].kserve.inputs[0].data: expected UINT8 values (integers from 0 to"
            " 255), got 256",
        ),
        (
            AS_KSERVE.replace("FP32", "BYTES").replace("[1, 2]", "[a, 2]"),
            "9: scenarios[0].kserve.inputs[0].data: expected BYTES values (strings), got 2",
        ),
        (
            AS_KSERVE.replace(", data: [1, 2]", ""),
            "9: scenarios[0].kserve.inputs[0].data: required key is missing",
        ),
        (
            "    protocol: kserve-v2\n    kserve:\n      model: mlp\n      inputs:\n"
            "        - {name: x, datatype: FP32, shape: [1], data: [1]}\n"
            "        - {name: x, datatype: FP32, shape: [1], data: [2]}\n",
            "11: scenarios[0].kserve.inputs[1].name: duplicate input name 'x'",
        ),
        (
            AS_KSERVE + "      version: 1.10\n",
            "10: scenarios[0].kserve.version: expected a version string, got the number 1.1;"
            " quote it: YAML reads 1.1 as a number, so 1.10 would become 1.1",
        ),
        (
            AS_KSERVE + "      outputs: []\n",
            "10: scenarios[0].kserve.outputs: expected a non-empty list of output tensor names,"
            " got a list",
        ),
        # slo
        (
            "    slo: {ttft: 200ms}\n",
            "6: scenarios[0].slo.ttft: is measured on streamed tokens and needs protocol openai"
            " with openai.stream true (protocol is http)",
        ),
        (
            AS_OPENAI.replace("}", ", stream: false}") + "    slo:\n      tpot: 50ms\n",
            "9: scenarios[0].slo.tpot: is measured on streamed tokens and needs protocol openai"
            " with openai.stream true (openai.stream is false)",
        ),
        (
            "    slo: {}\n",
            "6: scenarios[0].slo: expected at least one of ttft, tpot, e2e, latency, got an"
            " empty mapping",
        ),
        ("    slo: {e2e: 0}\n", "6: scenarios[0].slo.e2e: expected a duration > 0, got 0"),
        (
            "    slo: {latncy: 1s}\n",
            "6: scenarios[0].slo.latncy: unknown key; did you mean 'latency'? (allowed: e2e,"
            " latency, tpot, ttft)",
        ),
        # sweep
        (
            "    rate: 5\n    sweep: {concurrency: [1], rate: [1]}\n",
            "7: scenarios[0].sweep: expected exactly one of concurrency or rate, got both",
        ),
        (
            "    sweep: {max_error_rate: 5%}\n",
            "6: scenarios[0].sweep: expected exactly one of concurrency or rate, got neither",
        ),
        (
            "    rate: 5\n    sweep: {concurrency: [1, 2]}\n",
            "7: scenarios[0].sweep.concurrency: needs a closed-loop scenario, but this one sets"
            " rate; sweep rate instead, e.g. sweep: {rate: [10, 50, 100]}",
        ),
        (
            "    sweep: {rate: [1, 2]}\n",
            "6: scenarios[0].sweep.rate: needs an open-loop scenario; set rate on the scenario"
            " (the base level) or sweep concurrency instead",
        ),
        (
            "    sweep:\n      concurrency: [1, 4, 4]\n",
            "7: scenarios[0].sweep.concurrency[2]: expected strictly increasing levels,"
            " got 4 after 4",
        ),
        (
            "    rate: 5\n    sweep: {rate: [10, 2.5]}\n",
            "7: scenarios[0].sweep.rate[1]: expected strictly increasing levels, got 2.5 after 10",
        ),
        (
            "    sweep: {concurrency: []}\n",
            "6: scenarios[0].sweep.concurrency: expected a non-empty list of integers >= 1,"
            " in increasing order, got a list",
        ),
        (
            "    sweep: {concurrency: [1, 2.5]}\n",
            "6: scenarios[0].sweep.concurrency[1]: expected an integer >= 1, got 2.5",
        ),
        (
            "    rate: 5\n    sweep: {rate: [0, 1]}\n",
            "7: scenarios[0].sweep.rate[0]: expected a number > 0, got 0",
        ),
        (
            "    sweep: {concurrency: [1, 2], max_error_rate: 5}\n",
            "6: scenarios[0].sweep.max_error_rate: expected a percentage like 5% or a fraction"
            " from 0 to 1, got 5",
        ),
        # limits
        (
            "    limits: {rate_tolerance: 150%}\n",
            "6: scenarios[0].limits.rate_tolerance: expected a percentage like 5% or a fraction"
            " from 0 to 1, got '150%'",
        ),
        (
            "    limits: {client_cpu: 0}\n",
            "6: scenarios[0].limits.client_cpu: expected a percentage like 5% or a fraction"
            " from 0 to 1, above 0, got 0",
        ),
        (
            "    limits: {dispatch_lag_p99: 0}\n",
            "6: scenarios[0].limits.dispatch_lag_p99: expected a duration > 0, got 0",
        ),
        (
            "    limits: {client_cpus: 1}\n",
            "6: scenarios[0].limits.client_cpus: unknown key; did you mean 'client_cpu'?"
            " (allowed: client_cpu, dispatch_lag_p99, rate_tolerance)",
        ),
    ],
)
def test_scenario_errors(write: Write, snippet: str, expected: str) -> None:
    assert only_problem(write(HEAD + snippet)) == f"bench.yml:{expected}"


def test_unknown_scenario_key_lists_the_new_keys(write: Write) -> None:
    message = only_problem(write(HEAD + "    protocl: openai\n"))
    assert message == (
        "bench.yml:6: scenarios[0].protocl: unknown key; did you mean 'protocol'? (allowed:"
        " accuracy, arrival, check, concurrency, duration, headers, kserve, limits, max_concurrency,"
        " method, name, openai, path, payload_order, payloads, protocol, rate, requests, seed,"
        " slo, sweep, timeout, verdict, warmup, workers)"
    )


def test_a_section_for_another_protocol_is_reported_with_the_missing_one(write: Write) -> None:
    assert problems(write(HEAD + "    protocol: openai\n    kserve: {model: m}\n")) == [
        "bench.yml:4: scenarios[0].openai: required key is missing (protocol openai needs model"
        " and prompts)",
        "bench.yml:7: scenarios[0].kserve: only used with protocol kserve-v2; set protocol:"
        " kserve-v2 or remove kserve",
    ]


def test_prompt_file_errors_name_the_file_line(write: Write) -> None:
    write('"ok"\n{"prompt": ""}\n7\n{"a": 1,}\n', name="prompts.jsonl")
    path = write(
        HEAD + "    protocol: openai\n    openai: {model: m, prompts: {file: prompts.jsonl}}\n"
    )
    where = "bench.yml:7: scenarios[0].openai.prompts.file: prompts.jsonl"
    what = 'expected a JSON string or an object {"prompt": "..."} with a non-empty prompt'
    assert problems(path) == [
        f"{where}:2: {what}, got a mapping",
        f"{where}:3: {what}, got 7",
        f"{where}:4: not valid JSON: Expecting property name enclosed in double quotes (column 9)",
    ]


def test_prompt_file_missing_or_empty(write: Write, tmp_path: Path) -> None:
    doc = HEAD + "    protocol: openai\n    openai: {model: m, prompts: {file: prompts.jsonl}}\n"
    assert only_problem(write(doc)) == (
        "bench.yml:7: scenarios[0].openai.prompts.file: cannot read prompt file prompts.jsonl:"
        f" file not found ({tmp_path / 'prompts.jsonl'})"
    )
    write("\n \n", name="prompts.jsonl")
    assert only_problem(write(doc)) == (
        "bench.yml:7: scenarios[0].openai.prompts.file: prompts.jsonl holds no prompts"
        " (one JSON prompt a line)"
    )


# --- profiles -----------------------------------------------------------------------------------

PROFILED = """\
version: 1
server: {image: m}
scenarios:
  - name: closed
    concurrency: 4
    requests: 100
  - name: open
    rate: 20
    arrival: constant
    max_concurrency: 8
    requests: 100
  - name: chat
    protocol: openai
    concurrency: 2
    requests: 100
    openai: {model: m, prompts: [hi], max_tokens: 32}
profiles:
  full:
    scenarios:
      "*":
        sweep: {concurrency: [1, 2, 4], max_error_rate: 1%}
      open:
        sweep: {rate: [10, 20, 40]}
      chat:
        openai: {stream: false}
        slo: {e2e: 5s}
  switch:
    scenarios:
      closed: {rate: 50}
      open: {concurrency: 3}
  bad:
    scenarios:
      "*":
        sweep: {concurrency: [4, 2]}
"""


def test_full_profile_adds_a_sweep_to_every_scenario(write: Write) -> None:
    path = write(PROFILED)
    assert [s.sweep for s in load_config(path).scenarios] == [None, None, None]
    closed, open_, chat = load_config(path, profile="full").scenarios
    assert closed.sweep == Sweep("concurrency", (1, 2, 4), 0.01)
    assert open_.sweep == Sweep("rate", (10.0, 20.0, 40.0), 0.01)  # rate replaced concurrency
    assert chat.sweep == Sweep("concurrency", (1, 2, 4), 0.01)
    assert chat.openai is not None
    assert (chat.openai.stream, chat.openai.max_tokens, chat.openai.model) == (False, 32, "m")
    assert chat.slo == Slo(e2e_s=5.0)


def test_profile_switches_between_closed_and_open_loop(write: Write) -> None:
    closed, open_, _ = load_config(write(PROFILED), profile="switch").scenarios
    assert closed.arrivals == Arrivals(rate=50.0)
    assert (open_.arrivals, open_.concurrency) == (None, 3)


def test_profile_error_in_a_sweep_points_into_the_profile(write: Write) -> None:
    message = "expected strictly increasing levels, got 2 after 4"
    assert problems(write(PROFILED), profile="bad") == [
        f"bench.yml:34: scenarios[0].sweep.concurrency[1]: {message}",
        "bench.yml:34: scenarios[1].sweep.concurrency: needs a closed-loop scenario, but this one"
        " sets rate; sweep rate instead, e.g. sweep: {rate: [10, 50, 100]}",
        f"bench.yml:34: scenarios[1].sweep.concurrency[1]: {message}",
        f"bench.yml:34: scenarios[2].sweep.concurrency[1]: {message}",
    ]


# --- the reference's examples ---------------------------------------------------------------------

DOCS = REPO_ROOT / "docs" / "configuration.md"


def _doc_examples() -> dict[str, str]:
    section = DOCS.read_text(encoding="utf-8").split("\n## Examples\n", 1)[1]
    found = re.findall(r"^### (\S+)\n.*?```yaml\n(.*?)```", section, flags=re.S | re.M)
    return dict(found)


def test_the_reference_has_an_example_per_protocol() -> None:
    assert sorted(_doc_examples()) == sorted(PROTOCOLS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("profile", [None, "full"])
def test_reference_examples_load(
    write: Write, tmp_path: Path, protocol: str, profile: str | None
) -> None:
    write("FROM scratch\n", name="Dockerfile")
    write('{"inputs": []}\n', name="payloads.jsonl")
    write('"Hello"\n', name="prompts.jsonl")
    config = load_config(write(_doc_examples()[protocol]), profile=profile)
    assert {s.protocol for s in config.scenarios} == {protocol}
    assert all((s.sweep is not None) == (profile == "full") for s in config.scenarios[:2])
