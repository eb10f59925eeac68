"""The protocol a run's GPU source follows: the in-process sampler and the monitor's reader alike.

Both record into a `GpuRecording`, so the summary and the fingerprint are written once here and
inherited; a source supplies its recording, its name and how its sampling has gone.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from .recording import GpuRecording
from .summary import summarize_gpus

__all__ = ["GpuSource"]


class GpuSource(Protocol):
    """What `GpuTelemetry` reads per run: a fingerprint once, then one summary per window.

    `GpuSampler` and `MonitorReader` subclass it explicitly to inherit `fingerprint` and `summary`.
    """

    source_name: ClassVar[str]
    """Where the samples come from ("nvml" or "monitor"), so results say which path measured."""

    recording: GpuRecording
    """The samples gathered so far; summaries and the fingerprint read them, whatever fed them."""

    @property
    def fingerprint(self) -> dict[str, Any] | None:
        """The GPUs' fingerprint once known, so the results can tell two machines apart."""
        return self.recording.fingerprint

    @property
    def unavailable_reason(self) -> str | None:
        """Why there is no fingerprint, for results that would otherwise just lack the GPUs."""
        ...

    def health(self) -> tuple[str, str | None]:
        """How sampling has gone, as the (status, reason) every summary starts from (summary.py)."""
        ...

    def extras(self) -> dict[str, Any]:
        """What this source adds to each summary beyond the GPU numbers; nothing by default."""
        return {}

    def summary(
        self,
        window_start_ns: int,
        window_end_ns: int,
        requests: int | None = None,
        output_tokens: int | None = None,
        *,
        clock_origin_ns: int = 0,
    ) -> dict[str, Any]:
        """GPU numbers over [origin + start, origin + end] (perf_counter_ns), alike from any source."""
        status, reason = self.health()
        out = summarize_gpus(
            self.recording,
            window_start_ns,
            window_end_ns,
            requests,
            output_tokens,
            clock_origin_ns=clock_origin_ns,
            status=status,
            reason=reason,
            source=self.source_name,
        )
        out.update(self.extras())
        return out
