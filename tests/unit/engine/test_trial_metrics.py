"""Trial metrics from synthetic records: known answers for every formula, validity, and folding."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pytest

from benchaction.config.model import Limits, Slo
from benchaction.engine.aggregate import Aggregate, fold_events, fold_records
from benchaction.engine.records import COLUMNS, ErrorClass, Events, Flag, Phase, Records
from benchaction.engine.result import LoadResult, WorkerStats
from benchaction.engine.trial_metrics import MIN_SAMPLES, trial_metrics
from benchaction.results import validate_results
from tests.support.documents import sweep_doc
from tests.support.records import synthetic_stream

MS = 1_000_000
S = 1_000_000_000
DEFAULTS = {
    "t_first": -1,
    "status": 200,
    "nbytes": 100,
    "error": ErrorClass.OK,
    "phase": Phase.MEASURED,
    "t_tok1": -1,
    "t_tokn": -1,
    "n_chunks": 0,
    "n_out": -1,
    "n_in": -1,
    "n_bad": 0,
    "flags": 0,
}


def _records(rows: list[dict[str, int]]) -> Records:
    table = np.zeros((len(rows), len(COLUMNS)), dtype=np.int64)
    for i, r in enumerate(rows):
        full = {**DEFAULTS, "seq": i, **r}
        table[i] = [int(full[c]) for c in COLUMNS]
    return Records(table)


def _events(pairs: list[tuple[int, int]]) -> Events:
    if not pairs:
        return Events.empty()
    return Events(np.array(sorted(pairs, key=lambda p: p[1]), dtype=np.int64))


def _result(
    rows: list[dict[str, int]],
    events: list[tuple[int, int]] = (),  # type: ignore[assignment]
    w: tuple[int | None, int | None] = (0, S),
    **kw: Any,
) -> LoadResult:
    return LoadResult(
        _records(rows), w[0], w[1], True, kw.pop("cut_off", 0), events=_events(list(events)), **kw
    )


def _http(n: int, *, lat_ms: float = 2.0, every_ms: float = 4.0) -> list[dict[str, int]]:
    """n successes, one every `every_ms`, sent 10 µs after they were due."""
    out = []
    for i in range(n):
        t = int(i * every_ms * MS)
        out.append({"t_sched": t, "t_send": t + 10_000, "t_first": t + int(lat_ms * MS) - 1000})
        out[-1]["t_end"] = t + int(lat_ms * MS)
    return out


def test_closed_loop_http_known_answers() -> None:
    rows = _http(200)
    rows[5].update(error=ErrorClass.HTTP_5XX, status=503)
    rows[6].update(error=ErrorClass.TIMEOUT, status=0)
    rows += [{"t_sched": -5 * MS, "t_send": -5 * MS, "t_end": -3 * MS, "phase": Phase.WARMUP}]
    said = {"http_5xx": ("HTTP 503: busy",)}
    m = trial_metrics(_result(rows, workers=(WorkerStats(0.2, 1.0),), messages=said))
    assert m["valid"], m["invalid_reasons"]
    assert m["counts"] == {
        "scheduled": 200,
        "succeeded": 198,
        "failed": 2,
        "warmup": 1,
        "cut_off": 0,
    }
    assert m["errors"] == {"http_5xx": 1, "timeout": 1}
    assert m["error_messages"] == {"http_5xx": ["HTTP 503: busy"]}
    assert m["status_codes"] == {"200": 198, "503": 1}
    assert m["error_rate"] == pytest.approx(2 / 200)
    # Successes ending in W = [0, 1 s]: due every 4 ms, so i = 0..249 would fit; all 198 do.
    assert m["throughput_rps"] == pytest.approx(198.0)
    assert m["rx_bytes_per_s"] == pytest.approx(200 * 100)  # every row ending in W
    assert m["latency_ms"]["p50"] == pytest.approx(2.0)
    assert m["service_time_ms"]["max"] == pytest.approx(1.99)
    assert m["dispatch_lag_ms"]["p99"] == pytest.approx(0.01)
    assert m["client"] == {"workers": 1, "cpu_utilisation": [0.2], "max_cpu": 0.2}
    assert "ttft_ms" not in m and "offered_rps" not in m and "goodput_rps" not in m
    assert m["vllm"]["completed"] == 198 and m["vllm"]["failed"] == 2
    assert m["vllm"]["median_e2el_ms"] == pytest.approx(1.99)


def _stream_rows() -> tuple[list[dict[str, int]], list[tuple[int, int]]]:
    """Two streamed requests with hand-computed answers (times in ms).

    A: due 0, sent 1, tokens at 11, 13, 15, 17 (4 events, 8 tokens: 2 per event), ends 18.
    B: due 100, sent 100, tokens at 120 and 130 (2 events, usage missing: 1 per event), ends 131.
    """
    rows = [
        {
            "t_sched": 0,
            "t_send": 1 * MS,
            "t_first": 5 * MS,
            "t_end": 18 * MS,
            "t_tok1": 11 * MS,
            "t_tokn": 17 * MS,
            "n_chunks": 4,
            "n_out": 8,
            "n_in": 30,
            "n_bad": 1,
        },
        {
            "t_sched": 100 * MS,
            "t_send": 100 * MS,
            "t_first": 110 * MS,
            "t_end": 131 * MS,
            "t_tok1": 120 * MS,
            "t_tokn": 130 * MS,
            "n_chunks": 2,
            "n_out": 2,
            "flags": Flag.USAGE_MISSING,
        },
    ]
    events = [(0, t * MS) for t in (11, 13, 15, 17)] + [(1, 120 * MS), (1, 130 * MS)]
    return rows, events


def test_streaming_known_answers() -> None:
    rows, events = _stream_rows()
    m = trial_metrics(_result(rows, events))
    assert m["ttft_ms"]["min"] == pytest.approx(11.0)  # A: 11 - 0
    assert m["ttft_ms"]["max"] == pytest.approx(20.0)  # B: 120 - 100
    assert m["service_ttft_ms"]["min"] == pytest.approx(10.0)  # A: 11 - 1
    assert sorted([m["tpot_ms"]["min"], m["tpot_ms"]["max"]]) == pytest.approx([6 / 7, 10.0])
    # ITL per event: A's 2, 2, 2 and B's 10; per token A's gaps carry 2 tokens each.
    assert m["itl_ms"]["p50"] == pytest.approx(2.0) and m["itl_ms"]["max"] == pytest.approx(10.0)
    assert m["itl_ms"]["mean"] == pytest.approx(16 / 4)
    assert m["itl_token_ms"]["p50"] == pytest.approx(1.0)
    assert m["itl_token_ms"]["mean"] == pytest.approx((1 + 1 + 1 + 10) / 4)
    assert m["e2e_ms"] == m["latency_ms"]
    assert sorted([m["ntpot_ms"]["min"], m["ntpot_ms"]["max"]]) == pytest.approx([18 / 8, 31 / 2])
    assert m["tokens"] == {
        "output_total": 10,
        "input_total": 30,
        "per_chunk_mean": 10 / 6,
        "usage_missing": 1,
        "malformed_lines": 1,
    }
    assert m["output_tokens_per_s"] == pytest.approx(10.0)  # W is one second
    assert m["total_tokens_per_s"] == pytest.approx(40.0)
    assert {"ttft", "tpot", "itl"} == set(m["histograms"])
    assert sum(m["histograms"]["itl"]["count"]) == 4
    # A failed stream and a warmup stream: their events are recorded, their gaps never count.
    rows[0]["error"] = ErrorClass.TRUNCATED
    rows[1]["phase"] = Phase.WARMUP
    m = trial_metrics(_result(rows, events))
    assert sum(m["histograms"]["itl"]["count"]) == 0 and m["itl_ms"]["p50"] is None
    assert m["output_tokens_per_s"] == pytest.approx(2.0)  # B's tokens in W still arrived


def test_tokens_in_window_attribute_each_request_over_its_events() -> None:
    rows, events = _stream_rows()
    # W = [14 ms, 125 ms]: A has events 15 and 17 inside (2 of 4: 4 of its 8 tokens) and B 120
    # only (1 token); B's prompt counts because its first token arrived in W, A's does not.
    m = trial_metrics(_result(rows, events, w=(14 * MS, 125 * MS)))
    window_s = 0.111
    assert m["output_tokens_per_s"] == pytest.approx(5 / window_s)
    assert m["total_tokens_per_s"] == pytest.approx(5 / window_s)  # B reported no prompt
    # ITL is over the measured successful requests, whenever their gaps fall.
    assert sum(m["histograms"]["itl"]["count"]) == 4
    # A non-streamed answer brings its tokens when it ends.
    whole = [{"t_sched": 0, "t_send": 0, "t_end": 20 * MS, "n_out": 7, "n_in": 3}]
    m = trial_metrics(_result(whole, w=(0, S)))
    assert m["output_tokens_per_s"] == pytest.approx(7.0)
    assert m["total_tokens_per_s"] == pytest.approx(10.0)
    assert m["ttft_ms"]["p50"] is None  # undefined without a stream, never 0


def test_goodput_and_slo_attainment() -> None:
    rows = _http(150, lat_ms=2.0)
    for i in range(0, 150, 3):
        rows[i]["t_end"] = rows[i]["t_sched"] + 9 * MS  # a third take 9 ms
    rows[1].update(error=ErrorClass.HTTP_5XX, status=500)  # fast but failed: not good
    rows.append({"t_sched": 900 * MS, "t_send": -1, "t_end": S, "error": ErrorClass.NOT_SENT})
    m = trial_metrics(_result(rows), slo=Slo(latency_s=0.005))
    good = 150 - 50 - 1
    assert m["goodput_rps"] == pytest.approx(good)
    assert m["slo_attainment"] == pytest.approx(good / 150)  # NOT_SENT left out
    assert m["slo"] == {"latency_ms": 5.0}
    assert m["vllm"]["request_goodput"] == pytest.approx(good)
    rows, events = _stream_rows()
    m = trial_metrics(_result(rows, events), slo=Slo(ttft_s=0.015, tpot_s=0.005))
    assert m["goodput_rps"] == pytest.approx(1.0)  # A: TTFT 11 ms, TPOT 0.86 ms; B: TTFT 20 ms
    m = trial_metrics(_result(rows, events), slo=Slo(tpot_s=0.005))
    assert m["slo_attainment"] == pytest.approx(0.5)  # B's TPOT is 10 ms


def test_open_loop_offered_achieved_and_not_sent() -> None:
    rows = _http(200, every_ms=5.0)  # due 0 .. 995 ms
    for r in rows[-8:]:
        r.update(t_send=-1, t_first=-1, t_end=S, error=ErrorClass.NOT_SENT, status=0)
    res = _result(rows, open_loop=True, offered_rate=200.0)
    m = trial_metrics(res)
    assert m["offered_rps"] == pytest.approx(200.0)
    assert m["achieved_send_rps"] == pytest.approx(192.0)
    assert m["counts"]["not_sent"] == 8 and m["counts"]["failed"] == 0
    assert m["error_rate"] == 0.0  # a drop is the generator's, not the server's
    assert "the load generator dropped 8 requests" in " ".join(m["invalid_reasons"])
    assert any("achieved send rate" in r for r in m["invalid_reasons"])
    assert m["dispatch_lag_ms"]["max"] == pytest.approx(0.01)  # NOT_SENT rows have no lag


def _reasons(res: LoadResult, **kw: Any) -> str:
    return " | ".join(trial_metrics(res, **kw)["invalid_reasons"])


def test_validity_rules() -> None:
    assert "never opened" in _reasons(_result(_http(200), w=(None, None)))
    assert "no request succeeded" in _reasons(_result([]))
    assert f"at least {MIN_SAMPLES}" in _reasons(_result(_http(50)))
    assert "hard time limit with 3" in _reasons(_result(_http(200), cut_off=3))
    late = _http(200)
    for r in late[:5]:
        r["t_send"] = r["t_sched"] + 3 * MS
    assert "dispatch lag p99 3.000 ms" in _reasons(_result(late))
    assert _reasons(_result(late), limits=Limits(max_dispatch_lag_p99_s=0.005)) == ""
    busy = (WorkerStats(0.3, 1.0), WorkerStats(0.97, 1.0))
    assert "load worker 1 was busy 97%" in _reasons(_result(_http(200), workers=busy))
    # Open loop spins its dispatcher by design: CPU is not a test there.
    assert _reasons(_result(_http(200), workers=busy, open_loop=True)) == ""
    behind = _http(200, every_ms=5.0)
    for r in behind[-4:]:  # due in W, sent after it: 2 % short of the offered rate
        r.update(t_send=S + 1, t_end=S + 2 * MS)
    assert "achieved send rate" in _reasons(_result(behind, open_loop=True))
    behind[-4:] = behind[-4:][:1] + _http(3)  # one late send is within the one-request slack
    assert "achieved" not in _reasons(_result(behind, open_loop=True))


def _fold_like_the_engine(
    records: Records,
    events: Events,
    w0: int,
    w1: int,
    slo: Slo,
    chunk: int,
    *,
    owners: bool = True,
) -> LoadResult:
    """Fold every complete chunk but the last, records and events interleaved, oldest first."""
    acc: Aggregate | None = None
    rparts = [records.table[i : i + chunk] for i in range(0, len(records), chunk)]
    eparts = [events.table[i : i + 2 * chunk] for i in range(0, len(events), 2 * chunk)]
    r = e = 0
    while r < len(rparts) - 1 or e < len(eparts) - 1:
        # Whichever chunk ends first in time is folded first, as the engine would.
        r_end = rparts[r][-1, COLUMNS.index("t_end")] if r < len(rparts) - 1 else math.inf
        e_end = eparts[e][-1, 1] if e < len(eparts) - 1 else math.inf
        if r_end <= e_end:
            part = fold_records(Records(rparts[r]), w0, w1, slo)
            r += 1
        else:
            # The rows still held that had ended by then (later ones are still streaming).
            held = np.concatenate(rparts[r:])
            held = held[held[:, COLUMNS.index("t_end")] <= e_end]
            given = (Records(held),) if owners else ()
            part = fold_events(Events(eparts[e]), w0, w1, owners=given)
            e += 1
        acc = part if acc is None else acc.merge(part)
        assert not owners or len(acc.pending) < 2000  # only events of running requests wait
    acc = pickle.loads(pickle.dumps(acc))  # workers send it back through a pipe
    return LoadResult(
        Records(rparts[-1]), w0, w1, True, 0, events=Events(eparts[-1]), open_loop=True, folded=acc
    )


def _without_slices(exact: dict[str, Any]) -> dict[str, Any]:
    """Slices need every row of the window: exact metrics have them, folded ones cannot."""
    assert len(exact["slices"]["latency_p50_ms"]) == 10
    return {k: v for k, v in exact.items() if k != "slices"}


def _close(a: Any, b: Any, path: str = "") -> None:
    """Counts equal; times within 0.5 % or 1 µs (values under 1 µs share the first bucket)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            if k not in ("histogram", "histograms"):
                _close(a[k], b[k], f"{path}.{k}")
    elif not isinstance(a, float):
        assert a == b, path
    elif path.split(".")[-2].endswith("_ms"):
        assert a == pytest.approx(b, rel=0.005, abs=0.001), path
    elif "std_" in path:
        assert a == pytest.approx(b, rel=1e-6), path
    elif "median_" in path or "p99_" in path:
        assert a == pytest.approx(b, rel=0.02, abs=0.002), path  # vLLM interpolates, we read bins
    else:
        assert a == pytest.approx(b, rel=1e-9), path


