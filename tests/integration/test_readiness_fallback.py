"""Readiness against real local servers: the OpenAI default path, its /health fallback, and
`server.port: auto` (a port picked free at each start, passed to the server as PORT)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest

from benchaction.config.model import AUTO_PORT, ProcessSpec, ReadySpec, ServerSpec
from benchaction.errors import ServingError
from benchaction.serving import open_runtime
from tests.support.httpserver import stdlib_http_server
from tests.support.paths import EXAMPLES

OPENAI_READY = ReadySpec(path="/v1/models", timeout_s=5, interval_s=0.02, fallback_path="/health")


class _Routes(BaseHTTPRequestHandler):
    """Answers the paths in `routes` with their status and everything else with 404, like a
    LitServe OpenAI server (it has /health, not /v1/models); counts the GETs per path. A path
    in `loading` answers 503 that many times first, as a server still loading its model."""

    routes: ClassVar[dict[str, int]] = {}
    hits: ClassVar[dict[str, int]] = {}
    loading: ClassVar[dict[str, int]] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        hits = type(self).hits[self.path] = type(self).hits.get(self.path, 0) + 1
        loading = hits <= type(self).loading.get(self.path, 0)
        self.send_response(503 if loading else type(self).routes.get(self.path, 404))
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def routes() -> Iterator[tuple[str, dict[str, int], dict[str, int]]]:
    """A stdlib server on a free port; the test fills its routes and reads its hits."""
    _Routes.routes, _Routes.hits, _Routes.loading = {}, {}, {}
    with stdlib_http_server(_Routes) as url:
        yield url, _Routes.routes, _Routes.hits


def _start(url: str, ready: ReadySpec, lines: list[str]) -> None:
    with open_runtime(ServerSpec(url=url, ready=ready), run_id="r", log=lines.append) as rt:
        rt.start()


def test_openai_default_falls_back_to_health_and_says_so(
    routes: tuple[str, dict[str, int], dict[str, int]],
) -> None:
    url, table, hits = routes
    table["/health"] = 200
    lines: list[str] = []
    _start(url, OPENAI_READY, lines)
    assert hits == {"/v1/models": 1, "/health": 1}, "one 404 is enough to try /health"
    log = "\n".join(lines)
    assert "no /v1/models route (404)" in log
    assert "probing /health as well" in log
    assert "/health answered 200, so the server is ready" in log
    assert "set server.ready.path: /health" in log


def test_a_server_with_the_default_path_is_not_sent_elsewhere(
    routes: tuple[str, dict[str, int], dict[str, int]],
) -> None:
    url, table, hits = routes
    table["/v1/models"] = 200
    lines: list[str] = []
    _start(url, OPENAI_READY, lines)
    assert hits == {"/v1/models": 1}
    assert not any("/health" in line for line in lines)


def test_a_path_set_in_the_config_gets_no_second_guess(
    routes: tuple[str, dict[str, int], dict[str, int]],
) -> None:
    url, table, hits = routes
    table["/health"] = 200
    chosen = ReadySpec(path="/v1/models", timeout_s=0.3, interval_s=0.05)  # no fallback_path
    with pytest.raises(ServingError) as caught:
        _start(url, chosen, [])
    assert "/health" not in hits
    assert "raise `server.ready.timeout`" in str(caught.value)


def test_neither_path_answers_and_the_error_names_the_key_to_set(
    routes: tuple[str, dict[str, int], dict[str, int]],
) -> None:
    url, table, hits = routes
    table["/ping"] = 200  # the server's real readiness route, which bench-action cannot guess
    ready = ReadySpec(path="/v1/models", timeout_s=0.4, interval_s=0.05, fallback_path="/health")
    with pytest.raises(ServingError) as caught:
        _start(url, ready, [])
    message = str(caught.value)
    assert "server not ready after 0.4s" in message
    assert "/v1/models answered 404 and the last GET" in message
    assert "/health answered 404" in message
    assert "no /v1/models route (404), and /health never answered 200" in message
    assert "set `server.ready.path`" in message
    assert hits["/v1/models"] >= 2 and hits["/health"] >= 2, "both are polled until the timeout"


def test_a_fallback_that_comes_up_late_is_waited_for(
    routes: tuple[str, dict[str, int], dict[str, int]],
) -> None:
    """/health answers 503 while the model loads (as LitServe's does), then 200."""
    url, table, hits = routes
    table["/health"] = 200
    _Routes.loading["/health"] = 3
    lines: list[str] = []
    _start(url, OPENAI_READY, lines)
    assert any(line.endswith("/health answered 503") for line in lines)
    assert hits["/health"] == 4
    assert hits["/v1/models"] == 4, "the default stays polled: it may be the one that comes up"


def test_port_auto_gives_each_process_instance_a_free_port() -> None:
    """The example server on `port: auto` starts even though something holds port 8000's role:
    here a listener on the port an earlier instance got, which the next start must avoid."""
    spec = ServerSpec(
        image="unused",
        port=AUTO_PORT,
        ready=ReadySpec(path="/health", timeout_s=30, interval_s=0.05),
        process=ProcessSpec(("python3", "server.py"), EXAMPLES / "numpy-mlp"),
        runtime="process",
    )
    lines: list[str] = []
    with open_runtime(spec, run_id="auto", log=lines.append) as rt:
        first = rt.start()
        rt.stop()
        assert first.port != AUTO_PORT
        assert first.base_url == f"http://127.0.0.1:{first.port}"
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", first.port))
            squatter.listen()
            second = rt.start()
            assert second.port not in (AUTO_PORT, first.port)
            with socket.create_connection(("127.0.0.1", second.port), timeout=2):
                pass
            rt.stop()
