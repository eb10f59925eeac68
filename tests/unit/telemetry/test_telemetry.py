"""GPU telemetry against a scripted fake NVML, the real no-driver path, and the monitor protocol."""

from __future__ import annotations

import _thread
import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import docker.errors
import numpy as np
import pytest

from benchaction.telemetry import (
    Available,
    ContainerStatsSampler,
    GpuSampler,
    MonitorReader,
    NvmlUnavailable,
    Unavailable,
    gpu_telemetry_status,
    open_session,
    run_monitor,
    stop_on_eof,
)
from benchaction.telemetry.container_stats import cpu_percent, memory_bytes
from benchaction.telemetry.nvml import load_nvml
from benchaction.telemetry.nvml_codes import cuda_version_text, reason_names
from benchaction.telemetry.recording import GpuRecording
from benchaction.telemetry.sampler import sample_loop
from benchaction.telemetry.series import Series
from benchaction.telemetry.summary import energy_j, summarize_gpus
from tests.support.fake_nvml import FakeDevice, FakeNvml, ManualClock
from tests.support.paths import REPO_ROOT

S = 1_000_000_000
MS = 1_000_000
GPM_ALL = {2: 40.0, 3: 30.0, 5: 20.0, 10: 10.0}


def watts(w: float, t0: int = 0) -> Any:
    """An energy counter (mJ) for a constant power of `w` watts since `t0`."""
    return lambda t: (t - t0) * w / 1e6


def record(fake: FakeNvml, clock: ManualClock, ticks: int, step_ns: int = 100 * MS) -> GpuRecording:
    """Sample every device `ticks` times, `step_ns` apart, into a recording."""
    session = open_session(nvml=fake)
    rec = GpuRecording()
    rec.fingerprint = session.fingerprint()
    rec.describe([d.describe() for d in session.devices])
    for _ in range(ticks):
        clock.t += step_ns
        rec.add(clock.t, session.sample_all(clock.t))
    session.close()
    return rec


# -- NVML session: devices, fingerprint, samples ---------------------------------------------


def test_fingerprint_fields_and_hashed_uuids() -> None:
    fake = FakeNvml([FakeDevice("GPU-1111"), FakeDevice("GPU-2222")], cuda_version=12040)
    session = open_session(nvml=fake)
    fp = session.fingerprint()
    session.close()
    assert fp["count"] == 2
    assert fp["name"] == "NVIDIA H100 80GB HBM3"
    assert fp["memory_total_bytes"] == 80 * 2**30
    assert fp["driver_version"] == "550.54.15"
    assert fp["cuda_driver_version"] == "12.4"
    gpu = fp["gpus"][0]
    assert gpu["power_limit_w"] == 700.0
    assert (gpu["max_sm_clock_mhz"], gpu["max_memory_clock_mhz"]) == (1980, 2619)
    assert (gpu["mig_mode"], gpu["ecc_mode"], gpu["persistence_mode"]) == (
        "disabled",
        "enabled",
        "enabled",
    )
    assert gpu["compute_capability"] == "9.0"
    assert gpu["uuid_hash"] == hashlib.sha256(b"GPU-1111").hexdigest()[:16]
    assert "GPU-1111" not in json.dumps(fp) and "GPU-2222" not in json.dumps(fp)
    assert fake.shutdowns == 1


def test_cuda_version_text_and_v1_fallback() -> None:
    assert cuda_version_text(12040) == "12.4"
    assert cuda_version_text(11080) == "11.8"
    fake = FakeNvml(hidden={"nvmlSystemGetCudaDriverVersion_v2"}, cuda_version=12020)
    assert open_session(nvml=fake).fingerprint()["cuda_driver_version"] == "12.2"


def test_mixed_gpus_fingerprint() -> None:
    fake = FakeNvml([FakeDevice("GPU-a", name="A100"), FakeDevice("GPU-b", name="L4")])
    fp = open_session(nvml=fake).fingerprint()
    assert fp["name"] == "A100 + L4"


def test_explicit_gpu_selection_by_index_and_uuid() -> None:
    fake = FakeNvml([FakeDevice("GPU-a"), FakeDevice("GPU-b"), FakeDevice("GPU-c")])
    assert [d.index for d in open_session(["2", "0"], nvml=fake).devices] == [2, 0]
    assert [d.index for d in open_session(["GPU-b"], nvml=fake).devices] == [1]
    with pytest.raises(NvmlUnavailable, match=r"GPU 5 was asked for but NVML sees 3"):
        open_session(["5"], nvml=fake)
    with pytest.raises(NvmlUnavailable, match="does not know that UUID"):
        open_session(["GPU-zzz"], nvml=fake)


