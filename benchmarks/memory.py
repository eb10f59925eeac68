"""Memory of a long run: one hour at 10k requests/s through the engine's record path.

Feeds 36 million request records (and, with --stream, 4 token events each) through the same
`LoadRun.record` / event path the connections use, with the same folding into histograms, and
prints the peak resident memory against the 1 GiB goal. No network: the record path is what
grows with run length; sockets and users do not. Usage:

    python benchmarks/memory.py [--rate 10000] [--seconds 3600] [--stream]
"""

from __future__ import annotations

import argparse
import resource
import time

from benchaction.engine.plan import LoadPlan
from benchaction.engine.records import Phase
from benchaction.engine.result import LoadResult
from benchaction.engine.run import ClosedRun
from benchaction.engine.trial_metrics import trial_metrics

GIB = 1 << 30


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    """Feed the records of a long run and print memory and time."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=10_000.0)
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--stream", action="store_true", help="also 4 token events per request")
    args = ap.parse_args()
    n = int(args.rate * args.seconds)
    plan = LoadPlan("127.0.0.1", 9, (b"GET / HTTP/1.1\r\n\r\n",), duration_s=args.seconds)
    run = ClosedRun(plan, 0)
    run.w0, run.w1 = 0, int(args.seconds * 1e9)
    gap = int(1e9 / args.rate)
    started = time.perf_counter()
    before = _rss_bytes()
    for i in range(n):
        t = i * gap
        if args.stream:
            for k in range(4):
                run.events.append(i, t + 100_000 + k * 10_000)
            run.record(
                t,
                t + 1_000,
                t + 50_000,
                t + 150_000,
                200,
                300,
                0,
                Phase.MEASURED,
                i,
                t + 100_000,
                t + 130_000,
                4,
                4,
                12,
                0,
                0,
            )
        else:
            run.record(
                t,
                t + 1_000,
                t + 50_000,
                t + 150_000 + (i % 97) * 1_000,
                200,
                300,
                0,
                Phase.MEASURED,
                i,
            )
    fed = time.perf_counter() - started
    result = LoadResult(
        run.buffer.freeze(), 0, run.w1, True, 0, events=run.events.freeze(), folded=run.folded
    )
    metrics = trial_metrics(result)
    peak = _rss_bytes()
    print(f"records fed        {n:,} ({args.rate:,.0f}/s for {args.seconds:,.0f} s)")
    print(f"rows kept exactly  {len(result.records):,} (fold_rows {plan.fold_rows:,})")
    print(f"feed time          {fed:,.1f} s ({fed / n * 1e9:,.0f} ns per record)")
    print(
        f"peak RSS           {peak / GIB:.2f} GiB (before feeding {before / GIB:.2f} GiB); "
        f"goal < 1 GiB: {'met' if peak < GIB else 'NOT met'}"
    )
    print(
        f"succeeded counted  {metrics['counts']['succeeded']:,}; "
        f"latency p50 {metrics['latency_ms']['p50']:.3f} ms, p99 {metrics['latency_ms']['p99']:.3f} ms"
    )


if __name__ == "__main__":
    main()
