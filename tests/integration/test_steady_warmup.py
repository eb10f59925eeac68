"""Warmup until steady against a real local server whose latency settles, or never does."""

from __future__ import annotations

import contextlib
import io
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema

from benchaction.config import Arrivals, Steady, load_config
from benchaction.engine import LoadPlan, Window, prepare_requests, warm_until_steady
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.report import render_markdown
from benchaction.results import results_schema
from tests.support.httpserver import Behaviour, CountingServer, serving


def _plan(port: int, **kw: Any) -> LoadPlan:
    requests = prepare_requests("127.0.0.1", port, "GET", "/", (), ())
    return LoadPlan(host="127.0.0.1", port=port, requests=requests, **kw)


def _steps(server: CountingServer, delays_s: list[float]) -> Callable[[int, Window], None]:
    """After window n, the server answers with the n-th delay (the last one from then on)."""

    def after(n: int, _: Window) -> None:
        server.behaviour.delay_s = delays_s[min(n, len(delays_s)) - 1]

    return after


def test_closed_loop_warmup_ends_once_latency_settles() -> None:
    with serving(Behaviour(delay_s=0.04)) as server:
        rule = Steady(window_s=0.25, tolerance=0.2, max_s=3.0, min_s=0.25)
        started = time.perf_counter()
        warm = warm_until_steady(
            _plan(server.port, concurrency=4, duration_s=5.0, warmup_s=5.0),
            rule,
            on_window=_steps(server, [0.02, 0.01]),
        )
        took = time.perf_counter() - started
    assert warm.steady
    # 40 ms, 20 ms, then 10 ms twice: steady after the fourth window (a noisy one costs one more).
    assert 4 <= len(warm.windows) <= 6
    first, last = warm.windows[0], warm.windows[-1]
    assert first.p50_ms is not None and last.p50_ms is not None
    assert first.p50_ms > 35 and 9.5 < last.p50_ms < 13
    assert last.rate > 2.5 * first.rate
    assert warm.seconds <= took < len(warm.windows) * 0.25 + 1.0


def test_open_loop_warmup_window_rate_is_the_completion_rate_at_the_offered_rate() -> None:
    with serving(Behaviour(delay_s=0.04)) as server:
        rule = Steady(window_s=0.25, tolerance=0.15, max_s=2.0, min_s=0.0)
        plan = _plan(server.port, duration_s=5.0, arrivals=Arrivals(200.0, "constant"))
        warm = warm_until_steady(plan, rule, on_window=_steps(server, [0.01]))
    assert warm.steady
    assert 3 <= len(warm.windows) <= 5
    assert all(170 <= w.rate <= 205 for w in warm.windows[1:])


def test_warmup_that_never_settles_stops_at_max() -> None:
    with serving(Behaviour(delay_s=0.005)) as server:
        rule = Steady(window_s=0.2, tolerance=0.05, max_s=1.0, min_s=0.0)
        grow = _steps(server, [0.005 * 1.6**n for n in range(1, 6)])
        warm = warm_until_steady(_plan(server.port, concurrency=2, count=100), rule, on_window=grow)
    assert not warm.steady
    assert len(warm.windows) == 5
    p50s = [w.p50_ms for w in warm.windows]
    assert all(a is not None and b is not None and b > a for a, b in itertools.pairwise(p50s))
    assert warm.seconds < 2.5


# --- the whole pipeline: the record in results.json and the report's line -------------------------


@contextlib.contextmanager
def _latency(server: CountingServer, delay_at: Callable[[float], float]) -> Iterator[None]:
    """Sets the server's delay to delay_at(seconds since its first request), every 5 ms."""
    stop = threading.Event()

    def run() -> None:
        while server.received == 0 and not stop.wait(0.002):
            pass
        start = time.monotonic()
        while not stop.wait(0.005):
            server.behaviour.delay_s = delay_at(time.monotonic() - start)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(2)


def _run(tmp_path: Path, server: CountingServer, steady: str) -> dict[str, Any]:
    path = tmp_path / "bench.yml"
    path.write_text(
        f"""
version: 1
name: steady
server:
  url: http://127.0.0.1:{server.port}
  ready: {{path: /health, timeout: 5s}}
scenarios:
  - name: settles
    concurrency: 4
    workers: 1
    duration: 0.5s
    warmup: {{steady: {steady}}}
trials: 1
"""
    )
    outcome = run_benchmark(
        load_config(path),
        RunOptions(output_dir=tmp_path / "out", run_id="steady"),
        ProgressDisplay(io.StringIO()),
    )
    assert outcome.error is None
    jsonschema.Draft202012Validator(results_schema()).validate(outcome.document)
    return dict(outcome.document)


def test_pipeline_records_a_warmup_that_settled(tmp_path: Path) -> None:
    # 40 ms falling evenly to 10 ms over the first second: windows differ by well over 10 %
    # while it falls, then agree.
    with (
        serving(Behaviour(delay_s=0.04)) as server,
        _latency(server, lambda t: 0.01 + 0.03 * max(0.0, 1.0 - t)),
    ):
        doc = _run(tmp_path, server, "{window: 0.25s, tolerance: 10%, max: 3s, min: 0.25s}")
    (trial,) = doc["scenarios"][0]["trials"]
    warmup = trial["warmup"]
    assert warmup["mode"] == "steady" and warmup["steady"] is True, warmup
    assert 3 <= len(warmup["windows"]) <= 12
    assert 0 < warmup["seconds"] < 4.0
    assert warmup["windows"][0]["p50_ms"] > 2 * warmup["windows"][-1]["p50_ms"]
    assert trial["latency_ms"]["p50"] < 13  # measured after the server settled
    assert doc["config"]["settings"]["scenarios"][0]["warmup"]["steady"]["window_s"] == 0.25
    windows = len(warmup["windows"])
    assert f"Warmup: steady after {warmup['seconds']:.1f} s ({windows} windows)." in (
        render_markdown(doc)  # type: ignore[arg-type]
    )


def test_pipeline_records_a_warmup_that_never_settled(tmp_path: Path) -> None:
    # Latency grows 50 % every 0.2 s: never two windows alike, so warmup runs to max.
    with (
        serving(Behaviour(delay_s=0.005)) as server,
        _latency(server, lambda t: 0.005 * 1.5 ** (t / 0.2)),
    ):
        doc = _run(tmp_path, server, "{window: 0.2s, tolerance: 10%, max: 1s, min: 0s}")
    warmup = doc["scenarios"][0]["trials"][0]["warmup"]
    assert (warmup["mode"], warmup["steady"], len(warmup["windows"])) == ("steady", False, 5)
    assert "Warmup: not steady, stopped at the maximum after" in render_markdown(doc)  # type: ignore[arg-type]
