"""The runner-label inputs of a matrix run: `runner` (this job's labels, recorded for the join)
and `runners` (the join's expected runners), as the reusable workflow writes them."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["RunnerInputError", "parse_runner", "parse_runners"]

Labels = tuple[str, ...]
_ONE = '`["self-hosted", "a100"]`'
_MANY = '`[["self-hosted", "a100"], ["self-hosted", "l4"]]`'
# Labels become part of artifact names (`<artifact-name>-<labels joined by ->`).
_ARTIFACT_FORBIDDEN = set('":<>|*?\\/\r\n')


class RunnerInputError(ValueError):
    """What is wrong with the input, and how to fix it (the settings reader adds its name)."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what}; {fix}")
        self.what = what
        self.fix = fix


def _label_set(value: Any) -> Labels | None:
    """One runner's labels: a JSON list of label strings, or one label."""
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    return None


def _json(text: str, example: str) -> Any:
    """JSON when it looks like JSON (a list or a quoted string), else the plain label."""
    if text[0] not in '["':
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RunnerInputError(f"is not valid JSON ({exc}): {text!r}", f"e.g. {example}") from None


def parse_runner(text: str) -> Labels:
    """This job's runner labels: `gpu`, or a JSON list such as `["self-hosted", "a100"]`."""
    if not text:
        return ()
    data = _json(text, _ONE)
    labels = _label_set(data)
    if labels is None:
        raise RunnerInputError(
            f"must be a runner label or a JSON list of labels, got {data!r}", f"e.g. {_ONE}"
        )
    return labels


def parse_runners(text: str) -> tuple[Labels, ...]:
    """The runners of a matrix: a JSON list with one label list (or one label) a runner."""
    if not text:
        return ()
    data = _json(text, _MANY)
    sets = [_label_set(item) for item in data] if isinstance(data, list) and data else [None]
    found = tuple(s for s in sets if s is not None)
    if len(found) != len(sets):
        raise RunnerInputError(
            f"must be a non-empty list of runners, got {data!r}",
            f"give a JSON list with one label list a runner, e.g. {_MANY}",
        )
    twice = sorted({", ".join(s) for s in found if found.count(s) > 1})
    if twice:
        raise RunnerInputError(f"names a runner twice: {'; '.join(twice)}", "list each runner once")
    bad = sorted({label for s in found for label in s if set(label) & _ARTIFACT_FORBIDDEN})
    if bad:
        raise RunnerInputError(
            f"has labels that cannot be part of an artifact name: {', '.join(map(repr, bad))}",
            'labels may not contain " : < > | * ? \\ / or line breaks',
        )
    return found
