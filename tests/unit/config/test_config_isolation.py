"""bench.yml `isolation`: auto, off, explicit CPU sets, profiles, and the errors for each."""

from __future__ import annotations

import pytest

from benchaction.config import Isolation, load_config
from benchaction.config.fields import FieldError, cpu_list
from tests.support.config_files import ONE_SCENARIO, Write, only_problem, problems

# Line numbers matter: the isolation key is on line 8 when appended.
BASE = ONE_SCENARIO + "trials: 2\n"
URL = BASE.replace("image: example/model:1", 'url: "http://127.0.0.1:8000"')


def test_default_is_auto_and_enters_the_settings(write: Write) -> None:
    config = load_config(write(BASE))
    assert config.isolation == Isolation(mode="auto")
    assert config.to_dict()["isolation"] == {"mode": "auto", "server": None, "load": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auto", Isolation("auto")),
        ("off", Isolation("off")),  # YAML 1.1 reads a bare off as false
        ('"off"', Isolation("off")),
        ("false", Isolation("off")),
        ("on", Isolation("auto")),
        ("{server: 0-2, load: 3}", Isolation("explicit", (0, 1, 2), (3,))),
        ('{server: "0,2-3", load: "1"}', Isolation("explicit", (0, 2, 3), (1,))),
        ("{load: 7}", Isolation("explicit", None, (7,))),
        ('{server: " 1 - 2 , 0 "}', Isolation("explicit", (0, 1, 2), None)),
    ],
)
def test_forms(write: Write, text: str, expected: Isolation) -> None:
    assert load_config(write(BASE + f"isolation: {text}\n")).isolation == expected


def test_hash_keeps_the_default_out_and_takes_any_other(write: Write) -> None:
    default = load_config(write(BASE)).hash()
    assert load_config(write(BASE + "isolation: auto\n")).hash() == default
    off = load_config(write(BASE + "isolation: off\n")).hash()
    split = load_config(write(BASE + "isolation: {server: 0, load: 1}\n")).hash()
    assert len({default, off, split}) == 3


def test_a_profile_and_an_override_can_set_it(write: Write) -> None:
    text = BASE + "isolation: {server: 0-2, load: 3}\nprofiles:\n  pr:\n    isolation: off\n"
    path = write(text)
    assert load_config(path).isolation == Isolation("explicit", (0, 1, 2), (3,))
    assert load_config(path, profile="pr").isolation == Isolation("off")
    merged = load_config(path, overrides={"isolation": {"load": "3-4", "server": "0-1"}})
    assert merged.isolation == Isolation("explicit", (0, 1), (3, 4))
    assert load_config(path, overrides={"isolation": "auto"}).isolation == Isolation("auto")


def test_unknown_word_gets_a_suggestion(write: Write) -> None:
    assert only_problem(write(BASE + "isolation: atuo\n")) == (
        "bench.yml:8: isolation: expected one of: auto, off, or a mapping "
        "{server: CPU list, load: CPU list}; got 'atuo'; did you mean 'auto'?"
    )


def test_unknown_key_gets_a_suggestion(write: Write) -> None:
    assert only_problem(write(BASE + "isolation: {server: 0, laod: 1}\n")) == (
        "bench.yml:8: isolation.laod: unknown key; did you mean 'load'? (allowed: load, server)"
    )


def test_bad_cpu_lists_name_the_key(write: Write) -> None:
    found = problems(write(BASE + "isolation:\n  server: 0-x\n  load: 3-1\n"))
    assert found == [
        "bench.yml:9: isolation.server: expected a CPU list like '0-2,4' (CPU numbers and "
        "ranges, comma-separated), got '0-x'",
        "bench.yml:10: isolation.load: a CPU list like '0-2,4' (CPU numbers and ranges, "
        "comma-separated): the range '3-1' runs backwards",
    ]


def test_sets_must_be_disjoint(write: Write) -> None:
    assert only_problem(write(BASE + "isolation: {server: 0-2, load: 2-3}\n")) == (
        "bench.yml:8: isolation: server and load share CPU 2: the two sets must be disjoint"
    )


def test_empty_mapping_is_refused(write: Write) -> None:
    assert only_problem(write(BASE + "isolation: {}\n")) == (
        "bench.yml:8: isolation: set server, load or both (CPU lists like '0-2'), "
        "or use 'auto' or 'off'"
    )


def test_a_url_server_cannot_be_pinned(write: Write) -> None:
    assert only_problem(write(URL + "isolation: {server: 0, load: 1}\n")) == (
        "bench.yml:8: isolation.server: the server at server.url is not started by "
        "bench-action, so it cannot be pinned (set only `load`)"
    )
    assert load_config(write(URL + "isolation: {load: 1}\n")).isolation.load == (1,)


def test_an_error_from_a_profile_points_at_the_profile(write: Write) -> None:
    path = write(BASE + "profiles:\n  pr:\n    isolation: sometimes\n")
    assert only_problem(path, profile="pr").startswith(
        "bench.yml:10: isolation: expected one of: auto, off, or a mapping"
    )


@pytest.mark.parametrize(
    ("value", "cpus"),
    [(3, (3,)), ("3", (3,)), ("0-3", (0, 1, 2, 3)), ("4,0-1,1", (0, 1, 4)), ("0-0", (0,))],
)
def test_cpu_list(value: object, cpus: tuple[int, ...]) -> None:
    assert cpu_list(value) == cpus


@pytest.mark.parametrize("value", [-1, True, 1.5, "", "a", "1-", "-1", "1,,2", "0-99999", [1]])
def test_cpu_list_refuses(value: object) -> None:
    with pytest.raises(FieldError, match="a CPU list like"):
        cpu_list(value)
