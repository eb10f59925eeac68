"""The container action's flow, from checked settings to an exit code; no environment reads here.

config -> head run (or A/B rounds) -> results under the workspace ->
report_to_github (baseline, comparison, summary, outputs, comment, check) -> gate exit code.
A run that fails is reported as a failure with the reason (and a crashed server's log tail);
a cancelled run keeps its partial results and publishes nothing.
"""

from __future__ import annotations

import dataclasses
import secrets
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests

from benchaction.ab import base_config, run_ab
from benchaction.action_settings import ActionSettings
from benchaction.config import load_config
from benchaction.config_model import Config
from benchaction.errors import BenchActionError, ConfigError, ServingError
from benchaction.github.client import GitHubClient, GitHubError
from benchaction.github.commands import append_summary, error, group, set_output, warning
from benchaction.github.publish import (
    publish_check,
    pull_request_from_event,
    should_write,
    upsert_comment,
)
from benchaction.github.reporting import SAME_JOB_NOTE, report_to_github
from benchaction.pipeline import RunOptions, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.report import render_markdown
from benchaction.report.comment import comment_marker, render_summary
from benchaction.results import write_results
from benchaction.serving import OWNER_CONTAINER, RUN
from benchaction.stats import Comparison, compare_documents
from benchaction.stats.metrics import metric_by_name, trial_values

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Cancelled",
    "Placement",
    "failure_markdown",
    "run_action",
    "server_exit",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
LOG_TAIL_LINES = 40
DETAIL_LIMIT = 20_000  # characters of an error shown in a comment; the log has all of it
HEAD_OUTPUTS = ("latency_p50_ms", "latency_p99_ms", "throughput_rps")
_ENGINE_ERRORS = (docker.errors.DockerException, requests.RequestException)


class Cancelled(KeyboardInterrupt):
    """SIGINT or SIGTERM from the runner: unwinds like Ctrl-C, so every `finally` cleans up."""


@dataclass(frozen=True)
class Placement:
    """Where the action runs: its own container (whose network the model joins) or the host."""

    container_id: str | None = None
    image: str | None = None
    workspace_host_path: str | None = None
    note: str = ""

    @property
    def network_mode(self) -> str:
        """`container:<id>` puts the model server on our loopback; outside a container, host."""
        return f"container:{self.container_id}" if self.container_id else "host"


def _log(message: str) -> None:
    print(message, flush=True)


def server_exit(
    client: docker.DockerClient, run_id: str, ignore_image: str | None = None
) -> str | None:
    """Why a server container of `run_id` is no longer running, with its log tail; None if all run.

    Containers of `ignore_image` (the action's own, which the GPU monitor sibling runs) are not
    servers.
    """
    try:
        found = client.containers.list(all=True, filters={"label": f"{RUN}={run_id}"})
    except _ENGINE_ERRORS:
        return None
    for container in found:
        state: Mapping[str, Any] = container.attrs.get("State") or {}
        if state.get("Status") not in ("exited", "dead") or (
            ignore_image and container.attrs.get("Image") == ignore_image
        ):
            continue
        how = f"exited with code {state.get('ExitCode')}"
        if state.get("OOMKilled"):
            how += " (killed for exceeding its memory limit, server.resources.memory)"
        try:
            raw = container.logs(stdout=True, stderr=True, tail=LOG_TAIL_LINES)
            lines = raw.decode("utf-8", "replace").splitlines()
        except _ENGINE_ERRORS:
            lines = []
        tail = "\n".join(f"    | {line}" for line in lines) or "    (no output)"
        return (
            f"the model server container {container.name} {how} during the measurement; "
            f"the run stops here.\n  last {LOG_TAIL_LINES} lines of its log:\n{tail}"
        )
    return None


class _CrashWatch(ProgressDisplay):
    """The pipeline's display, plus a check after each scenario trial that the server still runs.

    A server that dies mid-measurement would otherwise show up only as errors in the numbers.
    """

    def __init__(
        self, client: docker.DockerClient | None, run_id: str, own_image: str | None
    ) -> None:
        super().__init__(sys.stdout)
        self._client = client
        self._run_id = run_id
        self._own_image = own_image

    def load_finished(self, metrics: dict[str, Any]) -> None:
        super().load_finished(metrics)
        if self._client is not None:
            problem = server_exit(self._client, self._run_id, self._own_image)
            if problem is not None:
                raise ServingError(problem)


def failure_markdown(
    marker: str, title: str, detail: str, doc: Mapping[str, Any] | None, run_url: str | None
) -> str:
    """The comment and summary of a run that did not finish: what failed, and its own words."""
    detail = (
        detail
        if len(detail) <= DETAIL_LIMIT
        else detail[:DETAIL_LIMIT] + "\n… (cut; see the job log)"
    )
    fence = "```"
    while fence in detail:
        fence += "`"
    lines = [marker] if marker else []
    lines += [f"### ❌ bench-action: {title}", "", f"{fence}text", detail, fence, ""]
    if doc is not None:
        done = sum(len(s["trials"]) for s in doc["scenarios"])
        lines.append(
            f"Scenario trials finished before it stopped: {done} (kept in the results file)."
        )
    if run_url:
        lines.append(f"Details: [job log]({run_url}).")
    return "\n".join(lines) + "\n"


