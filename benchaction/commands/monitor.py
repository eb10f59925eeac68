"""`benchaction gpu-monitor`: GPU samples as JSON lines on stdout, for the action's sibling container."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any

from benchaction.errors import ConfigError, ExitCode

__all__ = ["add_monitor_parser"]


def cmd_gpu_monitor(args: argparse.Namespace) -> int:
    """Stream GPU samples as JSON lines to stdout until stdin closes, a signal, or --max-seconds."""
    from benchaction.telemetry import run_monitor, stop_on_eof

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


def add_monitor_parser(sub: Any) -> None:
    """The `gpu-monitor` subcommand."""
    mon = sub.add_parser(
        "gpu-monitor", help="stream GPU samples (NVML) to stdout as JSON lines, for the action"
    )
    mon.add_argument("--rate", type=float, default=10.0, help="samples per second")
    mon.add_argument("--max-seconds", type=float, help="stop after this long (default: 24 h)")
    mon.add_argument("--gpus", help="GPU indexes or UUIDs, comma-separated (default: all visible)")
    mon.set_defaults(func=cmd_gpu_monitor)
