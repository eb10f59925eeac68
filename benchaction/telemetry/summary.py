"""GPU numbers over a measurement window: means, maxima, energy per request and per token.

Window bounds are `time.perf_counter_ns()` values. The load engine reports its window relative
to its run start; pass that start as `clock_origin_ns` and the relative bounds, or pass
absolute bounds with the default origin 0. Times in the output are seconds relative to the
origin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .nvml_codes import GPM_METRICS, THROTTLE_REASONS, reason_names
from .recording import GpuRecording
from .series import Series

__all__ = ["energy_j", "summarize_gpus"]

LOW_COVERAGE = 0.95
FloatArray = npt.NDArray[np.float64]


def _clamped(t: FloatArray, start: int, end: int) -> tuple[float, float] | None:
    lo, hi = max(float(start), float(t[0])), min(float(end), float(t[-1]))
    return (lo, hi) if hi > lo else None


def energy_j(
    t_ns: npt.NDArray[np.int64], energy_mj: FloatArray, power_w: FloatArray, start: int, end: int
) -> tuple[float | None, str | None]:
    """Energy over [start, end] and its source: the counter's difference, else the power integral.

    Both interpolate linearly between the samples around each bound and cover only the span
    the samples reach (see `coverage`).
    """
    t = t_ns.astype(np.float64)
    ok = ~np.isnan(energy_mj)
    if ok.sum() >= 2:
        span = _clamped(t[ok], start, end)
        if span is not None:
            e0, e1 = np.interp(span, t[ok], energy_mj[ok])
            if e1 >= e0:
                return float(e1 - e0) / 1000.0, "counter"
    ok = ~np.isnan(power_w)
    if ok.sum() < 2:
        return None, None
    tp, p = t[ok], power_w[ok]
    span = _clamped(tp, start, end)
    if span is None:
        return None, None
    lo, hi = span
    grid = np.concatenate(([lo], tp[(tp > lo) & (tp < hi)], [hi]))
    values = np.interp(grid, tp, p)
    joules = float(np.sum((values[1:] + values[:-1]) / 2.0 * np.diff(grid))) / 1e9
    return joules, "power_integral"


def _per(value: float | None, count: int | None) -> float | None:
    return None if value is None or not count else value / count


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _gpu_summary(
    series: Series | None,
    device: dict[str, Any],
    start: int,
    end: int,
    requests: int | None,
    output_tokens: int | None,
) -> tuple[dict[str, Any], list[str]]:
    window_s = (end - start) / 1e9
    out: dict[str, Any] = {
        "index": device["index"],
        "name": device.get("name"),
        "uuid_hash": device.get("uuid_hash"),
    }
    notes: list[str] = []
    rows = series.select(start, end) if series is not None else None
    if series is None or rows is None or series.size == 0:
        out.update(samples=0, sample_rate_hz=0.0, coverage=0.0, energy_j=None, throttled=None)
        notes.append(f"GPU {device['index']}: no samples in the window")
        return out, notes
    samples = int(series.n[rows].sum())
    span = _clamped(series.t.astype(np.float64), start, end)
    coverage = 0.0 if span is None else (span[1] - span[0]) / (end - start)
    joules, source = energy_j(
        series.t, series.column("energy_mj"), series.column("power_w"), start, end
    )
    mask = int(np.bitwise_or.reduce(series.mask("clock_event_mask")[rows])) if rows.any() else 0
    known = series.extreme("clock_event_known", rows, largest=True) is not None
    mean, top = series.weighted_mean, series.extreme
    out.update(
        samples=samples,
        sample_rate_hz=_round(samples / window_s if window_s > 0 else None, 2),
        coverage=round(coverage, 4),
        utilization_gpu_mean_pct=_round(mean("utilization_gpu_pct", rows), 2),
        utilization_memory_mean_pct=_round(mean("utilization_memory_pct", rows), 2),
        memory_used_max_bytes=None
        if (m := top("memory_used_bytes", rows, largest=True)) is None
        else int(m),
        power_mean_w=_round(mean("power_w", rows), 2),
        temperature_max_c=top("temperature_c", rows, largest=True),
        sm_clock_mean_mhz=_round(mean("sm_clock_mhz", rows), 1),
        sm_clock_min_mhz=top("sm_clock_min_mhz", rows, largest=False),
        memory_clock_mean_mhz=_round(mean("memory_clock_mhz", rows), 1),
        energy_j=_round(joules),
        energy_source=source,
        energy_per_request_j=_round(_per(joules, requests), 6),
        energy_per_output_token_j=_round(_per(joules, output_tokens), 6),
        throttled=bool(mask & THROTTLE_REASONS) if known else None,
        throttle_reasons=reason_names(mask & THROTTLE_REASONS),
        clock_event_reasons=reason_names(mask) if known else None,
    )
    gpm = {
        f"{key.removesuffix('_pct')}_mean_pct": _round(mean(f"gpm_{key}", rows), 2)
        for key in GPM_METRICS.values()
    }
    out["gpm"] = gpm if any(v is not None for v in gpm.values()) else None
    out["gpm_unavailable_reason"] = device.get("gpm_unavailable_reason") if not out["gpm"] else None
    name = f"GPU {device['index']}"
    if coverage < LOW_COVERAGE:
        notes.append(f"{name}: samples cover {coverage:.0%} of the window")
    if source == "power_integral":
        notes.append(f"{name}: energy integrated from power samples (no total-energy counter)")
    if out["throttled"]:
        notes.append(f"{name}: clocks throttled ({', '.join(out['throttle_reasons'])})")
    return out, notes


def _total(gpus: list[dict[str, Any]], requests: int | None, tokens: int | None) -> dict[str, Any]:
    def values(key: str) -> list[Any]:
        return [g.get(key) for g in gpus if g.get(key) is not None]

    # A GPU whose samples miss part of the window would undercount: no total then.
    energies = [g.get("energy_j") for g in gpus if (g.get("coverage") or 0) >= LOW_COVERAGE]
    known = [float(e) for e in energies if e is not None]
    total_j = sum(known) if gpus and len(known) == len(gpus) else None
    sources = set(values("energy_source"))
    utils = values("utilization_gpu_mean_pct")
    flags = [g.get("throttled") for g in gpus]
    return {
        "gpus": len(gpus),
        "utilization_gpu_mean_pct": _round(sum(utils) / len(utils), 2) if utils else None,
        "memory_used_max_bytes": sum(memory)
        if (memory := values("memory_used_max_bytes"))
        else None,
        "power_mean_w": _round(sum(values("power_mean_w"))) if values("power_mean_w") else None,
        "energy_j": _round(total_j),
        "energy_source": sources.pop() if len(sources) == 1 else ("mixed" if sources else None),
        "energy_per_request_j": _round(_per(total_j, requests), 6),
        "energy_per_output_token_j": _round(_per(total_j, tokens), 6),
        "throttled": True if True in flags else (False if False in flags else None),
        "throttle_reasons": sorted({r for g in gpus for r in g.get("throttle_reasons") or []}),
    }


def summarize_gpus(
    recording: GpuRecording,
    window_start_ns: int,
    window_end_ns: int,
    requests: int | None = None,
    output_tokens: int | None = None,
    *,
    clock_origin_ns: int = 0,
    status: str = "ok",
    reason: str | None = None,
    source: str = "nvml",
) -> dict[str, Any]:
    """Per GPU and in total over the window; `status` becomes "lost" if a GPU left before its end.

    `status` comes from the source: "ok", "unavailable" (with `reason`; no GPUs, no total),
    "lost" (the monitor died) or "failed" (the sampler thread hit an unexpected error).
    """
    start, end = clock_origin_ns + window_start_ns, clock_origin_ns + window_end_ns
    if end <= start:
        raise ValueError(f"empty window: {window_start_ns} .. {window_end_ns}")
    gpus: list[dict[str, Any]] = []
    notes: list[str] = []
    with recording.lock:
        for index in sorted(recording.devices):
            summary, found = _gpu_summary(
                recording.series.get(index),
                recording.devices[index],
                start,
                end,
                requests,
                output_tokens,
            )
            lost = recording.lost.get(index)
            summary["lost"] = (
                None
                if lost is None
                else {"at_s": round((lost.t_ns - clock_origin_ns) / 1e9, 3), "reason": lost.reason}
            )
            if lost is not None and lost.t_ns <= end:
                notes.append(f"GPU {index} was lost before the window ended: {lost.reason}")
                if status == "ok":
                    status, reason = "lost", f"GPU {index} was lost: {lost.reason}"
            gpus.append(summary)
            notes.extend(found)
        fingerprint = recording.fingerprint
    return {
        "status": status,
        "reason": reason,
        "source": source,
        "window_s": round((end - start) / 1e9, 6),
        "requests": requests,
        "output_tokens": output_tokens,
        "fingerprint": fingerprint,
        "gpus": gpus,
        "total": None if status == "unavailable" else _total(gpus, requests, output_tokens),
        "notes": notes,
    }
