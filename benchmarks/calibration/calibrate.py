"""False-regression and detection rates of our comparison next to other tools' rules.

For each data source (real trials from collect.py, and simulated trials with noise fitted to
them) and each slowdown level, draw R resampled comparisons: base = k trials without replacement
from level 0, head = k other trials from the target level (A/A: both from level 0, disjoint).
Every method judges the same draws. A comparison counts as a regression when any metric row
(p50, p90, p99, mean latency, throughput) is flagged; on A/A that is a false regression.

    python benchmarks/calibration/calibrate.py --data benchmarks/calibration/data/real-<date>.json
        [--k 5] [--ks 3 5 10] [--r-real 1000] [--r-sim 2000] [--sim-pool 1000] [--seed 20261122]
        [--jobs 2] [--sim-defaults] [--skip-sim] [--json out.json]

Without --data (or with --sim-defaults) the simulator uses SimParams() defaults, a quiet host
with 1.5 % drift. About 3 minutes on 2 vCPU with the defaults; results are seeded per cell, so
they do not depend on --jobs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    BASE_LEVEL,
    METRIC_NAMES,
    Trial,
    level_sort_key,
    load_levels,
    metric_matrix,
    pooled_spread,
    spread_summary,
)
from peers import PEERS
from simulate import SimParams, fit_params, simulate_trials

from benchaction.stats import MetricComparison, StatsSettings, compare_metric_sets, overall_verdict

SCENARIO = "predict"
SIM_LEVELS = (0.0, 0.02, 0.05, 0.10, 0.20)
SETTINGS = StatsSettings()  # the product defaults: alpha 0.05 (BH), 5 % practical threshold


# ---------------------------------------------------------------------------------------------
# OUR METHOD: the single hook into benchaction.stats. Everything else here is method-agnostic.
# ---------------------------------------------------------------------------------------------
def ours_rows(
    base: Sequence[Trial], head: Sequence[Trial], settings: StatsSettings = SETTINGS
) -> list[MetricComparison]:
    """Compare as `benchaction compare` does: all metrics of the scenario as one BH family.

    error_rate is included because compare_scenarios includes it for every scenario (all zero
    here: an exact 'unchanged' row that only widens the BH family, as it does in the product).
    """
    b: dict[tuple[str, str], list[float]] = {}
    h: dict[tuple[str, str], list[float]] = {}
    mb, mh = metric_matrix(base), metric_matrix(head)
    for j, name in enumerate(METRIC_NAMES):
        b[(SCENARIO, name)] = mb[:, j].tolist()
        h[(SCENARIO, name)] = mh[:, j].tolist()
    b[(SCENARIO, "error_rate")] = [float(t["error_rate"]) for t in base]
    h[(SCENARIO, "error_rate")] = [float(t["error_rate"]) for t in head]
    rows: list[MetricComparison] = compare_metric_sets(b, h, settings)
    return rows


def ours(base: Sequence[Trial], head: Sequence[Trial]) -> bool:
    """Whether our overall verdict (the primary metrics decide) is a regression."""
    return overall_verdict(ours_rows(base, head)) == "regression"


# ---------------------------------------------------------------------------------------------


def draw_pairs(
    rng: np.random.Generator, n_base: int, n_head: int, k: int, r: int, same: bool
) -> list[tuple[np.ndarray, np.ndarray]]:
    """R (base, head) index pairs, k each, without replacement; disjoint when both sides are level 0."""
    pairs = []
    for _ in range(r):
        if same:
            idx = rng.permutation(n_base)[: 2 * k]
            pairs.append((idx[:k], idx[k:]))
        else:
            pairs.append(
                (rng.choice(n_base, k, replace=False), rng.choice(n_head, k, replace=False))
            )
    return pairs


def rate(
    rule: Callable[[Sequence[Trial], Sequence[Trial]], bool],
    base_pool: Sequence[Trial],
    head_pool: Sequence[Trial],
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
) -> float:
    """Share of the drawn comparisons the rule flags as a regression."""
    hits = sum(rule([base_pool[i] for i in bi], [head_pool[i] for i in hi]) for bi, hi in pairs)
    return hits / len(pairs)


def ours_breakdown(
    base_pool: Sequence[Trial],
    head_pool: Sequence[Trial],
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
) -> dict[str, float]:
    """How our comparisons end: the overall verdict, which the primary metrics decide."""
    counts = {"regression": 0, "inconclusive": 0, "unchanged": 0, "improvement": 0}
    for bi, hi in pairs:
        rows = ours_rows([base_pool[i] for i in bi], [head_pool[i] for i in hi])
        counts[overall_verdict(rows)] += 1
    return {key: v / len(pairs) for key, v in counts.items()}


SEQ_MIN, SEQ_MAX = 5, 12  # the product's sequential trials: min and max a side


def ours_sequential(
    base_pool: Sequence[Trial],
    head_pool: Sequence[Trial],
    rng: np.random.Generator,
    r: int,
    same: bool,
) -> dict[str, float]:
    """Sequential trials as the action runs them in A/B mode: SEQ_MIN a side, then one more a
    side while a deciding metric is inconclusive, up to SEQ_MAX (capped by the pool), each look
    at alpha / looks. Returns how the comparisons end and the mean trials a side used."""
    cap = len(base_pool) // 2 if same else min(len(base_pool), len(head_pool))
    top = min(SEQ_MAX, cap)
    settings = dataclasses.replace(SETTINGS, looks=max(1, top - SEQ_MIN + 1))
    counts = {"regression": 0, "inconclusive": 0, "unchanged": 0, "improvement": 0}
    used = 0
    for _ in range(r):
        if same:
            order = rng.permutation(len(base_pool))
            b_idx, h_idx = order[:top], order[top : 2 * top]
        else:
            b_idx = rng.permutation(len(base_pool))[:top]
            h_idx = rng.permutation(len(head_pool))[:top]
        k = SEQ_MIN
        while True:
            rows = ours_rows(
                [base_pool[i] for i in b_idx[:k]], [head_pool[i] for i in h_idx[:k]], settings
            )
            verdict = overall_verdict(rows)
            if verdict != "inconclusive" or k >= top:
                break
            k += 1
        counts[verdict] += 1
        used += k
    return {**{key: v / r for key, v in counts.items()}, "mean_trials": used / r, "max": top}


@dataclass(frozen=True)
class Cell:
    """One (level, k) cell of a source: its draws are seeded by its own position, not by order."""

    level: str
    k: int
    all_methods: bool
    seed: tuple[int, ...]
    disjoint: bool = False  # every level is level 0 shifted: base and head must not share trials


def run_cell(
    cell: Cell, levels: dict[str, list[dict[str, Any]]], r: int
) -> tuple[Cell, dict[str, float], dict[str, float], dict[str, float] | None]:
    """Rates of one cell: every method (and our verdict breakdown) at the main k, else ours only."""
    base_pool, head_pool = levels[BASE_LEVEL], levels[cell.level]
    rng = np.random.default_rng(list(cell.seed))
    same = cell.level == BASE_LEVEL or cell.disjoint
    pairs = draw_pairs(rng, len(base_pool), len(head_pool), cell.k, r, same)
    breakdown = ours_breakdown(base_pool, head_pool, pairs)
    rates = {"ours": breakdown["regression"]}
    if not cell.all_methods:
        return cell, rates, breakdown, None
    for m, rule in PEERS.items():
        rates[m] = rate(rule, base_pool, head_pool, pairs)
    sequential = ours_sequential(base_pool, head_pool, rng, min(r, 300), same)
    return cell, rates, breakdown, sequential


def run_source(
    name: str,
    source_id: int,
    levels: dict[str, list[dict[str, Any]]],
    r: int,
    k: int,
    ks: Sequence[int],
    seed: int,
    jobs: int,
    disjoint: bool = False,
) -> dict[str, Any]:
    """All methods at k, and ours at every k in ks, on every level of one data source."""
    keys = sorted(levels, key=level_sort_key)
    n_base = len(levels[BASE_LEVEL])
    cells = []
    for li, level in enumerate(keys):
        for kk in sorted({*ks, k}):
            need_base = 2 * kk if level == BASE_LEVEL or disjoint else kk
            if n_base < need_base or len(levels[level]) < kk:
                print(f"  {name}: level {level} has too few trials for k = {kk}", file=sys.stderr)
                continue
            cells.append(Cell(level, kk, kk == k, (seed, source_id, li, kk), disjoint))
    table: dict[str, dict[str, float]] = {m: {} for m in ("ours", *PEERS)}
    by_k: dict[str, dict[str, float]] = {str(kk): {} for kk in ks}
    breakdown: dict[str, dict[str, float]] = {}
    by_k_verdicts: dict[str, dict[str, dict[str, float]]] = {}
    sequential: dict[str, dict[str, float]] = {}
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_cell, c, levels, r) for c in cells]
        for future in futures:
            cell, rates, parts, seq = future.result()
            if seq is not None:
                sequential[cell.level] = seq
            if cell.all_methods:
                for m, v in rates.items():
                    table[m][cell.level] = v
            if cell.all_methods:
                breakdown[cell.level] = parts
            if str(cell.k) in by_k:
                by_k[str(cell.k)][cell.level] = rates["ours"]
                by_k_verdicts.setdefault(str(cell.k), {})[cell.level] = parts
    return {
        "source": name,
        "levels": keys,
        "k": k,
        "r": r,
        "table": table,
        "ours_by_k": by_k,
        "ours_breakdown": breakdown,
        "ours_by_k_verdicts": by_k_verdicts,
        "ours_sequential": sequential,
        "seconds": round(time.monotonic() - started, 1),
    }


def shifted_levels(trials: Sequence[Trial]) -> dict[str, list[dict[str, Any]]]:
    """Real level-0 trials with an exact effect: every latency (1 + e) times, the throughput
    divided by it. The real noise with a known effect, which the nominal SLOWDOWN levels lack
    (they stretch only the handler's time, so their end-to-end effect is itself measured)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in SIM_LEVELS:
        level = []
        for t in trials:
            scaled = {k: v for k, v in t.items() if k != "histogram"}
            scaled["throughput_rps"] = t["throughput_rps"] / (1 + e)
            for key in ("latency_ms", "latency_hist_ms"):
                if t.get(key):
                    scaled[key] = {p: v * (1 + e) for p, v in t[key].items()}
            level.append(scaled)
        out[f"{e:g}"] = level
    return out


def measured_effects(
    levels: dict[str, list[dict[str, Any]]], seed: int, boot: int = 2000
) -> dict[str, dict[str, dict[str, float]]]:
    """Median of each metric per level relative to level 0, with a bootstrap 95 % interval.

    The nominal SLOWDOWN stretches handler time only, so the end-to-end effect must be measured;
    the interval shows how well 30 noisy trials a level pin it down.
    """
    rng = np.random.default_rng([seed, 2])
    base_m = metric_matrix(levels[BASE_LEVEL])
    base = np.median(base_m, axis=0)
    base_boot = np.median(base_m[rng.integers(0, len(base_m), (boot, len(base_m)))], axis=1)
    out = {}
    for level in sorted(levels, key=level_sort_key):
        m = metric_matrix(levels[level])
        med = np.median(m, axis=0)
        ratio = np.median(m[rng.integers(0, len(m), (boot, len(m)))], axis=1) / base_boot - 1
        lo, hi = np.percentile(ratio, [2.5, 97.5], axis=0)
        out[level] = {
            name: {"effect": float(med[j] / base[j] - 1), "lo": float(lo[j]), "hi": float(hi[j])}
            for j, name in enumerate(METRIC_NAMES)
        }
    return out


def pct(x: float) -> str:
    """A rate as a right-aligned percentage cell."""
    return f"{100 * x:7.1f} %"


def cell(cells: dict[str, float], level: str) -> str:
    """One table cell, or n/a when the level had too few trials for this k."""
    return f"{pct(cells[level]):>16}" if level in cells else f"{'n/a':>16}"


def print_source(res: dict[str, Any]) -> None:
    """One table: methods by rows, A/A false regressions then detection per level."""
    levels = res["levels"]
    head = ["A/A false reg."] + [
        f"detect {100 * float(lv):g} %" for lv in levels if lv != BASE_LEVEL
    ]
    print(f"\n== {res['source']}: k = {res['k']} trials a side, R = {res['r']} draws per cell ==")
    print(f"{'method':16}" + "".join(f"{h:>16}" for h in head))
    for method, cells in res["table"].items():
        print(f"{method:16}" + "".join(cell(cells, lv) for lv in levels))
    for kk, cells in res["ours_by_k"].items():
        print(f"{'ours k = ' + kk:16}" + "".join(cell(cells, lv) for lv in levels))
    print(
        f"ours at k = {res['k']}, overall verdicts "
        "(regression / inconclusive / unchanged / improvement):"
    )
    for lv in levels:
        b = res["ours_breakdown"].get(lv)
        if b:
            print(
                f"  level {lv:>5}: {pct(b['regression'])} / {pct(b['inconclusive'])}"
                f" / {pct(b['unchanged'])} / {pct(b['improvement'])}"
            )
    print(
        f"ours sequential ({SEQ_MIN} to at most {SEQ_MAX} a side, alpha spent over the looks), "
        "overall verdicts (regression / inconclusive / unchanged / improvement), mean trials:"
    )
    for lv in levels:
        s = res.get("ours_sequential", {}).get(lv)
        if s:
            print(
                f"  level {lv:>5}: {pct(s['regression'])} / {pct(s['inconclusive'])}"
                f" / {pct(s['unchanged'])} / {pct(s['improvement'])}; "
                f"{s['mean_trials']:.1f} trials a side (max {s['max']})"
            )
    print(f"({res['seconds']} s)")


def print_markdown(res: dict[str, Any]) -> None:
    """The issue's table: per method, A/A unchanged / false regression / inconclusive, then per
    level the share detected as a regression (and, for ours, the share left inconclusive)."""
    levels = [lv for lv in res["levels"] if lv != BASE_LEVEL]
    print(f"\n== {res['source']}, as markdown (R = {res['r']} draws a cell) ==\n")
    head = "| method | A/A unchanged | A/A false regression | A/A inconclusive |"
    head += "".join(f" +{100 * float(lv):g} % detected (inconclusive) |" for lv in levels)
    print(head)
    print("|---|" + "---:|" * (3 + len(levels)))

    def ours_line(
        name: str,
        cells: dict[str, dict[str, float]],
        extra: Callable[[dict[str, float]], str] | None = None,
    ) -> None:
        def tag(c: dict[str, float]) -> str:
            return f" {extra(c)}" if extra is not None else ""

        aa = cells.get(BASE_LEVEL)
        row = f"| {name} |"
        row += (
            f" {100 * aa['unchanged']:.1f} % | {100 * aa['regression']:.1f} % |"
            f" {100 * aa['inconclusive']:.1f} %{tag(aa)} |"
            if aa
            else " n/a | n/a | n/a |"
        )
        for lv in levels:
            c = cells.get(lv)
            row += (
                f" {100 * c['regression']:.1f} % ({100 * c['inconclusive']:.1f} %){tag(c)} |"
                if c
                else " n/a |"
            )
        print(row)

    for kk, cells in sorted(res["ours_by_k_verdicts"].items(), key=lambda kv: int(kv[0])):
        ours_line(f"ours, k = {kk}", cells)
    if res.get("ours_sequential"):
        ours_line(
            f"ours, sequential {SEQ_MIN}..{SEQ_MAX}",
            res["ours_sequential"],
            lambda c: f"[{c['mean_trials']:.1f} trials]",
        )
    for method, cells in res["table"].items():
        if method == "ours":
            continue
        row = f"| {method}, k = {res['k']} | n/a | {100 * cells.get(BASE_LEVEL, float('nan')):.1f} % | n/a |"
        row += "".join(f" {100 * cells[lv]:.1f} % |" if lv in cells else " n/a |" for lv in levels)
        print(row)


def print_effects(effects: dict[str, dict[str, dict[str, float]]], n: dict[str, int]) -> None:
    """The measured end-to-end effect per nominal SLOWDOWN (the nominal is of handler time only)."""
    print("\n== real data: measured effect of each SLOWDOWN ==")
    print("median of the level / median of level 0 - 1, in %, [bootstrap 95 % interval]")
    print(f"{'SLOWDOWN':>9}{'trials':>7}" + "".join(f"{m:>22}" for m in METRIC_NAMES))
    for level, eff in effects.items():
        if level == BASE_LEVEL:
            print(
                f"{level:>9}{n[level]:>7}" + "".join(f"{'(reference)':>22}" for _ in METRIC_NAMES)
            )
            continue
        cells = "".join(
            f"{100 * e['effect']:+7.1f} [{100 * e['lo']:+5.1f},{100 * e['hi']:+5.1f}]"
            for e in (eff[m] for m in METRIC_NAMES)
        )
        print(f"{level:>9}{n[level]:>7}{cells}")


def print_spread(
    label: str, trials: Sequence[Trial], pooled: dict[str, dict[str, float]] | None = None
) -> None:
    """Between-trial CV per metric at level 0 (and pooled over levels), plain and robust."""
    rows = [("level 0", spread_summary(trials))]
    if pooled:
        rows.append(("all levels pooled", pooled))
    print(f"\n== {label}: between-trial CV, plain (robust from the MAD of logs) ==")
    print(f"{'':20}" + "".join(f"{m:>17}" for m in METRIC_NAMES))
    for name, s in rows:
        cells = "".join(
            f"{s[m]['cv_pct']:6.1f} % ({s[m]['robust_cv_pct']:4.1f} %)" for m in METRIC_NAMES
        )
        print(f"{name:20}{cells}")


def main() -> int:
    """Run the calibration on the real data (if given) and on simulated data; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="real data file written by collect.py")
    parser.add_argument("--k", type=int, default=5, help="trials a side for the method table")
    parser.add_argument("--ks", type=int, nargs="+", default=[3, 5, 10], help="k values for ours")
    parser.add_argument("--r-real", type=int, default=1000, help="draws per cell, real data")
    parser.add_argument("--r-sim", type=int, default=2000, help="draws per cell, simulated data")
    parser.add_argument("--sim-pool", type=int, default=1000, help="simulated trials per level")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument(
        "--sim-defaults",
        action="store_true",
        help="simulate with SimParams() defaults (a quiet host: 1.5 %% drift) instead of the fit",
    )
    parser.add_argument(
        "--skip-sim", action="store_true", help="real data only (no simulator fitted to it)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--json", type=Path, help="also write all results here")
    args = parser.parse_args()
    if min([args.k, *args.ks]) < 2 or args.r_real < 1 or args.r_sim < 1 or args.sim_pool < 2:
        parser.error("k must be >= 2, R and --sim-pool positive")

    out: dict[str, Any] = {"seed": args.seed, "settings": repr(SETTINGS)}
    params = SimParams()
    if args.data:
        levels, meta = load_levels(args.data)
        n = {lv: len(t) for lv, t in levels.items()}
        out["real_meta"] = meta
        out["measured_effects"] = measured_effects(levels, args.seed)
        print(f"real data: {args.data} ({sum(n.values())} valid trials; {meta.get('command', '')})")
        print_effects(out["measured_effects"], n)
        out["real_spread"] = {
            "level0": spread_summary(levels[BASE_LEVEL]),
            "pooled": pooled_spread(levels),
        }
        print_spread("real data", levels[BASE_LEVEL], out["real_spread"]["pooled"])
        if not args.sim_defaults:
            params = fit_params(levels[BASE_LEVEL])
        out["real"] = run_source(
            "real data", 0, levels, args.r_real, args.k, args.ks, args.seed, args.jobs
        )
        print_source(out["real"])
        print_markdown(out["real"])
        out["real_shifted"] = run_source(
            "real level-0 trials, exact effect",
            2,
            shifted_levels(levels[BASE_LEVEL]),
            args.r_real,
            args.k,
            args.ks,
            args.seed,
            args.jobs,
            disjoint=True,
        )
        print_source(out["real_shifted"])
        print_markdown(out["real_shifted"])

    if args.skip_sim and args.data:
        if args.json:
            args.json.write_text(json.dumps(out, indent=1) + "\n")
        return 0
    print(f"\nsimulator parameters: {params}")
    sim_rng = np.random.default_rng([args.seed, 1])
    sim_levels = {
        f"{lv:g}": simulate_trials(sim_rng, args.sim_pool, lv, params) for lv in SIM_LEVELS
    }
    print_spread("simulated data", sim_levels[BASE_LEVEL], pooled_spread(sim_levels))
    out["sim_params"] = vars(params)
    out["simulated"] = run_source(
        "simulated data", 1, sim_levels, args.r_sim, args.k, args.ks, args.seed, args.jobs
    )
    print_source(out["simulated"])
    print_markdown(out["simulated"])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
