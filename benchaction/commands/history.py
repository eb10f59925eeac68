"""`benchaction history add | build | changes`: main's runs in a folder store, change points, the dashboard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchaction.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from benchaction.history import RunLinks

__all__ = ["add_history_parser"]

_DEFAULT_MAX_RUNS = 500  # history.DEFAULT_MAX_RUNS; checked by a test, not imported (scipy)


def cmd_history_add(args: argparse.Namespace) -> int:
    """Add one complete results file to the store."""
    from benchaction.flow.history import add_run

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
    """Write the static dashboard of the store."""
    from benchaction.flow.history import build_dashboard

    index = build_dashboard(Path(args.store), Path(args.output), title=args.title)
    print(f"dashboard: {index}")
    return ExitCode.OK


def cmd_history_changes(args: argparse.Namespace) -> int:
    """Find and print the change points of every series in the store."""
    from benchaction.flow.history import write_changes

    data = write_changes(Path(args.store), Path(args.json))
    for config in data["configs"]:
        print(f"{config['config']}: {config['runs']} run(s), {len(config['changes'])} change(s)")
        if config["note"]:
            print(f"  note: {config['note']}")
        for change in config["changes"]:
            print(f"  {change['date'][:10]} {change['scenario']}: {change['text']}")
    return ExitCode.OK


def add_history_parser(sub: Any) -> None:
    """The `history` subcommand and its own subcommands."""
    hist = sub.add_parser("history", help="keep main's runs, find change points, build a dashboard")
    hsub = hist.add_subparsers(dest="history_command", required=True, metavar="COMMAND")
    store_help = "folder of history files, one <config>.json each"
    add = hsub.add_parser("add", help="add a results.json to the store (the same run only once)")
    add.add_argument("results", help="a complete results.json")
    add.add_argument("--store", required=True, help=store_help)
    add.add_argument(
        "--max-runs", type=int, default=_DEFAULT_MAX_RUNS, help="keep at most this many runs"
    )
    add.add_argument("--key", help="the run's key (default: derived from the results)")
    add.add_argument("--url", help="link to the run, shown on the dashboard (default: none)")
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
