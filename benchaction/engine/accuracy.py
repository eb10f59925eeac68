"""The accuracy pass: every labelled example sent once, its answer scored, in bounded time.

It runs after a server image's performance trials, never inside a measurement window, with its
own few connections; plain `requests` in threads is enough for a few hundred answers. Examples
not answered within the time bound, and answers that cannot be scored, are failures: counted,
the first few listed with their reason, and wrong for a rate metric.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import requests

from benchaction.config import AccuracySpec
from benchaction.engine.scoring import Score, prediction_of, score_answer
from benchaction.results import FLAG_METRICS, AccuracyFailure, AccuracyResults, pack_flags

__all__ = ["FAILURES_KEPT", "run_accuracy", "summarize_scores"]

FAILURES_KEPT = 10
"""Failed examples listed in the results (all are counted)."""

Send = Callable[[bytes], tuple[int, bytes]]


def run_accuracy(
    spec: AccuracySpec,
    url: str,
    *,
    method: str = "POST",
    headers: Sequence[tuple[str, str]] = (),
    request_timeout_s: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
) -> AccuracyResults:
    """Send every example to `url` (at most `spec.concurrency` at once, for at most
    `spec.timeout_s`), score each answer, and summarise."""
    local = threading.local()
    started = clock()
    deadline = started + spec.timeout_s
    header_map = dict(headers)

    def send(body: bytes) -> tuple[int, bytes]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        left = max(0.001, min(request_timeout_s, deadline - clock()))
        answer = session.request(method, url, data=body, headers=header_map, timeout=left)
        return answer.status_code, answer.content

    outcomes = _score_all(spec, send, deadline, clock)
    return summarize_scores(spec, outcomes, clock() - started)


def _score_one(spec: AccuracySpec, send: Send, index: int) -> Score:
    try:
        status, body = send(spec.requests[index])
    except requests.RequestException as exc:
        return None, f"no answer: {type(exc).__name__}"
    if not 200 <= status < 300:
        return None, f"status {status}"
    found, prediction, why = prediction_of(body, spec.prediction)
    if not found:
        return None, why
    return score_answer(spec.metric, prediction, json.loads(spec.labels[index]))


def _score_all(
    spec: AccuracySpec, send: Send, deadline: float, clock: Callable[[], float]
) -> list[Score]:
    """Every example's score, in file order; those not done by the deadline are failures."""
    n = len(spec.requests)
    out: list[Score] = [(None, "not answered within the accuracy time bound")] * n
    pending: dict[Future[Score], int] = {}
    next_index = 0
    with ThreadPoolExecutor(max_workers=spec.concurrency, thread_name_prefix="accuracy") as pool:
        while (next_index < n or pending) and clock() < deadline:
            while next_index < n and len(pending) < spec.concurrency:
                pending[pool.submit(_score_one, spec, send, next_index)] = next_index
                next_index += 1
            done, _ = wait(
                pending, timeout=max(0.0, deadline - clock()), return_when=FIRST_COMPLETED
            )
            for future in done:
                out[pending.pop(future)] = future.result()
        for future in pending:
            future.cancel()  # in flight: each ends by its own timeout, bounded by the deadline
    return out


def summarize_scores(
    spec: AccuracySpec, outcomes: Sequence[Score], duration_s: float
) -> AccuracyResults:
    """The results section from each example's (score, failure reason)."""
    failures: list[AccuracyFailure] = [
        {"example": i, "reason": why} for i, (_, why) in enumerate(outcomes) if why is not None
    ]
    scores = [s for s, _ in outcomes]
    scored = [s for s in scores if s is not None]
    out: AccuracyResults = {
        "metric": spec.metric,
        "value": None,
        "n": len(outcomes),
        "scored": len(scored),
        "failed": len(failures),
        "failures": failures[:FAILURES_KEPT],
        "file": spec.file,
        "sha256": spec.sha256,
        "threshold": spec.threshold,
        "duration_s": round(duration_s, 3),
    }
    if spec.metric in FLAG_METRICS:  # a failed answer is a wrong one
        flags = [s == 1.0 for s in scores]
        out |= {"correct": sum(flags), "value": sum(flags) / len(flags), "flags": pack_flags(flags)}
    elif spec.metric == "token_f1":
        f1 = [0.0 if s is None else s for s in scores]
        out |= {"score_sum": sum(f1), "value": sum(f1) / len(f1), "scores": _rounded(f1)}
    else:
        abs_sum, sq_sum = sum(scored), sum(s * s for s in scored)
        if scored:
            value = (
                abs_sum / len(scored) if spec.metric == "mae" else math.sqrt(sq_sum / len(scored))
            )
            out["value"] = value
        out |= {"abs_error_sum": abs_sum, "squared_error_sum": sq_sum, "scores": _rounded(scores)}
    return out


def _rounded(scores: Sequence[float | None]) -> list[float | None]:
    """Scores to 6 significant digits: compact, and far finer than any threshold."""
    return [None if s is None else float(f"{s:.6g}") for s in scores]
