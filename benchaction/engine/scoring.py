"""One answer scored against its label, per accuracy metric; an answer that cannot be scored
says why (the path that failed, the type it had) instead of raising."""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import cast

from benchaction.engine.checks import json_equal, walk

__all__ = ["Score", "normalize_text", "prediction_of", "score_answer", "token_f1"]

Score = tuple[float | None, str | None]
"""(score, None) for a scored answer, (None, reason) for one that could not be scored. Scores:
1.0 or 0.0 (accuracy, exact_match), F1 (token_f1), |prediction - label| (mae, rmse)."""

OPENAI_TEXT = ("choices.0.message.content", "choices.0.text")
"""Where an OpenAI answer's text sits: chat completions, then completions."""
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_SHOWN = 60


def prediction_of(body: bytes, path: str | None) -> tuple[bool, object, str]:
    """The prediction in an answer body: (found, value, why not). Path None: OpenAI text."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return False, None, "answer is not JSON"
    if path is not None:
        found, value, failed = walk(answer, path)
        return found, value, "" if found else f"path {failed} not found (prediction: {path})"
    for candidate in OPENAI_TEXT:
        found, value, _ = walk(answer, candidate)
        if found and isinstance(value, str):
            return True, value, ""
    return False, None, "no answer text at choices.0.message.content or choices.0.text"


def normalize_text(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation or articles, single spaces."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION))
    return " ".join(text.split())


def _plain(text: str) -> str:
    """Exact match forgives only layout: case, surrounding and repeated spaces, a final period
    (signs and other punctuation count: "-28" is not "28")."""
    return " ".join(text.split()).casefold().removesuffix(".").rstrip()


def token_f1(prediction: str, label: str) -> float:
    """The F1 of the words two texts share (after normalisation), as SQuAD scores answers."""
    p, g = normalize_text(prediction).split(), normalize_text(label).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def score_answer(metric: str, prediction: object, label: object) -> Score:
    """Score one prediction; the label has been checked against the metric when loaded."""
    if metric == "accuracy":
        if isinstance(label, int) and not isinstance(label, bool) and _numbers(prediction):
            prediction = _argmax(
                cast(list[float], prediction)
            )  # class scores: the class is the best one
        if isinstance(prediction, dict | list) or prediction is None:
            return None, f"prediction is {_shown(prediction)}, expected one class"
        return float(json_equal(prediction, label)), None
    if metric == "exact_match":
        if isinstance(prediction, str) and isinstance(label, str):
            return float(_plain(prediction) == _plain(label)), None
        return float(json_equal(prediction, label)), None
    if metric == "token_f1":
        if not isinstance(prediction, str):
            return None, f"prediction is {_shown(prediction)}, expected text"
        return token_f1(prediction, str(label)), None
    if isinstance(prediction, bool) or not isinstance(prediction, int | float):
        return None, f"prediction is {_shown(prediction)}, expected a number"
    error = abs(float(prediction) - float(label))  # type: ignore[arg-type]
    if not math.isfinite(error):
        return None, f"prediction {prediction!r} is not a finite number"
    return error, None


def _numbers(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 1
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=lambda i: values[i])


def _shown(value: object) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
