"""`benchaction compare` (two results files, a verdict, the gate's exit code) and `report`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchaction.errors import ConfigError, ExitCode
from benchaction.results import metric_by_name
from benchaction.stats import (
    FAIL_ON,
    PRIMARY_METRICS,
    StatsSettings,
    parse_gate,
    parse_metrics,
    parse_share,
)

__all__ = ["add_compare_parsers", "cmd_compare", "cmd_report", "stats_settings"]


def _share(flag: str, text: str) -> float:
    try:
        return parse_share(text)
    except ValueError as exc:
        raise ConfigError([f"{flag}: {exc}"]) from None


def _deciding(items: list[str]) -> tuple[str, ...]:
    try:
        return parse_metrics(",".join(items))
    except ValueError as exc:
        raise ConfigError([f"--deciding {exc}"]) from None


def stats_settings(args: argparse.Namespace) -> StatsSettings:
    """The comparison settings from `compare`'s flags; a bad value is a ConfigError (exit 2)."""
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


def cmd_compare(args: argparse.Namespace) -> int:
    """Judge head against base; exit 1 when the gate fails."""
    from benchaction.flow.verdict import Baseline, judge
    from benchaction.report import render_comparison
    from benchaction.results import load_results

    settings = stats_settings(args)
    base, head = load_results(args.base), load_results(args.head)
    verdict = judge(head, Baseline(base, {"note": f"file {args.base}"}), settings)
    comparison = verdict.comparison
    sys.stdout.write(render_comparison(comparison, base, head))
    if args.json:
        Path(args.json).write_text(json.dumps(comparison.to_json(), indent=1) + "\n")
    return ExitCode.FAILED if comparison.failed else ExitCode.OK


def cmd_report(args: argparse.Namespace) -> int:
    """Print the markdown report of one results file."""
    from benchaction.report import render_markdown
    from benchaction.results import load_results

    sys.stdout.write(render_markdown(load_results(args.results)))
    return ExitCode.OK


def add_compare_parsers(sub: Any) -> None:
    """The `report` and `compare` subcommands."""
    rep = sub.add_parser("report", help="print the markdown report of a results.json")
    rep.add_argument("results", help="a results.json written by `benchaction run`")
    rep.set_defaults(func=cmd_report)

    cmp_ = sub.add_parser(
        "compare", help="compare two results.json files; exit 1 when the gate fails"
    )
    cmp_.add_argument("base", help="the baseline results.json")
    cmp_.add_argument("head", help="the results.json to judge")
    cmp_.add_argument("--threshold", default="0.05", help="practical threshold, 0.05 or 5%%")
    cmp_.add_argument(
        "--threshold-for",
        action="append",
        metavar="METRIC=FRACTION",
        help="per-metric threshold, repeatable (default: --threshold for every metric)",
    )
    cmp_.add_argument("--alpha", default="0.05", help="significance after FDR control")
    cmp_.add_argument(
        "--min-trials", type=int, default=3, help="fewer valid trials a side: inconclusive"
    )
    cmp_.add_argument(
        "--fail-on", choices=FAIL_ON, default="regression", help="which verdicts fail the gate"
    )
    cmp_.add_argument(
        "--deciding",
        action="append",
        metavar="METRIC[,METRIC]",
        help=f"metrics that decide the verdict (default: {','.join(PRIMARY_METRICS)})",
    )
    cmp_.add_argument(
        "--gate",
        action="append",
        metavar="[SCENARIO:]METRIC<=VALUE",
        help="absolute limit on the head, repeatable (default: none)",
    )
    cmp_.add_argument(
        "--allow-fingerprint-mismatch",
        action="store_true",
        help="let a regression stand across setups (default: a setup mismatch blocks it)",
    )
    cmp_.add_argument(
        "--json", metavar="PATH", help="also write the verdicts as JSON (default: not written)"
    )
    cmp_.set_defaults(func=cmd_compare)
