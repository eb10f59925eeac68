"""Change points: ours against Apache Otava on seeded series with known shifts, and the time.

Prints, for a few seeded series, the true shift indices, ours (`benchaction.stats.change_points`)
and Otava's (`otava.analysis.compute_change_points`, when importable: `pip install --no-deps
'apache-otava>=0.8'`); then how often each finds exactly the true shifts (within 1) and how
often each finds a change in a flat series, over many seeds; then the time for one
1,000-point series. Pure computation, one core, bounded by --seeds. Usage:

    python benchmarks/changepoints.py [--seeds 200] [--repeat 5] [--points 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from common import HostWatch, print_machine, print_table

from benchaction.stats import change_points

Finder = Callable[[list[float]], list[int]]


def _series(seed: int, levels: Sequence[tuple[int, float]], noise: float) -> list[float]:
    """Runs of (length, level) with relative Gaussian noise, from numpy's seeded generator."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.full(n, level) for n, level in levels])
    return [float(v) for v in x * (1 + noise * rng.standard_normal(x.size))]


def _truth(levels: Sequence[tuple[int, float]]) -> list[int]:
    return [int(i) for i in np.cumsum([n for n, _ in levels])[:-1]]


# name, levels, relative noise
CASES: list[tuple[str, list[tuple[int, float]], float]] = [
    ("100 -> 112 -> 105, 2 % noise", [(40, 100.0), (40, 112.0), (40, 105.0)], 0.02),
    ("5 % slower, 1 % noise", [(60, 100.0), (60, 105.0)], 0.01),
    ("5 % slower, 3 % noise", [(60, 100.0), (60, 105.0)], 0.03),
    ("regression in the last 8 runs", [(92, 100.0), (8, 110.0)], 0.02),
    (
        "four steps, 1 % noise",
        [(30, 100.0), (25, 95.0), (35, 103.0), (20, 98.0), (40, 108.0)],
        0.01,
    ),
    ("flat, 2 % noise", [(120, 100.0)], 0.02),
]


def _finders() -> dict[str, Finder]:
    finders: dict[str, Finder] = {"ours": lambda s: [p.index for p in change_points(s)]}
    try:
        from otava.analysis import compute_change_points
    except ImportError:
        print("Otava is not importable: pip install --no-deps 'apache-otava>=0.8'\n")
        return finders

    def otava(series: list[float]) -> list[int]:
        found: Any = compute_change_points(list(series))[0]  # a list: Otava windows only lists
        return [int(c.index) for c in found]

    finders["otava"] = otava
    return finders


def _exact(found: list[int], truth: list[int]) -> bool:
    return len(found) == len(truth) and all(
        abs(f - t) <= 1 for f, t in zip(found, truth, strict=True)
    )


def _timed(finder: Finder, series: list[float], repeat: int) -> tuple[float, float]:
    """(best, median) seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        finder(series)
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> None:
    """Print the tables described in the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200, help="seeds per case for the rates")
    ap.add_argument("--repeat", type=int, default=5, help="timed calls on the long series")
    ap.add_argument("--points", type=int, default=1000, help="length of the timed series")
    args = ap.parse_args()
    if not 1 <= args.seeds <= 10_000 or not 1 <= args.repeat <= 100:
        ap.error("--seeds must be in 1..10000 and --repeat in 1..100")
    if not 8 <= args.points <= 100_000:
        ap.error("--points must be in 8..100000")
    watch = HostWatch()
    finders = _finders()
    print_machine({"numpy": np.__version__, "window / max p / min magnitude": "50 / 0.001 / 0"})

    print("Seed 0 of each case: indices where the new level starts\n")
    rows = []
    for name, levels, noise in CASES:
        series = _series(0, levels, noise)
        rows.append([name, str(_truth(levels))] + [str(f(series)) for f in finders.values()])
    print_table(["series (seed 0)", "true", *finders], rows)

    print(f"\nOver seeds 0..{args.seeds - 1}: exactly the true shifts (within 1, nothing else)\n")
    rows = []
    for name, levels, noise in CASES:
        truth = _truth(levels)
        all_series = [_series(seed, levels, noise) for seed in range(args.seeds)]
        row = [name]
        for finder in finders.values():
            hits = sum(_exact(finder(s), truth) for s in all_series)
            row.append(f"{hits}/{args.seeds} ({100 * hits / args.seeds:.1f} %)")
        rows.append(row)
    print_table(["series", *finders], rows)

    quarter = args.points // 4
    long_levels = [(quarter, 100.0), (quarter, 104.0), (quarter, 97.0)]
    long_levels.append((args.points - 3 * quarter, 101.0))
    long_series = _series(0, long_levels, 0.01)
    print(
        f"\n{args.points:,} points, shifts at {_truth(long_levels)}, "
        f"best and median of {args.repeat}:\n"
    )
    rows = []
    for name, finder in finders.items():
        best, median = _timed(finder, long_series, args.repeat)
        rows.append(
            [name, f"{best * 1e3:.1f} ms", f"{median * 1e3:.1f} ms", str(finder(long_series))]
        )
    print_table(["implementation", "best", "median", "found"], rows)
    print()
    print(watch.summary())


if __name__ == "__main__":
    main()