class _Flow:
    """One action run; holds the settings and the clients so each step stays a short method."""

    def __init__(
        self, settings: ActionSettings, placement: Placement, client: docker.DockerClient | None
    ) -> None:
        self.s = settings
        self.placement = placement
        self.docker = client
        self.github = (
            GitHubClient(settings.api_url, settings.token)
            if settings.github is not None and settings.api_url
            else None
        )
        ctx = settings.github
        self.pr = pull_request_from_event(ctx.event) if ctx is not None and ctx.event else None
        self.run_url = (
            f"{ctx.server_url}/{ctx.repository}/actions/runs/{ctx.run_id}" if ctx else None
        )
        run = ctx.run_id if ctx is not None else time.strftime("%Y%m%d%H%M%S", time.gmtime())
        self.run_id = f"gh{run}-{settings.run_attempt}-{secrets.token_hex(3)}"

    def output(self, name: str, value: str) -> None:
        if self.s.output_path is not None:
            set_output(self.s.output_path, name, value)

    def summary(self, markdown: str) -> None:
        if self.s.summary_path is not None:
            append_summary(self.s.summary_path, markdown)

    def options(self) -> RunOptions:
        labels = {"io.benchaction.github-run": self.run_id}
        if self.placement.container_id:
            labels[OWNER_CONTAINER] = self.placement.container_id
        return RunOptions(
            output_dir=self.s.results_dir,
            run_id=self.run_id,
            network_mode=self.placement.network_mode,
            host="127.0.0.1",
            labels=labels,
            # The GPU sampler runs in a sibling of our own image, which can be given the GPUs.
            gpu_monitor_image=self.placement.image or None,
        )

    def configs(self) -> tuple[Config, Config | None]:
        s = self.s
        head = load_config(s.config_path, profile=s.profile, overrides=s.overrides)
        if head.server.url is None and head.server.runtime != "docker":
            # The action's own container cannot run the model as a process: always Docker.
            head = dataclasses.replace(
                head, server=dataclasses.replace(head.server, runtime="docker")
            )
        if s.mode != "ab":
            return head, None
        rel = s.config_path.relative_to(s.workspace)
        base = base_config(head, base_image=s.base_image, base_dir=s.base_dir, config_rel=rel)
        base = dataclasses.replace(base, server=dataclasses.replace(base.server, runtime="docker"))
        return head, base

    def measure(
        self, head: Config, base: Config | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, BaseException | None]:
        if head.server.url is None and self.docker is None:
            raise ServingError(
                "no Docker engine answered on /var/run/docker.sock inside the action container. The "
                "runner mounts the host's socket there; rootless Docker, Podman and Kubernetes-mode "
                "runners are not supported (see docs/action.md, Troubleshooting)."
            )
        self.s.results_dir.mkdir(parents=True, exist_ok=True)
        options = self.options()
        _log(
            f"{head.name}: {len(head.scenarios)} scenario(s) x {head.trials} trial(s)"
            f"{' per side, A/B interleaved' if base else ''}; run id {self.run_id}; "
            f"network {options.network_mode}"
        )
        image = self.placement.image
        if base is None:
            out = run_benchmark(head, options, _CrashWatch(self.docker, self.run_id, image))
            return None, out.document, out.error
        ab = run_ab(head, base, options, lambda rid: _CrashWatch(self.docker, rid, image), log=_log)
        return ab.base, ab.head, ab.error

    def fill_git(self, doc: dict[str, Any] | None, side: str, path: Path) -> None:
        """Inside the action image there is no git: record the commit the runner names instead."""
        ctx = self.s.github
        if doc is None or doc.get("git") is not None or ctx is None:
            return
        if side == "head" and ctx.sha:
            doc["git"] = {"sha": ctx.sha, "ref": ctx.ref_name, "dirty": False}
        elif side == "base" and self.s.base_dir is not None and ctx.event:
            base = (ctx.event.get("pull_request") or {}).get("base") or {}
            if base.get("sha"):
                doc["git"] = {"sha": base["sha"], "ref": base.get("ref"), "dirty": False}
        if doc.get("git") is not None:
            write_results(doc, path)

    def head_outputs(self, head: Mapping[str, Any], rows_first: bool) -> None:
        """Head medians of the first scenario, when the comparison had no row to carry them."""
        if rows_first or not head["scenarios"]:
            return
        trials = head["scenarios"][0]["trials"]
        for name in HEAD_OUTPUTS:
            values = trial_values(trials, metric_by_name(name))
            if values:
                self.output(f"head-{name.replace('_', '-')}", f"{statistics.median(values):.6g}")

    def fail(
        self, title: str, detail: str, doc: Mapping[str, Any] | None, config_name: str
    ) -> None:
        """Say on every channel that the run failed, and why; GitHub writes are best effort."""
        error((detail or title).splitlines()[0], title=f"bench-action: {title}")
        marker = comment_marker(config_name)
        body = failure_markdown(marker, title, detail, doc, self.run_url)
        self.summary(failure_markdown("", title, detail, doc, None))
        self.output("verdict", "error")
        self.output("failed", "true")
        writable, why = should_write(self.pr)
        if self.github is None or self.pr is None or not writable:
            _log(f"not writing to GitHub: {why if self.github else self.s.not_github_reason}")
            return
        repo = self.s.github.repository if self.s.github else ""
        if self.s.report.comment:
            try:
                upsert_comment(
                    self.github, repository=repo, pr_number=self.pr.number, marker=marker, body=body
                )
            except GitHubError as exc:
                _log(f"could not comment on the pull request: {exc}")
        if self.s.report.check:
            try:
                publish_check(
                    self.github,
                    repository=repo,
                    head_sha=self.pr.head_sha,
                    name=self.s.report.check_name,
                    conclusion="failure",
                    title=f"bench-action: {title}",
                    summary=body,
                    log=_log,
                )
            except GitHubError as exc:
                _log(f"could not publish the check: {exc}")

    def local_outputs(self, comparison: Comparison, head: Mapping[str, Any]) -> None:
        """Outside GitHub: the summary and outputs report_to_github would have written."""
        first = head["scenarios"][0]["name"] if head["scenarios"] else None
        self.output("verdict", comparison.verdict)
        self.output("failed", "true" if comparison.failed else "false")
        for row in comparison.rows:
            if row.scenario == first and row.change is not None and row.metric in HEAD_OUTPUTS:
                name = row.metric.replace("_", "-")
                self.output(f"change-{name}", f"{row.change.estimate:.6g}")
        self.head_outputs(head, False)

    def report(self, head: dict[str, Any], base: dict[str, Any] | None) -> int:
        ctx = self.s.github
        if ctx is None or self.github is None:
            _log(self.s.not_github_reason or "not in a GitHub Actions job: nothing is published")
            comparison = compare_documents(base, head, self.s.stats)
            note = {"note": SAME_JOB_NOTE} if base is not None else None
            self.summary(render_summary(comparison, base, head, provenance=note))
            self.local_outputs(comparison, head)
        else:
            if self.s.token is None:
                warning("input `github-token` is empty: the baseline lookup and writes will fail")
            try:
                with group("Publish to GitHub"):
                    outcome = report_to_github(
                        head,
                        self.github,
                        ctx,
                        self.s.stats,
                        self.s.report,
                        log=_log,
                        same_job_base=base,
                    )
            except GitHubError as exc:  # retries used up: the summary and outputs are written
                error(f"publishing to GitHub failed: {exc}", title="bench-action")
                return EXIT_FAILED
            comparison = outcome.comparison
            _log(f"comment: {outcome.comment}; check: {outcome.check}")
            first = head["scenarios"][0]["name"] if head["scenarios"] else None
            self.head_outputs(head, any(r.scenario == first for r in comparison.rows))
        _log(f"verdict: {comparison.verdict}{' (fails the gate)' if comparison.failed else ''}")
        return EXIT_FAILED if comparison.failed else EXIT_OK

    def run(self) -> int:
        s = self.s
        _log(self.placement.note)
        self.output("results-path", f"{s.results_rel}/results.json")
        try:
            try:
                head_cfg, base_cfg = self.configs()
            except ConfigError as exc:
                self.fail("the benchmark config is invalid", str(exc), None, s.config_path.stem)
                return EXIT_USAGE
            base, head, problem = self.measure(head_cfg, base_cfg)
            self.fill_git(head, "head", s.results_dir / "results.json")
            self.fill_git(base, "base", s.results_dir / "base-results.json")
            if head is not None:
                (s.results_dir / "report.md").write_text(render_markdown(head), encoding="utf-8")
            if isinstance(problem, KeyboardInterrupt):
                _log(f"{problem}: partial results kept in {s.results_rel}; nothing published")
                self.summary(
                    f"### bench-action: cancelled\n\nPartial results: `{s.results_rel}`.\n"
                )
                return EXIT_INTERRUPTED
            if problem is not None or head is None:
                if problem is not None and not isinstance(problem, BenchActionError):
                    raise problem  # a bug, not a user error: the traceback goes to the log
                self.fail("the benchmark failed", str(problem), head, head_cfg.name)
                return EXIT_FAILED
            return self.report(head, base)
        except BenchActionError as exc:
            self.fail("the benchmark failed", str(exc), None, s.config_path.stem)
            return EXIT_FAILED


def run_action(
    settings: ActionSettings, placement: Placement, client: docker.DockerClient | None
) -> int:
    """The whole action for checked settings; returns the exit code (0 pass, 1 fail, 2 usage, 130 cancelled)."""
    return _Flow(settings, placement, client).run()
