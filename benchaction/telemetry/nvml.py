"""NVML, the only module that touches `pynvml`: open a session, sample devices, fingerprint them.

`pynvml` is imported lazily, and every entry point takes an optional module so tests inject a
fake. One field the device or driver does not offer (NotSupported, NoPermission, a function the
driver or the bindings lack) becomes None; a device that drops off the bus (GpuIsLost, Unknown)
is marked lost with the time and is not sampled again, while the other devices carry on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .nvml_codes import (
    GPM_METRICS,
    GPM_MIN_INTERVAL_NS,
    LOST_ERRORS,
    cuda_version_text,
    error_name,
    hash_uuid,
    reason_names,
    text,
    unavailable_reason,
)

__all__ = ["GpuDevice", "GpuLost", "NvmlSession", "NvmlUnavailable", "load_nvml", "open_session"]


class NvmlUnavailable(Exception):
    """NVML cannot be used here; `reason` says why in words a user acts on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GpuLost(Exception):
    """A device stopped answering (fell off the bus, needs a reset)."""


def load_nvml(nvml: ModuleType | None = None) -> ModuleType:
    """The injected module, or `pynvml` imported now (raises NvmlUnavailable if missing)."""
    if nvml is not None:
        return nvml
    try:
        import pynvml as module
    except ImportError as exc:
        raise NvmlUnavailable(
            f"the NVML Python bindings are not installed (package nvidia-ml-py, module pynvml): {exc}"
        ) from None
    loaded: ModuleType = module
    return loaded


@dataclass
class _Gpm:
    """Two GPM sample buffers used in turn, and when the previous one was taken."""

    previous: Any = None
    spare: Any = None
    previous_ns: int | None = None


@dataclass
class GpuDevice:
    """One GPU of a session; `lost_at_ns` is set when it stops answering."""

    index: int
    handle: Any
    uuid_hash: str | None = None
    name: str | None = None
    lost_at_ns: int | None = None
    lost_reason: str | None = None
    gpm_unavailable_reason: str | None = "GPM not queried"
    gpm: _Gpm | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        """Who this device is, for the monitor's hello and for summaries."""
        return {
            "index": self.index,
            "name": self.name,
            "uuid_hash": self.uuid_hash,
            "gpm_unavailable_reason": self.gpm_unavailable_reason,
        }


