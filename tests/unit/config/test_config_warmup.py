"""The scenario's `warmup`: the fixed forms as before, the steady form, its errors, its hash."""

from __future__ import annotations

import pytest

from benchaction.config import Steady, Warmup, load_config
from tests.support.config_files import Write, only_problem

HEAD = "version: 1\nserver: {image: m}\nscenarios:\n  - name: predict\n    requests: 10\n"


def _warmup(write: Write, snippet: str) -> Warmup:
    return load_config(write(HEAD + snippet)).scenarios[0].warmup


@pytest.mark.parametrize(
    ("snippet", "warmup"),
    [
        ("", Warmup()),
        ("    warmup: 5s\n", Warmup(duration_s=5.0)),
        ("    warmup: {duration: 1s, requests: 5}\n", Warmup(1.0, 5)),
        ("    warmup: steady\n", Warmup(steady=Steady())),
        ("    warmup: {steady: true}\n", Warmup(steady=Steady())),
        ("    warmup: {steady: false, duration: 2s}\n", Warmup(duration_s=2.0)),
        ("    warmup: {steady: {}}\n", Warmup(steady=Steady())),
        (
            "    warmup:\n      steady: {window: 500ms, tolerance: 10%, max: 20s, min: 2s}\n"
            "      duration: 1s\n",
            Warmup(duration_s=1.0, steady=Steady(0.5, 0.1, 20.0, 2.0)),
        ),
        (
            "    warmup: {steady: {tolerance: 0.02, min: 0}}\n",
            Warmup(steady=Steady(1.0, 0.02, 30.0, 0.0)),
        ),
    ],
)
def test_warmup_forms(write: Write, snippet: str, warmup: Warmup) -> None:
    assert _warmup(write, snippet) == warmup


def test_defaults_are_documented_values() -> None:
    assert Steady() == Steady(window_s=1.0, tolerance=0.05, max_s=30.0, min_s=1.0)


def test_settings_carry_steady_only_when_set(write: Write) -> None:
    """A fixed warmup's settings (and so its config hash) are what they were before `steady`."""
    fixed = load_config(write(HEAD + "    warmup: 5s\n"))
    assert fixed.to_dict()["scenarios"][0]["warmup"] == {"duration_s": 5.0, "requests": 0}
    steady = load_config(write(HEAD + "    warmup: steady\n"))
    assert steady.to_dict()["scenarios"][0]["warmup"] == {
        "duration_s": 0.0,
        "requests": 0,
        "steady": {"window_s": 1.0, "tolerance": 0.05, "max_s": 30.0, "min_s": 1.0},
    }
    none = load_config(write(HEAD))
    assert len({fixed.hash(), steady.hash(), none.hash()}) == 3


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            "    warmup: stedy\n",
            "scenarios[0].warmup: expected a duration: a number of seconds or a string like 250ms,"
            " 1.5s, 2m (units: ns, us, ms, s, m, h), 'steady', or a mapping {duration, requests,"
            " steady}, got 'stedy'; did you mean 'steady'?",
        ),
        (
            "    warmup: {}\n",
            "scenarios[0].warmup: expected duration and/or requests, or steady, got an empty mapping",
        ),
        (
            "    warmup: {steady: 3}\n",
            "scenarios[0].warmup.steady: expected true, false, or a mapping {window, tolerance,"
            " max, min}, got 3",
        ),
        (
            "    warmup: {steady: {windw: 1s}}\n",
            "scenarios[0].warmup.steady.windw: unknown key; did you mean 'window'? (allowed: max,"
            " min, tolerance, window)",
        ),
        (
            "    warmup: {steady: {window: 0}}\n",
            "scenarios[0].warmup.steady.window: expected a duration > 0, got 0",
        ),
        (
            "    warmup: {steady: {tolerance: 0%}}\n",
            "scenarios[0].warmup.steady.tolerance: expected a percentage like 5% or a fraction from"
            " 0 to 1, above 0, got '0%'",
        ),
        (
            "    warmup: {steady: {tolerance: 5}}\n",
            "scenarios[0].warmup.steady.tolerance: expected a percentage like 5% or a fraction from"
            " 0 to 1, above 0, got 5",
        ),
        (
            "    warmup: {steady: {window: 2s, max: 3s}}\n",
            "scenarios[0].warmup.steady.max: max 3s leaves room for fewer than two windows of 2s"
            " (each window is compared with the one before it); set max to at least 4s",
        ),
        (
            "    warmup: {steady: {window: 20s}}\n",
            "scenarios[0].warmup.steady: max 30s leaves room for fewer than two windows of 20s"
            " (each window is compared with the one before it); set max to at least 40s",
        ),
        (
            "    warmup: {steady: {max: 5s, min: 6s}}\n",
            "scenarios[0].warmup.steady.min: min 6s is over max 5s; expected min <= max",
        ),
    ],
)
def test_warmup_errors(write: Write, snippet: str, expected: str) -> None:
    assert only_problem(write(HEAD + snippet)) == "bench.yml:6: " + expected


def test_a_profile_turns_steady_on_and_off(write: Write) -> None:
    text = HEAD + (
        "    warmup: {steady: {window: 0.5s}}\n"
        "profiles:\n"
        "  quick:\n"
        "    scenarios:\n"
        "      predict: {warmup: {steady: false, duration: 1s}}\n"
        "  steadier:\n"
        "    scenarios:\n"
        "      '*': {warmup: {steady: {tolerance: 2%}}}\n"
    )
    path = write(text)
    assert load_config(path).scenarios[0].warmup == Warmup(steady=Steady(window_s=0.5))
    assert load_config(path, profile="quick").scenarios[0].warmup == Warmup(duration_s=1.0)
    steadier = load_config(path, profile="steadier").scenarios[0].warmup
    assert steadier == Warmup(steady=Steady(window_s=0.5, tolerance=0.02))
