"""Turn one run's request records into the trial metrics of the results document.

Definitions follow the reference (load-generators.md, section b): latency runs from the
scheduled send (coordinated-omission safe), service time from the actual send; throughput
counts successes that end inside the measurement window W and divides by |W|.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from benchaction.engine.closed_loop import LoadResult
from benchaction.engine.records import ErrorClass, Phase
from benchaction.histogram import LogHistogram

__all__ = ["MIN_SAMPLES", "PERCENTILES", "nearest_rank", "trial_metrics"]

PERCENTILES = (50, 90, 95, 99)
MIN_SAMPLES = 100
"""Fewer successes than this in W make the trial invalid: a p99 needs at least 100 values."""

_MS = 1e6
_S = 1e9


def nearest_rank(sorted_values: npt.NDArray[Any], p: float) -> float:
    """The p-th percentile as the value at rank ceil(p/100 * n) of the sorted sample."""
    n = sorted_values.size
    if n == 0:
        return math.nan
    return float(sorted_values[max(1, math.ceil(p / 100.0 * n)) - 1])


def _distribution_ms(values_ns: npt.NDArray[np.int64]) -> dict[str, float | None]:
    if values_ns.size == 0:
        keys = ["mean", "min", *(f"p{p}" for p in PERCENTILES), "max"]
        return dict.fromkeys(keys, None)
    v = np.sort(values_ns) / _MS
    out: dict[str, float | None] = {"mean": float(v.mean()), "min": float(v[0])}
    out.update({f"p{p}": nearest_rank(v, p) for p in PERCENTILES})
    out["max"] = float(v[-1])
    return out


def trial_metrics(result: LoadResult) -> dict[str, Any]:
    """Metrics of one trial of one scenario, ready for the results document."""
    rec = result.records
    phase, error = rec.column("phase"), rec.column("error")
    t_sched, t_send, t_first, t_end = (
        rec.column(c) for c in ("t_sched", "t_send", "t_first", "t_end")
    )
    measured = phase == Phase.MEASURED
    ok = error == ErrorClass.OK
    good = measured & ok
    w0, w1 = result.window_start_ns, result.window_end_ns
    reasons: list[str] = []
    if w0 is None or w1 is None or w1 <= w0:
        reasons.append("the measurement window never opened: warmup did not finish")
        window_s = 0.0
        throughput = 0.0
        rx = 0.0
    else:
        window_s = (w1 - w0) / _S
        in_window = ok & (t_end >= w0) & (t_end <= w1)
        throughput = float(in_window.sum()) / window_s
        rx = float(rec.column("nbytes")[(t_end >= w0) & (t_end <= w1)].sum()) / window_s
    scheduled = int(measured.sum())
    succeeded = int(good.sum())
    failed = scheduled - succeeded
    if succeeded == 0:
        reasons.append("no request succeeded in the measurement window")
    elif succeeded < MIN_SAMPLES:
        reasons.append(
            f"only {succeeded} successful requests in the measurement window; at least "
            f"{MIN_SAMPLES} are needed for a p99 (raise the scenario's duration or requests)"
        )
    if result.cut_off:
        reasons.append(
            f"the run hit its hard time limit with {result.cut_off} requests still in flight"
        )
    errors = {
        ErrorClass(int(c)).label: int(n)
        for c, n in zip(*np.unique(error[measured & ~ok], return_counts=True), strict=True)
    }
    codes, code_counts = np.unique(
        rec.column("status")[measured & (rec.column("status") > 0)], return_counts=True
    )
    latency = (t_end - t_sched)[good]
    has_first = good & (t_first >= 0)
    return {
        "valid": not reasons,
        "invalid_reasons": reasons,
        "window": {
            "start_s": None if w0 is None else w0 / _S,
            "end_s": None if w1 is None else w1 / _S,
            "duration_s": window_s,
        },
        "counts": {
            "scheduled": scheduled,
            "succeeded": succeeded,
            "failed": failed,
            "warmup": int((phase == Phase.WARMUP).sum()),
            "cut_off": result.cut_off,
        },
        "errors": errors,
        "status_codes": {str(int(c)): int(n) for c, n in zip(codes, code_counts, strict=True)},
        "error_rate": failed / scheduled if scheduled else 0.0,
        "throughput_rps": throughput,
        "rx_bytes_per_s": rx,
        "latency_ms": _distribution_ms(latency),
        "service_time_ms": _distribution_ms((t_end - t_send)[good]),
        "ttfb_ms": _distribution_ms((t_first - t_send)[has_first]),
        "dispatch_lag_ms": _distribution_ms((t_send - t_sched)[measured]),
        "histogram": LogHistogram.from_values(latency).to_json(),
    }
