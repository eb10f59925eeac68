"""CPU isolation on real servers: the container's cpuset, the process server's affinity (every
thread of it), the load workers' cores, and what a run records."""

from __future__ import annotations

import dataclasses
import io
import os
import sys
from pathlib import Path

import docker
import jsonschema
import pytest

from benchaction.config import Warmup, load_config
from benchaction.config.model import BuildSpec, ProcessSpec, ReadySpec, ServerSpec
from benchaction.engine import plan_for, run_load
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.report import render_markdown
from benchaction.results import results_schema
from benchaction.serving import format_cpus, open_runtime
from tests.support.paths import EXAMPLES

EXAMPLE = EXAMPLES / "numpy-mlp"
READY = ReadySpec(path="/health", timeout_s=60, interval_s=0.05)
CORES = tuple(sorted(os.sched_getaffinity(0)))

pytestmark = pytest.mark.skipif(len(CORES) < 2, reason="isolation needs two usable cores")


def _quiet(_line: str) -> None:
    """A log sink for runtimes whose log is not looked at."""


def _thread_cpus(pid: int) -> dict[str, str]:
    """Every thread of `pid` with its allowed CPUs, as /proc shows them."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("Cpus_allowed_list:"))
        out[task.name] = line.split(":", 1)[1].strip()
    return out


@pytest.mark.docker
def test_container_and_load_workers_run_on_their_cores(
    docker_client: docker.DockerClient, base_image: str, free_port: int, docker_run_id: str
) -> None:
    server, load = CORES[:1], CORES[-1:]
    spec = ServerSpec(
        build=BuildSpec(context=EXAMPLE, args={"BASE_IMAGE": base_image}),
        port=free_port,
        ready=READY,
        runtime="docker",
    )
    before = os.sched_getaffinity(0)
    with open_runtime(
        spec, run_id=docker_run_id, log=_quiet, docker_client=docker_client, cpus=server
    ) as rt:
        handle = rt.start()
        assert handle.container_id is not None
        container = docker_client.containers.get(handle.container_id)
        assert container.attrs["HostConfig"]["CpusetCpus"] == format_cpus(server)
        seen = container.exec_run(["python3", "-c", "import os; print(os.sched_getaffinity(1))"])
        assert seen.output.decode().strip() == str(set(server)), "PID 1 of the container"

        example = load_config(EXAMPLE / "bench.yml").scenarios[0]
        scenario = dataclasses.replace(example, duration_s=0.5, warmup=Warmup())
        plan = plan_for(scenario, handle.host, handle.port, cpus=load)
        assert plan.workers == 1, "one worker per load core by default"
        here = run_load(plan)  # one worker: it runs in this thread, pinned for the run
        assert [w.cpus for w in here.workers] == [load]
        assert here.records.table.size > 0
        assert os.sched_getaffinity(0) == before, "the caller's mask is restored"
        spread = run_load(dataclasses.replace(plan, workers=2))  # two worker processes
        assert [w.cpus for w in spread.workers] == [load, load]
        assert os.sched_getaffinity(0) == before


@pytest.mark.docker
def test_a_run_records_the_split_and_starts_the_container_on_its_cores(
    docker_client: docker.DockerClient, base_image: str, free_port: int, run_id: str, tmp_path: Path
) -> None:
    config = load_config(
        EXAMPLE / "bench.yml",
        overrides={
            "trials": 1,
            "server": {
                "runtime": "docker",
                "port": free_port,
                "build": {"args": {"BASE_IMAGE": base_image}},
            },
            "scenarios": {"*": {"duration": "0.5s", "warmup": "0.2s"}},
            # auto splits four cores or more; on fewer, pin explicitly (the same mechanics)
            **(
                {}
                if len(CORES) >= 4
                else {"isolation": {"server": str(CORES[0]), "load": str(CORES[-1])}}
            ),
        },
    )
    config = dataclasses.replace(config, scenarios=config.scenarios[:1])
    log = io.StringIO()
    outcome = run_benchmark(
        config,
        RunOptions(output_dir=tmp_path, run_id=run_id, cpus=CORES),
        ProgressDisplay(log),
        docker_factory=lambda _env: docker_client,
    )
    assert outcome.error is None, outcome.error
    doc = outcome.document
    jsonschema.Draft202012Validator(results_schema()).validate(doc)
    mode = "auto" if len(CORES) >= 4 else "explicit"
    expected_load = list(CORES[-max(1, len(CORES) // 4) :] if mode == "auto" else CORES[-1:])
    expected_server = [c for c in CORES if c not in expected_load] if mode == "auto" else [CORES[0]]
    assert doc["isolation"]["mode"] == mode
    assert doc["isolation"]["load_cpus"] == expected_load
    assert doc["isolation"]["server_cpus"] == expected_server
    assert f"network, CPUs {format_cpus(expected_server)})" in log.getvalue()
    assert f"CPU isolation: {mode}, " in render_markdown(doc)


def _process_server(port: int) -> ServerSpec:
    """The numpy-mlp example as a local process on `port`."""
    return ServerSpec(
        image="unused",
        port=port,
        ready=READY,
        runtime="process",
        process=ProcessSpec(command=(sys.executable, "server.py"), cwd=EXAMPLE),
    )


def test_process_server_runs_on_the_server_cores_from_its_first_thread(free_port: int) -> None:
    server = CORES[:1]
    spec = _process_server(free_port)
    before = os.sched_getaffinity(0)
    with open_runtime(spec, run_id="isolation", log=_quiet, cpus=server) as rt:
        handle = rt.start()
        assert handle.pid is not None
        assert os.sched_getaffinity(handle.pid) == set(server)
        # Inherited from the start (not set on the pid afterwards): every thread the server
        # started, however early, is on the server's cores.
        threads = _thread_cpus(handle.pid)
        assert set(threads.values()) == {str(server[0])}, threads
    assert os.sched_getaffinity(0) == before


def test_isolation_off_pins_nothing(free_port: int) -> None:
    spec = _process_server(free_port)
    with open_runtime(spec, run_id="isolation", log=_quiet) as rt:
        handle = rt.start()
        assert handle.pid is not None
        assert os.sched_getaffinity(handle.pid) == set(CORES)
