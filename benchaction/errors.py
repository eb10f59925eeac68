"""One error tree, one exit-code table and one cancellation path for the CLI and the action.

    BenchActionError          a message written for the person running the benchmark
    ├── ConfigError           bench.yml, an input or a flag is wrong (exit 2)
    ├── ServingError          the model server could not be built, started or reached (exit 1)
    ├── UsageError            the command cannot run as asked: a file exists, flags clash (exit 2)
    ├── ResultsError          a results document is unreadable, foreign or newer (exit 2)
    └── HistoryError          a history store is unreadable, foreign or newer; nothing is lost (exit 2)
    Cancelled                 SIGINT/SIGTERM: unwinds like Ctrl-C so every `finally` cleans up (130)

The exit codes, for `benchaction` and the action alike (`ExitCode`, `exit_code`):

    0    the run passed: no regression, every gate held
    1    a regression or a failed gate, or the benchmark failed (server, crash, a bug)
    2    usage or bad input: bench.yml, a flag or an input, a broken or foreign results or
         history file
    130  interrupted (SIGINT or SIGTERM); partial results are kept

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
    "UsageError",
    "cancel_on_signals",
    "error_text",
    "exit_code",
]


class ExitCode(enum.IntEnum):
    """The process exit codes of `benchaction` and of the action."""

    OK = 0  # passed: no regression, every gate held
    FAILED = 1  # a regression or a failed gate, or the benchmark could not finish
    USAGE = 2  # bad input: the config, an input or a flag, a broken or foreign results/history file
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


class UsageError(BenchActionError):
    """The command cannot run as asked: a file it would write exists, a file it needs is missing,
    or flags that exclude each other were given together; the message says what to do."""


class ServingError(BenchActionError):
    """The model server could not be built, pulled, started or reached."""


class ResultsError(BenchActionError):
    """A results document is unreadable, another tool's, of a newer schema, or fails its schema."""


class HistoryError(BenchActionError):
    """A history store cannot be read or written as asked; what it holds is left as it was."""


class Cancelled(KeyboardInterrupt):
    """SIGINT or SIGTERM: unwinds like Ctrl-C, so every `finally` removes what it started."""


_BAD_INPUT = (ConfigError, UsageError, ResultsError, HistoryError)
"""Errors about what the user handed in (exit 2): fixing the input, not re-running, helps."""


def exit_code(error: BaseException | None) -> ExitCode:
    """The exit code for how a run ended; a bug (not a BenchActionError) is FAILED too."""
    if error is None:
        return ExitCode.OK
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, _BAD_INPUT):
        return ExitCode.USAGE
    return ExitCode.FAILED


def error_text(error: BaseException) -> str:
    """The one-line reason a run stopped, as shown and stored; a bare Ctrl-C names SIGINT.

    Python's own SIGINT handler (and uvloop's, between our handlers) raises KeyboardInterrupt
    without a message; only SIGINT raises it, so that is what it was.
    """
    text = str(error)
    if text:
        return text
    return "cancelled (SIGINT)" if isinstance(error, KeyboardInterrupt) else type(error).__name__


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
