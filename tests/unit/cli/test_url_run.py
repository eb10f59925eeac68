"""`benchaction run --url`: a server already running, benchmarked without a config file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchaction.cli import main
from benchaction.results import load_results
from tests.support.httpserver import serving

FAST = ["--trials", "1", "--duration", "0.5s", "--warmup", "0s", "--concurrency", "2", "-q"]


def test_get_of_the_urls_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serving() as server:
        url = f"http://127.0.0.1:{server.port}/v1/ping?x=1"
        assert main(["run", "--url", url, *FAST, "-o", str(tmp_path / "o")]) == 0
    doc = load_results(tmp_path / "o" / "results.json")
    assert doc["status"] == "complete" and doc["config"]["name"] == "url"
    assert doc["server"]["url"] == f"http://127.0.0.1:{server.port}"
    (scenario,) = doc["scenarios"]
    assert scenario["name"] == "url" and len(scenario["trials"]) == 1
    assert server.methods.keys() == {"GET"}
    assert server.paths["/v1/ping?x=1"] >= 10  # the readiness probe plus the load, all on it
    assert set(server.paths) == {"/v1/ping?x=1"}
    assert (tmp_path / "o" / "report.md").is_file()


def test_post_with_a_body_from_a_file(tmp_path: Path) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps({"inputs": [[1.0, 2.0]]}))
    with serving() as server:
        url = f"http://127.0.0.1:{server.port}/predict"
        argv = ["run", "--url", url, "-d", f"@{body}", "--ready-path", "/predict", *FAST]
        assert main([*argv, "--name", "mlp", "-o", str(tmp_path / "o")]) == 0
    doc = load_results(tmp_path / "o" / "results.json")
    assert doc["config"]["name"] == "mlp"
    assert server.methods["POST"] >= 5
    assert set(server.bodies) == {body.read_bytes()}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "https://127.0.0.1:1/"], "https is not supported yet"),
        (["--url", "127.0.0.1:8000/predict"], "expected http://host:port/path"),
        (["--url", "http://127.0.0.1:1/", "--duration", "soon"], "--duration: expected"),
        (["--url", "http://127.0.0.1:1/", "--concurrency", "0"], "at least 1 user"),
        (["--url", "http://127.0.0.1:1/", "-X", "GET", "-d", "{}"], "GET requests carry no body"),
        (["--url", "http://127.0.0.1:1/", "-H", "nocolon"], "expected 'NAME: VALUE'"),
        (["--url", "http://127.0.0.1:1/", "-c", "bench.yml"], "drop -c"),
        (["--duration", "5s", "--warmup", "1s"], "--duration, --warmup: only with --url"),
    ],
)
def test_bad_flags_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *argv, "-o", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_server_that_never_answers_ready_fails_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving() as server:
        port = server.port
    url = f"http://127.0.0.1:{port}/"
    assert main(["run", "--url", url, *FAST, "--ready-timeout", "0.5s", "-o", str(tmp_path)]) == 1
    assert "not ready after 0.5s" in capsys.readouterr().err
