"""Turn one run's request records into the trial metrics of the results document.

Definitions follow the reference (load-generators.md, section b) and docs/metrics.md: every
latency runs from the scheduled send (coordinated-omission safe), service variants from the
actual send; throughputs count what happened inside the measurement window W and divide by |W|.
Percentiles are exact when nothing was folded, histogram readings (within 0.5 %) otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from benchaction.config import Limits, Slo
from benchaction.engine.aggregate import (
    Aggregate,
    Dist,
    fold_events,
    fold_records,
    request_values,
    stream_gaps,
)
from benchaction.engine.records import ErrorClass, Phase
from benchaction.engine.result import LoadResult

__all__ = ["MIN_SAMPLES", "PERCENTILES", "nearest_rank", "trial_metrics"]

PERCENTILES = (50, 90, 95, 99)
MIN_SAMPLES = 100
"""Fewer successes than this in W make the trial invalid: a p99 needs at least 100 values."""

_MS = 1e6
_S = 1e9
_KEYS = ("mean", "min", *(f"p{p}" for p in PERCENTILES), "max")

F64 = npt.NDArray[np.float64]
Summary = dict[str, float | None]


def nearest_rank(sorted_values: npt.NDArray[Any], p: float) -> float:
    """The p-th percentile as the value at rank ceil(p/100 * n) of the sorted sample."""
    n = sorted_values.size
    if n == 0:
        return math.nan
    return float(sorted_values[max(1, math.ceil(p / 100.0 * n)) - 1])


def _exact(values_ns: F64) -> Summary:
    """Mean, extremes and nearest-rank percentiles of the raw values, in ms."""
    if values_ns.size == 0:
        return dict.fromkeys(_KEYS, None)
    v = np.sort(values_ns) / _MS
    out: Summary = {"mean": float(v.mean()), "min": float(v[0])}
    out.update({f"p{p}": nearest_rank(v, p) for p in PERCENTILES})
    out["max"] = float(v[-1])
    return out


def _folded(d: Dist, scale: float = 1.0) -> Summary:
    """The same from a summary: exact mean and extremes, percentiles read from the histogram."""
    if d.n == 0:
        return dict.fromkeys(_KEYS, None)
    k = scale / _MS
    out: Summary = {"mean": d.total / d.n * k, "min": d.lo * k}
    out.update({f"p{p}": d.hist.percentile_ns(p) * k for p in PERCENTILES})
    out["max"] = d.hi * k
    return out


def _summary(d: Dist, values: F64 | None, scale: float = 1.0) -> Summary:
    return _exact(values) if values is not None else _folded(d, scale)


def _vllm_stats(name: str, d: Dist, values: F64 | None) -> dict[str, float]:
    """vLLM's mean/median/std/p99 of one distribution; with raw values, its own estimators."""
    if d.n == 0:
        return {}
    if values is not None:
        v = values / _MS
        mean, median, std = float(v.mean()), float(np.median(v)), float(v.std())
        p99 = float(np.percentile(v, 99))
    else:
        mean = d.total / d.n / _MS
        std = math.sqrt(max(d.sumsq / d.n - (d.total / d.n) ** 2, 0.0)) / _MS
        median, p99 = d.hist.percentile_ns(50) / _MS, d.hist.percentile_ns(99) / _MS
    return {
        f"mean_{name}_ms": mean,
        f"median_{name}_ms": median,
        f"std_{name}_ms": std,
        f"p99_{name}_ms": p99,
    }


def _validity(
    result: LoadResult, total: Aggregate, lag_p99_ms: float | None, window_s: float, limits: Limits
) -> list[str]:
    """Why the trial cannot stand for the server, if it cannot (invalid trials are never compared)."""
    c = total.counts
    reasons: list[str] = []
    if window_s <= 0:
        reasons.append("the measurement window never opened: warmup did not finish")
    if c["succeeded"] == 0:
        reasons.append("no request succeeded in the measurement window")
    elif c["succeeded"] < MIN_SAMPLES:
        reasons.append(
            f"only {c['succeeded']} successful requests in the measurement window; at least "
            f"{MIN_SAMPLES} are needed for a p99 (raise the scenario's duration or requests)"
        )
    if result.cut_off:
        reasons.append(
            f"the run hit its hard time limit with {result.cut_off} requests still in flight"
        )
    if c["not_sent"]:
        reasons.append(
            f"the load generator dropped {c['not_sent']} requests: due in the window, never sent"
        )
    limit_ms = limits.max_dispatch_lag_p99_s * 1e3
    if lag_p99_ms is not None and lag_p99_ms > limit_ms:
        reasons.append(
            f"dispatch lag p99 {lag_p99_ms:.3f} ms is over the {limit_ms:g} ms limit: the load "
            "generator, not the server, set the pace"
        )
    # One request of slack: an arrival just before w1 may be sent just after it.
    if result.open_loop and c["sent_in_w"] < c["scheduled"] * (1 - limits.rate_tolerance) - 1:
        reasons.append(
            f"achieved send rate {c['sent_in_w'] / window_s:,.1f}/s is more than "
            f"{limits.rate_tolerance:.0%} below the offered {c['scheduled'] / window_s:,.1f}/s"
        )
    if not result.open_loop:
        for i, w in enumerate(result.workers):
            busy = w.cpu_s / w.wall_s if w.wall_s > 0 else 0.0
            if busy >= limits.max_client_cpu:
                reasons.append(
                    f"load worker {i} was busy {busy:.0%} of the time (limit "
                    f"{limits.max_client_cpu:.0%}): the client may have been the bottleneck"
                )
    return reasons


