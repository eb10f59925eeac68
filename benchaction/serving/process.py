"""The process runtime: the same server as a local subprocess, for machines without Docker."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ..config import ProcessSpec, ServerSpec
from ..errors import ServingError
from .cpus import format_cpus
from .interface import RuntimeBase, RuntimeName, ServerHandle
from .readiness import (
    LOG_TAIL_LINES,
    format_tail,
    http_base_url,
    server_port,
    wait_until_ready,
)

__all__ = ["ProcessRuntime"]

STOP_TIMEOUT_S = 10.0
_TAIL_BYTES = 256 * 1024


class ProcessRuntime(RuntimeBase):
    """Runs `server.process.command` in its own session so stop() can end its whole group."""

    name: RuntimeName = "process"

    def __init__(
        self,
        spec: ServerSpec,
        process: ProcessSpec,
        *,
        log: Callable[[str], None],
        host: str = "127.0.0.1",
        base_env: Mapping[str, str] | None = None,
        cpus: tuple[int, ...] | None = None,
    ) -> None:
        self.spec = spec
        self.cpus = cpus  # the cores the server process runs on (None: any)
        self.process = process
        self._log = log
        self._host = host
        # The child's environment, not configuration: it inherits ours like any shell command.
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._proc: subprocess.Popen[bytes] | None = None
        self._output: Path | None = None

    def prepare(self) -> None:
        """Nothing to build or pull: the command runs from the checkout as it is."""
        return None

    def start(self) -> ServerHandle:
        """Start the command with PORT set, its output captured, and wait until it is ready."""
        self.stop()
        env = {**self._base_env, **self.spec.env}
        port = server_port(self._host, self.spec.port, "the server process")
        if "PORT" not in self.spec.env:
            env["PORT"] = str(port)
        command = list(self.process.command)
        if not Path(self.process.cwd).is_dir():
            raise ServingError(
                f"server.process.cwd {self.process.cwd} does not exist or is not a folder"
            )
        fd, output = tempfile.mkstemp(prefix="benchaction-server-", suffix=".log")
        self._output = Path(output)
        on = f" on CPUs {format_cpus(self.cpus)}" if self.cpus else ""
        self._log(f"starting `{shlex.join(command)}` in {self.process.cwd}{on}")
        # The child inherits the affinity of the thread that starts it.
        with os.fdopen(fd, "wb") as sink, _children_on(self.cpus):
            started = time.perf_counter()
            try:
                self._proc = subprocess.Popen(
                    command,
                    cwd=self.process.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                self._discard_output()
                raise ServingError(
                    f"could not start server.process.command `{shlex.join(command)}` "
                    f"in {self.process.cwd}: {exc}"
                ) from exc
        base_url = http_base_url(self._host, port)
        ready_url = base_url + self.spec.ready.path
        try:
            ready_at = wait_until_ready(
                ready_url,
                self.spec.ready,
                log=self._log,
                check_alive=lambda: self._check_alive(ready_url),
                recent_logs=self._recent_output,
                what="its output",
            )
        except BaseException:
            self.stop()
            raise
        cold_start = ready_at - started
        pid = self._proc.pid
        self._log(f"server ready after {cold_start:.2f}s (pid {pid})")
        return ServerHandle(
            runtime="process",
            host=self._host,
            port=port,
            base_url=base_url,
            cold_start_s=cold_start,
            container_id=None,
            pid=pid,
        )

    def ensure_running(self) -> None:
        """Raise with the exit code and output tail if the server process died since it started."""
        self._check_alive("", when="during the measurement")

    def _check_alive(self, url: str, when: str = "") -> None:
        when = when or f"while waiting for readiness at {url}"
        code = self._proc.poll() if self._proc is not None else None
        if code is None:
            return
        if code < 0:
            how = f"was killed by signal {signal.Signals(-code).name} (exit code {code})"
        else:
            how = f"exited with code {code}"
        raise ServingError(
            f"server process {how} {when}\n"
            f"  command: {shlex.join(self.process.command)} (in {self.process.cwd})"
            + format_tail(self._recent_output(), "its output")
        )

    def _recent_output(self) -> list[str]:
        if self._output is None:
            return []
        try:
            with self._output.open("rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - _TAIL_BYTES))
                data = f.read()
        except OSError:
            return []
        return data.decode("utf-8", "replace").splitlines()[-LOG_TAIL_LINES:]

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 10 s, and delete the captured output."""
        proc, self._proc = self._proc, None
        try:
            if proc is not None:
                _end_group(proc, self._log)
        finally:
            self._discard_output()

    def _discard_output(self) -> None:
        output, self._output = self._output, None
        if output is not None:
            output.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the running instance, if any; the process runtime creates nothing else."""
        self.stop()


@contextlib.contextmanager
def _children_on(cpus: tuple[int, ...] | None) -> Iterator[None]:
    """Processes this thread starts inside the block run on `cpus`, from their first instruction.

    Pinning the child afterwards (sched_setaffinity(pid)) would race with it: threads it starts
    before that call keep every core. The thread's own mask is restored on leaving.
    """
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, cpus)
    except OSError as exc:
        raise ServingError(f"cannot run the server on CPUs {format_cpus(cpus)}: {exc}") from exc
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _end_group(proc: subprocess.Popen[bytes], log: Callable[[str], None]) -> None:
    """End the server's whole process group: children it forked must not outlive the run."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log(f"server process {proc.pid} ignored SIGTERM for {STOP_TIMEOUT_S:g}s; killing it")
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    # The leader is gone; anything it left running in its group goes with it.
    _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