@pytest.mark.parametrize(("tokens_per_event", "owners"), [(1, True), (3, True), (2, False)])
def test_folded_and_exact_agree(tokens_per_event: int, owners: bool) -> None:
    rng = np.random.default_rng(7)
    records, events, w0, w1 = synthetic_stream(6000, rng, tokens_per_event)
    slo = Slo(ttft_s=0.025, tpot_s=0.004)
    whole = LoadResult(records, w0, w1, True, 0, events=events, open_loop=True)
    exact = trial_metrics(whole, slo=slo)
    part = _fold_like_the_engine(records, events, w0, w1, slo, 1024, owners=owners)
    folded = trial_metrics(part, slo=slo)
    assert exact["counts"]["scheduled"] > 4000 and exact["valid"], exact["invalid_reasons"]
    _close(_without_slices(exact), folded)
    for name in ("ttft", "tpot", "itl"):
        assert sum(exact["histograms"][name]["count"]) == sum(folded["histograms"][name]["count"])
    assert exact["histogram"] == folded["histogram"]


def test_workers_fold_apart_and_combine() -> None:
    rng = np.random.default_rng(11)
    records, events, w0, w1 = synthetic_stream(5000, rng, 1)
    exact = trial_metrics(LoadResult(records, w0, w1, True, 0, events=events))
    parts = []
    for k, chunk in ((0, 700), (1, 1100)):  # each worker folds on its own schedule
        mine = Records(records.table[records.column("seq") % 2 == k])
        theirs = Events(events.table[events.column("seq") % 2 == k])
        parts.append(_fold_like_the_engine(mine, theirs, w0, w1, Slo(), chunk))
    folded = Aggregate.combine(p.folded for p in parts if p.folded is not None)
    retained = LoadResult(
        Records(np.concatenate([p.records.table for p in parts])),
        w0,
        w1,
        True,
        0,
        events=Events(np.concatenate([p.events.table for p in parts])),
        folded=folded,
    )
    got = trial_metrics(retained)
    _close(_without_slices(exact), got)
    assert sum(got["histograms"]["itl"]["count"]) == sum(exact["histograms"]["itl"]["count"])