def _streaming(
    result: LoadResult, total: Aggregate, values: dict[str, F64] | None, window_s: float
) -> tuple[dict[str, Any], F64 | None]:
    """Token metrics (TTFT, TPOT, ITL per event and per token, NTPOT, throughput) and raw ITLs."""
    c, d = total.counts, total.dists
    per_event = c["stream_output"] / c["stream_chunks"] if c["stream_chunks"] else None
    itl: F64 | None = None
    itl_token = _folded(d["itl_token"])
    if values is not None:
        itl, token_gaps = stream_gaps(result.events, result.records)
        itl_token = _exact(token_gaps)
    output_in_w = c["whole_output_in_w"] + total.stream_output_in_w
    rate = (lambda n: n / window_s) if window_s > 0 else (lambda n: 0.0)
    get = values.get if values is not None else (lambda k: None)
    metrics = {
        "ttft_ms": _summary(d["ttft"], get("ttft")),
        "service_ttft_ms": _summary(d["service_ttft"], get("service_ttft")),
        "tpot_ms": _summary(d["tpot"], get("tpot")),
        "itl_ms": _summary(d["itl"], itl),
        "itl_token_ms": itl_token,
        "e2e_ms": _summary(d["latency"], get("latency")),
        "ntpot_ms": _summary(d["ntpot"], get("ntpot")),
        "tokens": {
            "output_total": c["output_total"],
            "input_total": c["input_total"],
            "per_chunk_mean": per_event,
            "usage_missing": c["usage_missing"],
            "malformed_lines": c["malformed"],
        },
        "output_tokens_per_s": rate(output_in_w),
        "total_tokens_per_s": rate(output_in_w + c["input_in_w"]),
        "histograms": {k: d[k].hist.to_json() for k in ("ttft", "tpot", "itl")},
    }
    return metrics, itl


def _vllm(
    out: dict[str, Any], total: Aggregate, values: dict[str, F64] | None, itl: F64 | None
) -> dict[str, Any]:
    """vLLM-compatible keys where ours match; TTFT and E2EL from the actual send, as vLLM does."""
    d, get = total.dists, (values.get if values is not None else (lambda k: None))
    v: dict[str, Any] = {
        "completed": out["counts"]["succeeded"],
        "failed": out["counts"]["failed"],
        "request_throughput": out["throughput_rps"],
        "duration": out["window"]["duration_s"],
    }
    if "goodput_rps" in out:
        v["request_goodput"] = out["goodput_rps"]
    if "tokens" in out:
        v["output_throughput"] = out["output_tokens_per_s"]
        v["total_token_throughput"] = out["total_tokens_per_s"]
        v["total_input_tokens"] = out["tokens"]["input_total"]
        v["total_output_tokens"] = out["tokens"]["output_total"]
        v.update(_vllm_stats("ttft", d["service_ttft"], get("service_ttft")))
        v.update(_vllm_stats("tpot", d["tpot"], get("tpot")))
        v.update(_vllm_stats("itl", d["itl"], itl))
    v.update(_vllm_stats("e2el", d["service_time"], get("service_time")))
    return v


SLICES = 10
"""Equal parts of the window whose own throughput and p50 measure the noise within a trial
(the first level of Kalibera and Jones' two-level design; trials are the second)."""


