"""CLI start-up: `--version`, `--help` and `validate` against `python -c pass`, timed by hyperfine.

Each command runs as `python -m benchaction ...` with PYTHONPATH set to a source tree (this
checkout by default, or --tree: another checkout, e.g. a `git worktree` of an older commit for the
"before" figure), so both trees are timed the same way. hyperfine runs the commands side by side
(warmup runs first, then --runs each) and this script prints each mean wall time and CPU time
(user + system: it moves less than the wall time when other processes share the cores), their
ratios to `python -c pass`, and the goal (<= 0.3 s wall). No network, nothing started but the commands. Usage:

    apt-get install hyperfine
    python benchmarks/cli_start.py [--tree PATH] [--runs 30] [--warmup 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import HostWatch, fmt_goal, print_machine, print_table, require, tool_version

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 0.3
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "benchaction --version": ["-m", "benchaction", "--version"],
    "benchaction --help": ["-m", "benchaction", "--help"],
    "benchaction validate": [
        "-m",
        "benchaction",
        "validate",
        "-c",
        "examples/numpy-mlp/bench.yml",
    ],
}


def _shell_word(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _time(tree: Path, runs: int, warmup: int) -> dict[str, tuple[float, float, float]]:
    """Mean and standard deviation of the wall time and mean CPU time (user + system) in
    seconds per command, from hyperfine's JSON export."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    lines = [
        " ".join(_shell_word(w) for w in [sys.executable, *argv]) for argv in COMMANDS.values()
    ]
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "times.json"
        argv = ["hyperfine", "-N", "--style", "none", "-w", str(warmup), "-r", str(runs)]
        argv += ["--export-json", str(export)]
        for name, line in zip(COMMANDS, lines, strict=True):
            argv += ["-n", name, line]
        subprocess.run(argv, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL, timeout=600)
        results = json.loads(export.read_text())["results"]
    return {r["command"]: (r["mean"], r["stddev"], r["user"] + r["system"]) for r in results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--tree", type=Path, default=REPO, help="source tree to time (default: this)")
    ap.add_argument("--runs", type=int, default=30, help="timed runs per command")
    ap.add_argument("--warmup", type=int, default=5, help="untimed runs first (page cache)")
    args = ap.parse_args()
    require("hyperfine")
    tree = args.tree.resolve()
    where = subprocess.run(
        [sys.executable, "-c", "import benchaction; print(benchaction.__file__)"],
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    ).stdout.strip()
    if not where.startswith(str(tree)):
        raise SystemExit(f"PYTHONPATH={tree} imports benchaction from {where}; check --tree")
    commit = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print_machine(
        {
            "hyperfine": tool_version(["hyperfine", "--version"]),
            "tree": f"{tree} (commit {commit or 'unknown'})",
        }
    )
    watch = HostWatch()
    times = _time(tree, args.runs, args.warmup)
    base, _, base_cpu = times["python -c pass"]
    rows = []
    for name, (mean, sd, cpu) in times.items():
        goal = "" if name == "python -c pass" else fmt_goal(mean <= GOAL_S)
        rows.append(
            [
                name,
                f"{mean * 1000:.0f} ± {sd * 1000:.0f} ms",
                f"{mean / base:.1f}x",
                f"{cpu * 1000:.0f} ms",
                f"{cpu / base_cpu:.1f}x",
                goal,
            ]
        )
    head = ["command", "wall, mean ± sd", "wall vs `pass`", "CPU (user+sys)", "CPU vs `pass`"]
    print_table([*head, f"wall <= {GOAL_S:g} s"], rows)
    print()
    print(watch.summary())


if __name__ == "__main__":
    main()
