"""Collect real per-trial metrics of the numpy-mlp example at known injected slowdowns.

For each SLOWDOWN level (extra handler time as a fraction; see examples/numpy-mlp/server.py)
this runs the real product CLI with the process runtime, one trial per invocation, every trial
on a fresh server process. Levels are interleaved: in each round, each trial slot cycles over
all levels (the order rotated per slot), so slow drift of the machine hits every level alike.
All load stays on 127.0.0.1. The merged file keeps only the metrics the statistics use:

    {"levels": {"0": [{valid, throughput_rps, latency_ms: {p50, p90, p99, mean},
                        error_rate, round, latency_hist_ms, histogram}, ...], "0.02": [...], ...},
     "meta": {...}}

Usage (about 15 minutes with the defaults on 2 vCPU):

    python benchmarks/calibration/collect.py [--rounds 6] [--trials-per-round 5] \\
        [--out calibration-raw] [--data benchmarks/calibration/data/real-<date>.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchaction.histogram import LogHistogram

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXAMPLE = REPO / "examples" / "numpy-mlp"
LEVELS = (0.0, 0.02, 0.05, 0.10, 0.20)
# One trial: 1 s warmup + 3 s measured + server start; anything past this is a hang.
INVOCATION_TIMEOUT_S = 120.0
ISOLATION = ["split"]  # --isolation: split (disjoint cores, as `auto` does on 4+), auto, off

CONFIG = """\
version: 1
name: calibration-numpy-mlp
server:
  build:
    context: .
    dockerfile: Dockerfile
  port: {port}
  env:
    SLOWDOWN: "{slowdown}"
  ready:
    path: /health
    status: 200
    timeout: 60s
    interval: 50ms
  process:
    command: [python3, server.py]
scenarios:
  - name: predict
    path: /predict
    method: POST
    headers:
      Content-Type: application/json
    payloads:
      file: payloads.jsonl
    concurrency: 4
    duration: 3s
    warmup: 1s
    timeout: 5s
