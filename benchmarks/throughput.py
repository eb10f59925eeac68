"""Closed-loop throughput of the engine next to wrk and an aiohttp client, against one pinned nginx.

One nginx worker (a fixed 200 "ok", keep-alive, no access log) runs on core 0; each client runs
alone on core 1, one after the other with the same connection count: wrk `-t1`, the engine
(one worker, uvloop, in a child process so the pin applies to it), and an aiohttp loop (uvloop,
one shared ClientSession, N tasks each looping GET on keep-alive connections, responses counted
in a fixed window after a warmup). Several rounds alternate the order; the table gives the
median requests/s of the rounds and the engine's ratio to each. Needs `nginx`, `wrk`, `taskset`
and the `bench` extra (aiohttp). Usage:

    python benchmarks/throughput.py [--concurrency 32 256] [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import resource
import statistics
import subprocess
import sys
import time

from common import (
    HOST,
    CpuSampler,
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

GOAL_VS_WRK = 0.8
GOAL_VS_AIOHTTP = 5.0
WARMUP_S = 0.5
CLIENTS = ("engine", "wrk", "aiohttp")


# -- the clients, each run pinned to the client core ---------------------------------------------


def run_wrk(core: int, port: int, concurrency: int, seconds: float) -> dict[str, float]:
    argv = ["wrk", "-t1", f"-c{concurrency}", f"-d{round(seconds)}s", "--timeout", "5s"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        pinned(core, [*argv, f"http://{HOST}:{port}/"]),
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    if re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise SystemExit(f"wrk saw errors:\n{out}")
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"rps": float(match.group(1)), "cpu": cpu_s / round(seconds)}


def run_python(
    kind: str, core: int, port: int, concurrency: int, seconds: float
) -> dict[str, float]:
    argv = python_child("throughput.py", "--child", kind, "--port", str(port))
    argv += ["--concurrency", str(concurrency), "--seconds", str(seconds)]
    return dict(run_child(pinned(core, argv), seconds + 60))


def run_client(
    name: str, core: int, port: int, server_pid: int, concurrency: int, seconds: float
) -> dict[str, float]:
    """One client run; also samples the server's CPU over the middle of it."""
    with CpuSampler(server_pid, (1.5, seconds - 0.2)) as server:
        if name == "wrk":
            got = run_wrk(core, port, concurrency, seconds)
        else:
            got = run_python(name, core, port, concurrency, seconds)
    return {**got, "server_cpu": server.value}


# -- child modes ---------------------------------------------------------------------------------


def child_engine(port: int, concurrency: int, seconds: float) -> dict[str, float]:
    from benchaction.engine import LoadPlan, prepare_requests, run_load, trial_metrics

    plan = LoadPlan(
        host=HOST,
        port=port,
        requests=prepare_requests(HOST, port, "GET", "/", (), ()),
        concurrency=concurrency,
        duration_s=seconds,
        warmup_s=WARMUP_S,
        timeout_s=5.0,
        workers=1,
    )
    result = run_load(plan)
    metrics = trial_metrics(result)
    if metrics["counts"]["failed"]:
        raise SystemExit(f"engine saw errors: {metrics['errors']}")
    return {"rps": float(metrics["throughput_rps"]), "cpu": client_cpu(result.workers)}


async def _aiohttp_loop(port: int, concurrency: int, seconds: float) -> dict[str, float]:
    import aiohttp

    url = f"http://{HOST}:{port}/"
    connector = aiohttp.TCPConnector(limit=concurrency)
    count = 0
    failed = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter() + WARMUP_S
        t1 = t0 + seconds

        async def user() -> None:
            nonlocal count, failed
            while True:
                async with session.get(url) as response:
                    await response.read()
                    ok = response.status == 200
                now = time.perf_counter()
                if now >= t1:
                    return
                if now >= t0:
                    if ok:
                        count += 1
                    else:
                        failed += 1

        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(user() for _ in range(concurrency))), WARMUP_S + seconds + 30
        )
        cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    if failed:
        raise SystemExit(f"aiohttp saw {failed} non-200 answers")
    return {"rps": count / seconds, "cpu": cpu}


def child_aiohttp(port: int, concurrency: int, seconds: float) -> dict[str, float]:
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_aiohttp_loop(port, concurrency, seconds))


# -- the comparison ------------------------------------------------------------------------------