def test_sample_every_metric_and_unit() -> None:
    clock = ManualClock()
    device = FakeDevice(
        "GPU-a",
        values={
            "util_gpu": 87,
            "util_mem": 41,
            "mem_used": 12 * 2**30,
            "power_mw": 312_500,
            "temp": 71,
            "sm_clock": 1755,
            "mem_clock": 2619,
            "throttle": 0x4 | 0x1,
            "energy_mj": 123_456,
        },
    )
    session = open_session(nvml=FakeNvml([device], clock=clock))
    sample = session.sample(session.devices[0], clock.t)
    assert sample == {
        "index": 0,
        "utilization_gpu_pct": 87.0,
        "utilization_memory_pct": 41.0,
        "memory_used_bytes": 12 * 2**30,
        "power_w": 312.5,
        "temperature_c": 71,
        "sm_clock_mhz": 1755,
        "memory_clock_mhz": 2619,
        "clock_event_mask": 5,
        "clock_event_reasons": ["gpu_idle", "sw_power_cap"],
        "energy_mj": 123_456,
        "gpm": None,
    }


@pytest.mark.parametrize("error", ["NotSupported", "NoPermission", "FunctionNotFound", "Timeout"])
def test_a_failing_field_is_none_and_the_rest_still_read(error: str) -> None:
    failing = {
        "nvmlDeviceGetTotalEnergyConsumption": error,
        "nvmlDeviceGetTemperature": error,
        "nvmlDeviceGetEccMode": error,
        "nvmlDeviceGetEnforcedPowerLimit": error,
    }
    session = open_session(nvml=FakeNvml(failing=failing))
    sample = session.sample(session.devices[0], 1)
    assert sample["energy_mj"] is None and sample["temperature_c"] is None
    assert sample["power_w"] == 300.0 and sample["utilization_gpu_pct"] == 50.0
    gpu = session.fingerprint()["gpus"][0]
    assert gpu["ecc_mode"] is None
    assert gpu["power_limit_w"] == 700.0, "falls back to the power management limit"
    assert session.live, "a missing field never marks a GPU lost"


def test_throttle_reasons_fall_back_to_the_older_call() -> None:
    values = {"throttle": 0x40}
    for fake in (
        FakeNvml(
            [FakeDevice("GPU-a", values=values)], hidden={"nvmlDeviceGetCurrentClocksEventReasons"}
        ),
        FakeNvml(
            [FakeDevice("GPU-a", values=values)],
            failing={"nvmlDeviceGetCurrentClocksEventReasons": "FunctionNotFound"},
        ),
    ):
        session = open_session(nvml=fake)
        assert session.sample(session.devices[0], 1)["clock_event_reasons"] == [
            "hw_thermal_slowdown"
        ]
        assert "nvmlDeviceGetCurrentClocksThrottleReasons" in fake.calls
    assert reason_names(0x1FF) == [
        "gpu_idle",
        "applications_clocks_setting",
        "sw_power_cap",
        "hw_slowdown",
        "sync_boost",
        "sw_thermal_slowdown",
        "hw_thermal_slowdown",
        "hw_power_brake_slowdown",
        "display_clock_setting",
    ]


@pytest.mark.parametrize("error", ["GpuIsLost", "Unknown"])
def test_a_lost_gpu_stops_being_sampled_and_the_others_continue(error: str) -> None:
    clock = ManualClock()
    lost = FakeDevice("GPU-b", lost_after_samples=3, lost_error=error)
    fake = FakeNvml([FakeDevice("GPU-a"), lost], clock=clock)
    session = open_session(nvml=fake)
    ticks = []
    for _ in range(6):
        clock.t += 100 * MS
        ticks.append(session.sample_all(clock.t))
    assert [len(t) for t in ticks] == [2, 2, 2, 2, 1, 1]
    marker = ticks[3][1]
    assert marker["lost"] is True and marker["index"] == 1 and error in marker["reason"]
    assert session.devices[1].lost_at_ns == 1_400 * MS
    assert lost.samples == 4, "no NVML call for the lost GPU after it was lost"
    assert all(t[0]["index"] == 0 and "lost" not in t[0] for t in ticks)


