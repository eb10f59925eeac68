"""Open-loop accuracy of the engine: does it send at the offered rate, and on time?

One nginx worker (a fixed 200 "ok") on core 0; the engine, one worker in a child process, on
core 1. Poisson arrivals at each rate (seeded schedule), a warmup, then the measurement window
W. Per rate it prints the offered rate, the rate the seeded schedule actually put in W, the
rate the engine actually sent in W, the completion rate, and the dispatch lag (actual send
minus scheduled send) of the measured requests. A last line runs two workers at the top rate
with no client pin (the OS places them on both cores, one of them shared with nginx). Usage:

    python benchmarks/open_loop.py [--rates 2000 5000 10000] [--seconds 10] [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np
from common import (
    HOST,
    HostWatch,
    client_cpu,
    cores,
    fmt_goal,
    nginx,
    pinned,
    print_machine,
    print_table,
    python_child,
    require,
    run_child,
    tool_version,
)

RATE_GOAL = 0.01  # achieved send rate within 1 % of the offered rate
LAG_GOAL_MS = 1.0  # dispatch lag p99 at LAG_GOAL_RATE
LAG_GOAL_RATE = 5000.0
_MS = 1e6
_S = 1e9


def child_engine(port: int, rate: float, seconds: float, warmup: float, workers: int) -> Any:
    from benchaction.config.model import Arrivals
    from benchaction.engine import (
        ErrorClass,
        Flag,
        LoadPlan,
        Phase,
        prepare_requests,
        run_load,
        trial_metrics,
    )

    plan = LoadPlan(
        host=HOST,
        port=port,
        requests=prepare_requests(HOST, port, "GET", "/", (), ()),
        arrivals=Arrivals(rate=rate, distribution="poisson"),
        duration_s=seconds,
        warmup_s=warmup,
        timeout_s=5.0,
        workers=workers,
    )
    result = run_load(plan)
    if result.folded is not None:
        raise SystemExit("the engine folded rows; shorten the run or raise fold_rows")
    rec = result.records
    w0, w1 = result.window_start_ns, result.window_end_ns
    assert w0 is not None and w1 is not None
    window_s = (w1 - w0) / _S
    t_sched, t_send, t_end = (rec.column(c) for c in ("t_sched", "t_send", "t_end"))
    error, phase = rec.column("error"), rec.column("phase")
    measured = phase == Phase.MEASURED
    sent = t_send >= 0
    lag = np.sort(t_send[measured & sent] - t_sched[measured & sent]) / _MS

    def pct(p: float) -> float:
        return (
            float(lag[max(0, int(np.ceil(p / 100 * lag.size)) - 1)]) if lag.size else float("nan")
        )

    ok = error == ErrorClass.OK
    try:  # the engine's own figures for the same run, as a cross-check of the ones above
        m = trial_metrics(result)
        own = {
            "achieved_send_rps": m.get("achieved_send_rps"),
            "dispatch_lag_p99": (m.get("dispatch_lag_ms") or {}).get("p99"),
        }
    except Exception as exc:  # metrics are not this benchmark's subject: report, do not fail
        own = {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "own": own,
        "queued": int((measured & ((rec.column("flags") & Flag.QUEUED) != 0)).sum()),
        "offered": rate,
        "window_s": window_s,
        "scheduled_rps": int(measured.sum()) / window_s,
        "sent_rps": int(((t_send >= w0) & (t_send < w1)).sum()) / window_s,
        "completed_rps": int((ok & (t_end >= w0) & (t_end < w1)).sum()) / window_s,
        "not_sent": int((measured & (error == ErrorClass.NOT_SENT)).sum()),
        "errors": int((measured & ~ok & (error != ErrorClass.NOT_SENT)).sum()),
        "lag_p50": pct(50),
        "lag_p99": pct(99),
        "lag_max": float(lag[-1]) if lag.size else float("nan"),
        "cpu": client_cpu(result.workers),
        "workers": len(result.workers),
    }


def run_engine(
    core: int | None, port: int, rate: float, seconds: float, warmup: float, workers: int
) -> dict[str, Any]:
    argv = python_child("open_loop.py", "--child", "--port", str(port), "--rates", str(rate))
    argv += ["--seconds", str(seconds), "--warmup", str(warmup), "--workers", str(workers)]
    return dict(run_child(pinned(core, argv), warmup + seconds + 90))


def report(rows: list[tuple[str, dict[str, Any]]], seconds: float, warmup: float) -> None:
    print(
        f"\nnginx (1 worker) on core 0; Poisson arrivals (seed 0); warmup {warmup:g} s, "
        f"window W {seconds:g} s.\n"
        "offered = the configured rate; in schedule = arrivals the seeded schedule put in W / |W|\n"
        "(Poisson sampling, not the engine); sent = requests whose first byte was written in W\n"
        "/ |W|; done = successful answers that ended in W / |W|; queued = measured requests that\n"
        "waited for a free connection; not sent = measured arrivals still queued in the client\n"
        "at the end; lag = actual send - scheduled send of every\n"
        "measured request that was sent (ms); client CPU = CPU time / wall time, summed over\n"
        "workers.\n"
    )
    head = ["client", "offered/s", "in schedule/s", "sent/s", "sent/offered", "sent/schedule"]
    head += ["done/s", "queued", "not sent", "errors", "lag p50", "lag p99", "lag max"]
    head += ["client CPU"]
    table = []
    for label, r in rows:
        table.append(
            [
                label,
                f"{r['offered']:,.0f}",
                f"{r['scheduled_rps']:,.0f}",
                f"{r['sent_rps']:,.0f}",
                f"{r['sent_rps'] / r['offered']:.4f}",
                f"{r['sent_rps'] / r['scheduled_rps']:.4f}",
                f"{r['completed_rps']:,.0f}",
                str(r["queued"]),
                str(r["not_sent"]),
                str(r["errors"]),
                f"{r['lag_p50']:.3f}",
                f"{r['lag_p99']:.3f}",
                f"{r['lag_max']:.3f}",
                f"{r['cpu']:.2f}",
            ]
        )
    print_table(head, table)
    print("\nthe engine's own trial_metrics for the same runs (cross-check):")
    for label, r in rows:
        own = r["own"]
        if "error" in own:
            print(f"  {label}, {r['offered']:,.0f}/s: trial_metrics failed: {own['error']}")
            continue
        sent = own.get("achieved_send_rps")
        lag = own.get("dispatch_lag_p99")
        print(
            f"  {label}, {r['offered']:,.0f}/s: achieved_send_rps "
            f"{'n/a' if sent is None else f'{sent:,.0f}'}, dispatch_lag_ms p99 "
            f"{'n/a' if lag is None else f'{lag:.3f}'}"
        )
    print("\ngoals:")
    for label, r in rows:
        off = r["sent_rps"] / r["offered"] - 1
        own = r["sent_rps"] / r["scheduled_rps"] - 1
        print(
            f"  {label}, {r['offered']:,.0f}/s: sent within {RATE_GOAL:.0%} of offered: "
            f"{off:+.2%} {fmt_goal(abs(off) <= RATE_GOAL)} (of the schedule's own arrivals: "
            f"{own:+.2%})"
        )
    for label, r in rows:
        if r["offered"] == LAG_GOAL_RATE and r["workers"] == 1:
            print(
                f"  {label}, {LAG_GOAL_RATE:,.0f}/s: dispatch lag p99 <= {LAG_GOAL_MS:g} ms: "
                f"{r['lag_p99']:.3f} ms {fmt_goal(r['lag_p99'] <= LAG_GOAL_MS)}"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", type=float, nargs="+", default=[2000.0, 5000.0, 10000.0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--no-two-workers", action="store_true", help="skip the workers=2 line")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        out = child_engine(args.port, args.rates[0], args.seconds, args.warmup, args.workers)
        print(json.dumps(out))
        return 0
    require("nginx", "taskset")
    print_machine({"nginx": tool_version(["nginx", "-v"])})
    server_core, client_core = cores()
    rows: list[tuple[str, dict[str, Any]]] = []
    watch = HostWatch()
    with nginx(server_core) as (port, _):
        for rate in args.rates:
            r = run_engine(client_core, port, rate, args.seconds, args.warmup, 1)
            rows.append(("engine, 1 worker", r))
            print(f"  {rate:>8,.0f}/s  1 worker (core 1): sent {r['sent_rps']:,.0f}/s", flush=True)
        if not args.no_two_workers:
            top = max(args.rates)
            r = run_engine(None, port, top, args.seconds, args.warmup, 2)
            rows.append(("engine, 2 workers *", r))
            print(
                f"  {top:>8,.0f}/s  2 workers (unpinned): sent {r['sent_rps']:,.0f}/s", flush=True
            )
    report(rows, args.seconds, args.warmup)
    if not args.no_two_workers:
        print(
            "\n* 2 workers: the client is not pinned; its two processes share the two cores with\n"
            "  nginx (pinned to core 0), so this line measures the engine with one core contended."
        )
    print(f"\n{watch.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
