"""`server.metrics`: the short path form, the mapping form, and what each wrong value says."""

from __future__ import annotations

import pytest

from benchaction.config import MetricsSpec, load_config
from tests.support.config_files import Write, only_problem

BASE = """\
version: 1
server:
  image: example/model:1
  metrics: {metrics}
scenarios:
  - name: predict
    requests: 10
"""


def metrics_config(write: Write, value: str) -> str:
    return write(BASE.format(metrics=value))


def test_unset_scrapes_nothing_and_keeps_the_config_hash(write: Write) -> None:
    plain = load_config(write(BASE.replace("  metrics: {metrics}\n", "")))
    assert plain.server.metrics is None
    assert "metrics" not in plain.to_dict()["server"]
    scraped = load_config(metrics_config(write, "/metrics"))
    # Watching the server does not change what is measured: base runs without it still compare.
    assert scraped.hash() == plain.hash()
    assert scraped.to_dict()["server"]["metrics"]["path"] == "/metrics"


def test_the_short_form_is_the_path_on_the_server_port(write: Write) -> None:
    config = load_config(metrics_config(write, "/prometheus"))
    assert config.server.metrics == MetricsSpec(path="/prometheus")
    assert config.server.metrics.port is None and config.server.metrics.interval_s == 1.0


def test_the_mapping_form_sets_port_families_interval_and_timeout(write: Write) -> None:
    value = "{path: /metrics, port: 8082, families: [model_infer_request_success, 'vllm:num_preemptions_total'], interval: 500ms, timeout: 1s}"
    config = load_config(metrics_config(write, value))
    assert config.server.metrics == MetricsSpec(
        path="/metrics",
        port=8082,
        families=("model_infer_request_success", "vllm:num_preemptions_total"),
        interval_s=0.5,
        timeout_s=1.0,
    )
    assert load_config(metrics_config(write, "{port: 8002}")).server.metrics == MetricsSpec(
        port=8002
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("metrics", "server.metrics: expected a path starting with '/' (no spaces), got 'metrics'"),
        (
            "42",
            "server.metrics: expected a path like /metrics or a mapping (keys: families,"
            " interval, path, port, timeout), got 42",
        ),
        (
            "{path: /metrics, prot: 8082}",
            "server.metrics.prot: unknown key; did you mean 'port'? (allowed: families,"
            " interval, path, port, timeout)",
        ),
        ("{port: 70000}", "server.metrics.port: expected an integer from 1 to 65535, got 70000"),
        (
            "{families: []}",
            "server.metrics.families: expected a non-empty list of Prometheus metric names"
            " like vllm:num_preemptions, got a list",
        ),
        (
            "{families: [ok_name, 'bad-name']}",
            "server.metrics.families: expected a Prometheus metric name (letters, digits, '_'"
            " and ':'), got 'bad-name' in the list",
        ),
        (
            "{families: [a, b, a]}",
            "server.metrics.families: each family may be listed once; listed twice: a",
        ),
        ("{interval: 10ms}", "server.metrics.interval: expected a duration >= 100ms, got '10ms'"),
        ("{timeout: 1m}", "server.metrics.timeout: expected a duration <= 10s, got '1m'"),
        ("{timeout: soon}", "server.metrics.timeout: expected a duration: a number of seconds"),
    ],
)
def test_wrong_values_are_named_with_their_line_and_fix(
    write: Write, value: str, message: str
) -> None:
    problem = only_problem(metrics_config(write, value))
    assert problem.startswith("bench.yml:4: " + message), problem