def test_lost_gpu_in_the_summary() -> None:
    clock = ManualClock(0)
    fake = FakeNvml(
        [
            FakeDevice("GPU-a", values={"energy_mj": watts(100)}),
            FakeDevice("GPU-b", values={"energy_mj": watts(100)}, lost_after_samples=5),
        ],
        clock=clock,
    )
    rec = record(fake, clock, 20)
    out = summarize_gpus(rec, 100 * MS, 2 * S)
    assert out["status"] == "lost" and "GPU 1 was lost" in out["reason"]
    assert out["gpus"][1]["lost"]["at_s"] == 0.6
    assert out["gpus"][0]["lost"] is None and out["gpus"][0]["energy_j"] == pytest.approx(190)
    assert out["total"]["energy_j"] is None, "a GPU that misses part of the window: no total"
    before = summarize_gpus(rec, 100 * MS, 500 * MS)
    assert before["status"] == "ok", "lost after the window: that window is fine"


# -- availability -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("init_error", "words"),
    [
        ("LibraryNotFound", "no NVIDIA driver"),
        ("DriverNotLoaded", "driver is not loaded"),
        ("NoPermission", "insufficient permissions"),
        ("LibRmVersionMismatch", "differ in version"),
        ("Timeout", "could not be initialised"),
    ],
)
def test_unavailable_reasons(init_error: str, words: str) -> None:
    status = gpu_telemetry_status(nvml=FakeNvml(init_error=init_error))
    assert isinstance(status, Unavailable) and words in status.reason


def test_no_device_and_available() -> None:
    status = gpu_telemetry_status(nvml=FakeNvml([]))
    assert isinstance(status, Unavailable) and "no NVIDIA GPU is visible" in status.reason
    fake = FakeNvml([FakeDevice("a"), FakeDevice("b")])
    assert gpu_telemetry_status(nvml=fake) == Available(gpu_count=2, driver_version="550.54.15")
    assert fake.shutdowns == 1 and not fake.gpm_allocated, "the status check enables no GPM"


def test_missing_bindings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(NvmlUnavailable, match="nvidia-ml-py"):
        load_nvml()
    assert isinstance(gpu_telemetry_status(), Unavailable)


def test_the_real_bindings_without_a_driver() -> None:
    """The real pynvml on a machine with no NVIDIA driver: a reason, never an exception."""
    status = gpu_telemetry_status()
    if isinstance(status, Available):
        pytest.skip("this machine has a working NVIDIA driver")
    assert "driver" in status.reason.lower() or "library" in status.reason.lower()
    sampler = GpuSampler()
    assert isinstance(sampler.start(), Unavailable)
    out = sampler.summary(0, S, requests=10)
    sampler.stop()
    assert out["status"] == "unavailable" and "driver" in out["reason"]
    assert out["gpus"] == [] and out["total"] is None


# -- GPM ------------------------------------------------------------------------------------


def test_gpm_metrics_over_two_samples() -> None:
    clock = ManualClock()
    device = FakeDevice("GPU-h", gpm_supported=True, gpm=dict(GPM_ALL), gpm_failing_metrics={10})
    fake = FakeNvml([device], clock=clock)
    session = open_session(nvml=fake)
    assert session.devices[0].gpm_unavailable_reason is None
    first = session.sample(session.devices[0], clock.t)
    assert first["gpm"] is None, "the first GPM sample has nothing to compare with"
    clock.t += 50 * MS
    assert session.sample(session.devices[0], clock.t)["gpm"] is None, "under 100 ms: skipped"
    clock.t += 60 * MS
    assert session.sample(session.devices[0], clock.t)["gpm"] == {
        "sm_util_pct": 40.0,
        "sm_occupancy_pct": 30.0,
        "tensor_util_pct": 20.0,
        "dram_bw_util_pct": None,
    }
    clock.t += 100 * MS
    assert session.sample(session.devices[0], clock.t)["gpm"]["sm_util_pct"] == 40.0
    session.close()
    assert len(fake.gpm_allocated) == 2 and all(s.freed for s in fake.gpm_allocated)


@pytest.mark.parametrize(
    ("device", "fake_options", "reason"),
    [
        (FakeDevice("a", gpm_supported=False), {}, "not supported on this GPU"),
        (FakeDevice("a", gpm_supported=None), {}, "not supported on this GPU"),
        (
            FakeDevice("a", gpm_supported=True),
            {"failing": {"nvmlGpmQueryDeviceSupport": "FunctionNotFound"}},
            "driver has no GPM",
        ),
        (
            FakeDevice("a", gpm_supported=True),
            {"hidden": {"nvmlGpmQueryDeviceSupport"}},
            "bindings have no GPM",
        ),
    ],
)
def test_gpm_unsupported_is_a_reason(
    device: FakeDevice, fake_options: dict[str, Any], reason: str
) -> None:
    session = open_session(nvml=FakeNvml([device], **fake_options))
    assert reason in str(session.devices[0].gpm_unavailable_reason)
    assert session.sample(session.devices[0], 1)["gpm"] is None


