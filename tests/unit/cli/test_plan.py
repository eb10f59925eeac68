"""`validate`'s plan: each scenario's load, the trials, and the wall-time estimate's arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchaction.cli import main
from benchaction.commands.plan import (
    START_ESTIMATE_S,
    describe_plan,
    estimate_wall_time,
    format_seconds,
)
from benchaction.config import load_config

CONFIG = """\
version: 1
name: plan
server: {image: "model:1", ready: {timeout: 30s}}
scenarios:
  - {name: closed, path: /predict, method: POST, payloads: ["{}"], concurrency: 8, duration: 20s, warmup: 5s}
  - {name: open, path: /predict, method: POST, payloads: ["{}"], rate: 50, duration: 10s, warmup: 2s}
  - name: sweep
    path: /
    duration: 10s
    warmup: {duration: 1s, steady: {max: 4s}}
    sweep: {concurrency: [1, 2, 4]}
  - {name: counted, path: /health, requests: 500, warmup: {requests: 50}}
trials: 4
"""


def _config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "bench.yml"
    path.write_text(text)
    return path


def test_wall_time_is_trials_by_scenarios_by_warmup_plus_duration(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    wall = estimate_wall_time(config)
    per_trial = (5 + 20) + (2 + 10) + 3 * (4 + 10) + 0  # steady counts its max; counted: no time
    assert wall.load_s == 4 * per_trial
    assert wall.starts == 4 and wall.start_s == 4 * START_ESTIMATE_S
    assert wall.start_max_s == 4 * 30
    assert wall.total_s == 4 * per_trial + 4 * START_ESTIMATE_S
    assert wall.unbounded == ("counted",)


def test_reuse_starts_once_and_a_url_never(tmp_path: Path) -> None:
    reuse = load_config(_config(tmp_path, CONFIG + "reuse: true\n"))
    assert estimate_wall_time(reuse).starts == 1
    url = CONFIG.replace('image: "model:1"', "url: http://127.0.0.1:9")
    wall = estimate_wall_time(load_config(_config(tmp_path, url)))
    assert (wall.starts, wall.start_s) == (0, 0)


def test_the_plan_names_each_load_and_how_the_time_is_estimated(tmp_path: Path) -> None:
    path = _config(tmp_path)
    text = describe_plan(load_config(path), str(path))
    assert "closed: POST /predict, closed loop 8 user(s), 20s, warmup 5s" in text
    assert "open: POST /predict, open loop 50 requests/s (poisson), 10s, warmup 2s" in text
    assert "sweep: GET /, sweep concurrency 1, 2, 4 users, 10s" in text
    assert "warmup 1s + until steady (at most 4s)" in text
    assert "counted: GET /health, closed loop 1 user(s), 500 requests, warmup 50 requests" in text
    assert "trials: 4, each on a fresh server" in text
    total = format_seconds(estimate_wall_time(load_config(path)).total_s)
    assert f"estimated wall time: about {total}" in text
    assert "4 trial(s) x 4 scenario(s) x (warmup + duration)" in text
    assert f"4 server start(s) x {START_ESTIMATE_S:g}s assumed" in text
    assert "not counted: counted end(s) after a request count" in text


def test_validate_prints_the_plan_with_the_profile_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(
        tmp_path, CONFIG + 'profiles: {pr: {trials: 2, scenarios: {"*": {duration: 1s}}}}\n'
    )
    assert main(["validate", "-c", str(path), "--profile", "pr"]) == 0
    out = capsys.readouterr().out
    assert "closed loop 8 user(s), 1s, warmup 5s" in out and "trials: 2" in out


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (0.2, "1s"), (59, "59s"), (60, "1m00s"), (3725, "1h02m")]
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text
