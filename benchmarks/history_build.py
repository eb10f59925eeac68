"""The cost of the history at scale: adding runs, finding change points, building the dashboard.

Writes a folder store of N synthetic main runs (two scenarios, six metrics, five trials each, two
known shifts), then times `benchaction history build` and `history changes` as a user runs them
(a fresh process each, imports included) and the phases inside.

    python benchmarks/history_build.py --runs 1000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from benchaction.history import HistoryRecord, LocalStore, changes_of, parse_history, series_of
from benchaction.history.site import dashboard_data
from benchaction.results import METRICS as METRICS_READ

START = datetime(2026, 1, 1, tzinfo=UTC)
METRICS = {  # name: (level, higher is better)
    "throughput_rps": (2000.0, True),
    "latency_p50_ms": (2.0, False),
    "latency_p90_ms": (2.9, False),
    "latency_p99_ms": (4.0, False),
    "latency_mean_ms": (2.1, False),
}


def synthetic_runs(n: int, seed: int = 1) -> list[HistoryRecord]:
    """N runs; latency +12 % from a third of the way, back to +5 % from two thirds."""
    rng = np.random.default_rng(seed)
    out: list[HistoryRecord] = []
    for i in range(n):
        level = 1.0 if i < n // 3 else 1.12 if i < 2 * n // 3 else 1.05
        scenarios: dict[str, Any] = {}
        for scenario in ("predict", "health"):
            values: dict[str, list[float]] = {}
            for name, (base, higher) in METRICS.items():
                factor = (1 / level if higher else level) if scenario == "predict" else 1.0
                draws = base * factor * (1 + rng.normal(0, 0.02, 5))
                values[name] = [float(f"{v:.6g}") for v in draws]
            values["error_rate"] = [0.0] * 5
            scenarios[scenario] = {"load": {"concurrency": 4, "duration_s": 5.0}, "values": values}
        sha = hashlib.sha1(f"run {i}".encode()).hexdigest()
        out.append(
            {
                "key": f"gh-{100000 + i}",
                "commit": sha,
                "ref": "refs/heads/main",
                "date": (START + timedelta(hours=6 * i)).isoformat(timespec="seconds"),
                "url": f"https://github.com/o/r/actions/runs/{100000 + i}",
                "commit_url": f"https://github.com/o/r/commit/{sha}",
                "profile": "pr",
                "config_hash": "sha256:" + "1" * 64,
                "fingerprint": "a1b2c3d4",
                "setup": {"host": {"cpu_model": "Xeon", "cores": 16, "docker_version": "27"}},
                "image": {"ref": "model:latest", "digest": "sha256:" + "2" * 64},
                "tool_version": "0.1.0",
                "status": "complete",
                "scenarios": scenarios,
            }
        )
    return out


def real_runs(n: int, data: Path, seed: int = 1) -> list[HistoryRecord]:
    """N runs made of real fresh-server trials of this machine (level 0 of a calibration file,
    five drawn a run), with exact known shifts applied: latencies x1.12 (throughput /1.12) from a
    third of the way, x1.05 from two thirds; the runner's own noise is what it was."""
    trials = [t for t in json.loads(data.read_text())["levels"]["0"] if t.get("valid")]
    rng = np.random.default_rng(seed)
    template = synthetic_runs(n, seed)
    for i, record in enumerate(template):
        level = 1.0 if i < n // 3 else 1.12 if i < 2 * n // 3 else 1.05
        drawn = [trials[k] for k in rng.choice(len(trials), size=5, replace=False)]
        values: dict[str, list[float]] = {}
        for metric in METRICS_READ:
            found = [v for t in drawn if (v := metric.read(t)) is not None]
            if metric.name == "throughput_rps":
                found = [v / level for v in found]
            elif metric.unit == "ms":
                found = [v * level for v in found]
            if found:
                values[metric.name] = [float(f"{v:.6g}") for v in found]
        record["scenarios"] = {"predict": {"load": {"concurrency": 4}, "values": values}}
    return template


def timed(label: str, fn: Any, rows: list[tuple[str, float]]) -> Any:
    started = time.perf_counter()
    result = fn()
    rows.append((label, time.perf_counter() - started))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument(
        "--real", type=Path, help="draw the trials from a calibration file (real trials)"
    )
    parser.add_argument("--site", type=Path, help="keep the built site in this folder")
    parser.add_argument(
        "--screenshot", type=Path, help="save a PNG of the page (headless Chromium)"
    )
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    runs = real_runs(args.runs, args.real) if args.real else synthetic_runs(args.runs)
    with tempfile.TemporaryDirectory() as scratch:
        store = Path(scratch) / "store"
        local = LocalStore(store)

        def add_all() -> None:
            for record in runs:
                local.add(record, "numpy-mlp", max_runs=args.runs)

        timed(f"add {args.runs} runs one by one (in process)", add_all, rows)
        path = local.path("numpy-mlp")
        size = path.stat().st_size
        text = path.read_text()
        history = timed("parse the store file", lambda: parse_history(text, "x"), rows)
        series = timed("series and change points", lambda: series_of(history["runs"]), rows)
        timed(
            "dashboard data",
            lambda: dashboard_data([history], title="t", tool_version="0"),
            rows,
        )
        cli = [sys.executable, "-m", "benchaction.cli", "history"]
        site = args.site or Path(scratch) / "site"
        timed(
            "`benchaction history build` (fresh process)",
            lambda: subprocess.run(
                [*cli, "build", "--store", str(store), "-o", str(site)],
                check=True,
                capture_output=True,
            ),
            rows,
        )
        timed(
            "`benchaction history changes` (fresh process)",
            lambda: subprocess.run(
                [*cli, "changes", "--store", str(store), "--json", str(Path(scratch) / "c.json")],
                check=True,
                capture_output=True,
            ),
            rows,
        )
        page = (site / "index.html").stat().st_size
        if args.screenshot:
            subprocess.run(
                [
                    shutil.which("chromium") or "chromium",
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    f"--screenshot={args.screenshot.resolve()}",
                    "--window-size=1400,2400",
                    (site / "index.html").as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
    marked = sum(len(s.changes) for s in series)
    print(f"{args.runs} runs, {len(series)} series, {marked} change points marked")
    print(f"known shifts at runs {args.runs // 3} and {2 * args.runs // 3}; found:")
    for s in series:
        for change in changes_of(s):
            print(
                f"  {s.scenario} {s.metric.name}: run {change.index} ({change.change * 100:+.1f} %)"
            )
    print(f"store file {size / 1e6:.2f} MB, index.html {page / 1e6:.2f} MB")
    print("| step | seconds |\n|---|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
