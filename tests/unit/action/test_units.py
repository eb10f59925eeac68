"""The action's pure parts without an engine: A/B order and merging, base configs, failure text,
ownership hand-over, the signal policy and finding our own container."""

from __future__ import annotations

import copy
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from benchaction import errors
from benchaction.action import placement as entrypoint
from benchaction.action.placement import Placement
from benchaction.config import load_config
from benchaction.errors import Cancelled, ConfigError
from benchaction.flow.ab import base_config, round_order
from benchaction.flow.sequential import merge_documents
from benchaction.report import render_failure as failure_markdown
from benchaction.results import validate_results
from tests.support.documents import two_scenario_doc

CONFIG = """version: 1
name: m
server:
  build: {{context: {context}}}
  port: 8000
  env: {{FLAVOUR: "{flavour}"}}
scenarios:
  - name: s
    path: /
    concurrency: 1
    duration: 1s
trials: 4
"""


def _one_trial_doc(latency: float, status: str = "complete") -> dict[str, Any]:
    doc = two_scenario_doc("predict", latency, 1.0, "a" * 40)
    doc["status"] = status
    doc["instances"] = [
        {"instance": 0, "cold_start_s": 0.5, "container_id": f"c{latency}", "pid": None}
    ]
    for section in doc["scenarios"]:
        section["trials"] = [dict(section["trials"][0], trial=0, instance=0)]
    return doc


def test_rounds_alternate_which_side_goes_first() -> None:
    assert round_order(3) == [
        (0, "base"),
        (0, "head"),
        (1, "head"),
        (1, "base"),
        (2, "base"),
        (2, "head"),
    ]


def test_merge_renumbers_trials_and_instances() -> None:
    docs = [_one_trial_doc(1.0), _one_trial_doc(1.1), _one_trial_doc(1.2)]
    merged = merge_documents(docs)
    validate_results(merged)
    assert [i["instance"] for i in merged["instances"]] == [0, 1, 2]
    assert [i["container_id"] for i in merged["instances"]] == ["c1.0", "c1.1", "c1.2"]
    for section in merged["scenarios"]:
        assert [(t["trial"], t["instance"]) for t in section["trials"]] == [(0, 0), (1, 1), (2, 2)]
    assert merged["status"] == "complete"
    assert docs[0]["instances"][0]["container_id"] == "c1.0"  # inputs untouched


def test_merge_of_an_interrupted_side_is_partial_with_its_error() -> None:
    broken = _one_trial_doc(1.1, status="partial")
    broken["error"] = "cancelled (SIGINT)"
    merged = merge_documents([_one_trial_doc(1.0), broken])
    assert (merged["status"], merged["error"]) == ("partial", "cancelled (SIGINT)")
    with pytest.raises(ValueError, match="at least one"):
        merge_documents([])


def test_base_config_from_an_image_keeps_everything_but_the_server_source(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "bench.yml").write_text(CONFIG.format(context="m", flavour="head"))
    head = load_config(tmp_path / "bench.yml")
    base = base_config(
        head, base_image="registry.example/o/m:base", base_dir=None, config_rel=Path("bench.yml")
    )
    assert (base.server.image, base.server.build) == ("registry.example/o/m:base", None)
    assert base.server.env == head.server.env and base.scenarios == head.scenarios
    assert base.hash() == head.hash()


def test_base_config_from_a_checkout_uses_its_server_section(tmp_path: Path) -> None:
    for folder, flavour in ((tmp_path, "head"), (tmp_path / "base", "base")):
        (folder / "m").mkdir(parents=True)
        (folder / "m" / "Dockerfile").write_text("FROM scratch\n")
        (folder / "bench.yml").write_text(CONFIG.format(context="m", flavour=flavour))
    head = load_config(tmp_path / "bench.yml")
    base = base_config(
        head, base_image=None, base_dir=tmp_path / "base", config_rel=Path("bench.yml")
    )
    assert base.server.build is not None
    assert base.server.build.context == (tmp_path / "base" / "m").resolve()
    assert base.server.env == {"FLAVOUR": "base"}
    assert (base.trials, base.scenarios) == (head.trials, head.scenarios)