def _slices(result: LoadResult, w0: int, w1: int) -> dict[str, Any] | None:
    """Throughput and p50 latency of each tenth of the window; None once rows were folded."""
    if result.folded is not None or w1 <= w0:
        return None
    col = result.records.column
    t_end = col("t_end")
    # As the trial's own figures: throughput counts every answer that ended in W, latency only
    # the measured requests.
    done = (col("error") == ErrorClass.OK) & (t_end >= w0) & (t_end < w1)
    measured = done & (col("phase") == Phase.MEASURED)
    part = np.minimum((t_end - w0) * SLICES // (w1 - w0), SLICES - 1)
    latency = t_end - col("t_sched")
    seconds = (w1 - w0) / _S / SLICES
    rates, p50s = [], []
    for k in range(SLICES):
        rates.append(int((done & (part == k)).sum()) / seconds)
        mine = np.sort(latency[measured & (part == k)])
        p50s.append(nearest_rank(mine, 50) / 1e6 if mine.size else None)
    return {"seconds": seconds, "throughput_rps": rates, "latency_p50_ms": p50s}


def trial_metrics(
    result: LoadResult,
    *,
    limits: Limits = Limits(),  # noqa: B008 - frozen
    slo: Slo = Slo(),  # noqa: B008 - frozen
) -> dict[str, Any]:
    """Metrics of one trial of one scenario, ready for the results document."""
    w0, w1 = result.window_start_ns, result.window_end_ns
    opened = w0 is not None and w1 is not None and w1 > w0
    w = (w0, w1) if opened else (None, None)
    window_s = (w1 - w0) / _S if w0 is not None and w1 is not None and opened else 0.0
    # Oldest first, so the retained rows resolve folded events that were waiting for them.
    rows = fold_records(result.records, *w, slo)
    total = rows if result.folded is None else result.folded.merge(rows)
    total = total.merge(fold_events(result.events, *w, owners=(result.records,)))
    values = request_values(result.records) if result.folded is None else None
    get = values.get if values is not None else (lambda k: None)
    c, d = total.counts, total.dists
    failed = c["scheduled"] - c["succeeded"] - c["not_sent"]
    sent = c["scheduled"] - c["not_sent"]
    rate = (lambda n: n / window_s) if window_s > 0 else (lambda n: 0.0)
    lag = _summary(d["dispatch_lag"], get("dispatch_lag"))
    busy = [x.cpu_s / x.wall_s if x.wall_s > 0 else 0.0 for x in result.workers]
    reasons = _validity(result, total, lag["p99"], window_s, limits)
    out: dict[str, Any] = {
        "valid": not reasons,
        "invalid_reasons": reasons,
        "window": {
            "start_s": None if w0 is None else w0 / _S,
            "end_s": None if w1 is None else w1 / _S,
            "duration_s": window_s,
        },
        "counts": {
            "scheduled": c["scheduled"],
            "succeeded": c["succeeded"],
            "failed": failed,
            "warmup": c["warmup"],
            "cut_off": result.cut_off,
        },
        "errors": {ErrorClass(k).label: n for k, n in sorted(total.errors.items())},
        "error_messages": {label: list(texts) for label, texts in result.messages.items()},
        "status_codes": {str(k): n for k, n in sorted(total.status.items())},
        "error_rate": failed / sent if sent else 0.0,
        "throughput_rps": rate(c["ok_end_in_w"]),
        "rx_bytes_per_s": rate(c["bytes_in_w"]),
        "latency_ms": _summary(d["latency"], get("latency")),
        "service_time_ms": _summary(d["service_time"], get("service_time")),
        "ttfb_ms": _summary(d["ttfb"], get("ttfb")),
        "dispatch_lag_ms": lag,
        "histogram": d["latency"].hist.to_json(),
        "client": {
            "workers": len(busy),
            "cpu_utilisation": busy,
            "max_cpu": max(busy, default=None),
        },
    }
    if result.open_loop:
        out["counts"]["not_sent"] = c["not_sent"]
        out["offered_rps"] = rate(c["scheduled"])
        out["achieved_send_rps"] = rate(c["sent_in_w"])
        waits = d["queue_wait"]
        out["counts"]["queued"] = waits.n
        out["queue_wait_ms"] = _summary(waits, get("queue_wait"))
    itl: F64 | None = None
    if c["token_rows"]:
        streaming, itl = _streaming(result, total, values, window_s)
        out.update(streaming)
    thresholds = {
        "ttft_ms": slo.ttft_s,
        "tpot_ms": slo.tpot_s,
        "e2e_ms": slo.e2e_s,
        "latency_ms": slo.latency_s,
    }
    if any(v is not None for v in thresholds.values()):
        out["goodput_rps"] = rate(c["good"])
        out["slo_attainment"] = c["good"] / sent if sent else None
        out["slo"] = {k: v * 1e3 for k, v in thresholds.items() if v is not None}
    out["vllm"] = _vllm(out, total, values, itl)
    if opened and w0 is not None and w1 is not None and (slices := _slices(result, w0, w1)):
        out["slices"] = slices
    return out
