"""One-step upgrades of versioned JSON files, applied where a file is read, never deeper.

A stored baseline or history must keep loading after the format changes, so each change of a
format ships one function `migrate_v{n}_to_v{n+1}(doc) -> doc` in the format's `Migrations`; a
reader upgrades an older file step by step to the version it checks, and refuses a newer one.

Adding results schema 2: write `migrate_v1_to_v2` below, list it in RESULTS_MIGRATIONS,
add `schemas/results-v2.schema.json`, set `document.SCHEMA_VERSION = 2`, and keep a v2
fixture beside the v1 one in `tests/unit/results/fixtures/` (docs/results.md says more).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from benchaction.results.document import SCHEMA_VERSION

__all__ = ["RESULTS_MIGRATIONS", "Migrations", "Step"]

Step = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a document of version n into version n+1; it gets its own copy and may change it."""


@dataclass(frozen=True)
class Migrations:
    """The steps of one file format: `steps[n]` upgrades version n to n+1, up to `current`.

    The steps must run without a gap from the oldest readable version to `current`, so a file
    of any version from `oldest` on reaches the one the reader checks against.
    """

    key: str  # the top-level key holding the version number
    current: int
    steps: Mapping[int, Step] = field(default_factory=dict)

    def __post_init__(self) -> None:
        expected = list(range(self.oldest, self.current))
        if sorted(self.steps) != expected:
            raise ValueError(
                f"migrations of {self.key!r} must go step by step up to {self.current}: have "
                f"steps from {sorted(self.steps)}, need one from each of {expected}"
            )
        object.__setattr__(self, "steps", MappingProxyType(dict(self.steps)))

    @property
    def oldest(self) -> int:
        """The oldest version a step (or none, the current one) starts from."""
        return min(self.steps, default=self.current)

    def with_step(self, version: int, step: Step) -> Migrations:
        """These migrations with one more step from `version`, one below the oldest so far."""
        return Migrations(self.key, self.current, {**self.steps, version: step})

    def upgrade(self, doc: dict[str, Any]) -> dict[str, Any]:
        """`doc` (of a version from `oldest` to `current`) as version `current`; `doc` is kept.

        Each step's result is stamped with its version, so a step only moves content.
        """
        version = doc[self.key]
        if not self.oldest <= version <= self.current:
            raise ValueError(f"{self.key} {version!r} is outside {self.oldest}..{self.current}")
        if version == self.current:
            return doc
        out = copy.deepcopy(doc)
        for n in range(version, self.current):
            out = self.steps[n](out)
            out[self.key] = n + 1
        return out


# Results schema 1 is the first; a step per later version joins here (see the module docstring).
RESULTS_MIGRATIONS = Migrations(key="schema_version", current=SCHEMA_VERSION, steps={})
