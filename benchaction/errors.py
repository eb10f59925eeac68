"""One error tree, one exit-code table and one cancellation path for the CLI and the action.

    BenchActionError          a message written for the person running the benchmark
    ├── ConfigError           bench.yml, an input or a flag is wrong (exit 2)
    ├── ServingError          the model server could not be built, started or reached (exit 1)
    ├── ResultsError          a results document is unreadable, foreign or newer (exit 1)
    └── HistoryError          a history store is unreadable, foreign or newer; nothing is lost (exit 1)
    Cancelled                 SIGINT/SIGTERM: unwinds like Ctrl-C so every `finally` cleans up (130)

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import enum
import signal
import sys
from collections.abc import Iterator
from types import FrameType

__all__ = [
    "BenchActionError",
    "Cancelled",
    "ConfigError",
    "ExitCode",
    "HistoryError",
    "ResultsError",
    "ServingError",
    "cancel_on_signals",
    "exit_code",
]


class ExitCode(enum.IntEnum):
    """The process exit codes of `benchaction` and of the action."""

    OK = 0
    FAILED = 1  # a gate failed, or the benchmark could not finish
    USAGE = 2  # the config, an input or a flag is invalid
    INTERRUPTED = 130  # SIGINT or SIGTERM; partial results are kept


class BenchActionError(Exception):
    """Base of every error whose message is written for the person running the benchmark."""


class ConfigError(BenchActionError):
    """The configuration is invalid; the message lists every problem found, one a line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = "invalid configuration" if len(problems) != 1 else "invalid configuration:"
        body = "\n".join(f"  - {p}" for p in problems) if len(problems) != 1 else " " + problems[0]
        super().__init__(f"{head}\n{body}" if len(problems) != 1 else f"{head}{body}")


class ServingError(BenchActionError):
    """The model server could not be built, pulled, started or reached."""


class ResultsError(BenchActionError):
    """A results document is unreadable, another tool's, of a newer schema, or fails its schema."""


class HistoryError(BenchActionError):
    """A history store cannot be read or written as asked; what it holds is left as it was."""


class Cancelled(KeyboardInterrupt):
    """SIGINT or SIGTERM: unwinds like Ctrl-C, so every `finally` removes what it started."""


def exit_code(error: BaseException | None) -> ExitCode:
    """The exit code for how a run ended; a bug (not a BenchActionError) is FAILED too."""
    if error is None:
        return ExitCode.OK
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, ConfigError):
        return ExitCode.USAGE
    return ExitCode.FAILED


class _Signals:
    """Whether the first SIGINT/SIGTERM has arrived (a class attribute: no `global`)."""

    received = False


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """First SIGINT/SIGTERM: raise Cancelled; later ones: ignored, so cleanup is not cut short.

    The runner sends SIGINT on cancel and SIGTERM 7.5 s later; a second exception raised in the
    middle of container removal would leave the containers behind.
    """
    name = signal.Signals(signum).name
    if _Signals.received:
        print(
            f"{name} received while cleaning up; still removing what this run started",
            file=sys.stderr,
            flush=True,
        )
        return
    _Signals.received = True
    raise Cancelled(f"cancelled ({name})")


@contextlib.contextmanager
def cancel_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into Cancelled inside the block; restore the old handlers after."""
    _Signals.received = False
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
