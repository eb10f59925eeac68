"""CPU isolation in the setup fingerprint: mode and set sizes compared, CPU numbers not."""

from __future__ import annotations

import copy
from typing import Any

from benchaction.stats import fingerprint_differences
from tests.support.documents import two_scenario_doc


def _doc(isolation: dict[str, Any] | None) -> Any:
    doc = two_scenario_doc("predict", 1.0, 1.0, "a" * 40)
    if isolation is not None:
        doc["isolation"] = isolation
    return doc


def _iso(mode: str, server: list[int] | None, load: list[int] | None) -> dict[str, Any]:
    return {"mode": mode, "server_cpus": server, "load_cpus": load, "reason": "test"}


def test_same_split_on_other_cores_is_the_same_setup() -> None:
    base = _doc(_iso("auto", [0, 1, 2], [3]))
    head = _doc(_iso("auto", [4, 5, 6], [7]))
    assert fingerprint_differences(base, head) == []


def test_mode_or_sizes_differ() -> None:
    base = _doc(_iso("auto", [0, 1, 2], [3]))
    assert fingerprint_differences(base, _doc(_iso("off", None, None))) == [
        "CPU isolation auto (server 3, load 1 cores) vs off (server any, load any cores)"
    ]
    assert fingerprint_differences(base, _doc(_iso("auto", [0, 1], [2, 3]))) == [
        "CPU isolation auto (server 3, load 1 cores) vs auto (server 2, load 2 cores)"
    ]


def test_a_document_from_before_isolation_differs_from_one_with_it() -> None:
    old, new = _doc(None), _doc(_iso("auto", [0], [1]))
    assert fingerprint_differences(old, copy.deepcopy(old)) == []
    assert fingerprint_differences(old, new) == [
        "CPU isolation not recorded vs auto (server 1, load 1 cores)"
    ]