def test_gpm_failing_mid_run_is_turned_off_with_a_reason() -> None:
    clock = ManualClock()
    fake = FakeNvml([FakeDevice("a", gpm_supported=True, gpm=dict(GPM_ALL))], clock=clock)
    session = open_session(nvml=fake)
    session.sample(session.devices[0], clock.t)
    fake.failing["nvmlGpmSampleGet"] = "InUse"
    clock.t += 200 * MS
    sample = session.sample(session.devices[0], clock.t)
    assert sample["gpm"] is None and sample["power_w"] == 300.0
    assert "GPM sampling failed" in str(session.devices[0].gpm_unavailable_reason)
    assert all(s.freed for s in fake.gpm_allocated)


# -- series and summary -----------------------------------------------------------------------


def test_energy_from_the_counter_interpolates_at_the_window_bounds() -> None:
    t = np.array([0, 100, 200, 300], dtype=np.int64) * MS
    counter = np.array([0.0, 10_000.0, 20_000.0, 30_000.0])  # 100 W
    power = np.full(4, np.nan)
    assert energy_j(t, counter, power, 50 * MS, 250 * MS) == (pytest.approx(20.0), "counter")
    joules, source = energy_j(t, np.full(4, np.nan), np.full(4, 100.0), 50 * MS, 250 * MS)
    assert source == "power_integral" and joules == pytest.approx(20.0)
    assert energy_j(t, np.full(4, np.nan), np.full(4, np.nan), 0, 300 * MS) == (None, None)
    reset = np.array([5_000.0, 6_000.0, 10.0, 20.0])  # a counter that went backwards
    assert energy_j(t, reset, np.full(4, 50.0), 0, 300 * MS)[1] == "power_integral"


def test_summary_window_energy_per_request_and_token() -> None:
    clock = ManualClock(0)
    fake = FakeNvml([FakeDevice("a", values={"energy_mj": watts(250)})], clock=clock)
    rec = record(fake, clock, 50)
    out = summarize_gpus(rec, 1 * S, 3 * S, requests=400, output_tokens=20_000)
    gpu = out["gpus"][0]
    assert out["status"] == "ok" and out["fingerprint"]["count"] == 1
    assert gpu["energy_j"] == pytest.approx(500.0) and gpu["energy_source"] == "counter"
    assert gpu["energy_per_request_j"] == pytest.approx(1.25)
    assert gpu["energy_per_output_token_j"] == pytest.approx(0.025)
    assert gpu["samples"] == 21 and gpu["sample_rate_hz"] == pytest.approx(10.5)
    assert gpu["coverage"] == 1.0 and out["notes"] == []
    assert out["total"]["energy_j"] == pytest.approx(500.0)
    assert out["total"]["energy_per_request_j"] == pytest.approx(1.25)
    origin = 700 * MS
    relative = summarize_gpus(rec, 300 * MS, 2300 * MS, 400, 20_000, clock_origin_ns=origin)
    assert relative["gpus"] == out["gpus"], "relative bounds plus origin = absolute bounds"
    with pytest.raises(ValueError, match="empty window"):
        summarize_gpus(rec, S, S)


def test_summary_means_maxima_and_power_fallback() -> None:
    clock = ManualClock(0)
    values = {
        "util_gpu": lambda t: 100 if t // (100 * MS) % 2 else 0,
        "mem_used": lambda t: t // MS,
        "sm_clock": lambda t: 1500 if t == 1 * S else 1800,
        "power_mw": 200_000,
        "temp": lambda t: 50 + t // S,
    }
    fake = FakeNvml(
        [FakeDevice("a", values=values)],
        clock=clock,
        failing={"nvmlDeviceGetTotalEnergyConsumption": "NotSupported"},
    )
    rec = record(fake, clock, 30)
    gpu = summarize_gpus(rec, 500 * MS, 1500 * MS, requests=10)["gpus"][0]
    assert gpu["utilization_gpu_mean_pct"] == pytest.approx(100 * 6 / 11, abs=0.01)
    assert gpu["memory_used_max_bytes"] == 1500
    assert gpu["sm_clock_min_mhz"] == 1500.0
    assert gpu["sm_clock_mean_mhz"] == pytest.approx((1800 * 10 + 1500) / 11, abs=0.1)
    assert gpu["temperature_max_c"] == 51
    assert gpu["energy_source"] == "power_integral" and gpu["energy_j"] == pytest.approx(200.0)
    out = summarize_gpus(rec, 500 * MS, 1500 * MS)
    assert any("integrated from power" in n for n in out["notes"])


