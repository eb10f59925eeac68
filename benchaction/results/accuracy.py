"""A scenario's accuracy in the results document: the value, and every example's outcome kept
compactly (right-or-wrong flags as packed bits, or per-example scores) so that base and head can
be compared example by example."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

__all__ = [
    "ACCURACY_LABELS",
    "FLAG_METRICS",
    "HIGHER_IS_BETTER",
    "AccuracyFailure",
    "AccuracyResults",
    "describe_accuracy",
    "example_scores",
    "is_accuracy_metric",
    "pack_flags",
    "unpack_flags",
]

FLAG_METRICS = ("accuracy", "exact_match")
"""Metrics whose examples are right or wrong: kept as bits, compared with McNemar's test."""
HIGHER_IS_BETTER = {
    "accuracy": True,
    "exact_match": True,
    "token_f1": True,
    "mae": False,
    "rmse": False,
}
ACCURACY_LABELS = {
    "accuracy": "accuracy",
    "exact_match": "exact match",
    "token_f1": "token F1",
    "mae": "mean absolute error",
    "rmse": "RMS error",
}


class AccuracyFailure(TypedDict):
    """One example whose answer could not be scored, and why (the path that failed, say)."""

    example: int  # 0-based line among the labelled file's examples
    reason: str


class AccuracyResults(TypedDict):
    """The `accuracy` section of a scenario's results (docs/results.md)."""

    metric: str
    value: float | None  # None: no example could be scored (an error metric)
    n: int  # examples in the labelled set
    scored: int  # examples whose answer was scored (failed answers of a rate count as wrong)
    correct: NotRequired[int]  # accuracy, exact_match
    score_sum: NotRequired[float]  # token_f1
    abs_error_sum: NotRequired[float]  # mae, rmse
    squared_error_sum: NotRequired[float]  # mae, rmse
    failed: int
    failures: list[AccuracyFailure]  # the first few
    flags: NotRequired[str]  # accuracy, exact_match: base64 of packed right/wrong bits
    scores: NotRequired[list[float | None]]  # token_f1: F1; mae, rmse: |error|, None if failed
    file: str
    sha256: str
    threshold: float
    duration_s: float


def is_accuracy_metric(name: str) -> bool:
    """Whether `name` is one of the accuracy metrics (accepted by gates beside the load metrics)."""
    return name in HIGHER_IS_BETTER


def pack_flags(flags: Sequence[bool]) -> str:
    """Right-or-wrong per example as base64 of packed bits (8 examples a byte, first bit first)."""
    import numpy as np  # here: the names above are read by commands that start without numpy

    bits = np.packbits(np.asarray(flags, dtype=bool))
    return base64.b64encode(bits.tobytes()).decode("ascii")


def unpack_flags(text: str, n: int) -> list[bool]:
    """The `n` flags `pack_flags` packed."""
    import numpy as np

    raw = np.frombuffer(base64.b64decode(text.encode("ascii"), validate=True), dtype=np.uint8)
    bits = np.unpackbits(raw)[:n]
    if bits.size != n:
        raise ValueError(f"accuracy flags hold {bits.size} examples, expected {n}")
    return [bool(b) for b in bits]


def example_scores(section: AccuracyResults | dict[str, Any]) -> list[float | None]:
    """Each example's score: 1.0 or 0.0 for a flag metric, else the stored score (None: failed)."""
    if section["metric"] in FLAG_METRICS:
        return [1.0 if f else 0.0 for f in unpack_flags(section["flags"], section["n"])]
    scores: list[float | None] = list(section["scores"])
    if len(scores) != section["n"]:
        raise ValueError(f"accuracy scores hold {len(scores)} examples, expected {section['n']}")
    return scores


def describe_accuracy(result: AccuracyResults | dict[str, Any]) -> str:
    """One line: the value, how many examples, and the first failure if any answer failed."""
    value = result["value"]
    metric = result["metric"]
    if value is None:
        shown = "no answer could be scored"
    elif metric in ("mae", "rmse"):
        shown = f"{metric} {value:.4g}"
    else:
        shown = f"{metric} {value * 100:.1f} %"
    text = f"{shown} over {result['n']} examples"
    if result["failed"]:
        first = result["failures"][0]
        text += (
            f"; {result['failed']} answer(s) failed, first example {first['example']}:"
            f" {first['reason']}"
        )
    return text