def test_merge_is_exact_and_the_aggregate_pickles() -> None:
    rng = np.random.default_rng(3)
    records, events, w0, w1 = synthetic_stream(1500, rng, 2)
    half = len(records) // 2
    one = fold_records(records, w0, w1)
    two = fold_records(Records(records.table[:half]), w0, w1).merge(
        fold_records(Records(records.table[half:]), w0, w1)
    )
    assert dict(one.counts) == dict(two.counts) and one.errors == two.errors
    for k, d in one.dists.items():
        e = two.dists[k]
        assert (d.n, d.lo, d.hi) == (e.n, e.lo, e.hi) and d.total == pytest.approx(e.total)
        assert d.hist.index.tolist() == e.hist.index.tolist()
        assert d.hist.count.tolist() == e.hist.count.tolist()
    cut = len(events) // 3
    ev_one = fold_events(events, w0, w1, owners=(records,))
    ev_two = fold_events(Events(events.table[:cut]), w0, w1, owners=(records,)).merge(
        fold_events(Events(events.table[cut:]), w0, w1, owners=(records,))
    )
    assert ev_one.dists["itl"].n == ev_two.dists["itl"].n > 0  # gaps across the cut are kept
    assert ev_one.stream_output_in_w == pytest.approx(ev_two.stream_output_in_w)
    assert len(ev_two.verdicts) == len(ev_two.tails) == len(ev_two.pending) == 0  # all settled
    back = pickle.loads(pickle.dumps(two))
    assert dict(back.counts) == dict(two.counts)


