"""Open-loop arrivals and sharding over worker processes, against real HTTP servers on loopback."""

from __future__ import annotations

import numpy as np
import pytest

from benchaction.config.model import Arrivals
from benchaction.engine import ErrorClass, LoadPlan, Phase, prepare_requests, run_load
from tests.support.httpserver import Behaviour, serving


def _plan(port: int, **kw: object) -> LoadPlan:
    payloads = kw.pop("payloads", ())
    method = "POST" if payloads else "GET"
    reqs = prepare_requests("127.0.0.1", port, method, "/x", (), payloads)  # type: ignore[arg-type]
    args: dict[str, object] = {"timeout_s": 5.0}
    args.update(kw)
    return LoadPlan(host="127.0.0.1", port=port, requests=reqs, **args)  # type: ignore[arg-type]


def _measured(result: object) -> np.ndarray:
    rec = result.records  # type: ignore[attr-defined]
    return rec.column("phase") == Phase.MEASURED


def test_open_loop_count_mode_sends_exactly_the_schedule() -> None:
    with serving() as server:
        result = run_load(
            _plan(server.port, count=300, warmup_requests=20, arrivals=Arrivals(rate=600.0))
        )
    rec = result.records
    assert len(rec) == 320 == server.answered
    assert int(_measured(result).sum()) == 300
    assert result.open_loop and result.offered_rate == 600.0
    # Every measured request was due inside W, and W opened at the 21st arrival.
    sched = rec.column("t_sched")
    assert sched[_measured(result)].min() == result.window_start_ns
    assert np.all(rec.column("error") == ErrorClass.OK)
    lag = rec.column("t_send") - sched
    assert lag.min() >= 0


def test_open_loop_duration_mode_keeps_the_offered_rate() -> None:
    rate = 400.0
    with serving() as server:
        result = run_load(
            _plan(server.port, duration_s=1.5, warmup_s=0.25, arrivals=Arrivals(rate=rate))
        )
    assert result.window_start_ns == 250_000_000
    assert result.window_end_ns == 1_750_000_000
    rec = result.records
    measured = _measured(result)
    sched = rec.column("t_sched")[measured]
    assert sched.min() >= result.window_start_ns and sched.max() < result.window_end_ns
    # 600 arrivals expected; Poisson sd is about 25, so 5 sd either side.
    assert 475 < int(measured.sum()) < 725
    sends = rec.column("t_send")[measured]
    # The client kept up: every due request was sent, none queued behind the schedule.
    assert np.all(sends >= sched)
    assert len(rec) == server.answered


def test_the_same_seed_gives_the_same_schedule_whatever_the_worker_count() -> None:
    bodies = (b'{"p":0}', b'{"p":1}', b'{"p":2}')
    plans = {
        workers: {
            "count": 240,
            "warmup_requests": 10,
            "arrivals": Arrivals(rate=800.0),
            "seed": 11,
            "payloads": bodies,
            "payload_order": "random",
            "workers": workers,
        }
        for workers in (1, 2)
    }
    got = {}
    for workers, kw in plans.items():
        with serving() as server:
            result = run_load(_plan(server.port, **kw))
        assert len(result.records) == server.answered == 250
        assert len(result.workers) == workers
        got[workers] = (result, sorted(server.bodies))
    one, two = got[1][0], got[2][0]
    # Merged records of two workers equal one worker's: the same due times, phases and bodies.
    assert np.array_equal(
        np.sort(one.records.column("t_sched")), np.sort(two.records.column("t_sched"))
    )
    assert int(_measured(one).sum()) == int(_measured(two).sum()) == 240
    assert one.window_start_ns == two.window_start_ns
    assert got[1][1] == got[2][1]
    assert len(set(two.records.column("seq").tolist())) == 250


def test_closed_loop_sharded_over_workers_sends_the_exact_count() -> None:
    with serving() as server:
        result = run_load(_plan(server.port, count=600, concurrency=4, workers=2))
    assert len(result.workers) == 2
    assert len(result.records) == 600 == server.answered
    assert int(_measured(result).sum()) == 600
    assert server.connections == 4  # two users per worker, one keep-alive connection each
    assert len(set(result.records.column("seq").tolist())) == 600


def test_max_concurrency_caps_connections_and_queued_requests_count_as_not_sent() -> None:
    # 2 connections at 20 ms each serve at most 100 req/s; 400/s are offered.
    with serving(Behaviour(delay_s=0.02)) as server:
        result = run_load(
            _plan(
                server.port,
                duration_s=1.0,
                arrivals=Arrivals(rate=400.0, distribution="constant", max_concurrency=2),
            )
        )
    assert server.max_open <= 2
    rec = result.records
    err = rec.column("error")
    not_sent = int((err == ErrorClass.NOT_SENT).sum())
    assert not_sent > 200  # most of the 400 due in W were still queued when W ended
    assert np.all(rec.column("t_send")[err == ErrorClass.NOT_SENT] == -1)
    # Latency runs from the due time: queueing in the client is charged, not hidden.
    ok = err == ErrorClass.OK
    lat = (rec.column("t_end") - rec.column("t_sched"))[ok]
    assert np.percentile(lat, 90) > 100_000_000
    assert len(rec) - not_sent == server.answered


def test_open_loop_against_a_dead_port_is_bounded_and_counts_refusals(free_port: int) -> None:
    result = run_load(_plan(free_port, duration_s=0.5, arrivals=Arrivals(rate=200.0)))
    err = result.records.column("error")
    assert len(err) > 50
    assert set(np.unique(err).tolist()) == {ErrorClass.REFUSED}
    assert "refused" in result.messages


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_reports_arrive(workers: int) -> None:
    seen: list[object] = []
    with serving() as server:
        run_load(
            _plan(server.port, duration_s=0.8, arrivals=Arrivals(rate=300.0), workers=workers),
            seen.append,
            progress_every_s=0.1,
        )
    assert len(seen) >= 3