def measure(
    concurrencies: list[int], seconds: float, rounds: int
) -> dict[tuple[str, int], list[dict[str, float]]]:
    server_core, client_core = cores()
    samples: dict[tuple[str, int], list[dict[str, float]]] = {}
    with nginx(server_core) as (port, server_pid):
        for concurrency in concurrencies:
            for r in range(rounds):
                order = CLIENTS if r % 2 == 0 else tuple(reversed(CLIENTS))
                for name in order:
                    got = run_client(name, client_core, port, server_pid, concurrency, seconds)
                    samples.setdefault((name, concurrency), []).append(got)
                    print(
                        f"  c={concurrency:<4d} round {r + 1}  {name:8s} {got['rps']:>10,.0f} req/s"
                        f"  client CPU {got['cpu']:.2f}  server CPU {got['server_cpu']:.2f}",
                        flush=True,
                    )
    return samples


def _median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def report(
    samples: dict[tuple[str, int], list[dict[str, float]]],
    concurrencies: list[int],
    seconds: float,
    rounds: int,
) -> None:
    print(
        f"\nnginx (1 worker) on core 0, each client alone on core 1; {seconds:g} s window x "
        f"{rounds} rounds, order alternating.\n"
        "req/s = median of the rounds (range: min - max); client CPU = its CPU time / wall time\n"
        "(1.00 = core 1 fully busy); req/CPU-s = req/s / client CPU (what one busy core would do);\n"
        "server CPU = nginx's worker over the middle of each run; all columns medians of rounds.\n"
    )
    head = ["client", "conc.", "req/s", "range", "client CPU", "req/CPU-s", "server CPU"]
    head += ["engine/wrk", "engine/aiohttp"]
    rows = []
    verdicts = []
    for concurrency in concurrencies:
        med: dict[str, dict[str, float]] = {}
        for name in CLIENTS:
            runs = samples[(name, concurrency)]
            med[name] = {
                "rps": _median([r["rps"] for r in runs]),
                "cpu": _median([r["cpu"] for r in runs]),
                "eff": _median([r["rps"] / r["cpu"] for r in runs if r["cpu"] > 0]),
                "server": _median([r["server_cpu"] for r in runs]),
            }
        vs_wrk = med["engine"]["rps"] / med["wrk"]["rps"]
        vs_aiohttp = med["engine"]["rps"] / med["aiohttp"]["rps"]
        for name in CLIENTS:
            rps = [r["rps"] for r in samples[(name, concurrency)]]
            m = med[name]
            rows.append(
                [
                    name,
                    str(concurrency),
                    f"{m['rps']:,.0f}",
                    f"{min(rps):,.0f} - {max(rps):,.0f}",
                    f"{m['cpu']:.2f}",
                    f"{m['eff']:,.0f}",
                    f"{m['server']:.2f}",
                    f"{vs_wrk:.2f}" if name == "engine" else "",
                    f"{vs_aiohttp:.2f}" if name == "engine" else "",
                ]
            )
        eff_w = med["engine"]["eff"] / med["wrk"]["eff"]
        eff_a = med["engine"]["eff"] / med["aiohttp"]["eff"]
        verdicts.append(
            f"  c={concurrency}: engine/wrk {vs_wrk:.2f} (goal >= {GOAL_VS_WRK}: "
            f"{fmt_goal(vs_wrk >= GOAL_VS_WRK)}), engine/aiohttp {vs_aiohttp:.2f} "
            f"(goal >= {GOAL_VS_AIOHTTP:g}: {fmt_goal(vs_aiohttp >= GOAL_VS_AIOHTTP)}); "
            f"per client CPU-second: engine/wrk {eff_w:.2f}, engine/aiohttp {eff_a:.2f}"
        )
    print_table(head, rows)
    print("\ngoals (on req/s):")
    print("\n".join(verdicts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", type=int, nargs="+", default=[32, 256])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", choices=("engine", "aiohttp"), help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        fn = child_engine if args.child == "engine" else child_aiohttp
        print(json.dumps(fn(args.port, args.concurrency[0], args.seconds)))
        return 0
    if args.seconds < 3:
        raise SystemExit("--seconds must be at least 3 (the server's CPU is sampled inside)")
    require("nginx", "wrk", "taskset")
    try:
        import aiohttp
    except ImportError:
        raise SystemExit("aiohttp is missing: pip install -e '.[bench]'") from None
    print_machine(
        {
            "nginx": tool_version(["nginx", "-v"]),
            "wrk": tool_version(["wrk", "-v"]),
            "aiohttp": aiohttp.__version__,
        }
    )
    watch = HostWatch()
    samples = measure(args.concurrency, args.seconds, args.rounds)
    report(samples, args.concurrency, args.seconds, args.rounds)
    print(f"\n{watch.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
