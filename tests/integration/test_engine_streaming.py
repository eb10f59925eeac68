"""Known answers from a token stream: a server that answers after X ms and streams a token every
Y ms must give TTFT ~= X and TPOT ~= Y, and every fault must land in its error class."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest

from benchaction.config.model import Arrivals
from benchaction.engine import ErrorClass, Flag, LoadPlan, LoadResult, prepare_requests, run_load
from tests.support.streamserver import stream_server

_MS = 1e6


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with stream_server() as p:
        yield p


def _body(chat: bool = True, stream: bool = True, **extra: object) -> bytes:
    body: dict[str, object] = {"model": "tiny-stream", "max_tokens": 20, "stream": stream}
    if chat:
        body["messages"] = [{"role": "user", "content": "one two three"}]
    else:
        body["prompt"] = "one two three"
    if stream:
        body["stream_options"] = {"include_usage": True}
    body.update(extra)
    return json.dumps(body).encode()


def _run(port: int, *bodies: bytes, chat: bool = True, **kw: object) -> LoadResult:
    path = "/v1/chat/completions" if chat else "/v1/completions"
    reqs = prepare_requests(
        "127.0.0.1", port, "POST", path, (("Content-Type", "application/json"),), bodies
    )
    args: dict[str, object] = {"concurrency": 4, "count": 24, "timeout_s": 10.0, "stream": True}
    args.update(kw)
    return run_load(LoadPlan(host="127.0.0.1", port=port, requests=reqs, **args))  # type: ignore[arg-type]


def _col(result: LoadResult, name: str) -> np.ndarray:
    return result.records.column(name)


def test_ttft_and_tpot_match_the_server_timing(port: int) -> None:
    # Prefill 60 ms, then a token every 10 ms: TTFT ~ 60 ms and TPOT ~ 10 ms.
    result = _run(port, _body(x_prefill_ms=60, x_token_ms=10))
    assert np.all(_col(result, "error") == ErrorClass.OK)
    ttft = (_col(result, "t_tok1") - _col(result, "t_sched")) / _MS
    n_out = _col(result, "n_out")
    tpot = (_col(result, "t_tokn") - _col(result, "t_tok1")) / (n_out - 1) / _MS
    # Loopback and two asyncio loops add well under a few ms; the server keeps absolute deadlines.
    assert 60 <= np.median(ttft) < 66, ttft
    assert 9.5 < np.median(tpot) < 10.8, tpot
    # The role-only first delta and the usage chunk are not tokens: 20 token-bearing events.
    assert np.all(_col(result, "n_chunks") == 20)
    assert np.all(n_out == 20)  # from the server's usage
    assert np.all(_col(result, "n_in") == 3)
    assert np.all(_col(result, "flags") & Flag.USAGE_MISSING == 0)
    # One event row per token-bearing event; gaps within a request ~ 10 ms.
    ev = result.events
    assert len(ev) == 20 * len(result.records)
    order = np.lexsort((ev.column("t"), ev.column("seq")))
    seq, t = ev.column("seq")[order], ev.column("t")[order]
    gaps = np.diff(t)[np.diff(seq) == 0] / _MS
    assert 9.5 < np.median(gaps) < 10.5
    # Events share the records' clock: each request's first and last event are its t_tok1/t_tokn.
    rows = {int(q): i for i, q in enumerate(_col(result, "seq"))}
    first = {int(q): int(v) for q, v in zip(seq[::-1], t[::-1], strict=True)}
    for q, v in first.items():
        assert v == _col(result, "t_tok1")[rows[q]]


def test_burst_delivery_groups_tokens_in_fewer_events(port: int) -> None:
    result = _run(port, _body(x_prefill_ms=10, x_token_ms=2, x_burst=4), count=8)
    assert np.all(_col(result, "error") == ErrorClass.OK)
    assert np.all(_col(result, "n_chunks") == 5)  # 20 tokens, 4 per event
    assert np.all(_col(result, "n_out") == 20)
    tpot = (_col(result, "t_tokn") - _col(result, "t_tok1")) / 19 / _MS
    # 4 bursts 8 ms apart span 32 ms for 19 token gaps: TPOT ~ 1.7 ms.
    assert 1.5 < np.median(tpot) < 2.0


def test_completions_endpoint(port: int) -> None:
    result = _run(port, _body(chat=False, x_prefill_ms=5, x_token_ms=1), chat=False, count=8)
    assert np.all(_col(result, "error") == ErrorClass.OK)
    assert np.all(_col(result, "n_chunks") == 20)


def test_a_server_closing_mid_body_is_an_error_and_the_run_continues(port: int) -> None:
    good, cut = _body(x_prefill_ms=5, x_token_ms=1), _body(x_prefill_ms=5, x_close_after=3)
    result = _run(port, good, cut, concurrency=2, count=20)
    err = _col(result, "error")
    assert int((err == ErrorClass.CLOSED).sum()) == 10
    assert int((err == ErrorClass.OK).sum()) == 10
    closed = err == ErrorClass.CLOSED
    assert np.all(_col(result, "n_chunks")[closed] == 3)  # what arrived before the cut is kept


def test_malformed_sse_lines_are_counted_not_fatal(port: int) -> None:
    result = _run(port, _body(x_prefill_ms=5, x_token_ms=1, x_malformed=3), count=8)
    assert np.all(_col(result, "error") == ErrorClass.OK)
    assert np.all(_col(result, "n_bad") == 3)
    assert np.all(_col(result, "n_chunks") == 20)


def test_missing_usage_falls_back_to_counting_events_and_says_so(port: int) -> None:
    result = _run(port, _body(x_prefill_ms=5, x_token_ms=1, x_burst=2, x_no_usage=True), count=8)
    assert np.all(_col(result, "error") == ErrorClass.OK)
    assert np.all(_col(result, "n_out") == 10)  # 10 events of 2 tokens: counted as 10
    assert np.all(_col(result, "flags") & Flag.USAGE_MISSING)
    assert np.all(_col(result, "n_in") == -1)


def test_non_streaming_reads_usage_from_the_body(port: int) -> None:
    result = _run(
        port, _body(stream=False, x_prefill_ms=5, x_token_ms=1), stream=False, usage=True, count=8
    )
    assert np.all(_col(result, "error") == ErrorClass.OK)
    assert np.all(_col(result, "n_out") == 20) and np.all(_col(result, "n_in") == 3)
    assert np.all(_col(result, "t_tok1") == -1)  # TTFT is undefined without a stream
    assert len(result.events) == 0


def test_http_errors_keep_the_server_message(port: int) -> None:
    result = _run(port, _body(x_status=503), count=6)
    assert np.all(_col(result, "error") == ErrorClass.HTTP_5XX)
    assert "http_5xx" in result.messages
    assert "503" in result.messages["http_5xx"][0]


def test_open_loop_streams_across_two_workers(port: int) -> None:
    result = _run(
        port,
        _body(x_prefill_ms=20, x_token_ms=2),
        count=60,
        arrivals=Arrivals(rate=100.0),
        workers=2,
    )
    assert len(result.workers) == 2
    assert np.all(_col(result, "error") == ErrorClass.OK)
    assert len(result.records) == 60
    ttft = (_col(result, "t_tok1") - _col(result, "t_sched")) / _MS
    assert 20 <= np.median(ttft) < 30
    assert len(set(result.events.column("seq").tolist())) == 60
