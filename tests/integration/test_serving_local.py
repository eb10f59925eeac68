"""Serving without Docker: the process and URL runtimes, runtime choice, and owner labels."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests

from benchaction.config.model import ProcessSpec, ReadySpec, ServerSpec
from benchaction.errors import ServingError
from benchaction.serving import open_runtime
from benchaction.serving.labels import (
    MANAGED,
    OWNER,
    OWNER_CONTAINER,
    OWNER_PIDNS,
    HostView,
    object_labels,
    parse_owner,
    stale_reason,
)
from tests.support.httpserver import stdlib_http_server
from tests.support.paths import EXAMPLES

EXAMPLE = EXAMPLES / "numpy-mlp"
FAST_READY = ReadySpec(path="/health", timeout_s=30, interval_s=0.05)


def test_process_runtime_runs_and_stops_the_example(free_port: int) -> None:
    lines: list[str] = []
    spec = ServerSpec(
        build=None,
        image="unused",
        port=free_port,
        ready=FAST_READY,
        runtime="process",
        process=ProcessSpec(command=(sys.executable, "server.py"), cwd=EXAMPLE),
    )
    with open_runtime(spec, run_id="local", log=lines.append) as rt:
        assert rt.name == "process"
        assert rt.prepare() is None
        handle = rt.start()
        assert handle.runtime == "process"
        assert handle.pid is not None
        assert handle.cold_start_s is not None
        assert handle.cold_start_s > 0
        assert requests.get(f"{handle.base_url}/health", timeout=5).status_code == 200
        rt.stop()
        with pytest.raises(ProcessLookupError):
            os.kill(handle.pid, 0)
        rt.stop()  # idempotent
    assert any("runtime: process" in line for line in lines)


def test_process_that_exits_reports_code_and_output(free_port: int, tmp_path: Path) -> None:
    command = (sys.executable, "-c", "print('config file missing'); raise SystemExit(4)")
    spec = ServerSpec(
        image="unused",
        port=free_port,
        ready=FAST_READY,
        runtime="process",
        process=ProcessSpec(command=command, cwd=tmp_path),
    )
    with open_runtime(spec, run_id="local", log=lambda _: None) as rt:
        with pytest.raises(ServingError) as caught:
            rt.start()
        rt.close()
        rt.close()
    message = str(caught.value)
    assert "exited with code 4" in message
    assert "config file missing" in message


def test_process_runtime_missing_command_is_explained() -> None:
    spec = ServerSpec(image="m", runtime="process")
    with pytest.raises(ServingError, match=r"server\.process\.command"):
        open_runtime(spec, run_id="local", log=lambda _: None)


def test_auto_without_engine_falls_back_or_explains(tmp_path: Path) -> None:
    # The caller's environment (the CLI's or the action's) locates the engine.
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    lines: list[str] = []
    process = ProcessSpec(command=(sys.executable, "server.py"), cwd=EXAMPLE)
    rt = open_runtime(
        ServerSpec(image="m", process=process), run_id="r", log=lines.append, environment=env
    )
    assert rt.name == "process"
    assert "no-engine.sock" in lines[-1]
    with pytest.raises(ServingError) as caught:
        open_runtime(ServerSpec(image="m"), run_id="r", log=lambda _: None, environment=env)
    assert "no-engine.sock" in str(caught.value)
    assert "server.process.command" in str(caught.value)
    with pytest.raises(ServingError, match=r"server\.runtime is `docker`.*no-engine\.sock"):
        open_runtime(
            ServerSpec(image="m", runtime="docker"), run_id="r", log=lambda _: None, environment=env
        )


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first two readiness polls, then 200."""

    polls = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).polls += 1
        self.send_response(200 if type(self).polls > 2 else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def flaky_server() -> Iterator[str]:
    """A stdlib HTTP server on 127.0.0.1 that becomes ready on the third poll."""
    _Flaky.polls = 0
    with stdlib_http_server(_Flaky) as url:
        yield url


def test_url_runtime_waits_for_readiness(flaky_server: str) -> None:
    spec = ServerSpec(url=flaky_server, ready=ReadySpec(path="/ready", interval_s=0.02))
    with open_runtime(spec, run_id="u", log=lambda _: None) as rt:
        assert rt.name == "url"
        assert rt.prepare() is None
        handle = rt.start()
    assert handle.cold_start_s is None
    assert handle.base_url == flaky_server.rstrip("/")
    assert handle.container_id is None
    assert handle.pid is None
    assert _Flaky.polls == 3


def test_url_runtime_timeout_names_url_and_error(free_port: int) -> None:
    spec = ServerSpec(
        url=f"http://127.0.0.1:{free_port}",
        ready=ReadySpec(path="/health", timeout_s=0.3, interval_s=0.05),
    )
    with open_runtime(spec, run_id="u", log=lambda _: None) as rt, pytest.raises(ServingError) as e:
        rt.start()
    assert f"http://127.0.0.1:{free_port}/health" in str(e.value)
    assert "connection refused" in str(e.value)


def test_owner_label_round_trips_and_names_this_process() -> None:
    labels = object_labels("run-1", {"team": "ml"})
    assert labels[MANAGED] == "true"
    assert labels["team"] == "ml"
    owner = parse_owner(labels[OWNER])
    assert owner is not None
    assert owner.pid == os.getpid()
    assert owner.label == labels[OWNER]
    assert parse_owner("pid:x:1@abc") is None
    assert parse_owner(None) is None


def test_stale_reason_rules() -> None:
    host = HostView()
    live = object_labels("r")
    assert stale_reason(live, host, lambda _: True) is None
    boot = host.boot_id()
    dead = {**live, OWNER: f"pid:{os.getpid()}:1@{boot}"}
    assert "exited" in (stale_reason(dead, host, lambda _: True) or "")
    other_ns = {**dead, OWNER_PIDNS: "pid:[1]"}
    assert stale_reason(other_ns, host, lambda _: True) is None, "unknowable: leave it alone"
    in_container = {**other_ns, OWNER_CONTAINER: "abc123"}
    assert stale_reason(in_container, host, lambda _: True) is None
    assert "no longer running" in (stale_reason(in_container, host, lambda _: False) or "")
    rebooted = {**live, OWNER: f"pid:1:1@{'0' * 8}-0000-0000-0000-{'0' * 12}"}
    assert "reboot" in (stale_reason(rebooted, host, lambda _: True) or "")
    assert stale_reason({MANAGED: "true"}, host, lambda _: False) is None, "no owner: keep"
    assert stale_reason({OWNER: dead[OWNER]}, host, lambda _: False) is None, "not managed"