def test_base_checkout_without_the_config_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "bench.yml").write_text(CONFIG.format(context="m", flavour="head"))
    (tmp_path / "base").mkdir()
    head = load_config(tmp_path / "bench.yml")
    with pytest.raises(ConfigError, match=r"the base checkout has no bench\.yml") as caught:
        base_config(head, base_image=None, base_dir=tmp_path / "base", config_rel=Path("bench.yml"))
    assert "use `base-image` or `mode: artifact`" in str(caught.value)


def test_failure_markdown_fences_hostile_text_and_counts_trials() -> None:
    detail = "server exited\n    | ```\n    | @everyone"
    text = failure_markdown(
        "<!-- m -->",
        "the benchmark failed",
        detail,
        two_scenario_doc("p", 1, 1, "a" * 40),
        "https://x/run",
    )
    assert text.startswith("<!-- m -->\n### ❌ bench-action: the benchmark failed\n\n````text\n")
    assert "\n````\n" in text and "Scenario trials finished before it stopped: 10" in text
    assert "[job log](https://x/run)" in text
    long = failure_markdown("", "t", "x" * 50_000, None, None)
    assert len(long) < 21_000 and "cut; see the job log" in long


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root, as in the action")
def test_chown_tree_hands_results_and_created_parents_to_the_owner(tmp_path: Path) -> None:
    results = tmp_path / "out" / "bench"
    results.mkdir(parents=True)
    (results / "results.json").write_text("{}")
    entrypoint.chown_tree(results, tmp_path, 1001, 1002)
    for path in (tmp_path / "out", results, results / "results.json"):
        assert (path.stat().st_uid, path.stat().st_gid) == (1001, 1002)
    assert tmp_path.stat().st_uid == 0  # the workspace itself is left as it was


def test_placement_network() -> None:
    assert Placement().network_mode == "host"
    assert Placement(container_id="abc").network_mode == "container:abc"


def test_second_signal_does_not_interrupt_the_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errors._Signals, "received", False)
    with pytest.raises(Cancelled, match=r"cancelled \(SIGINT\)"):
        errors._on_signal(signal.SIGINT, None)
    errors._on_signal(signal.SIGTERM, None)  # ignored: no exception
    assert isinstance(Cancelled("x"), KeyboardInterrupt)  # unwinds like Ctrl-C everywhere


def test_locate_self_falls_back_to_the_host_network(monkeypatch: pytest.MonkeyPatch) -> None:
    class Api:
        def inspect_container(self, name: str) -> dict[str, Any]:
            raise entrypoint.docker.errors.NotFound(f"no {name}")

    class Client:
        api = Api()

    placement = entrypoint.locate_self(Client())  # type: ignore[arg-type]
    assert placement.network_mode == "host"
    assert "host network" in placement.note


def test_locate_self_reads_id_image_and_workspace_mount(monkeypatch: pytest.MonkeyPatch) -> None:
    own = "0123456789abcdef" * 4
    monkeypatch.setattr(entrypoint, "_own_id_candidates", lambda: [own])
    monkeypatch.setattr(entrypoint.Path, "exists", lambda self: True)
    attrs = {
        "Id": own,
        "Image": "sha256:" + "e" * 64,
        "Mounts": [
            {"Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock"},
            {"Source": "/runner/_work/r/r", "Destination": "/github/workspace"},
        ],
    }

    class Api:
        def inspect_container(self, name: str) -> dict[str, Any]:
            assert name == own
            return copy.deepcopy(attrs)

    class Client:
        api = Api()

    placement = entrypoint.locate_self(Client())  # type: ignore[arg-type]
    assert placement.network_mode == f"container:{own}"
    assert placement.workspace_host_path == "/runner/_work/r/r"
    assert placement.image == attrs["Image"]
