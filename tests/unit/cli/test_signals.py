"""Ctrl-C and SIGTERM: exit 130, partial results kept, and the signal named in message and results."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.httpserver import CountingServer, serving
from tests.support.processes import stop_process

# Runs the first half of a run the way a library caller would: no cancel_on_signals, so SIGINT
# meets Python's own handler, which raises a KeyboardInterrupt without a message.
_LIBRARY_CALLER = """
import json, sys
from pathlib import Path
from benchaction.config import config_from_mapping
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay

url, out = sys.argv[1], Path(sys.argv[2])
config = config_from_mapping(
    {"version": 1, "name": "lib", "server": {"url": url},
     "scenarios": [{"name": "s", "path": "/", "concurrency": 1, "duration": "60s"}], "trials": 1},
    source="test", file=out / "bench.yml",
)
outcome = run_benchmark(
    config, RunOptions(output_dir=out, run_id="r1", environment={}, cpus=None), ProgressDisplay()
)
print(json.dumps([type(outcome.error).__name__, str(outcome.error), outcome.document["error"]]))
"""


def _interrupt_once_loaded(
    proc: subprocess.Popen[str], server: CountingServer, sig: signal.Signals
) -> tuple[str, str]:
    """Send `sig` once the load is flowing (the server has answered 50 requests)."""
    try:
        deadline = time.monotonic() + 60
        while server.answered < 50 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.answered >= 50, "the load never started"
        proc.send_signal(sig)
        return proc.communicate(timeout=60)
    finally:
        stop_process(proc)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_cli_names_the_signal_and_keeps_partial_results(
    tmp_path: Path, sig: signal.Signals
) -> None:
    with serving() as server:
        url = f"http://127.0.0.1:{server.port}/"
        argv = ["run", "--url", url, "--duration", "60s", "--warmup", "0s", "--trials", "2"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchaction", *argv, "-q", "-o", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _, err = _interrupt_once_loaded(proc, server, sig)
    assert proc.returncode == 130, err
    assert f"interrupted: cancelled ({sig.name}); partial results kept" in err
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["status"] == "partial" and doc["error"] == f"cancelled ({sig.name})"


def test_a_bare_keyboard_interrupt_is_stored_as_sigint(tmp_path: Path) -> None:
    with serving() as server:
        url = f"http://127.0.0.1:{server.port}"
        proc = subprocess.Popen(
            [sys.executable, "-c", _LIBRARY_CALLER, url, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = _interrupt_once_loaded(proc, server, signal.SIGINT)
    kind, text, stored = json.loads(out.strip().splitlines()[-1])
    assert (kind, text) == ("KeyboardInterrupt", ""), err  # Python's own handler: no message
    assert stored == "cancelled (SIGINT)"
    assert json.loads((tmp_path / "results.json").read_text())["error"] == "cancelled (SIGINT)"