class NvmlSession:
    """An initialised NVML with the chosen devices; close() shuts NVML down."""

    def __init__(self, nvml: ModuleType, devices: list[GpuDevice]) -> None:
        self.nvml = nvml
        self.devices = devices
        self._closed = False

    # -- one call, its failure classified --------------------------------------------------
    def _call(self, fn_name: str, *args: Any) -> Any:
        """Call an NVML function; None when unsupported, GpuLost when the device is gone."""
        fn = getattr(self.nvml, fn_name, None)
        if fn is None:  # bindings older than the function
            return None
        try:
            return fn(*args)
        except self.nvml.NVMLError as exc:
            if error_name(exc) in LOST_ERRORS:
                raise GpuLost(f"{error_name(exc)}: {exc}") from None
            return None

    def _const(self, name: str, default: int) -> int:
        return int(getattr(self.nvml, name, default))

    @property
    def live(self) -> list[GpuDevice]:
        """The devices still answering."""
        return [d for d in self.devices if d.lost_at_ns is None]

    # -- sampling ----------------------------------------------------------------------------
    def sample(self, device: GpuDevice, t_ns: int) -> dict[str, Any]:
        """One reading of a device; a lost device gives `{"index", "lost": True, "reason"}` once."""
        try:
            return self._read(device, t_ns)
        except GpuLost as exc:
            device.lost_at_ns, device.lost_reason = t_ns, str(exc)
            self._free_gpm(device)
            return {"index": device.index, "lost": True, "reason": device.lost_reason}

    def sample_all(self, t_ns: int) -> list[dict[str, Any]]:
        """One reading of every device still answering."""
        return [self.sample(d, t_ns) for d in self.live]

    def _read(self, device: GpuDevice, t_ns: int) -> dict[str, Any]:
        h = device.handle
        util = self._call("nvmlDeviceGetUtilizationRates", h)
        memory = self._call("nvmlDeviceGetMemoryInfo", h)
        power_mw = self._call("nvmlDeviceGetPowerUsage", h)
        mask = self._call("nvmlDeviceGetCurrentClocksEventReasons", h)
        if mask is None:
            mask = self._call("nvmlDeviceGetCurrentClocksThrottleReasons", h)
        return {
            "index": device.index,
            "utilization_gpu_pct": None if util is None else float(util.gpu),
            "utilization_memory_pct": None if util is None else float(util.memory),
            "memory_used_bytes": None if memory is None else int(memory.used),
            "power_w": None if power_mw is None else power_mw / 1000.0,
            "temperature_c": self._call(
                "nvmlDeviceGetTemperature", h, self._const("NVML_TEMPERATURE_GPU", 0)
            ),
            "sm_clock_mhz": self._call(
                "nvmlDeviceGetClockInfo", h, self._const("NVML_CLOCK_SM", 1)
            ),
            "memory_clock_mhz": self._call(
                "nvmlDeviceGetClockInfo", h, self._const("NVML_CLOCK_MEM", 2)
            ),
            "clock_event_mask": None if mask is None else int(mask),
            "clock_event_reasons": None if mask is None else reason_names(int(mask)),
            "energy_mj": self._call("nvmlDeviceGetTotalEnergyConsumption", h),
            "gpm": self._gpm_metrics(device, t_ns),
        }

    # -- GPM (Hopper and newer) --------------------------------------------------------------
    def _gpm_failure(self, device: GpuDevice, exc: BaseException) -> None:
        name = error_name(exc)
        if name in LOST_ERRORS:
            raise GpuLost(f"{name}: {exc}") from None
        device.gpm_unavailable_reason = f"GPM sampling failed ({name}: {exc})"
        self._free_gpm(device)

    def enable_gpm(self, device: GpuDevice) -> None:
        """Check GPM support and allocate the two sample buffers; a reason when not supported."""
        query = getattr(self.nvml, "nvmlGpmQueryDeviceSupport", None)
        if query is None or not hasattr(self.nvml, "c_nvmlGpmMetricsGet_t"):
            device.gpm_unavailable_reason = "these NVML bindings have no GPM functions"
            return
        try:
            supported = bool(query(device.handle).isSupportedDevice)
            if not supported:
                device.gpm_unavailable_reason = "GPM is not supported on this GPU (Hopper or newer)"
                return
            device.gpm = _Gpm(self.nvml.nvmlGpmSampleAlloc(), self.nvml.nvmlGpmSampleAlloc())
        except self.nvml.NVMLError as exc:
            name = error_name(exc)
            if name in LOST_ERRORS:
                raise GpuLost(f"{name}: {exc}") from None
            if name == "NVMLError_FunctionNotFound":
                device.gpm_unavailable_reason = "the driver has no GPM functions (needs R520+)"
            elif name == "NVMLError_NotSupported":
                device.gpm_unavailable_reason = "GPM is not supported on this GPU (Hopper or newer)"
            else:
                device.gpm_unavailable_reason = f"GPM could not be enabled ({name}: {exc})"
            self._free_gpm(device)
            return
        device.gpm_unavailable_reason = None

    def _gpm_metrics(self, device: GpuDevice, t_ns: int) -> dict[str, float | None] | None:
        """GPM metrics between the previous GPM sample and now, when at least 100 ms apart."""
        gpm, nvml = device.gpm, self.nvml
        if gpm is None:
            return None
        if gpm.previous_ns is not None and t_ns - gpm.previous_ns < GPM_MIN_INTERVAL_NS:
            return None
        try:
            target = gpm.spare if gpm.previous_ns is not None else gpm.previous
            nvml.nvmlGpmSampleGet(device.handle, target)
            if gpm.previous_ns is None:
                gpm.previous_ns = t_ns
                return None
            request = nvml.c_nvmlGpmMetricsGet_t()
            request.version = nvml.NVML_GPM_METRICS_GET_VERSION
            request.numMetrics = len(GPM_METRICS)
            request.sample1, request.sample2 = gpm.previous, gpm.spare
            for i, metric_id in enumerate(GPM_METRICS):
                request.metrics[i].metricId = metric_id
            nvml.nvmlGpmMetricsGet(request)
        except nvml.NVMLError as exc:
            self._gpm_failure(device, exc)
            return None
        gpm.previous, gpm.spare, gpm.previous_ns = gpm.spare, gpm.previous, t_ns
        out: dict[str, float | None] = {}
        for i, key in enumerate(GPM_METRICS.values()):
            metric = request.metrics[i]
            out[key] = float(metric.value) if int(metric.nvmlReturn) == 0 else None
        return out

    def _free_gpm(self, device: GpuDevice) -> None:
        gpm, device.gpm = device.gpm, None
        if gpm is None:
            return
        for buffer in (gpm.previous, gpm.spare):
            if buffer is not None:
                with contextlib.suppress(self.nvml.NVMLError):
                    self.nvml.nvmlGpmSampleFree(buffer)

    # -- fingerprint -------------------------------------------------------------------------
    def _mode(self, fn_name: str, handle: Any) -> str | None:
        value = self._call(fn_name, handle)
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        return None if value is None else ("enabled" if int(value) else "disabled")

    def _device_fingerprint(self, device: GpuDevice) -> dict[str, Any]:
        h = device.handle
        memory = self._call("nvmlDeviceGetMemoryInfo", h)
        limit = self._call("nvmlDeviceGetEnforcedPowerLimit", h)
        if limit is None:
            limit = self._call("nvmlDeviceGetPowerManagementLimit", h)
        capability = self._call("nvmlDeviceGetCudaComputeCapability", h)
        return {
            "index": device.index,
            "name": device.name,
            "uuid_hash": device.uuid_hash,
            "memory_total_bytes": None if memory is None else int(memory.total),
            "power_limit_w": None if limit is None else limit / 1000.0,
            "max_sm_clock_mhz": self._call(
                "nvmlDeviceGetMaxClockInfo", h, self._const("NVML_CLOCK_SM", 1)
            ),
            "max_memory_clock_mhz": self._call(
                "nvmlDeviceGetMaxClockInfo", h, self._const("NVML_CLOCK_MEM", 2)
            ),
            "compute_capability": None if capability is None else "{}.{}".format(*capability),
            "mig_mode": self._mode("nvmlDeviceGetMigMode", h),
            "ecc_mode": self._mode("nvmlDeviceGetEccMode", h),
            "persistence_mode": self._mode("nvmlDeviceGetPersistenceMode", h),
        }

    def fingerprint(self) -> dict[str, Any]:
        """What must match for two runs' GPU numbers to be comparable; UUIDs only hashed."""
        gpus: list[dict[str, Any]] = []
        for device in self.devices:
            try:
                gpus.append(self._device_fingerprint(device))
            except GpuLost as exc:
                gpus.append(
                    {"index": device.index, "uuid_hash": device.uuid_hash, "lost": str(exc)}
                )
        names = sorted({str(g["name"]) for g in gpus if g.get("name")})
        totals = {g.get("memory_total_bytes") for g in gpus}
        driver = self._call("nvmlSystemGetDriverVersion")
        cuda = self._call("nvmlSystemGetCudaDriverVersion_v2")
        if cuda is None:
            cuda = self._call("nvmlSystemGetCudaDriverVersion")
        return {
            "count": len(gpus),
            "name": " + ".join(names) if names else None,
            "memory_total_bytes": totals.pop() if len(totals) == 1 else None,
            "driver_version": None if driver is None else text(driver),
            "cuda_driver_version": None if cuda is None else cuda_version_text(int(cuda)),
            "gpus": gpus,
        }

    def close(self) -> None:
        """Free GPM buffers and shut NVML down; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for device in self.devices:
            self._free_gpm(device)
        with contextlib.suppress(self.nvml.NVMLError):
            self.nvml.nvmlShutdown()


def _handles(nvml: ModuleType, gpus: Sequence[str] | None) -> list[tuple[int, Any]]:
    count = int(nvml.nvmlDeviceGetCount())
    if count == 0:
        raise NvmlUnavailable("no NVIDIA GPU is visible (NVML found 0 devices)")
    if not gpus:
        return [(i, nvml.nvmlDeviceGetHandleByIndex(i)) for i in range(count)]
    out: list[tuple[int, Any]] = []
    for wanted in gpus:
        key = wanted.strip()
        if key.isdigit():
            if int(key) >= count:
                raise NvmlUnavailable(
                    f"GPU {key} was asked for but NVML sees {count} GPU(s) (indexes 0-{count - 1})"
                )
            out.append((int(key), nvml.nvmlDeviceGetHandleByIndex(int(key))))
            continue
        try:
            handle = nvml.nvmlDeviceGetHandleByUUID(key)
        except nvml.NVMLError as exc:
            # Only a prefix: reasons end up in results, and UUIDs are never written down whole.
            raise NvmlUnavailable(
                f"GPU {key[:8]}... was asked for but NVML does not know that UUID ({exc})"
            ) from None
        try:
            index = int(nvml.nvmlDeviceGetIndex(handle))
        except (nvml.NVMLError, AttributeError):
            index = len(out)
        out.append((index, handle))
    return out


def open_session(
    gpus: Sequence[str] | None = None, *, nvml: ModuleType | None = None, gpm: bool = True
) -> NvmlSession:
    """Initialise NVML and pick the devices: all visible ones, or these indexes / UUIDs.

    Raises NvmlUnavailable with a reason a user can act on; never another exception for a
    missing library, driver, device or permission.
    """
    module = load_nvml(nvml)
    try:
        module.nvmlInit()
    except module.NVMLError as exc:
        raise NvmlUnavailable(unavailable_reason(exc)) from None
    session = NvmlSession(module, [])
    try:
        try:
            chosen = _handles(module, gpus)
        except module.NVMLError as exc:
            raise NvmlUnavailable(unavailable_reason(exc)) from None
        for index, handle in chosen:
            device = GpuDevice(index=index, handle=handle)
            try:
                name, uuid = (
                    session._call("nvmlDeviceGetName", handle),
                    session._call("nvmlDeviceGetUUID", handle),
                )
                device.name = None if name is None else text(name)
                device.uuid_hash = None if uuid is None else hash_uuid(text(uuid))
                if gpm:
                    session.enable_gpm(device)
                else:
                    device.gpm_unavailable_reason = "GPM sampling turned off"
            except GpuLost as exc:
                device.lost_at_ns, device.lost_reason = time.perf_counter_ns(), str(exc)
            session.devices.append(device)
    except BaseException:
        session.close()
        raise
    return session
