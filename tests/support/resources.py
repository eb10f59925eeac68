"""Resource telemetry for results documents, produced by the real summarisers.

Container stats go through `ContainerStatsSampler.feed` and `.summary`, GPU samples through
an NVML session on the scripted fake NVML, a `GpuRecording` and `summarize_gpus`, so the
trial records have exactly the shape a run writes.
"""

from __future__ import annotations

import copy
from typing import Any

from benchaction.results import ResultsDocument
from benchaction.telemetry import ContainerStatsSampler, open_session
from benchaction.telemetry.recording import GpuRecording
from benchaction.telemetry.summary import summarize_gpus
from tests.support.fake_nvml import FakeDevice, FakeNvml, ManualClock

S = 1_000_000_000
MIB = 2**20


class _NoStream:
    """A container whose stats the test feeds by hand; the stream is never opened."""

    def stats(self, **kwargs: Any) -> Any:
        raise AssertionError("the stats stream is not read in these tests")


def container_telemetry(memory_bytes: int, seconds: int = 5) -> dict[str, Any]:
    """The container summary of a window in which memory stood at `memory_bytes` (one stats
    object a second, as the engine sends them; inactive file cache subtracted as docker does)."""
    sampler = ContainerStatsSampler(_NoStream())
    for i in range(seconds + 1):
        sampler.feed(
            {
                "read": "2026-12-03T10:00:00Z",
                "cpu_stats": {
                    "cpu_usage": {"total_usage": (i + 1) * 500_000_000},
                    "system_cpu_usage": (i + 1) * 2 * S,
                    "online_cpus": 2,
                },
                "precpu_stats": {
                    "cpu_usage": {"total_usage": i * 500_000_000},
                    "system_cpu_usage": i * 2 * S,
                },
                "memory_stats": {
                    "usage": memory_bytes + 4 * MIB,
                    "stats": {"inactive_file": 4 * MIB},
                },
            },
            i * S,
        )
    return sampler.summary(0, seconds * S)


def gpu_telemetry(
    memory_bytes: int, watts: float, requests: int, output_tokens: int | None, seconds: int = 5
) -> dict[str, Any]:
    """The GPU summary of a window on one fake GPU drawing `watts` with `memory_bytes` in use,
    sampled at 10 Hz through an NVML session and a recording, as the sampler does."""
    clock = ManualClock()
    t0 = clock.t
    device = FakeDevice(
        "GPU-0000",
        values={"mem_used": memory_bytes, "energy_mj": lambda t: t * watts / 1e6},
    )
    session = open_session(nvml=FakeNvml([device], clock=clock))
    recording = GpuRecording()
    recording.fingerprint = session.fingerprint()
    recording.describe([d.describe() for d in session.devices])
    for _ in range(seconds * 10 + 1):
        recording.add(clock.t, session.sample_all(clock.t))
        clock.t += S // 10
    session.close()
    return summarize_gpus(recording, t0, t0 + seconds * S, requests, output_tokens)


def with_resources(
    doc: dict[str, Any] | ResultsDocument,
    *,
    cold_start_s: list[float],
    memory_mib: float,
    gpu_memory_mib: float | None = None,
    gpu_watts: float = 300.0,
    image_bytes: int | None = None,
) -> dict[str, Any]:
    """A copy of `doc` with one server instance per trial index (their cold starts in order)
    and each trial's container (and, with `gpu_memory_mib`, GPU) telemetry; trial i of every
    scenario ran on instance i, as the run loop does. `image_bytes` sets the image's size."""
    out: dict[str, Any] = copy.deepcopy(dict(doc))
    if image_bytes is not None:
        out["server"]["image"]["size_bytes"] = image_bytes
    out["instances"] = [
        {"instance": i, "cold_start_s": s, "container_id": f"{i:064x}", "pid": None}
        for i, s in enumerate(cold_start_s)
    ]
    for scenario in out["scenarios"]:
        for t in scenario["trials"]:
            wobble = 1 + 0.002 * (t["trial"] % 3 - 1)  # trial-to-trial spread, deterministic
            telemetry: dict[str, Any] = {
                "container": container_telemetry(int(memory_mib * MIB * wobble))
            }
            if gpu_memory_mib is None:
                telemetry["gpu"] = {"status": "unavailable", "reason": "no GPU in this test"}
            else:
                tokens = (t.get("tokens") or {}).get("output_total")
                telemetry["gpu"] = gpu_telemetry(
                    int(gpu_memory_mib * MIB * wobble),
                    gpu_watts * wobble,
                    t["counts"]["succeeded"],
                    tokens,
                )
            t["telemetry"] = telemetry
    return out
