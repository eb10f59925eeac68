"""The exceptions bench-action raises on purpose; each carries a message meant for the user."""

from __future__ import annotations

__all__ = ["BenchActionError", "ConfigError", "ResultsError", "ServingError"]


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
    """A results document is unreadable, of another schema version, or fails its schema."""
