"""A fake `pynvml` for unit tests: scripted devices, the real module's error classes and codes.

Pass a `FakeNvml` wherever bench-action takes `nvml: ModuleType | None`. Device values are
constants or functions of the fake's clock (perf_counter_ns by default; tests may pass their
own). Failures are configurable: an error at init, NotSupported / NoPermission / FunctionNotFound
per function, functions missing from the bindings, a device lost after k samples (a sample
starts with its utilization read), GPM supported or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType, SimpleNamespace
from typing import Any

# The real module's error codes (pynvml NVML_ERROR_*), and the classes it derives from them.
ERROR_CODES: dict[str, int] = {
    "Uninitialized": 1,
    "InvalidArgument": 2,
    "NotSupported": 3,
    "NoPermission": 4,
    "AlreadyInitialized": 5,
    "NotFound": 6,
    "InsufficientSize": 7,
    "InsufficientPower": 8,
    "DriverNotLoaded": 9,
    "Timeout": 10,
    "IrqIssue": 11,
    "LibraryNotFound": 12,
    "FunctionNotFound": 13,
    "CorruptedInforom": 14,
    "GpuIsLost": 15,
    "ResetRequired": 16,
    "OperatingSystem": 17,
    "LibRmVersionMismatch": 18,
    "InUse": 19,
    "Memory": 20,
    "NoData": 21,
    "GpuNotFound": 28,
    "Unknown": 999,
}
_STRINGS = {
    "NotSupported": "Not Supported",
    "NoPermission": "Insufficient Permissions",
    "DriverNotLoaded": "Driver Not Loaded",
    "LibraryNotFound": "NVML Shared Library Not Found",
    "FunctionNotFound": "Function Not Found",
    "GpuIsLost": "GPU is lost",
    "Unknown": "Unknown Error",
}


class NVMLError(Exception):
    """Base of the fake's errors; `value` is the NVML return code, as in pynvml."""

    value = 999

    def __str__(self) -> str:
        name = type(self).__name__.removeprefix("NVMLError_")
        return _STRINGS.get(name, name)


ERRORS: dict[str, type[NVMLError]] = {
    name: type(f"NVMLError_{name}", (NVMLError,), {"value": code})
    for name, code in ERROR_CODES.items()
}

Value = Any  # a constant, or a function of t_ns


@dataclass
class FakeDevice:
    """One scripted GPU."""

    uuid: str
    name: str = "NVIDIA H100 80GB HBM3"
    memory_total: int = 80 * 2**30
    values: dict[str, Value] = field(default_factory=dict)
    gpm_supported: bool | None = False  # None: the query raises NotSupported
    gpm: dict[int, Value] = field(default_factory=dict)
    gpm_failing_metrics: set[int] = field(default_factory=set)
    lost_after_samples: int | None = None
    lost_error: str = "GpuIsLost"
    samples: int = 0

    DEFAULTS = {  # noqa: RUF012 - read-only table
        "util_gpu": 50,
        "util_mem": 20,
        "mem_used": 10 * 2**30,
        "power_mw": 300_000,
        "temp": 60,
        "sm_clock": 1980,
        "mem_clock": 2619,
        "throttle": 0,
        "energy_mj": 1_000_000,
        "power_limit_mw": 700_000,
        "max_sm_clock": 1980,
        "max_mem_clock": 2619,
        "mig": [0, 0],
        "ecc": [1, 1],
        "persistence": 1,
        "capability": (9, 0),
    }


@dataclass
class FakeGpmSample:
    device: FakeDevice | None = None
    t_ns: int | None = None
    freed: bool = False


class _GpmMetricsGet:
    """Shape of pynvml's c_nvmlGpmMetricsGet_t."""

    def __init__(self) -> None:
        self.version = 0
        self.numMetrics = 0
        self.sample1: FakeGpmSample | None = None
        self.sample2: FakeGpmSample | None = None
        self.metrics = [SimpleNamespace(metricId=0, nvmlReturn=0, value=0.0) for _ in range(98)]


