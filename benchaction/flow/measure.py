"""The first half of a run, in order: config -> image -> per trial a fresh server and every
scenario's load -> results document. The only module that knows this order.

Results are written after every trial and however the run ends, so a failure never loses what
was measured. A server that dies mid-run is caught by its runtime after each scenario trial.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchaction import __version__
from benchaction.config import Config, MetricsSpec, Scenario
from benchaction.engine import (
    LoadResult,
    plan_for,
    run_load,
    trial_metrics,
    warm_until_steady,
    warmup_record,
)
from benchaction.errors import error_text
from benchaction.flow.accuracy import score_scenarios
from benchaction.flow.sweep import Point, saturation, sweep_points
from benchaction.hostinfo import git_info, host_fingerprint
from benchaction.progress import ProgressDisplay, plan_phases
from benchaction.results import (
    ResultsDocument,
    ServerSection,
    Trial,
    new_document,
    write_results,
)
from benchaction.serving import (
    CpuPlan,
    ImageInfo,
    ServerHandle,
    ServerRuntime,
    docker_engine,
    http_base_url,
    object_labels,
    open_runtime,
    split_cpus,
    sweep_stale,
)
from benchaction.telemetry import (
    ContainerStatsSampler,
    GpuTelemetry,
    LoadScrapes,
    MetricsScraper,
    gpu_telemetry,
    server_stats,
)

__all__ = ["RunOptions", "RunOutcome", "new_run_id", "run_benchmark"]


def new_run_id(prefix: str = "") -> str:
    """A run id unique on this host: labels every container the run starts, for cleanup."""
    stamp = prefix or time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return f"{stamp}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunOptions:
    """How this invocation runs, as opposed to what it measures (that is the Config)."""

    output_dir: Path
    run_id: str
    network_mode: str = "host"
    host: str = "127.0.0.1"
    labels: dict[str, str] = field(default_factory=dict)
    gpu_monitor_image: str | None = None  # run `gpu-monitor` in a sibling container of this image
    # The caller's environment (DOCKER_HOST, and what a process server inherits); None: this
    # process's own, as the Docker SDK and subprocess would read it.
    environment: Mapping[str, str] | None = None
    # The cores this process may use (its affinity), split between server and load by the
    # config's `isolation`; None: not known, nothing is pinned.
    cpus: tuple[int, ...] | None = None
    # Score the scenarios' labelled sets after the trials (A/B: only a side's first run does).
    accuracy: bool = True


@dataclass(frozen=True)
class RunOutcome:
    """The document as written, where it was written, and the error that stopped the run if any."""

    document: ResultsDocument
    results_path: Path
    error: BaseException | None


def _load_settings(point: Point) -> dict[str, Any]:
    s = point.scenario
    arrivals = s.arrivals
    settings: dict[str, Any] = {
        "protocol": s.protocol,
        "method": s.method,
        "path": s.path,
        "concurrency": None if arrivals is not None else point.concurrency or s.concurrency,
        "duration_s": s.duration_s,
        "requests": s.requests,
        "warmup_s": s.warmup.duration_s,
        "warmup_requests": s.warmup.requests,
        "timeout_s": s.timeout_s,
        "payloads": len(s.payloads),
        "seed": s.seed,
        "workers": s.workers,
    }
    if arrivals is not None:
        settings.update(
            rate=point.rate or arrivals.rate,
            arrival=arrivals.distribution,
            max_concurrency=arrivals.max_concurrency,
        )
    slo = {k: v for k, v in dataclasses.asdict(s.slo).items() if v is not None}
    if slo:
        settings["slo"] = slo
    return settings


def _server_section(config: Config, runtime: str, image: ImageInfo | None) -> ServerSection:
    return {
        "runtime": runtime,
        "source": config.server.source,
        "image": None if image is None else dataclasses.asdict(image),
        "url": config.server.url,
    }


def _expected_runtime(config: Config, engine_answers: bool) -> str:
    """What open_runtime will pick; recorded before it runs so an early failure is attributed."""
    if config.server.source == "url":
        return "url"
    if config.server.runtime == "auto":
        return "docker" if engine_answers else "process"
    return config.server.runtime


def _expected_s(s: Scenario) -> float | None:
    return None if s.duration_s is None else s.warmup.duration_s + s.duration_s


def _check_sweep(
    point: Point,
    points: list[Point],
    metrics: Trial,
    previous: Trial | None,
    skipped: dict[str, str],
    doc: ResultsDocument,
) -> Trial | None:
    """After a sweep level of the first trial: skip the higher levels once the server saturated."""
    if previous is not None and previous.get("_of") != point.scenario.name:
        previous = None
    reason = saturation(metrics, previous, point.scenario)
    if reason is not None:
        later = [p for p in points if p.scenario is point.scenario]
        for p in later[later.index(point) + 1 :]:
            skipped[p.name] = f"the server saturated at {point.name}: {reason}"
        for section in doc["scenarios"]:
            if section["name"] in skipped:
                section["skipped"] = skipped[section["name"]]
    return {"_of": point.scenario.name, **metrics}


def _telemetry(
    result: LoadResult,
    metrics: Trial,
    gpu: GpuTelemetry,
    stats: ContainerStatsSampler | None,
    scrapes: LoadScrapes | None,
) -> dict[str, Any]:
    """GPU, server-container and server-metrics numbers over this trial's measurement window."""
    w0, w1 = result.window_start_ns, result.window_end_ns
    if w0 is None or w1 is None:
        out: dict[str, Any] = {"gpu": {"status": "unavailable", "reason": "no measurement window"}}
        if scrapes is not None:
            out["server"] = {"status": "unavailable", "reason": "no measurement window"}
        return out
    start, end = result.origin_ns + w0, result.origin_ns + w1
    tokens = metrics.get("tokens", {}).get("output_total")
    out = {"gpu": gpu.summary(start, end, metrics["counts"]["succeeded"], tokens)}
    if stats is not None:
        out["container"] = stats.summary(start, end)
    if scrapes is not None:
        out["server"] = scrapes.summary((start, end), result.origin_ns)
    return out


