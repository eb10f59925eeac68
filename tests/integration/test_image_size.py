"""The image size row against a real engine: two images built here, their inspect sizes in the
results documents as a run records them, and the exact delta the comparison decides on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import docker
import pytest

from benchaction.config.model import BuildSpec
from benchaction.results import IMAGE_SIZE, metric_values, validate_results
from benchaction.serving.images import build_image
from benchaction.serving.labels import object_labels
from benchaction.stats import SERVER_ROWS, StatsSettings, compare_documents, parse_gate
from tests.support.documents import two_scenario_doc

pytestmark = pytest.mark.docker

MIB = 2**20
BLOB_MIB = 24  # about 10 % of the ~240 MB base: past the 5 % threshold


def _build(
    client: docker.DockerClient, base_image: str, folder: Path, blob_bytes: int, tag: str, run: str
) -> dict[str, object]:
    """An image of the base plus one file of `blob_bytes`, as the run records it."""
    folder.mkdir()
    # The inspect's Size counts a layer's files uncompressed: the file adds its own length.
    (folder / "blob").write_bytes(bytes(range(256)) * (blob_bytes // 256) if blob_bytes else b"")
    (folder / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY blob /blob\n")
    spec = BuildSpec(context=folder, args={"BASE_IMAGE": base_image})
    info = build_image(client, spec, tag=tag, labels=object_labels(run), log=lambda _: None)
    return dataclasses.asdict(info)  # what flow.measure writes into server.image


def test_image_size_delta_between_two_real_images(
    docker_client: docker.DockerClient, base_image: str, tmp_path: Path, docker_run_id: str
) -> None:
    small = _build(
        docker_client, base_image, tmp_path / "a", 0, f"bench-size-a:{docker_run_id}", docker_run_id
    )
    large = _build(
        docker_client,
        base_image,
        tmp_path / "b",
        BLOB_MIB * MIB,
        f"bench-size-b:{docker_run_id}",
        docker_run_id,
    )
    docs = []
    for sha, image in (("a" * 40, small), ("b" * 40, large)):
        doc = two_scenario_doc("predict", 1.0, 1.0, sha)
        doc["server"]["image"] = image
        validate_results(doc)
        docs.append(doc)
    base, head = docs
    (b,), (h,) = metric_values(base, IMAGE_SIZE), metric_values(head, IMAGE_SIZE)
    assert h - b == pytest.approx(BLOB_MIB, abs=0.05)  # the file, plus a few bytes of layer

    settings = StatsSettings(gates=(parse_gate(f"image_size_mib<={b + 1:.1f}"),))
    c = compare_documents(base, head, settings)
    (row,) = [r for r in c.rows if r.metric == "image_size_mib"]
    assert (row.scenario, row.exact, row.verdict) == (SERVER_ROWS, True, "regression")
    assert row.delta == pytest.approx(h / b - 1)
    assert row.reason == f"exact: {row.delta * 100:+.1f} %, at least 5.0 %"
    assert c.verdict == "unchanged"  # not deciding: only shown, with its own verdict
    assert c.failed and not c.gates[0].passed  # the absolute gate fails on its own

    same = compare_documents(base, base, StatsSettings())
    (row,) = [r for r in same.rows if r.metric == "image_size_mib"]
    assert (row.verdict, row.reason) == ("unchanged", "exact: identical")
