"""The history in the action, in order: read main's runs once, pool a base from them, and on
main add the run, then open, update or close the alert issue.

The store is a branch of the repository written through the REST API (`history: branch`), or
the last main-branch artifacts read back (`history: artifacts`, read-only). A history that cannot
be read is reported and left untouched: no write replaces a file this version cannot parse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from benchaction.errors import HistoryError
from benchaction.flow.verdict import Baseline, GitHubTarget, Verdict
from benchaction.github import (
    BranchFiles,
    GitHubError,
    IssueRef,
    PermissionDenied,
    StickyIssue,
    alert_marker,
    commands,
    recent_results,
)
from benchaction.history import (
    DEFAULT_MAX_RUNS,
    DEFAULT_POOL_RUNS,
    Change,
    HistoryFile,
    HistoryRecord,
    RunLinks,
    add_record,
    changes_of,
    comparable_runs,
    dump_history,
    file_name,
    latest_change,
    new_history,
    parse_history,
    pool_document,
    pooled_base,
    record_of,
    series_of,
)
from benchaction.history.series import group_of
from benchaction.report import Provenance, alert_state, render_alert, render_recovery
from benchaction.results import ResultsDocument
from benchaction.stats import StatsSettings, compare_documents

__all__ = ["STORES", "HistorySettings", "MainHistory", "new_changes"]

STORES = ("branch", "artifacts", "off")
Log = Callable[[str], None]


@dataclass(frozen=True)
class HistorySettings:
    """Where main's runs are kept, how many, how many pool into a base, and whether to alert."""

    store: Literal["branch", "artifacts", "off"] = "branch"
    branch: str = "bench-history"
    max_runs: int = DEFAULT_MAX_RUNS
    pool_runs: int = DEFAULT_POOL_RUNS
    alert: bool = True
    artifact_limit: int = 20  # read-only mode: artifacts read back (each is a download)


def new_changes(
    before: Sequence[HistoryRecord],
    after: Sequence[HistoryRecord],
    head: HistoryRecord,
    stats: StatsSettings,
) -> list[Change]:
    """Change points for the worse, of the head's runner and deciding metrics and at least their
    practical threshold, that adding the head revealed."""

    def key(c: Change) -> tuple[str, str, str]:
        return (c.scenario, c.metric.name, c.run["key"])

    def found(runs: Sequence[HistoryRecord]) -> list[Change]:
        return [
            c
            for s in series_of([r for r in runs if group_of(r) == group_of(head)])
            if s.metric.name in stats.primary
            for c in changes_of(s)
            if c.worse
            and abs(c.change) >= stats.threshold_for(c.metric.name, c.metric.default_threshold)
        ]

    old = {key(c) for c in found(before)}
    return [c for c in found(after) if key(c) not in old]