def test_throttling_flags_only_power_and_thermal_reasons() -> None:
    clock = ManualClock(0)
    throttle = lambda t: 0x20 if 1 * S <= t < 12 * S // 10 else 0x1  # noqa: E731
    fake = FakeNvml([FakeDevice("a", values={"throttle": throttle})], clock=clock)
    rec = record(fake, clock, 30)
    hot = summarize_gpus(rec, 500 * MS, 1500 * MS)
    assert hot["gpus"][0]["throttled"] is True
    assert hot["gpus"][0]["throttle_reasons"] == ["sw_thermal_slowdown"]
    assert hot["gpus"][0]["clock_event_reasons"] == ["gpu_idle", "sw_thermal_slowdown"]
    assert hot["total"]["throttled"] is True and any("throttled" in n for n in hot["notes"])
    idle = summarize_gpus(rec, 2 * S, 3 * S)
    assert idle["gpus"][0]["throttled"] is False and idle["gpus"][0]["throttle_reasons"] == []
    unknown = FakeNvml(
        clock=clock,
        hidden={
            "nvmlDeviceGetCurrentClocksEventReasons",
            "nvmlDeviceGetCurrentClocksThrottleReasons",
        },
    )
    gpu = summarize_gpus(record(unknown, clock, 5), clock.t - 400 * MS, clock.t)["gpus"][0]
    assert gpu["throttled"] is None and gpu["clock_event_reasons"] is None


def test_low_coverage_is_noted() -> None:
    clock = ManualClock(0)
    rec = record(FakeNvml(clock=clock), clock, 10)
    out = summarize_gpus(rec, 500 * MS, 2 * S)
    assert out["gpus"][0]["coverage"] == pytest.approx(0.5 / 1.5, abs=1e-3)
    assert any("cover 33%" in n for n in out["notes"])
    assert out["total"]["energy_j"] is None


def test_series_stays_bounded_and_keeps_what_summaries_need() -> None:
    series = Series({"v": "mean", "hi": "max", "lo": "min", "c": "last", "m": "or"}, max_rows=8)
    for i in range(100):
        series.add(i * MS, {"v": float(i % 2), "hi": i, "lo": i, "c": i * 10, "m": 1 << (i % 5)})
    assert series.size <= 8 and series.compactions > 0
    assert int(series.n.sum()) == 100 and series.t[-1] == 99 * MS
    everything = series.select(0, 100 * MS)
    assert series.weighted_mean("v", everything) == pytest.approx(0.5)
    assert series.extreme("hi", everything, largest=True) == 99
    assert series.extreme("lo", everything, largest=False) == 0
    assert series.column("c")[-1] == 990
    assert int(np.bitwise_or.reduce(series.mask("m"))) == 0b11111
    assert np.all(np.diff(series.t) > 0)


def test_energy_survives_compaction() -> None:
    clock = ManualClock(0)
    fake = FakeNvml([FakeDevice("a", values={"energy_mj": watts(100)})], clock=clock)
    session = open_session(nvml=fake)
    rec = GpuRecording(max_rows=16)
    rec.describe([d.describe() for d in session.devices])
    for _ in range(1000):
        clock.t += 10 * MS
        rec.add(clock.t, session.sample_all(clock.t))
    gpu = summarize_gpus(rec, 1 * S, 9 * S, requests=80)["gpus"][0]
    assert rec.series[0].size <= 16
    assert gpu["energy_j"] == pytest.approx(800.0, rel=0.02)
    assert gpu["power_mean_w"] == 300.0


# -- the background sampler ---------------------------------------------------------------


def test_sampler_thread_samples_at_its_rate() -> None:
    fake = FakeNvml([FakeDevice("a", values={"energy_mj": watts(200)}), FakeDevice("b")])
    with GpuSampler(rate_hz=100, nvml=fake) as sampler:
        assert sampler.status == Available(2, "550.54.15")
        t0 = time.perf_counter_ns()
        time.sleep(0.5)
        t1 = time.perf_counter_ns()
    out = sampler.summary(t0, t1, requests=5)
    assert out["status"] == "ok" and sampler.stopped_because == "stopped"
    gpu = out["gpus"][0]
    assert 25 <= gpu["samples"] <= 55 and 50 <= gpu["sample_rate_hz"] <= 110
    assert gpu["energy_j"] == pytest.approx(200 * (t1 - t0) / 1e9, rel=0.05)
    assert sampler.fingerprint is not None and sampler.fingerprint["count"] == 2
    assert fake.shutdowns == 1


