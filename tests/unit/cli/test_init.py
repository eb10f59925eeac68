"""`benchaction init`: a valid starter bench.yml from what the Dockerfile and the sources show."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchaction.cli import main
from benchaction.commands.init import look_at
from benchaction.config import load_config

MULTI_STAGE = """\
ARG APP_PORT=9000
FROM python:3.11 AS build
EXPOSE 1234
FROM python:3.11-slim
ARG APP_PORT
ENV METRICS=9100
EXPOSE ${APP_PORT}/tcp \\
       $METRICS 53/udp
HEALTHCHECK --interval=5s CMD curl -fsS http://localhost:9000/v2/health/ready || exit 1
CMD ["python", "serve.py"]
"""


def _folder(tmp_path: Path, dockerfile: str, **sources: str) -> Path:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for name, text in sources.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_port_and_health_come_from_the_final_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, MULTI_STAGE, **{"serve.py": 'route("/predict")\n'})
    assert main(["init", "--dir", str(folder)]) == 0
    config = load_config(folder / "bench.yml")
    assert config.server.port == 9000  # ARG default put in; the build stage's 1234 is not served
    assert config.server.ready.path == "/v2/health/ready"
    assert config.server.build is not None and config.server.build.context == folder.resolve()
    (scenario,) = config.scenarios
    assert (scenario.method, scenario.path) == ("GET", "/v2/health/ready")
    out = capsys.readouterr().out
    assert "EXPOSE 9000 in Dockerfile" in out and "HEALTHCHECK" in out
    assert "an example for /predict is commented out" in out
    assert "#   path: /predict" in (folder / "bench.yml").read_text()
    assert main(["validate", "-c", str(folder / "bench.yml")]) == 0
    assert main(["validate", "-c", str(folder / "bench.yml"), "--profile", "pr"]) == 0


def test_without_expose_or_healthcheck_it_guesses_and_says_so(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        "FROM python:3.11\nCMD python app.py\n",
        **{"app.py": "@app.get('/healthz')\ndef ok(): ...\n"},
    )
    seen = look_at(folder, "Dockerfile")
    assert (seen.port, seen.health, seen.request) == (8000, "/healthz", None)
    assert "no EXPOSE" in seen.port_from and "named in app.py" in seen.health_from
    (tmp_path / "bare").mkdir()
    seen = look_at(_folder(tmp_path / "bare", "FROM scratch\nEXPOSE $NOPE\n"), "Dockerfile")
    assert (seen.port, seen.health) == (8000, "/health")
    assert "not a number" in seen.port_from and "no health route was seen" in seen.health_from


def test_an_existing_bench_yml_is_kept_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, "FROM python:3.11\nEXPOSE 8080\n")
    (folder / "bench.yml").write_text("# mine\n")
    assert main(["init", "--dir", str(folder)]) == 2
    assert "exists; keeping it (pass --force" in capsys.readouterr().err
    assert (folder / "bench.yml").read_text() == "# mine\n"
    assert main(["init", "--dir", str(folder), "--force"]) == 0
    assert load_config(folder / "bench.yml").server.port == 8080


def test_no_dockerfile_points_to_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    assert "no Dockerfile here" in err and "benchaction run --url" in err
    assert not (tmp_path / "bench.yml").exists()


def test_another_dockerfile_name(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.gpu").write_text("FROM x\nEXPOSE 7000\n")
    assert main(["init", "--dir", str(tmp_path), "--dockerfile", "Dockerfile.gpu"]) == 0
    config = load_config(tmp_path / "bench.yml")
    assert config.server.port == 7000
    assert config.server.build is not None and config.server.build.dockerfile == "Dockerfile.gpu"
