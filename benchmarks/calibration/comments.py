"""The pull-request comment a reviewer would get, rendered from real trials of this machine.

Reads the raw per-trial results that collect.py keeps (`--out` folder: one results.json per
trial), merges k trials into a base and k other trials into a head document exactly as A/B mode
merges its rounds, and prints the comment `flow.verdict.judge` renders for them:

- unchanged: base and head both from the unslowed level (disjoint trials);
- exact +N %: the same, with every request of the head N % slower (its histogram, percentiles
  and mean scaled, its throughput divided), an effect of known size on real noise;
- nominal SLOWDOWN: the head from a slowed level as measured (its end-to-end effect is smaller
  than the nominal share, which stretches only the handler's time).

    python benchmarks/calibration/comments.py --raw RAW_FOLDER [--k 5] [--exact 0.10] \\
        [--nominal 0.1] [--seed 1]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchaction.flow.sequential import merge_documents
from benchaction.flow.verdict import Baseline, judge
from benchaction.histogram import LogHistogram
from benchaction.results import ResultsDocument
from benchaction.stats import StatsSettings


def trials_of(raw: Path, level: str) -> list[ResultsDocument]:
    """Every one-trial results document of a level, in the order collect.py ran them."""
    found = []
    for path in (raw / f"slowdown-{level}").glob("round-*-trial-*/results.json"):
        _, r, _, slot = path.parent.name.split("-")
        found.append((int(r), int(slot), path))
    docs = [json.loads(p.read_text()) for _, _, p in sorted(found)]
    return [d for d in docs if d["status"] == "complete"]


def slower(doc: ResultsDocument, factor: float) -> ResultsDocument:
    """Every request `factor` times as long: histogram values, percentiles, mean, throughput."""
    out = copy.deepcopy(doc)
    for section in out["scenarios"]:
        for trial in section["trials"]:
            hist = LogHistogram.from_json(trial["histogram"])
            values = np.repeat(hist.bucket_value_ns(hist.index) * factor, hist.count)
            trial["histogram"] = LogHistogram.from_values(values).to_json()
            trial["latency_ms"] = {k: v * factor for k, v in trial["latency_ms"].items()}
            trial["throughput_rps"] = trial["throughput_rps"] / factor
    return out


def render(base: list[ResultsDocument], head: list[ResultsDocument]) -> str:
    """The sticky comment for these trials, as the action posts it."""
    verdict = judge(
        merge_documents(head),
        Baseline(merge_documents(base), {"note": "real trials of this machine"}),
        StatsSettings(),
    )
    return verdict.texts.comment


def main() -> int:
    """Print the three comments, each under a heading."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True, help="collect.py --out folder")
    parser.add_argument("--k", type=int, default=5, help="trials a side")
    parser.add_argument("--exact", type=float, default=0.10, help="exact slowdown of the head")
    parser.add_argument("--nominal", default="0.1", help="SLOWDOWN level for the third comment")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    zero = trials_of(args.raw, "0")
    if len(zero) < 2 * args.k:
        parser.error(f"{args.raw}: {len(zero)} complete level-0 trials; need {2 * args.k}")
    order = np.random.default_rng(args.seed).permutation(len(zero))
    base = [zero[i] for i in order[: args.k]]
    other = [zero[i] for i in order[args.k : 2 * args.k]]
    nominal = trials_of(args.raw, args.nominal)[: args.k]
    cases: list[tuple[str, list[Any]]] = [
        (f"unchanged PR (A/A, {args.k} trials a side)", other),
        (f"every request {args.exact:.0%} slower", [slower(d, 1 + args.exact) for d in other]),
        (f"SLOWDOWN={args.nominal} as measured", nominal),
    ]
    for title, head in cases:
        print(f"#### {title}\n")
        print(render(base, head))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