def test_vllm_keys_match_its_estimators() -> None:
    rng = np.random.default_rng(5)
    records, events, w0, w1 = synthetic_stream(2000, rng, 1)
    m = trial_metrics(LoadResult(records, w0, w1, True, 0, events=events), slo=Slo(e2e_s=0.2))
    v = m["vllm"]
    col = records.column
    ok = (col("phase") == 1) & (col("error") == 0)
    service_ttft = (col("t_tok1") - col("t_send"))[ok] / MS
    assert v["median_ttft_ms"] == pytest.approx(np.median(service_ttft))
    assert v["p99_ttft_ms"] == pytest.approx(np.percentile(service_ttft, 99))
    assert v["std_ttft_ms"] == pytest.approx(np.std(service_ttft))
    e2el = (col("t_end") - col("t_send"))[ok] / MS
    assert v["mean_e2el_ms"] == pytest.approx(e2el.mean())
    multi = ok & (col("n_out") >= 2)
    tpot = (col("t_tokn") - col("t_tok1"))[multi] / (col("n_out")[multi] - 1) / MS
    assert v["mean_tpot_ms"] == pytest.approx(tpot.mean())
    assert v["total_output_tokens"] == int(col("n_out")[ok].sum())
    assert v["duration"] == pytest.approx((w1 - w0) / S)
    assert {"request_goodput", "output_throughput", "total_token_throughput", "p99_itl_ms"} <= set(
        v
    )
    assert not math.isnan(v["mean_itl_ms"])


def test_trial_fits_the_results_schema() -> None:
    rows, events = _stream_rows()
    trial = trial_metrics(
        _result(
            rows,
            events,
            open_loop=True,
            workers=(WorkerStats(1.0, 2.0),),
            messages={"truncated": ("the stream ended without data: [DONE]",)},
        ),
        slo=Slo(ttft_s=0.1),
    )
    doc = sweep_doc([{"trial": 0, "instance": 0, **trial}])
    validate_results(doc)


def test_slices_split_the_window_into_tenths() -> None:
    rng = np.random.default_rng(3)
    records, events, w0, w1 = synthetic_stream(6000, rng, 1)
    m = trial_metrics(LoadResult(records, w0, w1, True, 0, events=events))
    s = m["slices"]
    assert s["seconds"] == pytest.approx((w1 - w0) / 1e9 / 10)
    ok_in_window = m["throughput_rps"] * m["window"]["duration_s"]
    assert sum(r * s["seconds"] for r in s["throughput_rps"]) == pytest.approx(ok_in_window)
    p50s = [v for v in s["latency_p50_ms"] if v is not None]
    assert min(p50s) <= m["latency_ms"]["p50"] <= max(p50s)
