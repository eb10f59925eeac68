"""Request bodies and paths per protocol."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from benchaction.config.model import KServeSpec, KServeTensor, OpenAISpec, Scenario
from benchaction.engine.bodies import kserve_path, openai_path, request_bodies


def openai_scenario(**kw: Any) -> Scenario:
    spec = replace(OpenAISpec(endpoint="chat", model="m", prompts=("hi", "yo")), **kw)
    return Scenario(name="s", protocol="openai", openai=spec)


def tensors() -> KServeSpec:
    return KServeSpec(
        model="mlp",
        inputs=(
            KServeTensor("x", "FP32", (1, 2), "[0.5,1.5]"),
            KServeTensor("mask", "BOOL", (2,), "[true,false]"),
        ),
    )


def test_http_payloads_are_unchanged() -> None:
    payloads = (b'{"a": 1}', b"raw")
    assert request_bodies(Scenario(name="s", payloads=payloads)) == payloads
    assert request_bodies(Scenario(name="s")) == ()


def test_openai_chat_streaming_bodies() -> None:
    bodies = request_bodies(openai_scenario(max_tokens=64))
    assert bodies[0] == (
        b'{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,'
        b'"stream_options":{"include_usage":true},"max_tokens":64}'
    )
    assert json.loads(bodies[1])["messages"][0]["content"] == "yo"
    assert len(bodies) == 2


def test_openai_completions_without_stream_or_max_tokens() -> None:
    (body, _) = request_bodies(
        openai_scenario(endpoint="completions", stream=False, max_tokens=None)
    )
    assert body == b'{"model":"m","prompt":"hi","stream":false}'


def test_openai_extra_body_is_merged_on_top() -> None:
    extra = json.dumps({"temperature": 0, "stream_options": {"include_usage": False}, "x": [1]})
    body = json.loads(request_bodies(openai_scenario(extra_body_json=extra))[0])
    assert body["temperature"] == 0
    assert body["stream_options"] == {"include_usage": False}
    assert body["x"] == [1]
    assert body["max_tokens"] == 128


def test_openai_bodies_keep_non_ascii_text_compact() -> None:
    (body,) = request_bodies(openai_scenario(prompts=("héllo 世界",)))
    assert "héllo 世界".encode() in body
    assert b" " not in body.replace("héllo 世界".encode(), b"")


def test_openai_needs_its_section_and_an_object_extra_body() -> None:
    with pytest.raises(ValueError, match="openai"):
        request_bodies(Scenario(name="s", protocol="openai"))
    with pytest.raises(ValueError, match="extra_body"):
        request_bodies(openai_scenario(extra_body_json="[1]"))


def test_kserve_tensors_body() -> None:
    (body,) = request_bodies(Scenario(name="s", protocol="kserve-v2", kserve=tensors()))
    assert body == (
        b'{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[0.5,1.5]},'
        b'{"name":"mask","shape":[2],"datatype":"BOOL","data":[true,false]}]}'
    )


def test_kserve_outputs_are_named_when_given() -> None:
    spec = KServeSpec(model="m", inputs=tensors().inputs[:1], outputs=("probs", "label"))
    (body,) = request_bodies(Scenario(name="s", protocol="kserve-v2", kserve=spec))
    assert json.loads(body)["outputs"] == [{"name": "probs"}, {"name": "label"}]


def test_kserve_user_payloads_win() -> None:
    payloads = (b'{"inputs":[]}',)
    scenario = Scenario(name="s", protocol="kserve-v2", kserve=tensors(), payloads=payloads)
    assert request_bodies(scenario) == payloads
    assert request_bodies(Scenario(name="s", protocol="kserve-v2", payloads=payloads)) == payloads
    with pytest.raises(ValueError, match="kserve"):
        request_bodies(Scenario(name="s", protocol="kserve-v2"))


def test_paths() -> None:
    assert kserve_path(tensors()) == "/v2/models/mlp/infer"
    versioned = KServeSpec(model="my model/x", inputs=(), version="2 b")
    assert kserve_path(versioned) == "/v2/models/my%20model%2Fx/versions/2%20b/infer"
    assert openai_path(OpenAISpec("chat", "m", ("p",))) == "/v1/chat/completions"
    assert openai_path(OpenAISpec("completions", "m", ("p",))) == "/v1/completions"