class MainHistory:
    """One run's view of the history: read once per config, written at most once."""

    def __init__(
        self,
        target: GitHubTarget,
        settings: HistorySettings,
        *,
        main_branch: str,
        artifact_name: str,
        log: Log = print,
    ) -> None:
        self.target = target
        self.settings = settings
        self.main_branch = main_branch
        self.artifact_name = artifact_name
        self.log = log
        self.files = BranchFiles(target.client, target.repository, settings.branch)
        self._read: dict[str, HistoryFile | None] = {}
        self.unreadable: str | None = None  # why the stored file cannot be used (never overwritten)

    def runs(self, config: str) -> list[HistoryRecord]:
        """The stored runs of a config, oldest first; [] (and why, in the log) when there are none."""
        if config not in self._read:
            self._read[config] = self._load(config)
        history = self._read[config]
        return list(history["runs"]) if history else []

    def _load(self, config: str) -> HistoryFile | None:
        if self.settings.store == "off":
            return None
        if self.settings.store == "artifacts":
            return self._from_artifacts(config)
        path = file_name(config)
        try:
            found = self.files.read(path)
        except (GitHubError, ValueError) as exc:
            self._unusable(
                f"history: could not read {path} on branch {self.settings.branch}: {exc}"
            )
            return None
        if found is None:
            self.log(f"history: no {path} on branch {self.settings.branch} yet")
            return None
        try:
            return parse_history(found.text, f"{path} on branch {self.settings.branch}")
        except HistoryError as exc:
            self._unusable(str(exc))
            return None

    def _unusable(self, why: str) -> None:
        self.unreadable = why
        self.log(commands.command("warning", why, {"title": "bench-action history"}))

    def _from_artifacts(self, config: str) -> HistoryFile | None:
        """Read-only mode: the last main-branch artifacts, turned into records."""
        t = self.target
        recent = recent_results(
            t.client,
            repository=t.repository,
            repository_id=t.repository_id,
            branch=self.main_branch,
            artifact_name=self.artifact_name,
            limit=self.settings.artifact_limit,
            server_url=t.server_url,
        )
        for line in recent.skipped:
            self.log(f"history: skipped {line}")
        if recent.reason:
            self.log(f"history: {recent.reason}")
        history = new_history(config)
        for doc, p in recent.found:
            if doc["config"]["name"] != config:  # recent_results passes over unfinished runs
                continue
            links: RunLinks = {"key": f"gh-{p.run_id}", "url": p.run_url}
            history, _ = add_record(history, record_of(doc, links), self.settings.max_runs)
        self.log(f"history: {len(history['runs'])} run(s) of {config} read back from artifacts")
        return history if history["runs"] else None

    def baseline(self, head: ResultsDocument, deciding: Sequence[str]) -> Baseline | None:
        """Main's comparable runs since its last change point, pooled; None when there are none."""
        if self.settings.pool_runs < 1:
            return None
        pooled = pooled_base(
            self.runs(head["config"]["name"]),
            head,
            deciding=deciding,
            max_runs=self.settings.pool_runs,
        )
        if pooled is None:
            return None
        provenance: Provenance = {"note": pooled.note()}
        if pooled.since is not None:
            provenance["history"] = _since(pooled.since)
        return Baseline(pooled.document, provenance)

    def main_line(self, head: ResultsDocument, deciding: Sequence[str]) -> str | None:
        """When main last changed, in words, for a comment whose base is an artifact."""
        me = record_of(head)
        runs = [r for r in self.runs(head["config"]["name"]) if group_of(r) == group_of(me)]
        change = latest_change(series_of(runs), metrics=deciding)
        return None if change is None else _since(change)

    def add(
        self, head: ResultsDocument, links: RunLinks
    ) -> tuple[HistoryRecord, list[HistoryRecord]] | None:
        """Add the run to the branch store (retrying on conflicts); the record and every stored
        run after the write, or None when nothing was written (and why, in the log)."""
        config = head["config"]["name"]
        record = record_of(head, links)
        if self.settings.store != "branch":
            return record, [*self.runs(config), record]
        if self.unreadable is not None:
            self.log(f"history: not adding the run: {self.unreadable}")
            return None
        path = file_name(config)
        stored: list[HistoryFile] = []

        def change(text: str | None) -> str:
            history = (
                new_history(config)
                if text is None
                else parse_history(text, f"{path} on branch {self.settings.branch}")
            )
            updated, added = add_record(history, record, self.settings.max_runs)
            stored[:] = [updated]
            self.log(f"history: {added.how} run {record['key']}: {added.runs} run(s) stored")
            return dump_history(updated)

        message = f"bench-action: {config} at {(record['commit'] or 'unknown')[:12]}"
        try:
            self.files.update(path, change, message)
        except HistoryError as exc:
            self._unusable(str(exc))
            return None
        except GitHubError as exc:  # refused (contents: write), or conflicts past the retries
            self.log(
                commands.command(
                    "warning",
                    f"history: could not write branch {self.settings.branch}: {exc}",
                    {"title": "bench-action history"},
                )
            )
            return None
        runs = stored[0]["runs"] if stored else []
        self._read[config] = stored[0] if stored else None
        return record, list(runs)

    def keep_run(
        self, head: ResultsDocument, verdict: Verdict, stats: StatsSettings, links: RunLinks
    ) -> None:
        """A main-branch run: add it, then open or update the alert issue when main regressed
        (against its earlier runs, or by a new change point), or close it when main is back."""
        config = head["config"]["name"]
        before = self.runs(config)
        added = self.add(head, links)
        if added is None or not self.settings.alert:
            return
        record, after = added
        reasons: list[str] = []
        regressed = _regressed(verdict)
        if regressed:
            reasons.append(regressed)
        changes = new_changes(before, after, record, stats)
        reasons += [f"a new change point: {c.text}" for c in changes]
        issues = StickyIssue(self.target.client, self.target.repository)
        marker = alert_marker(config)
        try:
            found = issues.find(marker)
            if reasons:
                state = alert_state(found.body) if found is not None else None
                if state is None:
                    keys = _pooled_keys(verdict.baseline.document) if regressed else []
                    if not keys and changes:
                        keys = _before(changes[0], after, record, self.settings.pool_runs)
                    state = {"before": keys, "since": record["commit"], "date": record["date"]}
                self._alert(issues, marker, head, verdict, reasons, state, links)
            elif found is not None:
                self._maybe_close(issues, found, head, after, stats, links)
        except GitHubError as exc:
            hint = (
                " (the job needs `permissions: issues: write`)"
                if isinstance(exc, PermissionDenied)
                else ""
            )
            self.log(
                commands.command(
                    "warning",
                    f"alert: could not update the alert issue: {exc}{hint}",
                    {"title": "bench-action history"},
                )
            )

    def _alert(
        self,
        issues: StickyIssue,
        marker: str,
        head: ResultsDocument,
        verdict: Verdict,
        reasons: Sequence[str],
        state: dict[str, object],
        links: RunLinks,
    ) -> None:
        config = head["config"]["name"]
        base = verdict.baseline.document
        provenance = verdict.baseline.provenance or {}
        body = render_alert(
            marker=marker,
            config_name=config,
            reasons=reasons,
            comparison=verdict.comparison,
            base=base,
            head=head,
            run_url=links.get("url"),
            compared_with=provenance.get("note") or verdict.baseline.missing or "no earlier run",
            state=state,
        )
        title = f"bench-action: {config} regressed on {self.main_branch}"
        ref = issues.open_or_update(marker, title, body)
        self.log(f"alert: issue #{ref.number} {'opened' if ref.created else 'updated'}: {ref.url}")

    def _maybe_close(
        self,
        issues: StickyIssue,
        found: IssueRef,
        head: ResultsDocument,
        runs: Sequence[HistoryRecord],
        stats: StatsSettings,
        links: RunLinks,
    ) -> None:
        """Close the alert when the head is back at the level of the runs before it opened."""
        state = alert_state(found.body) or {}
        wanted = set(state.get("before") or ())
        earlier = [r for r in runs if r["key"] in wanted]
        if not earlier:
            self.log(f"alert: issue #{found.number} stays open: its earlier runs are not stored")
            return
        mine = group_of(record_of(head))
        if not any(group_of(r) == mine for r in earlier):  # another runner of a matrix
            self.log(f"alert: issue #{found.number} stays open: it is about another runner")
            return
        earlier = [r for r in earlier if group_of(r) == mine]
        comparison = compare_documents(pool_document(earlier, head), head, stats)
        if comparison.verdict in ("unchanged", "improvement"):
            config = head["config"]["name"]
            body = render_recovery(
                config_name=config, comparison=comparison, head=head, run_url=links.get("url")
            )
            issues.close(found.number, body)
            self.log(f"alert: issue #{found.number} closed: main recovered")
        else:
            self.log(
                f"alert: issue #{found.number} stays open: {comparison.verdict} against the "
                f"{len(earlier)} run(s) before it opened"
            )


def _regressed(verdict: Verdict) -> str | None:
    """The regression the comparison with main's earlier runs found, in words (None: none)."""
    c = verdict.comparison
    if c.verdict != "regression" or verdict.baseline.document is None:
        return None
    what = ", ".join(
        f"{r.scenario} {r.label} {r.change.estimate * 100:+.1f} %"
        for r in c.rows
        if r.primary and r.verdict == "regression" and r.change is not None
    )
    return f"a regression against main's earlier runs: {what}"


def _pooled_keys(document: ResultsDocument | None) -> list[str]:
    """The stored runs a pooled base was made of (each pooled trial names its run)."""
    if document is None:
        return []
    keys = {t.get("from_run") for s in document["scenarios"] for t in s["trials"]}
    return sorted(str(k) for k in keys if k)


def _before(
    change: Change, runs: Sequence[HistoryRecord], head: HistoryRecord, n: int
) -> list[str]:
    """The comparable runs just before a change point: the level a recovery must reach."""
    earlier = [r for r in comparable_runs(runs, head) if r["date"] < change.run["date"]]
    return [r["key"] for r in earlier[-n:]]


def _since(change: Change) -> str:
    date = change.run["date"][:10]
    return f"{change.text} ({date})"
