"""The history dashboard at scale: write_site time and page size for a long synthetic history.

Builds a seeded history of one config with 3 scenarios x 5 metrics (15 series) over --runs
main-branch runs, with two level shifts (a regression a third in, an improvement two thirds
in) marked as change points, two profiles and a runner change; times `write_site`, prints the
page size (raw and gzip, as GitHub Pages serves it). With headless Chromium installed it also
loads the page over the DevTools protocol and times the load and one filter change;
`--screenshot PATH` saves a PNG of the page. Usage:

    python benchmarks/dashboard.py [--runs 1000] [--repeat 5] [--screenshot out.png] [--no-browser]
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchaction.report import (
    DashboardChangePoint,
    DashboardConfig,
    DashboardData,
    DashboardPoint,
    DashboardSeries,
    LatestChange,
    write_site,
)

REPO = "https://github.com/acme/model"
SCENARIOS = ("default", "burst", "long-prompt")
METRICS = (  # name, label, unit, higher is better, level, noise (CV), shifts
    ("latency_p50_ms", "latency p50", "ms", False, 12.0, 0.015, True),
    ("latency_p99_ms", "latency p99", "ms", False, 31.0, 0.04, True),
    ("throughput_rps", "throughput", "req/s", True, 850.0, 0.01, True),
    ("error_rate", "error rate", "%", False, 0.2, 0.3, False),
    ("gpu_energy_per_request_j", "energy / request", "J", False, 1.9, 0.02, True),
)
# Relative shift of a shifting series' level from a run on: latency and energy get 8 % worse
# a third in (throughput 8 % lower), then 5 % better two thirds in; the error rate stays.
SHIFTS = ((1 / 3, 0.08), (2 / 3, -0.05))


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def synthetic_history(runs: int, seed: int = 1) -> DashboardData:
    """One config's history of `runs` runs, hourly, with the shifts above as change points."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    meta = [
        {
            "commit": (sha := _sha(rng)),
            "date": (start + timedelta(hours=6 * i)).isoformat(),
            "url": f"{REPO}/actions/runs/{9_000_000_000 + i}",
            "commit_url": f"{REPO}/commit/{sha}",
            "profile": "full" if i % 10 == 9 else "pr",
            "fingerprint": "a1b2c3d4" if i < runs * 0.6 else "9f8e7d6c",
        }
        for i in range(runs)
    ]
    all_cuts = [(round(at * runs), shift) for at, shift in SHIFTS if 0 < round(at * runs) < runs]
    series: list[DashboardSeries] = []
    latest: LatestChange | None = None
    for scenario in SCENARIOS:
        for metric, label, unit, higher, level, cv, shifts in METRICS:
            sign = -1 if higher else 1  # a "worse" shift lowers throughput
            cuts = all_cuts if shifts else []
            points: list[DashboardPoint] = []
            for i, m in enumerate(meta):
                value = level * (1 + sum(sign * s for at, s in cuts if i >= at))
                trials = [value * rng.lognormvariate(0, cv) for _ in range(5)]
                points.append(
                    {
                        "commit": m["commit"],
                        "date": m["date"],
                        "url": m["url"],
                        "commit_url": m["commit_url"],
                        "profile": m["profile"],
                        "fingerprint": m["fingerprint"],
                        "center": statistics.median(trials),
                        "low": min(trials),
                        "high": max(trials),
                        "n": 5,
                    }
                )
            changes: list[DashboardChangePoint] = [
                {
                    "index": at,
                    "commit": meta[at]["commit"],
                    "date": meta[at]["date"],
                    "change": sign * shift,
                    "worse": shift > 0,
                }
                for at, shift in cuts
            ]
            series.append(
                {
                    "scenario": scenario,
                    "metric": metric,
                    "label": label,
                    "unit": unit,
                    "higher_is_better": higher,
                    "points": points,
                    "change_points": changes,
                }
            )
    # The newest change of the first series (default, latency p50) as the lead's code words it.
    first = series[0]
    if first["change_points"]:
        last = first["change_points"][-1]
        latest = {
            "scenario": first["scenario"],
            "metric": first["metric"],
            "label": first["label"],
            "commit": last["commit"],
            "date": last["date"],
            "url": first["points"][last["index"]]["url"],
            "change": last["change"],
            "worse": last["worse"],
            "text": f"{first['label']} is {abs(last['change']) * 100:.1f} % "
            f"{'slower' if last['worse'] else 'faster'} since {last['commit'][:7]}",
        }
    config: DashboardConfig = {
        "name": "numpy-mlp",
        "runs": runs,
        "latest_change": latest,
        "series": series,
    }
    return {
        "title": "bench-action history: acme/model",
        "generated_at": (start + timedelta(hours=6 * runs)).isoformat(),
        "tool_version": "0.1.0",
        "latest_change": latest,
        "configs": [config],
    }


def _browser_figures(index: Path) -> tuple[float, float, int] | None:
    """(load s, filter s, points) in headless Chromium via the tests' DevTools client, if any."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.browser import BROWSERS, headless_page

    binary = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if binary is None:
        return None
    with headless_page(binary) as page:
        began = time.perf_counter()
        page.goto(index.as_uri())
        load_s = time.perf_counter() - began
        filter_s = page.evaluate(
            "(() => { const s = document.getElementById('filter-profile'); s.value = 'full';"
            " const t = performance.now(); s.dispatchEvent(new Event('change'));"
            " return (performance.now() - t) / 1000; })()"
        )
        points = page.evaluate("document.querySelectorAll('[data-point]').length")
        if page.errors():
            raise SystemExit(f"the page logged errors: {page.errors()}")
    return load_s, float(filter_s), int(points)


def main() -> None:
    """Time write_site on a synthetic history and print the page's size (and browser figures)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="write_site calls; the median is shown")
    ap.add_argument(
        "--out", type=Path, help="keep the site in this folder (default: a temp folder)"
    )
    ap.add_argument("--screenshot", type=Path, help="save a PNG of the page (headless Chromium)")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium load timing")
    args = ap.parse_args()

    data = synthetic_history(args.runs, args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        out = args.out or Path(tmp)
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            index = write_site(data, out)
            times.append(time.perf_counter() - began)
        html = index.read_bytes()
        site = sum(
            p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name != "data.json"
        )
        series = sum(len(c["series"]) for c in data["configs"])
        print(f"history: {args.runs} runs x {series} series = {args.runs * series} points")
        print(
            f"write_site: median {statistics.median(times):.2f} s, min {min(times):.2f} s of {args.repeat}"
        )
        print(
            f"index.html: {len(html) / 1e6:.2f} MB ({len(gzip.compress(html)) / 1e6:.2f} MB gzip); "
            f"with assets {site / 1e6:.2f} MB; data.json {(out / 'data.json').stat().st_size / 1e6:.2f} MB"
        )
        if not args.no_browser:
            figures = _browser_figures(index)
            if figures is None:
                print("browser: no chromium on PATH; skipped")
            else:
                load_s, filter_s, points = figures
                print(
                    f"chromium: load {load_s:.2f} s, profile filter {filter_s * 1000:.0f} ms, {points} points in the DOM"
                )
        if args.screenshot:
            binary = shutil.which("chromium") or "chromium"
            subprocess.run(
                [
                    binary,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    f"--screenshot={args.screenshot.resolve()}",
                    "--window-size=1400,2000",
                    index.as_uri(),
                ],
                check=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
                capture_output=True,
            )
            print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
