"""A failed run's texts: the same sticky comment as the config's verdicts, and outputs that agree."""

from __future__ import annotations

from benchaction.flow.verdict import Baseline, failure, judge
from benchaction.stats import StatsSettings
from tests.support.documents import two_scenario_doc


def test_a_failure_and_a_verdict_of_one_config_share_the_marker() -> None:
    head = two_scenario_doc("predict", 1.0, 1.0, "b" * 40)
    verdict = judge(head, Baseline.none("no artifact"), StatsSettings())
    failed = failure("the benchmark config is invalid", "", None, str(head["config"]["name"]))
    assert failed.marker == verdict.texts.marker == "<!-- bench-action:numpy-mlp -->"
    assert failed.comment.startswith(failed.marker + "\n")


def test_failure_outputs_say_error_and_failed() -> None:
    texts = failure("the benchmark failed", "server exited", None, "numpy-mlp")
    assert dict(texts.outputs) == {"verdict": "error", "failed": "true"}
    assert texts.conclusion == "failure"


def test_config_problems_are_listed_not_fenced() -> None:
    problems = ["bench.yml:4: trials: expected an integer, got 'many'"]
    texts = failure("the benchmark config is invalid", "x", None, "m", problems=problems)
    for text in (texts.comment, texts.summary):
        assert "- bench.yml:4: trials: expected an integer, got 'many'" in text
        assert "```" not in text
