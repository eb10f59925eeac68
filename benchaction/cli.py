"""`benchaction run | demo | compare | report | validate | history | gpu-monitor`: the outside world (argv, signals, files) turned into calls."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchaction import __version__
from benchaction.config import RUNTIMES, Config, load_config
from benchaction.errors import (
    BenchActionError,
    ConfigError,
    ExitCode,
    ServingError,
    cancel_on_signals,
    exit_code,
)
from benchaction.flow.history import add_run, build_dashboard, write_changes
from benchaction.flow.measure import RunOptions, RunOutcome, new_run_id, run_benchmark
from benchaction.flow.verdict import Baseline, judge
from benchaction.history import RunLinks
from benchaction.progress import ProgressDisplay
from benchaction.report import render_comparison, render_markdown
from benchaction.results import load_results, metric_by_name
from benchaction.stats import (
    FAIL_ON,
    PRIMARY_METRICS,
    StatsSettings,
    parse_gate,
    parse_metrics,
    parse_share,
)
from benchaction.telemetry import run_monitor, stop_on_eof

__all__ = ["main"]

DEMO_CONFIG = Path("examples") / "numpy-mlp" / "bench.yml"


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.trials is not None:
        out["trials"] = args.trials
    if args.runtime is not None:
        out["server"] = {"runtime": args.runtime}
    if args.isolation is not None:
        out["isolation"] = args.isolation
    return out


def _usable_cpus() -> tuple[int, ...] | None:
    """The cores this process may run on (its affinity), split by `isolation`; None off Linux."""
    if not hasattr(os, "sched_getaffinity"):  # pragma: no cover - not Linux
        return None
    return tuple(sorted(os.sched_getaffinity(0)))


def _finish(outcome: RunOutcome, output_dir: Path, *, quiet: bool) -> int:
    report = render_markdown(outcome.document)
    report_path = output_dir / "report.md"
    report_path.write_text(report, encoding="utf-8")
    if not quiet:
        sys.stdout.write(report)
    print(f"results: {outcome.results_path}\nreport:  {report_path}", file=sys.stderr)
    if outcome.error is None:
        return ExitCode.OK
    if isinstance(outcome.error, KeyboardInterrupt):
        print(f"interrupted: {outcome.error or 'SIGINT'}; partial results kept", file=sys.stderr)
        return ExitCode.INTERRUPTED
    print(f"error: {outcome.error}", file=sys.stderr)
    if not isinstance(outcome.error, BenchActionError):
        raise outcome.error  # a bug, not a user error: show the traceback
    return exit_code(outcome.error)


def _run_config(config: Config, args: argparse.Namespace) -> RunOutcome:
    display = ProgressDisplay()
    options = RunOptions(
        output_dir=Path(args.output),
        run_id=new_run_id(),
        environment=dict(os.environ),
        cpus=_usable_cpus(),
    )
    display.log(
        f"bench-action {__version__}: {config.name}, {len(config.scenarios)} scenario(s) x "
        f"{config.trials} trial(s), runtime {config.server.runtime}, run id {options.run_id}"
    )
    return run_benchmark(config, options, display)


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config, profile=args.profile, overrides=_overrides(args))
    return _finish(_run_config(config, args), Path(args.output), quiet=args.quiet)


def _find_demo_config() -> Path:
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        if (base / DEMO_CONFIG).is_file():
            return base / DEMO_CONFIG
    raise BenchActionError(
        f"the bundled example {DEMO_CONFIG} was not found here or next to the installed package; "
        "run `benchaction demo` from a checkout of the bench-action repository"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    path = _find_demo_config()
    config = load_config(path, profile=args.profile, overrides=_overrides(args))
    outcome = _run_config(config, args)
    if (
        isinstance(outcome.error, ServingError)
        and outcome.document["server"]["runtime"] == "docker"
        and not outcome.document["instances"]
        and args.runtime is None
    ):
        # The demo must work anywhere: when the image cannot be built (no network for the base
        # image, say), run the same server as a local process instead, and say why.
        # The first lines of a failed build: the step, the Dockerfile, the error, its output.
        why = "\n".join(f"  {line}" for line in str(outcome.error).splitlines()[:8])
        print(
            f"demo: the Docker image could not be prepared:\n{why}\n"
            "demo: running the example as a local process instead (`--runtime docker` keeps "
            "this error)",
            file=sys.stderr,
        )
        config = load_config(
            path,
            profile=args.profile,
            overrides={"server": {"runtime": "process"}, **_overrides(args)},
        )
        outcome = _run_config(config, args)
    return _finish(outcome, Path(args.output), quiet=args.quiet)


def cmd_report(args: argparse.Namespace) -> int:
    sys.stdout.write(render_markdown(load_results(args.results)))
    return ExitCode.OK


def _share(flag: str, text: str) -> float:
    try:
        return parse_share(text)
    except ValueError as exc:
        raise ConfigError([f"{flag}: {exc}"]) from None


def _stats_settings(args: argparse.Namespace) -> StatsSettings:
    thresholds: dict[str, float] = {}
    for item in args.threshold_for or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError([f"--threshold-for {item!r}: expected METRIC=FRACTION"])
        try:
            metric_by_name(name.strip())
        except KeyError as exc:
            raise ConfigError(
                [
                    f"--threshold-for {item!r}: expected METRIC=FRACTION, e.g. latency_p99_ms=0.1 ({exc})"
                ]
            ) from None
        thresholds[name.strip()] = _share(f"--threshold-for {item!r}", value)
    return StatsSettings(
        alpha=_share("--alpha", args.alpha),
        threshold=_share("--threshold", args.threshold),
        thresholds=thresholds,
        min_trials=args.min_trials,
        fail_on=args.fail_on,
        allow_fingerprint_mismatch=args.allow_fingerprint_mismatch,
        gates=tuple(parse_gate(g) for g in args.gate or []),
        primary=_deciding(args.deciding) if args.deciding else PRIMARY_METRICS,
    )


def _deciding(items: list[str]) -> tuple[str, ...]:
    try:
        return parse_metrics(",".join(items))
    except ValueError as exc:
        raise ConfigError([f"--deciding {exc}"]) from None


def cmd_compare(args: argparse.Namespace) -> int:
    settings = _stats_settings(args)
    base, head = load_results(args.base), load_results(args.head)
    verdict = judge(head, Baseline(base, {"note": f"file {args.base}"}), settings)
    comparison = verdict.comparison
    sys.stdout.write(render_comparison(comparison, base, head))
    if args.json:
        Path(args.json).write_text(json.dumps(comparison.to_json(), indent=1) + "\n")
    return ExitCode.FAILED if comparison.failed else ExitCode.OK


def cmd_validate(args: argparse.Namespace) -> int:
    config = load_config(args.config, profile=args.profile)
    print(
        f"{args.config}: valid; {len(config.scenarios)} scenario(s), {config.trials} trial(s), "
        f"config {config.hash()[:19]}"
    )
    return ExitCode.OK


def cmd_history_add(args: argparse.Namespace) -> int:
    if args.max_runs < 1:
        raise ConfigError([f"--max-runs {args.max_runs}: keep at least 1 run"])
    links: RunLinks = {}
    if args.key:
        links["key"] = args.key
    if args.url:
        links["url"] = args.url
    note = add_run(Path(args.results), Path(args.store), max_runs=args.max_runs, links=links)
    for line in note.notes:
        print(f"note: {line}", file=sys.stderr)
    print(note.line(args.store))
    return ExitCode.OK


def cmd_history_build(args: argparse.Namespace) -> int:
    index = build_dashboard(Path(args.store), Path(args.output), title=args.title)
    print(f"dashboard: {index}")
    return ExitCode.OK


def cmd_history_changes(args: argparse.Namespace) -> int:
    data = write_changes(Path(args.store), Path(args.json))
    for config in data["configs"]:
        print(f"{config['config']}: {config['runs']} run(s), {len(config['changes'])} change(s)")
        if config["note"]:
            print(f"  note: {config['note']}")
        for change in config["changes"]:
            print(f"  {change['date'][:10]} {change['scenario']}: {change['text']}")
    return ExitCode.OK


def _history_parser(sub: Any) -> None:
    hist = sub.add_parser("history", help="keep main's runs, find change points, build a dashboard")
    hsub = hist.add_subparsers(dest="history_command", required=True)
    store_help = "folder of history files, one <config>.json each"
    add = hsub.add_parser("add", help="add a results.json to the store (the same run only once)")
    add.add_argument("results", help="a complete results.json")
    add.add_argument("--store", required=True, help=store_help)
    add.add_argument(
        "--max-runs", type=int, default=500, help="keep at most this many runs (default 500)"
    )
    add.add_argument("--key", help="the run's key (default: derived from the results)")
    add.add_argument("--url", help="link to the run, shown on the dashboard")
    add.set_defaults(func=cmd_history_add)
    build = hsub.add_parser("build", help="write the static dashboard (index.html and its data)")
    build.add_argument("--store", required=True, help=store_help)
    build.add_argument("-o", "--output", required=True, help="folder for the site")
    build.add_argument("--title", default="bench-action history", help="the page title")
    build.set_defaults(func=cmd_history_build)
    changes = hsub.add_parser("changes", help="find change points (E-divisive means) per series")
    changes.add_argument("--store", required=True, help=store_help)
    changes.add_argument("--json", required=True, metavar="OUT", help="write the changes here")
    changes.set_defaults(func=cmd_history_changes)


def cmd_gpu_monitor(args: argparse.Namespace) -> int:
    """Stream GPU samples as JSON lines to stdout until stdin closes, a signal, or --max-seconds."""
    if args.rate <= 0 or (args.max_seconds is not None and args.max_seconds <= 0):
        raise ConfigError(["gpu-monitor: --rate and --max-seconds must be positive"])
    gpus = [g.strip() for g in (args.gpus or "").split(",") if g.strip()] or None
    stop = threading.Event()
    stop_on_eof(sys.stdin.buffer, stop)
    try:
        return run_monitor(
            sys.stdout.buffer,
            rate_hz=args.rate,
            max_seconds=args.max_seconds,
            gpus=gpus,
            stop=stop,
        )
    except KeyboardInterrupt:
        return ExitCode.OK  # run_monitor has said goodbye on the way out
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            # The reader went away: send what is left to /dev/null so exit stays quiet.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchaction", description=__doc__)
    p.add_argument("--version", action="version", version=f"bench-action {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def run_options(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--profile", help="profile from the config to apply (pr, full, or your own)"
        )
        sp.add_argument("--trials", type=int, help="override the number of trials")
        sp.add_argument("--runtime", choices=RUNTIMES, help="override server.runtime")
        sp.add_argument(
            "--isolation", choices=("auto", "off"), help="override isolation (CPU sets)"
        )
        sp.add_argument(
            "-o", "--output", default="bench-results", help="folder for results.json and report.md"
        )
        sp.add_argument(
            "-q", "--quiet", action="store_true", help="do not print the report to stdout"
        )

    run = sub.add_parser("run", help="benchmark the server a bench.yml describes")
    run.add_argument(
        "-c", "--config", default="bench.yml", help="path to bench.yml (default: ./bench.yml)"
    )
    run_options(run)
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="benchmark the bundled numpy MLP example end to end")
    run_options(demo)
    demo.set_defaults(func=cmd_demo)

    rep = sub.add_parser("report", help="print the markdown report of a results.json")
    rep.add_argument("results")
    rep.set_defaults(func=cmd_report)

    cmp_ = sub.add_parser(
        "compare", help="compare two results.json files; exit 1 when the gate fails"
    )
    cmp_.add_argument("base", help="the baseline results.json")
    cmp_.add_argument("head", help="the results.json to judge")
    cmp_.add_argument(
        "--threshold", default="0.05", help="practical threshold, 0.05 or 5%% (default 5 %%)"
    )
    cmp_.add_argument(
        "--threshold-for", action="append", metavar="METRIC=FRACTION", help="per-metric threshold"
    )
    cmp_.add_argument(
        "--alpha", default="0.05", help="significance after FDR control (default 0.05)"
    )
    cmp_.add_argument(
        "--min-trials", type=int, default=3, help="fewer valid trials a side: inconclusive"
    )
    cmp_.add_argument("--fail-on", choices=FAIL_ON, default="regression")
    cmp_.add_argument(
        "--deciding",
        action="append",
        metavar="METRIC[,METRIC]",
        help="metrics that decide the verdict (default throughput_rps,latency_p50_ms,error_rate)",
    )
    cmp_.add_argument(
        "--gate",
        action="append",
        metavar="[SCENARIO:]METRIC<=VALUE",
        help="absolute limit on the head",
    )
    cmp_.add_argument(
        "--allow-fingerprint-mismatch",
        action="store_true",
        help="let a regression stand across setups",
    )
    cmp_.add_argument("--json", metavar="PATH", help="also write the verdicts as JSON")
    cmp_.set_defaults(func=cmd_compare)

    val = sub.add_parser("validate", help="check a bench.yml and print what it would run")
    val.add_argument("-c", "--config", default="bench.yml")
    val.add_argument("--profile")
    val.set_defaults(func=cmd_validate)

    _history_parser(sub)

    mon = sub.add_parser(
        "gpu-monitor", help="stream GPU samples (NVML) to stdout as JSON lines, for the action"
    )
    mon.add_argument("--rate", type=float, default=10.0, help="samples per second (default 10)")
    mon.add_argument("--max-seconds", type=float, help="stop after this long (default: 24 h)")
    mon.add_argument("--gpus", help="GPU indexes or UUIDs, comma-separated (default: all visible)")
    mon.set_defaults(func=cmd_gpu_monitor)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `benchaction` console script."""
    args = _parser().parse_args(argv)
    try:
        with cancel_on_signals():
            code: int = args.func(args)
            return code
    except BenchActionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