trials: 1
{isolation}"""


def level_key(level: float) -> str:
    """Stable text key for a level, so JSON keys read as the nominal fraction ('0', '0.02')."""
    return f"{level:g}"


def free_port() -> int:
    """A port free on loopback now, so concurrent runs on the machine do not collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, slowdown: float) -> Path:
    """Write a bench.yml for one level next to copies of the example's server, payloads, Dockerfile."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("server.py", "payloads.jsonl", "Dockerfile"):
        shutil.copy2(EXAMPLE / name, folder / name)
    path = folder / "bench.yml"
    path.write_text(
        CONFIG.format(port=free_port(), slowdown=level_key(slowdown), isolation=isolation_key())
    )
    return path


def isolation_key() -> str:
    """`split` pins explicitly (server: every core but the highest, load: the highest), which
    `auto` does only from four cores on; `auto` and `off` go to the CLI flag."""
    if ISOLATION[0] != "split":
        return ""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("--isolation split needs two usable cores")
    server = ",".join(map(str, cores[:-1]))
    return f'isolation: {{server: "{server}", load: "{cores[-1]}"}}\n'


def child_env() -> dict[str, str]:
    """PATH with this interpreter's folder first, so `python3` in the config has numpy."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_trial(config: Path, out: Path, env: dict[str, str]) -> dict[str, Any] | None:
    """Run one trial through the real CLI and return its per-trial dict, or None on failure."""
    cli = Path(sys.executable).parent / "benchaction"
    command = [str(cli), "run", "-c", str(config), "--runtime", "process"]
    command += ["--trials", "1", "-o", str(out), "-q"]
    if ISOLATION[0] != "split":
        command += ["--isolation", ISOLATION[0]]
    try:
        done = subprocess.run(
            command,
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=INVOCATION_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        print(f"  timeout: {' '.join(command)}", file=sys.stderr, flush=True)
        return None
    results = out / "results.json"
    if done.returncode != 0 or not results.is_file():
        print(
            f"  exit {done.returncode}: {done.stderr.strip()[-500:]}", file=sys.stderr, flush=True
        )
        return None
    doc = json.loads(results.read_text())
    trials = doc["scenarios"][0]["trials"]
    return trials[0] if trials else None


def slim(trial: dict[str, Any], round_index: int) -> dict[str, Any]:
    """Keep only what the statistics read, so the committed data file stays small.

    `latency_hist_ms` holds the percentiles recomputed from the stored histogram (1 % buckets),
    which is how benchaction.stats reads them; `latency_ms` holds the exact order statistics.
    """
    lat = trial.get("latency_ms") or {}
    out: dict[str, Any] = {
        "valid": bool(trial.get("valid")),
        "throughput_rps": trial.get("throughput_rps"),
        "latency_ms": {k: lat.get(k) for k in ("p50", "p90", "p99", "mean")},
        "error_rate": trial.get("error_rate"),
        "round": round_index,
    }
    hist = trial.get("histogram")
    if hist and hist.get("count"):
        h = LogHistogram.from_json(hist)
        out["latency_hist_ms"] = {f"p{p}": h.percentile_ns(p) / 1e6 for p in (50, 90, 99)}
        # The whole histogram, sparse: what a pooled tail estimator resamples (calibrate_tail.py).
        out["histogram"] = h.to_json()
    return out


def merge_raw(raw: Path) -> dict[str, list[dict[str, Any]]]:
    """Rebuild the per-level slim trials from a raw folder (slowdown-<x>/round-<r>-trial-<j>)."""
    levels: dict[str, list[dict[str, Any]]] = {level_key(lv): [] for lv in LEVELS}
    for key in levels:
        runs = []
        for results in (raw / f"slowdown-{key}").glob("round-*-trial-*/results.json"):
            _, round_text, _, slot_text = results.parent.name.split("-")
            runs.append((int(round_text), int(slot_text), results))
        for r, _, results in sorted(runs):
            trials = json.loads(results.read_text())["scenarios"][0]["trials"]
            levels[key] += [slim(t, r) for t in trials]
    return levels


def recorded_command() -> str:
    """This invocation for the data's meta, the raw folder (a temporary path) named generically."""
    args = list(sys.argv[1:])
    for i, arg in enumerate(args[:-1]):
        if arg == "--out":
            args[i + 1] = "RAW_FOLDER"
    return " ".join([Path(sys.argv[0]).name, *args])


def host_meta() -> dict[str, Any]:
    """Describe the machine, since between-trial noise is a property of the host."""
    return {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "kernel": platform.release(),
        "isolation": ISOLATION[0],
    }


def main() -> int:
    """Run all rounds, interleaving levels, and write the merged slim data file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds over all levels")
    parser.add_argument(
        "--isolation",
        choices=("split", "auto", "off"),
        default="split",
        help="CPU isolation of each trial (split: explicit disjoint sets on any core count)",
    )
    parser.add_argument(
        "--trials-per-round", type=int, default=5, help="trials of each level per round"
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for raw results.json files")
    today = dt.date.today().isoformat()
    parser.add_argument(
        "--data", type=Path, default=HERE / "data" / f"real-{today}.json", help="merged file"
    )
    parser.add_argument(
        "--merge-only",
        action="store_true",
        help="measure nothing: rebuild --data from the raw results in --out, keeping its meta",
    )
    args = parser.parse_args()
    ISOLATION[0] = args.isolation
    if args.rounds < 1 or args.trials_per_round < 1:
        parser.error("--rounds and --trials-per-round must be >= 1")
    if args.merge_only:
        if args.out is None:
            parser.error("--merge-only needs --out (the raw results folder)")
        meta = json.loads(args.data.read_text())["meta"] if args.data.is_file() else {}
        meta["merged_by"] = recorded_command()
        write_data(args.data, merge_raw(args.out), meta)
        return 0

    raw = args.out or Path(tempfile.mkdtemp(prefix="calibration-raw-"))
    work = Path(tempfile.mkdtemp(prefix="calibration-cfg-"))
    env = child_env()
    configs = {lv: write_config(work / f"slowdown-{level_key(lv)}", lv) for lv in LEVELS}
    levels: dict[str, list[dict[str, Any]]] = {level_key(lv): [] for lv in LEVELS}
    failures = 0
    started = time.monotonic()
    total = args.rounds * args.trials_per_round * len(LEVELS)
    done = 0
    for r in range(args.rounds):
        for slot in range(args.trials_per_round):
            shift = (r * args.trials_per_round + slot) % len(LEVELS)
            for lv in LEVELS[shift:] + LEVELS[:shift]:
                key = level_key(lv)
                out = raw / f"slowdown-{key}" / f"round-{r}-trial-{slot}"
                trial = run_trial(configs[lv], out, env)
                done += 1
                if trial is None:
                    failures += 1
                    continue
                levels[key].append(slim(trial, r))
                t = levels[key][-1]
                print(
                    f"[{done}/{total} {time.monotonic() - started:6.0f}s] round {r} slowdown {key}:"
                    f" p50 {t['latency_ms']['p50']:.3f} ms, {t['throughput_rps']:.0f} rps",
                    flush=True,
                )
    wall = time.monotonic() - started
    meta = {
        "collected_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": recorded_command(),
        "wall_time_s": round(wall, 1),
        "rounds": args.rounds,
        "trials_per_round": args.trials_per_round,
        "failed_invocations": failures,
        "scenario": {"path": "/predict", "concurrency": 4, "duration_s": 3, "warmup_s": 1},
        "runtime": "process",
        "example": "examples/numpy-mlp",
        "host": host_meta(),
    }
    write_data(args.data, levels, meta)
    print(f"{wall:.0f} s; raw results in {raw}")
    return 0 if failures == 0 else 1


def write_data(path: Path, levels: dict[str, list[dict[str, Any]]], meta: dict[str, Any]) -> None:
    """Write the merged file compactly (one trial per line) so it stays small and diffable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["{", ' "levels": {']
    for i, (key, trials) in enumerate(levels.items()):
        lines.append(f"  {json.dumps(key)}: [")
        lines += [
            f"   {json.dumps(t)}" + ("," if j < len(trials) - 1 else "")
            for j, t in enumerate(trials)
        ]
        lines.append("  ]" + ("," if i < len(levels) - 1 else ""))
    lines += [" },", f' "meta": {json.dumps(meta, indent=1)}', "}"]
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    sys.exit(main())
