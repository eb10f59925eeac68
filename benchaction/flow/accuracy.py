"""The accuracy step of a run: after a server image's performance trials, each scenario with an
`accuracy` block sends its labelled set once to the server still running, and its section of the
results gets the scores. `flow.measure` decides when; this module only knows what."""

from __future__ import annotations

from collections.abc import Sequence

from benchaction.engine.accuracy import run_accuracy
from benchaction.flow.sweep import Point
from benchaction.progress import ProgressDisplay
from benchaction.results import ScenarioResults, describe_accuracy
from benchaction.serving import ServerHandle

__all__ = ["score_scenarios"]


def score_scenarios(
    points: Sequence[Point],
    sections: Sequence[ScenarioResults],
    handle: ServerHandle,
    display: ProgressDisplay,
) -> None:
    """Score every scenario that has a labelled set, once (a sweep's first level carries it)."""
    done: set[str] = set()
    for point, section in zip(points, sections, strict=True):
        scenario = point.scenario
        spec = scenario.accuracy
        if spec is None or scenario.name in done:
            continue
        done.add(scenario.name)
        display.log(
            f"accuracy {scenario.name}: {len(spec.requests)} labelled examples,"
            f" {spec.concurrency} at a time, at most {spec.timeout_s:g} s"
        )
        result = run_accuracy(
            spec,
            handle.base_url + scenario.path,
            method=scenario.method,
            headers=scenario.headers,
            request_timeout_s=scenario.timeout_s,
        )
        section["accuracy"] = result
        display.log(f"accuracy {scenario.name}: {describe_accuracy(result)}")