class FakeNvml(ModuleType):
    """Stands in for the `pynvml` module."""

    NVMLError = NVMLError
    NVML_TEMPERATURE_GPU = 0
    NVML_CLOCK_SM = 1
    NVML_CLOCK_MEM = 2
    NVML_GPM_METRICS_GET_VERSION = 1
    c_nvmlGpmMetricsGet_t = _GpmMetricsGet

    def __init__(
        self,
        devices: list[FakeDevice] | None = None,
        *,
        init_error: str | None = None,
        failing: dict[str, str] | None = None,
        hidden: set[str] | None = None,
        clock: Callable[[], int] = time.perf_counter_ns,
        driver_version: str = "550.54.15",
        cuda_version: int = 12040,
    ) -> None:
        super().__init__("pynvml")
        for name, cls in ERRORS.items():
            setattr(self, f"NVMLError_{name}", cls)
        self.devices = devices if devices is not None else [FakeDevice("GPU-aaaa-0000")]
        self.init_error = init_error
        self.failing = dict(failing or {})  # function name -> error name
        self.hidden = set(hidden or ())
        self.clock = clock
        self.driver_version = driver_version
        self.cuda_version = cuda_version
        self.initialised = 0
        self.shutdowns = 0
        self.gpm_allocated: list[FakeGpmSample] = []
        self.calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("nvml") and name in object.__getattribute__(self, "hidden"):
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    # -- plumbing ------------------------------------------------------------------------
    def _check(self, fn: str, device: FakeDevice | None = None) -> None:
        self.calls.append(fn)
        lost_after = None if device is None else device.lost_after_samples
        if device is not None and lost_after is not None and device.samples > lost_after:
            raise ERRORS[device.lost_error]()
        error = self.failing.get(fn)
        if error is not None:
            raise ERRORS[error]()

    def _value(self, device: FakeDevice, key: str) -> Any:
        value = device.values.get(key, FakeDevice.DEFAULTS[key])
        return value(self.clock()) if callable(value) else value

    # -- init and devices ----------------------------------------------------------------
    def nvmlInit(self) -> None:
        if self.init_error:
            raise ERRORS[self.init_error]()
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:
        self._check("nvmlDeviceGetCount")
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeDevice:
        if not 0 <= index < len(self.devices):
            raise ERRORS["InvalidArgument"]()
        return self.devices[index]

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> FakeDevice:
        for device in self.devices:
            if device.uuid == uuid:
                return device
        raise ERRORS["NotFound"]()

    def nvmlDeviceGetIndex(self, handle: FakeDevice) -> int:
        return self.devices.index(handle)

    def nvmlDeviceGetName(self, handle: FakeDevice) -> str:
        self._check("nvmlDeviceGetName", handle)
        return handle.name

    def nvmlDeviceGetUUID(self, handle: FakeDevice) -> str:
        self._check("nvmlDeviceGetUUID", handle)
        return handle.uuid

    def nvmlSystemGetDriverVersion(self) -> str:
        self._check("nvmlSystemGetDriverVersion")
        return self.driver_version

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._check("nvmlSystemGetCudaDriverVersion")
        return self.cuda_version

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        self._check("nvmlSystemGetCudaDriverVersion_v2")
        return self.cuda_version

    # -- per-sample readings -------------------------------------------------------------
    def nvmlDeviceGetUtilizationRates(self, handle: FakeDevice) -> SimpleNamespace:
        handle.samples += 1
        self._check("nvmlDeviceGetUtilizationRates", handle)
        return SimpleNamespace(
            gpu=self._value(handle, "util_gpu"), memory=self._value(handle, "util_mem")
        )

    def nvmlDeviceGetMemoryInfo(self, handle: FakeDevice) -> SimpleNamespace:
        self._check("nvmlDeviceGetMemoryInfo", handle)
        used = self._value(handle, "mem_used")
        return SimpleNamespace(
            total=handle.memory_total, used=used, free=handle.memory_total - used
        )

    def nvmlDeviceGetPowerUsage(self, handle: FakeDevice) -> int:
        self._check("nvmlDeviceGetPowerUsage", handle)
        return int(self._value(handle, "power_mw"))

    def nvmlDeviceGetTemperature(self, handle: FakeDevice, sensor: int) -> int:
        self._check("nvmlDeviceGetTemperature", handle)
        assert sensor == self.NVML_TEMPERATURE_GPU
        return int(self._value(handle, "temp"))

    def nvmlDeviceGetClockInfo(self, handle: FakeDevice, clock: int) -> int:
        self._check("nvmlDeviceGetClockInfo", handle)
        return int(self._value(handle, "sm_clock" if clock == self.NVML_CLOCK_SM else "mem_clock"))

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: FakeDevice) -> int:
        self._check("nvmlDeviceGetCurrentClocksEventReasons", handle)
        return int(self._value(handle, "throttle"))

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: FakeDevice) -> int:
        self._check("nvmlDeviceGetCurrentClocksThrottleReasons", handle)
        return int(self._value(handle, "throttle"))

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: FakeDevice) -> int:
        self._check("nvmlDeviceGetTotalEnergyConsumption", handle)
        return int(self._value(handle, "energy_mj"))

    # -- fingerprint ---------------------------------------------------------------------
    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeDevice) -> int:
        self._check("nvmlDeviceGetEnforcedPowerLimit", handle)
        return int(self._value(handle, "power_limit_mw"))

    def nvmlDeviceGetPowerManagementLimit(self, handle: FakeDevice) -> int:
        self._check("nvmlDeviceGetPowerManagementLimit", handle)
        return int(self._value(handle, "power_limit_mw"))

    def nvmlDeviceGetMaxClockInfo(self, handle: FakeDevice, clock: int) -> int:
        self._check("nvmlDeviceGetMaxClockInfo", handle)
        key = "max_sm_clock" if clock == self.NVML_CLOCK_SM else "max_mem_clock"
        return int(self._value(handle, key))

    def nvmlDeviceGetCudaComputeCapability(self, handle: FakeDevice) -> tuple[int, int]:
        self._check("nvmlDeviceGetCudaComputeCapability", handle)
        return tuple(self._value(handle, "capability"))  # type: ignore[return-value]

    def nvmlDeviceGetMigMode(self, handle: FakeDevice) -> list[int]:
        self._check("nvmlDeviceGetMigMode", handle)
        return list(self._value(handle, "mig"))

    def nvmlDeviceGetEccMode(self, handle: FakeDevice) -> list[int]:
        self._check("nvmlDeviceGetEccMode", handle)
        return list(self._value(handle, "ecc"))

    def nvmlDeviceGetPersistenceMode(self, handle: FakeDevice) -> int:
        self._check("nvmlDeviceGetPersistenceMode", handle)
        return int(self._value(handle, "persistence"))

    # -- GPM -----------------------------------------------------------------------------
    def nvmlGpmQueryDeviceSupport(self, handle: FakeDevice) -> SimpleNamespace:
        self._check("nvmlGpmQueryDeviceSupport", handle)
        if handle.gpm_supported is None:
            raise ERRORS["NotSupported"]()
        return SimpleNamespace(version=1, isSupportedDevice=int(handle.gpm_supported))

    def nvmlGpmSampleAlloc(self) -> FakeGpmSample:
        self._check("nvmlGpmSampleAlloc")
        sample = FakeGpmSample()
        self.gpm_allocated.append(sample)
        return sample

    def nvmlGpmSampleFree(self, sample: FakeGpmSample) -> None:
        assert not sample.freed, "GPM sample freed twice"
        sample.freed = True

    def nvmlGpmSampleGet(self, handle: FakeDevice, sample: FakeGpmSample) -> FakeGpmSample:
        self._check("nvmlGpmSampleGet", handle)
        sample.device, sample.t_ns = handle, self.clock()
        return sample

    def nvmlGpmMetricsGet(self, request: _GpmMetricsGet) -> _GpmMetricsGet:
        self._check("nvmlGpmMetricsGet")
        assert request.version == self.NVML_GPM_METRICS_GET_VERSION
        s1, s2 = request.sample1, request.sample2
        assert s1 is not None and s2 is not None and s1.device is s2.device is not None
        assert s1.t_ns is not None and s2.t_ns is not None and s2.t_ns > s1.t_ns
        device = s2.device
        for metric in request.metrics[: request.numMetrics]:
            if metric.metricId in device.gpm_failing_metrics or metric.metricId not in device.gpm:
                metric.nvmlReturn, metric.value = ERROR_CODES["NotSupported"], 0.0
                continue
            value = device.gpm[metric.metricId]
            metric.nvmlReturn = 0
            metric.value = float(value(s2.t_ns) if callable(value) else value)
        return request


class ManualClock:
    """A clock tests move by hand: `clock()` gives now, `clock.t` sets it."""

    def __init__(self, t: int = 1_000_000_000) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t
