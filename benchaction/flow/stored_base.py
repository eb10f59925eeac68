"""Artifact mode's base side, in order: main's pooled runs since its last change point when the
history has comparable ones, else the newest base-branch artifact; each looked up once a run.

The action asks before measuring (is there a base to add sequential trials against?) and again
when judging; both answers come from the same lookups, so GitHub is asked once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from benchaction.config import Config
from benchaction.flow.main_history import MainHistory
from benchaction.flow.verdict import Baseline, GitHubTarget, github_baseline
from benchaction.github import GitHubError
from benchaction.results import ResultsDocument

__all__ = ["StoredBase"]


class StoredBase:
    """The base a head run is compared with when the base was not measured in this job."""

    def __init__(
        self,
        target: GitHubTarget | None,
        history: MainHistory | None,
        *,
        artifact_name: str,
        deciding: Sequence[str],
        on_main: str | None,
        log: Callable[[str], None],
    ) -> None:
        self.target = target
        self.history = history
        self.artifact_name = artifact_name
        self.deciding = tuple(deciding)
        self.on_main = on_main  # the default branch's name on its own runs, else None
        self.log = log
        self._chosen: Baseline | None = None
        self._artifact: Baseline | None = None

    def for_head(self, head: ResultsDocument) -> Baseline:
        """The base for this head (its setup picks the comparable runs), chosen once."""
        if self._chosen is None:
            pooled = self.history.baseline(head, self.deciding) if self.history else None
            self._chosen = pooled or self._from_artifact(head)
        return self._chosen

    def document(self, head: ResultsDocument) -> ResultsDocument | None:
        """The base document for sequential looks; a failed lookup is reported when publishing."""
        try:
            return self.for_head(head).document
        except GitHubError as exc:
            self.log(f"sequential trials: the baseline lookup failed: {exc}")
            return None

    def exists(self, head: Config) -> bool:
        """Whether there is a base to add trials against; without one the config's trials run,
        and the log says why."""
        if self.history is not None and self.history.runs(head.name):
            return True
        if self.target is None or self.on_main is not None:
            self.log(f"sequential trials: no stored base; the config's {head.trials} trial(s) run")
            return False
        try:
            found = self._newest_artifact()
            why = found.missing or ""
        except GitHubError as exc:  # looked up again, and reported, when publishing
            found, why = Baseline.none(str(exc)), f"the baseline lookup failed: {exc}"
        if found.document is None:
            self.log(f"sequential trials: {why}; the config's {head.trials} trial(s) run")
        return found.document is not None

    def _from_artifact(self, head: ResultsDocument) -> Baseline:
        if self.target is None:
            return Baseline.none("not in a GitHub Actions job: no baseline artifact")
        if self.on_main is not None:
            return Baseline.none(
                f"a run of {self.on_main}: it is compared with {self.on_main}'s earlier runs in "
                "the history, and none is comparable yet"
            )
        found = self._newest_artifact()
        line = self.history.main_line(head, self.deciding) if self.history else None
        if found.provenance is not None and line:
            return dataclasses.replace(found, provenance={**found.provenance, "history": line})
        return found

    def _newest_artifact(self) -> Baseline:
        """The newest base-branch artifact, looked up once (a GitHubError is not kept)."""
        if self._artifact is None:
            assert self.target is not None
            self._artifact = github_baseline(self.target, self.artifact_name, self.log)
        return self._artifact
