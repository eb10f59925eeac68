"""A load plan under CPU isolation: the workers' cores, and one worker per core by default."""

from __future__ import annotations

import dataclasses

from benchaction.config import Arrivals, Scenario
from benchaction.engine import plan_for

SCENARIO = Scenario(name="s", concurrency=8, requests=100)


def test_the_load_cores_set_the_default_worker_count() -> None:
    plan = plan_for(SCENARIO, "127.0.0.1", 8000, cores=16, cpus=(6, 7))
    assert (plan.cpus, plan.workers) == ((6, 7), 2)
    one = plan_for(SCENARIO, "127.0.0.1", 8000, cores=16, cpus=(1,))
    assert (one.cpus, one.workers) == ((1,), 1)


def test_without_cpus_nothing_is_pinned() -> None:
    plan = plan_for(SCENARIO, "127.0.0.1", 8000, cores=3)
    assert (plan.cpus, plan.workers) == (None, 3)


def test_configured_workers_and_open_loop_keep_their_rules() -> None:
    fixed = plan_for(dataclasses.replace(SCENARIO, workers=3), "h", 1, cpus=(1,))
    assert (fixed.cpus, fixed.workers) == ((1,), 3)
    slow = dataclasses.replace(SCENARIO, arrivals=Arrivals(rate=50.0))
    assert plan_for(slow, "h", 1, cpus=(4, 5, 6)).workers == 1  # one per 1000 req/s offered


def test_each_worker_share_keeps_the_cores() -> None:
    plan = plan_for(SCENARIO, "h", 1, cpus=(2, 3))
    assert plan.for_shard(1, 2, 0).cpus == (2, 3)
