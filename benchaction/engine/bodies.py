"""Request bodies and paths per protocol, built once before a run so the hot path only sends bytes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from benchaction.config import KServeSpec, OpenAISpec, Scenario

__all__ = ["kserve_path", "openai_path", "request_bodies"]


def request_bodies(scenario: Scenario) -> tuple[bytes, ...]:
    """The bodies the engine cycles or samples, whatever protocol the scenario speaks."""
    if scenario.protocol == "openai":
        if scenario.openai is None:
            raise ValueError(f"scenario {scenario.name!r}: protocol openai needs an openai section")
        return _openai_bodies(scenario.openai)
    if scenario.protocol == "kserve-v2":
        if scenario.payloads:  # whole bodies the user wrote take precedence over the tensors
            return scenario.payloads
        if scenario.kserve is None:
            raise ValueError(
                f"scenario {scenario.name!r}: protocol kserve-v2 needs a kserve section"
            )
        return (_kserve_body(scenario.kserve),)
    return scenario.payloads


def _openai_bodies(spec: OpenAISpec) -> tuple[bytes, ...]:
    """One body per prompt; `extra_body` keys replace ours (a shallow merge) so users can override any."""
    extra = json.loads(spec.extra_body_json)
    if not isinstance(extra, dict):
        raise ValueError("openai extra_body must be a JSON object")
    bodies = []
    for prompt in spec.prompts:
        body: dict[str, Any] = {"model": spec.model}
        if spec.endpoint == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        body["stream"] = spec.stream
        if spec.stream:  # without it the stream has no token counts to check against
            body["stream_options"] = {"include_usage": True}
        if spec.max_tokens is not None:
            body["max_tokens"] = spec.max_tokens
        body.update(extra)
        bodies.append(_compact(body))
    return tuple(bodies)


def _kserve_body(spec: KServeSpec) -> bytes:
    """The Open Inference Protocol request of the configured tensors."""
    body: dict[str, Any] = {
        "inputs": [
            {
                "name": t.name,
                "shape": list(t.shape),
                "datatype": t.datatype,
                "data": json.loads(t.data_json),
            }
            for t in spec.inputs
        ]
    }
    if spec.outputs:
        body["outputs"] = [{"name": name} for name in spec.outputs]
    return _compact(body)


def kserve_path(spec: KServeSpec) -> str:
    """The infer endpoint, versioned when a version is pinned; names are quoted to stay one segment."""
    model = quote(spec.model, safe="")
    if spec.version is None:
        return f"/v2/models/{model}/infer"
    return f"/v2/models/{model}/versions/{quote(spec.version, safe='')}/infer"


def openai_path(spec: OpenAISpec) -> str:
    """The endpoint of the configured OpenAI API flavour."""
    return "/v1/chat/completions" if spec.endpoint == "chat" else "/v1/completions"


def _compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
