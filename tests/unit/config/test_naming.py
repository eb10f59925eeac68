"""A config's name, read even when the config does not load: it keys the sticky comment."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchaction.config import config_name, load_config

VALID = """version: 1
name: numpy-mlp
server: {image: "example/model:1", port: 8080}
profiles:
  nightly: {name: numpy-mlp-nightly}
scenarios:
  - {name: predict, path: /predict, duration: 2s}
"""


def _write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "models" / "mlp"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("profile", [None, "pr", "nightly"])
def test_the_name_is_the_loaders_for_a_valid_config(tmp_path: Path, profile: str | None) -> None:
    path = _write(tmp_path, VALID)
    assert config_name(path, profile=profile) == load_config(path, profile=profile).name


def test_without_a_name_both_use_the_folder(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("name: numpy-mlp\n", ""))
    assert config_name(path) == load_config(path).name == "mlp"


def test_overrides_win_as_in_the_loader(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID)
    overrides = {"name": "renamed"}
    assert config_name(path, overrides=overrides) == "renamed"
    assert load_config(path, overrides=overrides).name == "renamed"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (VALID.replace("duration: 2s", "duration: soon"), "numpy-mlp"),  # invalid, but YAML
        (VALID.replace("profiles:", "profiles: ["), "numpy-mlp"),  # not YAML: the name line
        ("name: 'quoted name'  # a comment\nserver: [\n", "quoted name"),
        ("version: 1\nname: 7\n", "mlp"),  # not a string: what the loader would refuse
        ("\xff\xfe not text", "mlp"),
        ("scenarios: [\n  name: inner\n", "mlp"),  # an indented name is not the config's
    ],
)
def test_an_invalid_config_still_has_its_name(tmp_path: Path, text: str, name: str) -> None:
    path = _write(tmp_path, "")
    path.write_bytes(text.encode("latin-1"))
    assert config_name(path) == name


def test_a_missing_file_has_its_folder_s_name(tmp_path: Path) -> None:
    assert config_name(tmp_path / "gone" / "bench.yml") == "gone"