def _scraper(spec: MetricsSpec | None, handle: ServerHandle) -> MetricsScraper | None:
    """The scraper of one server instance's metrics endpoint (on its own port if it has one)."""
    if spec is None:
        return None
    url = http_base_url(handle.host, spec.port or handle.port) + spec.path
    return MetricsScraper(
        url, interval_s=spec.interval_s, timeout_s=spec.timeout_s, families=spec.families
    )


class _Instances:
    """Server instances for the trials: a fresh one per trial (or one reused), each recorded
    in the document with its cold start, with a container-stats sampler for its lifetime."""

    def __init__(
        self,
        runtime: ServerRuntime,
        client: Any,
        doc: ResultsDocument,
        display: ProgressDisplay,
        metrics: MetricsSpec | None = None,
    ) -> None:
        self._runtime, self._client, self._doc, self._display = runtime, client, doc, display
        self._stats = contextlib.ExitStack()
        self.handle: ServerHandle | None = None
        self.sampler: ContainerStatsSampler | None = None
        self.metrics = metrics
        self.scraper: MetricsScraper | None = None

    def for_trial(self, reuse: bool) -> ServerHandle:
        if self.handle is not None and reuse:
            return self.handle
        self.stop()
        handle = self.handle = self._runtime.start()
        self.sampler = self._stats.enter_context(server_stats(self._client, handle.container_id))
        self.scraper = _scraper(self.metrics, handle)
        self._doc["instances"].append(
            {
                "instance": len(self._doc["instances"]),
                "cold_start_s": handle.cold_start_s,
                "container_id": handle.container_id,
                "pid": handle.pid,
            }
        )
        if handle.cold_start_s is not None:
            self._display.log(f"server ready in {handle.cold_start_s:.2f} s ({handle.base_url})")
        return handle

    @property
    def current(self) -> int:
        return len(self._doc["instances"]) - 1

    def stop(self) -> None:
        self._stats.close()
        self._runtime.stop()


def _measure(
    point: Point,
    trial: int,
    handle: ServerHandle,
    instances: _Instances,
    gpu: GpuTelemetry,
    display: ProgressDisplay,
    trials: int,
    cpus: CpuPlan,
    cores: int | None,
) -> Trial:
    """One scenario (or sweep level) on one server instance: warmup, window, metrics."""
    scenario = point.scenario
    display.load_started(
        f"trial {trial + 1}/{trials} {point.name}",
        _expected_s(scenario),
        phase=(point.name, trial),
    )
    plan = plan_for(
        scenario,
        handle.host,
        handle.port,
        concurrency=point.concurrency,
        rate=point.rate,
        cores=cores,
        cpus=cpus.load,
    )
    steady = scenario.warmup.steady
    warm = None if steady is None else warm_until_steady(plan, steady, display.load_update)
    scrapes: LoadScrapes | None = None
    with contextlib.ExitStack() as around:
        if instances.scraper is not None:  # bench.yml's server.metrics: scrape around the load
            scrapes = around.enter_context(instances.scraper.around_load())
        result = run_load(plan, display.load_update)
    metrics: Trial = {"trial": trial, "instance": instances.current}
    metrics.update(trial_metrics(result, limits=scenario.limits, slo=scenario.slo))
    metrics["warmup"] = warmup_record(result, warm)
    metrics["telemetry"] = _telemetry(result, metrics, gpu, instances.sampler, scrapes)
    server = metrics["telemetry"].get("server")
    if server is not None and server["status"] != "ok":
        display.log(f"server metrics: {server['reason']}")
    display.load_finished(metrics)
    return metrics


