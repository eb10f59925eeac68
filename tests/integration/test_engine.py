"""The load engine against real HTTP servers on 127.0.0.1: counts, reconnects, timeouts, errors."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from benchaction.engine import (
    ErrorClass,
    LoadPlan,
    Phase,
    prepare_requests,
    run_load,
    trial_metrics,
)
from tests.support.httpserver import Behaviour, serving


def _plan(port: int, **kw: object) -> LoadPlan:
    method = str(kw.pop("method", "GET"))
    payloads = kw.pop("payloads", ())
    reqs = prepare_requests("127.0.0.1", port, method, "/x", (), payloads)  # type: ignore[arg-type]
    args: dict[str, object] = {"concurrency": 2, "timeout_s": 5.0}
    args.update(kw)
    return LoadPlan(host="127.0.0.1", port=port, requests=reqs, head=method == "HEAD", **args)  # type: ignore[arg-type]


def _errors(result_records: object) -> dict[str, int]:
    err = result_records.column("error")  # type: ignore[attr-defined]
    return {
        ErrorClass(int(c)).label: int(n)
        for c, n in zip(*np.unique(err, return_counts=True), strict=True)
    }


def test_count_mode_matches_server_count_and_excludes_warmup() -> None:
    with serving() as server:
        result = run_load(_plan(server.port, count=500, warmup_requests=50, concurrency=3))
    rec = result.records
    assert len(rec) == 550 == server.answered
    assert server.connections == 3  # one keep-alive connection per virtual user, reused
    assert int((rec.column("phase") == Phase.MEASURED).sum()) == 500
    assert int((rec.column("phase") == Phase.WARMUP).sum()) == 50
    m = trial_metrics(result)
    assert m["counts"] == {
        "scheduled": 500,
        "succeeded": 500,
        "failed": 0,
        "warmup": 50,
        "cut_off": 0,
    }
    assert m["valid"] and m["status_codes"] == {"200": 500}
    # Measured requests were all scheduled after the window opened.
    assert result.window_start_ns is not None
    measured_sched = rec.column("t_sched")[rec.column("phase") == Phase.MEASURED]
    assert measured_sched.min() >= result.window_start_ns


def test_duration_mode_window_and_throughput() -> None:
    with serving(Behaviour(delay_s=0.002)) as server:
        result = run_load(_plan(server.port, duration_s=1.0, warmup_s=0.3, concurrency=4))
    assert len(result.records) == server.answered
    assert result.window_start_ns == 300_000_000
    assert result.window_end_ns == 1_300_000_000
    m = trial_metrics(result)
    assert m["window"]["duration_s"] == pytest.approx(1.0)
    # 4 users at >= 2 ms each: at most 2000/s; loopback and asyncio overhead make it less.
    assert 200 < m["throughput_rps"] <= 2000
    assert m["latency_ms"]["p50"] >= 2.0
    sched = result.records.column("t_sched")[result.records.column("phase") == Phase.MEASURED]
    assert sched.max() < result.window_end_ns


def test_post_payloads_cycle_in_order() -> None:
    bodies = (b'{"a":1}', b'{"a":22}', b'{"a":333}')
    with serving() as server:
        result = run_load(
            _plan(server.port, method="POST", payloads=bodies, count=9, concurrency=1)
        )
    assert server.methods == {"POST": 9}
    assert len(result.records) == 9


def test_server_closing_keep_alive_reconnects_without_errors() -> None:
    # nginx closes a keep-alive connection after 1000 requests by default, with `Connection: close`.
    with serving(Behaviour(close_after=7)) as server:
        result = run_load(_plan(server.port, count=300, concurrency=2))
    assert _errors(result.records) == {"ok": 300}
    assert server.answered == 300
    # A new connection after every 7th answer on each connection, and no more than that.
    assert 300 // 7 <= server.connections <= 300 // 7 + 2


def test_server_closing_silently_is_retried_once() -> None:
    with serving(Behaviour(silent_close_after=5)) as server:
        result = run_load(_plan(server.port, count=200, concurrency=2))
    assert _errors(result.records) == {"ok": 200}
    assert server.answered == 200


def test_http_500_counted_as_errors_not_crashes() -> None:
    with serving(Behaviour(status_every=(4, 500))) as server:
        result = run_load(_plan(server.port, count=400, concurrency=2))
    m = trial_metrics(result)
    assert m["errors"] == {"http_5xx": 100}
    assert m["status_codes"] == {"200": 300, "500": 100}
    assert m["error_rate"] == pytest.approx(0.25)
    assert m["counts"]["succeeded"] == 300


def test_http_404_counted_as_client_errors() -> None:
    with serving(Behaviour(status_every=(1, 404))) as server:
        result = run_load(_plan(server.port, count=50, concurrency=1))
    m = trial_metrics(result)
    assert m["errors"] == {"http_4xx": 50}
    assert not m["valid"]
    assert "no request succeeded" in m["invalid_reasons"][0]


def test_stalled_requests_time_out_and_run_continues() -> None:
    with serving(Behaviour(stall_every=10)) as server:
        result = run_load(_plan(server.port, count=60, concurrency=2, timeout_s=0.3))
    counts = _errors(result.records)
    assert counts["timeout"] == 6
    assert counts["ok"] == 54
    timed_out = result.records.column("error") == ErrorClass.TIMEOUT
    took = (result.records.column("t_end") - result.records.column("t_send"))[timed_out] / 1e9
    assert took.min() >= 0.3
    assert took.max() < 0.3 + 0.5


def test_refused_connections_counted_and_bounded() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        result = run_load(_plan(port, duration_s=0.5, concurrency=2))
    counts = _errors(result.records)
    assert set(counts) == {"refused"}
    # The backoff keeps a dead server from turning into a hot loop.
    assert counts["refused"] < 2 * (0.5 / 0.05 + 2)
    m = trial_metrics(result)
    assert not m["valid"]


def test_head_requests_have_no_body() -> None:
    with serving() as server:
        result = run_load(_plan(server.port, method="HEAD", count=100, concurrency=2))
    assert _errors(result.records) == {"ok": 100}
    assert server.methods == {"HEAD": 100}


def test_hard_limit_bounds_a_run_against_a_server_that_never_answers() -> None:
    with serving(Behaviour(stall_every=1)) as server:
        plan = _plan(server.port, count=10, concurrency=2, timeout_s=60.0, max_run_s=0.5)
        result = run_load(plan)
    assert result.cut_off == 2
    m = trial_metrics(result)
    assert any("hard time limit" in r for r in m["invalid_reasons"])


def test_progress_callback_is_called() -> None:
    seen = []
    with serving(Behaviour(delay_s=0.001)) as server:
        run_load(_plan(server.port, duration_s=0.6), seen.append, progress_every_s=0.1)
    assert len(seen) >= 3
    assert seen[-1].completed > 0


class _Stopped(Exception):
    pass


def test_sigterm_during_a_run_reaches_the_callers_handler() -> None:
    """uvloop swallows exceptions from Python signal handlers; the engine must hand them on."""
    import os
    import signal
    import threading
    import time

    def handler(signum: int, frame: object) -> None:
        raise _Stopped(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with serving(Behaviour(delay_s=0.001)) as server:
            timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
            timer.start()
            started = time.monotonic()
            with pytest.raises(_Stopped, match="SIGTERM"):
                run_load(_plan(server.port, duration_s=20.0))
            assert time.monotonic() - started < 5
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
