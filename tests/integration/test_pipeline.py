"""The whole pipeline against a running endpoint (`server.url`): results document, schema, report."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import jsonschema
import pytest

from benchaction.cli import main
from benchaction.config import load_config
from benchaction.errors import ResultsError
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.report import render_markdown
from benchaction.results import load_results, results_schema, validate_results, write_results
from tests.support.httpserver import Behaviour, serving


def _write_config(folder: Path, port: int, name: str = "svc|<b>") -> Path:
    path = folder / "bench.yml"
    path.write_text(
        f"""
version: 1
name: url-target
server:
  url: http://127.0.0.1:{port}
  ready: {{path: /health, timeout: 5s}}
scenarios:
  - name: ping
    path: /ping
    concurrency: 2
    requests: 300
    warmup: {{requests: 20}}
  - name: post
    path: /p
    method: POST
    payloads: ['{{"k": 1}}', 'raw text']
    concurrency: 1
    duration: 0.4s
trials: 2
"""
    )
    return path


@pytest.fixture
def run_doc(tmp_path: Path) -> dict:
    with serving(Behaviour(status_every=(50, 503))) as server:
        config = load_config(_write_config(tmp_path, server.port))
        outcome = run_benchmark(
            config,
            RunOptions(output_dir=tmp_path / "out", run_id="t1"),
            ProgressDisplay(io.StringIO()),
        )
    assert outcome.error is None
    assert outcome.results_path.is_file()
    return outcome.document


def test_document_validates_and_round_trips(run_doc: dict, tmp_path: Path) -> None:
    jsonschema.Draft202012Validator(results_schema()).validate(run_doc)
    assert run_doc["status"] == "complete"
    assert run_doc["server"]["runtime"] == "url"
    assert [s["name"] for s in run_doc["scenarios"]] == ["ping", "post"]
    ping = run_doc["scenarios"][0]
    assert [t["trial"] for t in ping["trials"]] == [0, 1]
    assert all(t["counts"]["scheduled"] == 300 for t in ping["trials"])
    assert ping["trials"][0]["errors"].get("http_5xx", 0) > 0
    assert run_doc["host"]["cores"] >= 1
    assert run_doc["config"]["hash"].startswith("sha256:")
    path = write_results(run_doc, tmp_path / "again.json")
    assert load_results(path) == run_doc


def test_loader_rejects_other_versions_and_bad_files(run_doc: dict, tmp_path: Path) -> None:
    other = copy.deepcopy(run_doc)
    other["schema_version"] = 2
    (tmp_path / "v2.json").write_text(json.dumps(other))
    with pytest.raises(
        ResultsError, match=r"written by bench-action \S+ \(results schema 2\).* reads up to 1;"
    ):
        load_results(tmp_path / "v2.json")
    (tmp_path / "broken.json").write_text('{"schema_version": 1,')
    with pytest.raises(ResultsError, match=r"broken.json: not valid JSON \(line 1"):
        load_results(tmp_path / "broken.json")
    with pytest.raises(ResultsError, match="no such results file"):
        load_results(tmp_path / "missing.json")
    bad = copy.deepcopy(run_doc)
    bad["scenarios"][0]["trials"][0]["throughput_rps"] = "fast"
    with pytest.raises(ResultsError, match="scenarios/0/trials/0/throughput_rps"):
        validate_results(bad)


def test_report_shows_each_scenario_and_escapes_user_text(run_doc: dict) -> None:
    doc = copy.deepcopy(run_doc)
    doc["config"]["name"] = "svc|<img src=x>"
    doc["scenarios"][1]["trials"][1]["valid"] = False
    doc["scenarios"][1]["trials"][1]["invalid_reasons"] = ["row | break\n# heading"]
    text = render_markdown(doc)
    assert "### ping" in text and "### post" in text
    assert "| throughput (req/s) |" in text
    assert "svc\\|&lt;img src=x&gt;" in text
    assert "row \\| break \\# heading" in text
    assert "1 of 2 trial(s) valid" in text
    assert "<img" not in text


def test_cli_run_writes_results_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving() as server:
        cfg = _write_config(tmp_path, server.port)
        code = main(["run", "-c", str(cfg), "--trials", "1", "-o", str(tmp_path / "o")])
    assert code == 0
    out = capsys.readouterr().out
    assert "## bench-action: url-target" in out
    assert (tmp_path / "o" / "report.md").read_text() == out
    assert load_results(tmp_path / "o" / "results.json")["status"] == "complete"


def test_cli_config_error_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bench.yml").write_text(
        "version: 1\nserver: {url: http://127.0.0.1:1}\nscenarioz: []\n"
    )
    assert main(["run", "-c", str(tmp_path / "bench.yml")]) == 2
    err = capsys.readouterr().err
    assert "scenarioz" in err and "did you mean 'scenarios'" in err


def test_unreachable_url_keeps_partial_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving() as server:
        port = server.port
    cfg = _write_config(tmp_path, port)
    text = cfg.read_text().replace("timeout: 5s", "timeout: 1s")
    cfg.write_text(text)
    assert main(["run", "-c", str(cfg), "-o", str(tmp_path / "o"), "-q"]) == 1
    doc = load_results(tmp_path / "o" / "results.json")
    assert doc["status"] == "partial"
    assert "127.0.0.1" in doc["error"]
    assert "did not finish" in (tmp_path / "o" / "report.md").read_text()