def _new_results(config: Config, client: Any) -> ResultsDocument:
    docker_version = None if client is None else str(client.version().get("Version", "unknown"))
    return new_document(
        tool_version=__version__,
        config={
            "name": config.name,
            "file": config.path.name,
            "profile": config.profile,
            "hash": config.hash(),
            "settings": config.to_dict(),
        },
        git=git_info(config.path.parent),
        host=host_fingerprint(docker_version),
        server=_server_section(config, _expected_runtime(config, client is not None), None),
    )


def run_benchmark(
    config: Config,
    options: RunOptions,
    display: ProgressDisplay,
    *,
    docker_factory: Callable[[Mapping[str, str] | None], Any] = docker_engine,
) -> RunOutcome:
    """Run every trial of every scenario and write the results document, whatever happens."""
    needs_docker = config.server.source != "url" and config.server.runtime != "process"
    client = docker_factory(options.environment) if needs_docker else None
    if client is not None:
        sweep_stale(client, display.log)
    doc = _new_results(config, client)
    points = [p for s in config.scenarios for p in sweep_points(s)]
    doc["scenarios"] = [p.section(_load_settings(p)) for p in points]
    skipped: dict[str, str] = {}  # sweep points not run, and why
    display.plan(plan_phases([(p.name, _expected_s(p.scenario)) for p in points], config.trials))
    results_path = options.output_dir / "results.json"
    error: BaseException | None = None
    try:
        with contextlib.ExitStack() as stack:
            pin_server = config.server.source != "url"
            cpus = split_cpus(config.isolation, options.cpus, pin_server=pin_server)
            doc["isolation"] = cpus.to_dict()
            display.log(f"CPU isolation: {cpus.mode}, {cpus.reason}")
            cores = None if options.cpus is None else len(options.cpus)
            runtime = stack.enter_context(
                open_runtime(
                    config.server,
                    run_id=options.run_id,
                    log=display.log,
                    docker_client=client,
                    network_mode=options.network_mode,
                    host=options.host,
                    labels=options.labels,
                    environment=options.environment,
                    cpus=cpus.server,
                )
            )
            doc["server"] = _server_section(config, runtime.name, None)
            doc["server"] = _server_section(config, runtime.name, runtime.prepare())
            gpu = stack.enter_context(
                gpu_telemetry(
                    config.server.gpus,
                    runtime.name,
                    monitor_image=options.gpu_monitor_image,
                    docker_client=client,
                    labels=object_labels(options.run_id, options.labels),
                    log=display.log,
                )
            )
            doc["gpu"] = gpu.fingerprint
            instances = _Instances(runtime, client, doc, display, config.server.metrics)
            stack.callback(instances.stop)  # first out: the last server stops, then telemetry
            for trial in range(config.trials):
                handle = instances.for_trial(config.reuse)
                previous: Trial | None = None
                for point, section in zip(points, doc["scenarios"], strict=True):
                    if point.name in skipped:
                        continue
                    metrics = _measure(
                        point, trial, handle, instances, gpu, display, config.trials, cpus, cores
                    )
                    section["trials"].append(metrics)
                    # A server that died mid-trial would otherwise only show as errors.
                    runtime.ensure_running()
                    if trial == 0 and point.key is not None:
                        previous = _check_sweep(point, points, metrics, previous, skipped, doc)
                        display.skip(skipped)
                    # The monitor's fingerprint arrives with its first line, after it started.
                    doc["gpu"] = gpu.fingerprint
                    write_results(doc, results_path)  # a crash later keeps this trial
            if options.accuracy and instances.handle is not None:  # after every window
                score_scenarios(points, doc["scenarios"], instances.handle, display)
        doc["status"] = "complete"
    except BaseException as exc:  # KeyboardInterrupt and SystemExit too: write what we have
        error = exc
        doc["status"] = "partial"
        doc["error"] = error_text(exc)  # a bare Ctrl-C is stored as "cancelled (SIGINT)"
    finally:
        write_results(doc, results_path)
    return RunOutcome(doc, results_path, error)
