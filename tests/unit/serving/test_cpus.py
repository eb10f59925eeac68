"""CPU isolation's split: which cores the server and the load get, for every form of the key."""

from __future__ import annotations

import pytest

from benchaction.config import Isolation
from benchaction.errors import ConfigError
from benchaction.serving import CpuPlan, format_cpus, split_cpus

AUTO = Isolation("auto")


@pytest.mark.parametrize(
    ("available", "server", "load"),
    [
        ((0, 1, 2, 3), (0, 1, 2), (3,)),
        (tuple(range(8)), tuple(range(6)), (6, 7)),
        (tuple(range(16)), tuple(range(12)), (12, 13, 14, 15)),
        (tuple(range(7)), tuple(range(6)), (6,)),
        # A runner given scattered cores (a cgroup cpuset): the highest go to the load.
        ((9, 2, 4, 6), (2, 4, 6), (9,)),
    ],
)
def test_auto_gives_the_load_a_quarter_at_the_top(
    available: tuple[int, ...], server: tuple[int, ...], load: tuple[int, ...]
) -> None:
    plan = split_cpus(AUTO, available)
    assert (plan.mode, plan.server, plan.load) == ("auto", server, load)
    assert not set(plan.server or ()) & set(plan.load or ())
    assert set(plan.server or ()) | set(plan.load or ()) == set(available)


def test_auto_on_four_cores_reads_well() -> None:
    assert split_cpus(AUTO, [3, 1, 0, 2]) == CpuPlan(
        "auto", (0, 1, 2), (3,), "4 usable cores (0-3): the server gets 0-2, the load 3"
    )


@pytest.mark.parametrize("available", [(0, 1), (4, 5, 6)])
def test_auto_on_two_or_three_cores_pins_nothing_and_says_why(available: tuple[int, ...]) -> None:
    plan = split_cpus(AUTO, available)
    assert (plan.mode, plan.server, plan.load) == ("off", None, None)
    assert plan.reason.startswith(f"only {len(available)} usable cores")
    assert "auto splits 4 or more" in plan.reason and "Explicit sets" in plan.reason
    explicit = split_cpus(Isolation("explicit", (available[0],), (available[-1],)), available)
    assert (explicit.server, explicit.load) == ((available[0],), (available[-1],))


def test_auto_with_one_core_pins_nothing_and_says_why() -> None:
    assert split_cpus(AUTO, [3]) == CpuPlan(
        "off", None, None, "only 1 usable core (3): nothing to split, nothing pinned"
    )


def test_off_and_unknown_affinity_pin_nothing() -> None:
    off = split_cpus(Isolation("off"), [0, 1, 2, 3])
    assert (off.mode, off.server, off.load) == ("off", None, None)
    assert "the config turns it off" in off.reason
    unknown = split_cpus(AUTO, None)
    assert (unknown.mode, unknown.server, unknown.load) == ("off", None, None)
    assert "no CPU affinity" in unknown.reason


def test_a_url_server_pins_only_the_load() -> None:
    plan = split_cpus(AUTO, range(4), pin_server=False)
    assert (plan.mode, plan.server, plan.load) == ("auto", None, (3,))
    assert "server.url is not started here" in plan.reason


def test_explicit_sets_are_used_as_written() -> None:
    plan = split_cpus(Isolation("explicit", (0, 1), (3,)), range(4))
    assert plan == CpuPlan(
        "explicit", (0, 1), (3,), "set in the config: the server gets 0-1, the load gets 3"
    )
    only_load = split_cpus(Isolation("explicit", None, (2,)), range(4))
    assert (only_load.server, only_load.load) == (None, (2,))
    assert "the server is not pinned" in only_load.reason


def test_explicit_sets_must_be_available() -> None:
    with pytest.raises(ConfigError) as info:
        split_cpus(Isolation("explicit", (0, 5, 6), (7,)), (0, 1))
    assert info.value.problems == [
        "isolation.server: CPU 5-6 not available to this run (it may use 0-1); pick CPUs from "
        "that set or use `isolation: auto`",
        "isolation.load: CPU 7 not available to this run (it may use 0-1); pick CPUs from "
        "that set or use `isolation: auto`",
    ]


def test_explicit_sets_must_be_disjoint() -> None:
    with pytest.raises(ConfigError, match="server and load share CPU 1"):
        split_cpus(Isolation("explicit", (0, 1), (1,)), range(4))


def test_the_results_section() -> None:
    assert split_cpus(AUTO, (0, 1, 2, 3)).to_dict() == {
        "mode": "auto",
        "server_cpus": [0, 1, 2],
        "load_cpus": [3],
        "reason": "4 usable cores (0-3): the server gets 0-2, the load 3",
    }
    assert split_cpus(Isolation("off"), (0, 1)).to_dict()["server_cpus"] is None


@pytest.mark.parametrize(
    ("cpus", "text"),
    [((), ""), ((3,), "3"), ((0, 1), "0-1"), ((5, 0, 1, 2, 7, 8), "0-2,5,7-8"), ((1, 1), "1")],
)
def test_format_cpus(cpus: tuple[int, ...], text: str) -> None:
    assert format_cpus(cpus) == text
