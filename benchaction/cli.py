"""`benchaction run | init | validate | demo | compare | report | history | gpu-monitor`: the outside
world (argv, signals, files, the environment) turned into calls; subcommand groups live in commands/."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchaction import __version__
from benchaction.commands.compare import add_compare_parsers
from benchaction.commands.history import add_history_parser
from benchaction.commands.init import add_init_parser
from benchaction.commands.monitor import add_monitor_parser
from benchaction.commands.parser import Parser
from benchaction.commands.url_config import URL_ONLY, add_url_options, url_config
from benchaction.config import RUNTIMES, load_config
from benchaction.errors import (
    BenchActionError,
    ExitCode,
    ServingError,
    UsageError,
    cancel_on_signals,
    error_text,
    exit_code,
)

if TYPE_CHECKING:  # the flow loads numpy, scipy and the engine: imported when a command runs
    from benchaction.config import Config
    from benchaction.flow.measure import RunOutcome

__all__ = ["main"]

DEMO_CONFIG = Path("examples") / "numpy-mlp" / "bench.yml"
DEFAULT_CONFIG = "bench.yml"


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
    from benchaction.report import render_markdown

    report = render_markdown(outcome.document)
    report_path = output_dir / "report.md"
    report_path.write_text(report, encoding="utf-8")
    if not quiet:
        sys.stdout.write(report)
    print(f"results: {outcome.results_path}\nreport:  {report_path}", file=sys.stderr)
    if outcome.error is None:
        return ExitCode.OK
    if isinstance(outcome.error, KeyboardInterrupt):
        print(f"interrupted: {error_text(outcome.error)}; partial results kept", file=sys.stderr)
        return ExitCode.INTERRUPTED
    print(f"error: {outcome.error}", file=sys.stderr)
    if not isinstance(outcome.error, BenchActionError):
        raise outcome.error  # a bug, not a user error: show the traceback
    return exit_code(outcome.error)


def _run_config(config: Config, args: argparse.Namespace) -> RunOutcome:
    from benchaction.flow.measure import RunOptions, new_run_id, run_benchmark
    from benchaction.progress import ProgressDisplay

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


def _config_path(given: str | None) -> str:
    """The config to read; a missing one says how to get one, or how to go without."""
    path = given or DEFAULT_CONFIG
    if not Path(path).exists():
        where = f" in {Path.cwd()}" if given is None else ""
        raise UsageError(
            f"{path}: file not found{where}; write a starter with `benchaction init` "
            "(next to your Dockerfile), pass -c PATH, or benchmark a server that is already "
            "running with `benchaction run --url http://HOST:PORT/PATH`"
        )
    return path


def cmd_run(args: argparse.Namespace) -> int:
    if args.url is None:
        if given := [f"--{k.replace('_', '-')}" for k in URL_ONLY if getattr(args, k) is not None]:
            raise UsageError(f"{', '.join(given)}: only with --url (a server already running)")
        config = load_config(
            _config_path(args.config), profile=args.profile, overrides=_overrides(args)
        )
    elif args.config is not None or args.profile is not None or args.runtime is not None:
        raise UsageError(
            "--url benchmarks a running server without a config: drop -c, --profile and "
            "--runtime, or drop --url"
        )
    else:
        config = url_config(args, _overrides(args))
    return _finish(_run_config(config, args), Path(args.output), quiet=args.quiet)


def _find_demo_config() -> Path:
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        if (base / DEMO_CONFIG).is_file():
            return base / DEMO_CONFIG
    raise UsageError(
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


def cmd_validate(args: argparse.Namespace) -> int:
    from benchaction.commands.plan import describe_plan

    path = _config_path(args.config)
    sys.stdout.write(describe_plan(load_config(path, profile=args.profile), path))
    return ExitCode.OK


def _run_options(sp: argparse.ArgumentParser) -> None:
    """The flags `run` and `demo` share."""
    sp.add_argument(
        "--profile", help="profile from the config to apply: pr, full or your own (default: none)"
    )
    sp.add_argument("--trials", type=int, help="number of trials (default: the config's)")
    sp.add_argument("--runtime", choices=RUNTIMES, help="server.runtime (default: the config's)")
    sp.add_argument(
        "--isolation",
        choices=("auto", "off"),
        help="CPU sets for server and load (default: the config's, else auto)",
    )
    sp.add_argument(
        "-o", "--output", default="bench-results", help="folder for results.json and report.md"
    )
    sp.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not print the report to stdout (default: print it)",
    )


_DESCRIPTION = (
    "Benchmark an ML model's inference server, compare two runs, and gate on regressions."
)
_EPILOG = """exit codes (the action's too): 0 passed; 1 a regression, a failed gate, or the
benchmark failed; 2 usage or bad input (bench.yml, a flag, a broken or foreign results or
history file); 130 interrupted (SIGINT, SIGTERM), partial results kept"""


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="benchaction", description=_DESCRIPTION, epilog=_EPILOG)
    p.add_argument("--version", action="version", version=f"bench-action {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help="benchmark the server a bench.yml describes, or one at --url", epilog=_EPILOG
    )
    run.add_argument("-c", "--config", help=f"path to the config (default: ./{DEFAULT_CONFIG})")
    _run_options(run)
    add_url_options(run)
    run.set_defaults(func=cmd_run)

    add_init_parser(sub)

    val = sub.add_parser(
        "validate", help="check a bench.yml and print its plan: load, trials, estimated time"
    )
    val.add_argument("-c", "--config", help=f"path to the config (default: ./{DEFAULT_CONFIG})")
    val.add_argument("--profile", help="profile to apply before checking (default: none)")
    val.set_defaults(func=cmd_validate)

    demo = sub.add_parser("demo", help="benchmark the bundled numpy MLP example end to end")
    _run_options(demo)
    demo.set_defaults(func=cmd_demo)

    add_compare_parsers(sub)
    add_history_parser(sub)
    add_monitor_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `benchaction` console script; returns the exit code (errors.ExitCode)."""
    args = _parser().parse_args(argv)
    try:
        with cancel_on_signals():
            code: int = args.func(args)
            return code
    except BenchActionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt as exc:
        print(f"interrupted: {error_text(exc)}", file=sys.stderr)
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
