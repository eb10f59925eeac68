"""A PR comment for a change that is faster but less accurate, from real A/B trials.

Runs the numpy MLP example as a local process in A/B mode (trials interleaved): the base with
SLOWDOWN (extra service time) and no flipped answers, the head without the slowdown but with
FLIP (a known share of classes answered wrong). Each side scores examples/numpy-mlp/labelled.jsonl
once after its first trial. Then compares the two results documents and writes the PR comment
the action would post. Bounded: trials x duration per side, plus one accuracy pass each. Usage:

    python benchmarks/accuracy_tradeoff.py [--out comment.md] [--trials 5] [--duration 3]
        [--slowdown 0.35] [--flip 0.03]
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import sys
import tempfile
from pathlib import Path

from benchaction.config import Config, ProcessSpec, load_config
from benchaction.flow.ab import run_ab
from benchaction.flow.measure import RunOptions
from benchaction.progress import ProgressDisplay
from benchaction.report import comment_marker, render_comment
from benchaction.stats import StatsSettings, compare_documents

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "numpy-mlp"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _side(config: Config, port: int, knob: str, trials: int, duration_s: float) -> Config:
    """One side: the knob rides on the command (`env KNOB=x python3 server.py`), as a code
    change rides on the image: the process, like the image, is what is compared, not part of
    the setup's fingerprint."""
    process = ProcessSpec(command=("env", knob, "python3", "server.py"), cwd=EXAMPLE)
    server = dataclasses.replace(
        config.server, runtime="process", port=port, env={"PORT": str(port)}, process=process
    )
    predict = config.scenarios[0]
    # One load worker: on a small shared machine a second one takes the server's core.
    scenario = dataclasses.replace(predict, duration_s=duration_s, workers=1)
    return dataclasses.replace(
        config, server=server, scenarios=(scenario,), trials=trials, reuse=False
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("accuracy-tradeoff-comment.md"))
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--slowdown", type=float, default=0.35, help="the base's SLOWDOWN")
    parser.add_argument("--flip", type=float, default=0.03, help="the head's FLIP")
    args = parser.parse_args()
    config = load_config(EXAMPLE / "bench.yml")
    port = _free_port()  # the sides run one at a time: the same port, the same setup
    base = _side(config, port, f"SLOWDOWN={args.slowdown}", args.trials, args.duration)
    head = _side(config, port, f"FLIP={args.flip}", args.trials, args.duration)
    display = ProgressDisplay(sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-tradeoff-") as out:
        options = RunOptions(output_dir=Path(out), run_id="tradeoff")
        outcome = run_ab(head, base, options, display, log=display.log)
    if outcome.error is not None or outcome.base is None or outcome.head is None:
        print(f"the A/B run failed: {outcome.error}", file=sys.stderr)
        return 1
    comparison = compare_documents(outcome.base, outcome.head, StatsSettings())
    body = render_comment(
        comparison,
        outcome.base,
        outcome.head,
        marker=comment_marker(config.name),
        provenance={"note": "A/B trials in this job (base: SLOWDOWN, head: FLIP)"},
        limit=65_536,
    )
    args.out.write_text(body, encoding="utf-8")
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