def test_sample_loop_ends_on_time_and_when_all_gpus_are_lost() -> None:
    session = open_session(nvml=FakeNvml())
    ticks: list[int] = []
    reason = sample_loop(
        session, lambda t, g: ticks.append(t), threading.Event(), rate_hz=50, max_seconds=0.2
    )
    assert reason == "max duration" and 5 <= len(ticks) <= 12
    lost = open_session(nvml=FakeNvml([FakeDevice("a", lost_after_samples=2)]))
    assert sample_loop(lost, lambda t, g: None, threading.Event(), rate_hz=100) == "all GPUs lost"


def test_sampler_unavailable_and_failing() -> None:
    sampler = GpuSampler(nvml=FakeNvml(init_error="DriverNotLoaded"))
    assert isinstance(sampler.start(), Unavailable)
    assert sampler.summary(0, S)["status"] == "unavailable"
    sampler.stop()
    assert (
        GpuSampler(nvml=FakeNvml()).summary(0, S)["reason"] == "the GPU sampler was never started"
    )

    class Broken(FakeNvml):
        def nvmlDeviceGetPowerUsage(self, handle: FakeDevice) -> int:
            raise RuntimeError("surprise")

    broken = GpuSampler(rate_hz=100, nvml=Broken())
    broken.start()
    broken._thread.join(2)  # type: ignore[union-attr]
    out = broken.summary(0, time.perf_counter_ns())
    broken.stop()
    assert out["status"] == "failed" and "surprise" in out["reason"]


# -- the monitor protocol -------------------------------------------------------------------


def monitor_lines(fake: FakeNvml, **options: Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    assert run_monitor(out, nvml=fake, **options) == 0
    text = out.getvalue().decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_monitor_writes_hello_samples_bye() -> None:
    fake = FakeNvml([FakeDevice("GPU-secret", values={"energy_mj": watts(150)})])
    lines = monitor_lines(fake, rate_hz=50, max_seconds=0.3)
    hello, samples, bye = lines[0], lines[1:-1], lines[-1]
    assert hello["type"] == "hello" and hello["version"] == 1 and hello["rate_hz"] == 50
    assert hello["fingerprint"]["count"] == 1 and hello["devices"][0]["index"] == 0
    assert "GPU-secret" not in json.dumps(lines)
    assert 8 <= len(samples) <= 18 and all(s["type"] == "sample" for s in samples)
    assert all(isinstance(s["t_ns"], int) for s in samples)
    assert samples[0]["gpus"][0]["power_w"] == 300.0
    assert bye == {"type": "bye", "reason": "max duration", "ticks": len(samples)}


def test_monitor_without_a_gpu_says_why_and_exits_0() -> None:
    lines = monitor_lines(FakeNvml(init_error="LibraryNotFound"))
    assert len(lines) == 1 and lines[0]["type"] == "unavailable"
    assert "driver" in lines[0]["reason"]


def test_monitor_stops_when_told_and_says_bye_when_interrupted() -> None:
    stop = threading.Event()
    out = io.BytesIO()
    threading.Timer(0.2, stop.set).start()
    run_monitor(out, nvml=FakeNvml(), rate_hz=50, stop=stop)
    assert json.loads(out.getvalue().splitlines()[-1])["reason"] == "stopped"

    out = io.BytesIO()
    threading.Timer(0.2, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt):
        run_monitor(out, nvml=FakeNvml(), rate_hz=50, max_seconds=5)
    last = json.loads(out.getvalue().splitlines()[-1])
    assert last["type"] == "bye" and last["reason"] == "interrupted"


def test_stop_on_eof_watches_pipes_only() -> None:
    read_fd, write_fd = os.pipe()
    stop = threading.Event()
    with os.fdopen(read_fd, "rb", buffering=0) as stream:
        thread = stop_on_eof(stream, stop)
        assert thread is not None and not stop.is_set()
        os.write(write_fd, b"anything\n")
        os.close(write_fd)
        assert stop.wait(5)
    with open(os.devnull, "rb") as null:
        assert stop_on_eof(null, threading.Event()) is None


def stream_of(fake: FakeNvml, **options: Any) -> bytes:
    out = io.BytesIO()
    run_monitor(out, nvml=fake, **options)
    return out.getvalue()


def test_reader_matches_the_in_process_summary_across_any_chunking() -> None:
    clock = ManualClock(0)

    def advancing() -> int:  # the monitor's clock: 100 ms pass at every reading
        clock.t += 100 * MS
        return clock.t

    device = FakeDevice("a", values={"energy_mj": watts(120), "throttle": 0x4})
    fake = FakeNvml([device], clock=clock)
    data = stream_of(fake, rate_hz=1000, max_seconds=10, clock=advancing)
    whole = MonitorReader()
    whole.consume([data])
    pieces = MonitorReader()
    pieces.consume(data[i : i + 7] for i in range(0, len(data), 7))
    assert whole.status == pieces.status == "done"
    a, b = whole.summary(S, 3 * S, 10, 100), pieces.summary(S, 3 * S, 10, 100)
    assert a == b and a["status"] == "ok" and a["source"] == "monitor"
    assert a["gpus"][0]["energy_j"] == pytest.approx(240.0) and a["gpus"][0]["throttled"]
    assert a["stream"] == {
        "lines": whole.lines,
        "garbage_lines": 0,
        "unknown_lines": 0,
        "torn_lines": 0,
    }
    assert whole.fingerprint is not None and whole.fingerprint["count"] == 1


def test_reader_survives_garbage_torn_lines_and_a_dying_monitor() -> None:
    hello = {"type": "hello", "version": 1, "fingerprint": {"count": 1}, "devices": [{"index": 0}]}
    sample = {"type": "sample", "gpus": [{"index": 0, "power_w": 100.0, "energy_mj": 0}]}
    lines = [json.dumps(hello), "not json at all", "[1, 2]", json.dumps({"type": "future"})]
    for i in range(5):
        s = dict(sample, t_ns=i * 100 * MS)
        s["gpus"] = [dict(sample["gpus"][0], energy_mj=i * 10_000)]
        lines.append(json.dumps(s))
    data = ("\n".join(lines) + '\n{"type": "sample", "t_ns": 5000').encode()
    reader = MonitorReader()
    for byte in range(len(data)):
        reader.feed(data[byte : byte + 1])
    assert reader.status == "running"
    reader.close()
    assert reader.status == "lost" and "without saying goodbye after 5 sample" in str(reader.reason)
    assert (reader.garbage_lines, reader.unknown_lines, reader.torn_lines) == (2, 1, 1)
    out = reader.summary(0, 400 * MS, requests=4)
    assert out["status"] == "lost" and out["gpus"][0]["samples"] == 5
    assert out["gpus"][0]["energy_j"] == pytest.approx(40.0), "what was received is kept"


def test_reader_other_endings() -> None:
    silent = MonitorReader()
    silent.close()
    assert silent.status == "lost" and "before saying hello" in str(silent.reason)
    assert MonitorReader().summary(0, S)["status"] == "lost"
    unavailable = MonitorReader()
    unavailable.consume([b'{"type":"unavailable","version":1,"reason":"no NVIDIA driver"}\n'])
    out = unavailable.summary(0, S)
    assert unavailable.status == "unavailable" and out["reason"] == "no NVIDIA driver"
    assert out["total"] is None
    complete = MonitorReader()
    complete.consume([b'{"type":"hello","version":1,"devices":[]}\n{"type":"bye"}'])
    assert complete.status == "done" and complete.torn_lines == 0, "a last line without \\n is fine"


def test_reader_bounds_an_endless_line_and_sees_lost_gpus() -> None:
    reader = MonitorReader()
    reader.feed(b'{"type":"hello","version":1,"devices":[{"index":0},{"index":1}]}\n')
    for _ in range(3):
        reader.feed(b"x" * 600_000)
    assert len(reader._pending) == 0 and reader.garbage_lines == 1
    reader.feed(
        b'tail\n{"type":"sample","t_ns":5,"gpus":[{"index":1,"lost":true,"reason":"GPU is lost"}]}\n'
    )
    reader.feed(b'{"type":"bye"}\n')
    reader.close()
    out = reader.summary(0, 10)
    assert reader.status == "done" and out["status"] == "lost" and "GPU 1" in out["reason"]


def test_gpu_monitor_cli_without_a_gpu() -> None:
    """`python -m benchaction gpu-monitor` as a real process: an unavailable line, exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", "benchaction", "gpu-monitor", "--max-seconds", "1"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    lines = done.stdout.decode().splitlines()
    if lines and json.loads(lines[0])["type"] == "hello":
        pytest.skip("this machine has a working NVIDIA driver")
    assert done.returncode == 0, done.stderr.decode()
    assert len(lines) == 1 and json.loads(lines[0])["type"] == "unavailable"
    assert "Traceback" not in done.stderr.decode()


def test_gpu_monitor_cli_rejects_a_bad_rate(capsys: pytest.CaptureFixture[str]) -> None:
    from benchaction.cli import main

    assert main(["gpu-monitor", "--rate", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err


# -- container stats (the formulas; the real stream is in tests/integration) -----------------


def docker_stats(
    cpu: int, pre_cpu: int, system: int, pre_system: int, **more: Any
) -> dict[str, Any]:
    return {
        "cpu_stats": {
            "cpu_usage": {"total_usage": cpu},
            "system_cpu_usage": system,
            "online_cpus": 4,
        },
        "precpu_stats": {"cpu_usage": {"total_usage": pre_cpu}, "system_cpu_usage": pre_system},
        "memory_stats": {"usage": 1000, "stats": {"inactive_file": 300}},
        **more,
    }


def test_cpu_percent_as_docker_computes_it() -> None:
    assert cpu_percent(docker_stats(2_000, 1_000, 8_000, 4_000)) == pytest.approx(100.0)
    no_online = docker_stats(2_000, 1_000, 8_000, 4_000)
    del no_online["cpu_stats"]["online_cpus"]
    no_online["cpu_stats"]["cpu_usage"]["percpu_usage"] = [1, 1]
    assert cpu_percent(no_online) == pytest.approx(50.0)
    first = docker_stats(2_000, 0, 8_000, 0)
    del first["precpu_stats"]["system_cpu_usage"]
    assert cpu_percent(first) is None
    assert cpu_percent(docker_stats(1, 1, 5, 5)) is None
    assert cpu_percent({}) is None


def test_memory_minus_inactive_file_cache() -> None:
    assert memory_bytes(docker_stats(0, 0, 0, 0)) == 700
    v1 = {
        "memory_stats": {"usage": 1000, "stats": {"total_inactive_file": 100, "inactive_file": 5}}
    }
    assert memory_bytes(v1) == 900
    assert memory_bytes({"memory_stats": {"usage": 1000, "stats": {"inactive_file": 2000}}}) == 1000
    assert memory_bytes({"memory_stats": {}}) is None


class FakeContainer:
    """Yields scripted stats objects, then ends or raises, like docker-py's stream."""

    def __init__(
        self, items: list[dict[str, Any]], end: BaseException | None = None, forever: bool = False
    ):
        self.items, self.end, self.forever = items, end, forever

    def stats(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        assert kwargs == {"stream": True, "decode": True}
        yield from self.items
        for _ in range(10_000 if self.forever else 0):
            time.sleep(0.01)
            yield self.items[-1]
        if self.end is not None:
            raise self.end


def test_container_stats_summary_and_endings() -> None:
    busy = docker_stats(2_000, 1_000, 8_000, 4_000)
    half = docker_stats(1_500, 1_000, 8_000, 4_000)
    clock = ManualClock(0)

    def tick() -> int:
        clock.t += S
        return clock.t

    sampler = ContainerStatsSampler(FakeContainer([busy, half, busy]), clock=tick)
    sampler.start()
    assert sampler.wait_ended(5) and sampler.error is None
    out = sampler.summary(S, 3 * S)
    assert out == {
        "status": "ok",
        "reason": None,
        "cpu_mean_pct": pytest.approx(250 / 3, abs=0.01),
        "cpu_max_pct": 100.0,
        "memory_max_bytes": 700,
        "samples": 3,
    }
    assert sampler.summary(10 * S, 11 * S)["samples"] == 0

    after_exit = {"read": "0001-01-01T00:00:00Z", "cpu_stats": {}, "memory_stats": {}}
    exited = ContainerStatsSampler(FakeContainer([busy, after_exit, busy], forever=True))
    exited.start()
    assert exited.wait_ended(5) and exited.container_stopped and exited.messages == 1

    gone = ContainerStatsSampler(FakeContainer([busy], docker.errors.NotFound("gone")))
    gone.start()
    assert gone.wait_ended(5) and gone.error is None and gone.messages == 1
    failing = ContainerStatsSampler(FakeContainer([], docker.errors.APIError("engine down")))
    failing.start()
    assert failing.wait_ended(5) and "engine down" in str(failing.error)
    assert failing.summary(0, S)["status"] == "failed"

    endless = ContainerStatsSampler(FakeContainer([busy], forever=True))
    endless.start()
    time.sleep(0.05)
    assert endless.stop(timeout_s=2) and endless.ended
