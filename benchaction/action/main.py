"""The container action: environment in, exit code out.

`main(env)` reads the inputs and the runner's variables once, finds its own container, then
runs the two halves of the flow: `flow.measure` (or `flow.ab`) and `flow.verdict`. Nothing
below this package reads the environment. A run that fails says why on every channel; a
cancelled run keeps its partial results and publishes nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Mapping
from pathlib import Path

import docker

from benchaction import __version__
from benchaction.action.join import github_target, run_join
from benchaction.action.outcome import failure_words, final_outputs, invalid_inputs, write_outputs
from benchaction.action.placement import Placement, give_to_workspace_owner, locate_self
from benchaction.action.settings import ActionSettings, read_settings
from benchaction.config import Config, config_name, load_config
from benchaction.errors import (
    BenchActionError,
    Cancelled,
    ConfigError,
    ExitCode,
    ServingError,
    cancel_on_signals,
    exit_code,
)
from benchaction.flow.ab import base_config, run_ab
from benchaction.flow.join import write_leg
from benchaction.flow.main_history import MainHistory
from benchaction.flow.measure import RunOptions, new_run_id, run_benchmark
from benchaction.flow.sequential import Sequential, add_head_trials
from benchaction.flow.stored_base import StoredBase
from benchaction.flow.verdict import (
    Baseline,
    Channels,
    Verdict,
    failure,
    judge,
    publish,
)
from benchaction.github import GitHubError, commands
from benchaction.history import RunLinks
from benchaction.progress import ProgressDisplay
from benchaction.report import render_markdown
from benchaction.results import ResultsDocument, write_results
from benchaction.serving import OWNER_CONTAINER, docker_engine
from benchaction.stats import StatsSettings, compare_documents

__all__ = ["main", "run_action"]


def _log(message: str) -> None:
    print(message, flush=True)


def _usable_cpus() -> tuple[int, ...] | None:
    """The cores this container may run on: `isolation` splits them between server and load."""
    if not hasattr(os, "sched_getaffinity"):  # pragma: no cover - not Linux
        return None
    return tuple(sorted(os.sched_getaffinity(0)))


class _Run:
    """One action run; holds the settings and the clients so each step stays a short method."""

    def __init__(
        self,
        settings: ActionSettings,
        placement: Placement,
        client: docker.DockerClient | None,
        environment: Mapping[str, str],
    ) -> None:
        self.s = settings
        self.started = time.time()
        self.told: dict[str, str] = {}  # the outputs the texts gave; written when the run ends
        self.stats = settings.stats  # with the looks of sequential trials, once configs are read
        self.history: MainHistory | None = None
        self.environment = environment
        self.placement = placement
        self.docker = client
        ctx = settings.github
        self.target = github_target(settings)
        self.run_url = self.target.run_url if self.target is not None else None
        if self.target is not None and ctx is not None and settings.history.store != "off":
            self.history = MainHistory(
                self.target,
                settings.history,
                main_branch=ctx.default_branch,
                artifact_name=settings.publish.artifact_name,
                log=_log,
            )
        self.bases = StoredBase(
            self.target,
            self.history,
            artifact_name=settings.publish.artifact_name,
            deciding=settings.stats.primary,
            on_main=ctx.default_branch if ctx is not None and ctx.on_main else None,
            log=_log,
        )
        self.run_id = new_run_id(f"gh{ctx.run_id}-{ctx.run_attempt}" if ctx else "gh")
        self.channels = Channels(
            summary_path=settings.summary_path,
            output_path=None,  # `final_outputs` writes them once, whichever way the run ends
            github=self.target,
            settings=settings.publish,
        )

    def _stats_for(self, head: Config) -> StatsSettings:
        """Sequential trials look at the comparison once per added trial: spend alpha."""
        looks = 1
        if head.max_trials is not None:
            looks = max(1, head.max_trials - head.trials + 1)
        return dataclasses.replace(self.s.stats, looks=looks)

    def _sequential(self, head: Config) -> Sequential | None:
        """Add trials (A/B rounds, or head trials against the artifact) while undecided."""
        if head.max_trials is None or head.max_trials <= head.trials:
            return None
        stats = self.stats
        return Sequential(
            max_rounds=head.max_trials,
            budget_s=head.budget_s,
            decided=lambda b, h: compare_documents(b, h, stats).decided,
        )

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
            environment=self.environment,
            cpus=_usable_cpus(),
        )

    def configs(self) -> tuple[Config, Config | None]:
        """The head config (always Docker: the action's container cannot run a process server)."""
        s = self.s
        head = load_config(s.config_path, profile=s.profile, overrides=s.overrides)
        if head.server.url is None and head.server.runtime != "docker":
            head = dataclasses.replace(
                head, server=dataclasses.replace(head.server, runtime="docker")
            )
        if s.max_trials is not None:
            budget = s.budget_s if s.budget_s is not None else head.budget_s
            head = dataclasses.replace(head, max_trials=s.max_trials, budget_s=budget)
        if head.max_trials is not None and head.max_trials < head.trials:
            raise ConfigError(
                [f"max-trials ({head.max_trials}) is below the config's trials ({head.trials})"]
            )
        if s.mode != "ab":
            return head, None
        rel = s.config_path.relative_to(s.workspace)
        base = base_config(head, base_image=s.base_image, base_dir=s.base_dir, config_rel=rel)
        base = dataclasses.replace(base, server=dataclasses.replace(base.server, runtime="docker"))
        return head, base

    def measure(
        self, head: Config, base: Config | None
    ) -> tuple[ResultsDocument | None, ResultsDocument | None, BaseException | None]:
        """The first half: (base, head, what stopped it); every document is already written."""
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
        display = ProgressDisplay()
        sequential = self._sequential(head)
        if base is not None:
            ab = run_ab(head, base, options, display, log=_log, sequential=sequential)
            return ab.base, ab.head, ab.error
        if sequential is not None and self.bases.exists(head):
            base_for = self.bases.document
            out = add_head_trials(head, base_for, options, display, sequential, log=_log)
        else:
            out = run_benchmark(head, options, display)
        return None, out.document, out.error

    def fill_git(self, doc: ResultsDocument | None, side: str, path: Path) -> None:
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

    def keep_history(self, head: ResultsDocument, result: Verdict) -> None:
        """A run of the default branch joins the history, and may open or close the alert."""
        ctx = self.s.github
        if self.history is None or ctx is None or not ctx.on_main or self.target is None:
            return
        links: RunLinks = {
            "key": f"gh-{ctx.run_id}",
            "url": self.target.run_url,
            "commit_url": f"{ctx.server_url}/{ctx.repository}/commit/{ctx.sha}",
        }
        with commands.group("History and alert"):
            self.history.keep_run(head, result, self.stats, links)

    def fail(
        self,
        title: str,
        exc: BaseException | None,
        partial: ResultsDocument | None,
        name: str,
    ) -> None:
        """Say on every channel that the run failed, and why; GitHub writes are best effort."""
        detail, problems, first = failure_words(exc, title, self.s.workspace)
        commands.error(first, title=f"bench-action: {title}")
        try:
            write_leg(self.s.results_dir, self.s.runner, failure=(title, detail))
        except OSError as err:  # the join then reports this runner as having left no results
            _log(f"could not record the failure in {self.s.results_rel}: {err}")
        texts = failure(title, detail, partial, name, run_url=self.run_url, problems=problems)
        self.told.update(texts.outputs)
        if self.target is None:
            _log(f"not writing to GitHub: {self.s.not_github_reason}")
        try:
            publish(texts, self.channels, _log)
        except GitHubError as err:
            _log(f"could not publish the failure to GitHub: {err}")

    def verdict(self, head: ResultsDocument, base: ResultsDocument | None) -> ExitCode:
        """The second half: baseline, comparison, texts, publish; the gate's exit code."""
        if self.target is None:
            _log(self.s.not_github_reason or "not in a GitHub Actions job: nothing is published")
        elif self.s.token is None:
            commands.warning(
                "input `github-token` is empty: the baseline lookup and writes will fail"
            )
        try:
            with commands.group("Publish to GitHub") if self.target else contextlib.nullcontext():
                baseline = (
                    Baseline.same_job(base) if base is not None else self.bases.for_head(head)
                )
                result = judge(head, baseline, self.stats, run_url=self.run_url)
                self.told.update(result.texts.outputs)
                same_job, looks = base is not None, self.stats.looks
                write_leg(
                    self.s.results_dir,
                    self.s.runner,
                    verdict=result,
                    same_job=same_job,
                    looks=looks,
                )
                published = publish(result.texts, self.channels, _log)
        except GitHubError as exc:  # retries used up: the summary and outputs are written
            commands.error(f"publishing to GitHub failed: {exc}", title="bench-action")
            return ExitCode.FAILED
        if self.target is not None:
            _log(f"comment: {published.comment}; check: {published.check}")
        self.keep_history(head, result)
        c = result.comparison
        _log(f"verdict: {c.verdict}{' (fails the gate)' if c.failed else ''}")
        return ExitCode.FAILED if c.failed else ExitCode.OK

    def run(self) -> ExitCode:
        """Every way out writes the outputs: verdict, failed, and results-path if written."""
        code = ExitCode.FAILED  # unless a step below returns: a bug, or a cancel, fails the step
        try:
            code = self._run()
            return code
        finally:
            results = self.s.results_dir / "results.json"
            outputs = final_outputs(self.told, code, results, self.s.results_rel, self.started)
            write_outputs(self.s.output_path, outputs)

    def _run(self) -> ExitCode:
        s = self.s
        _log(self.placement.note)
        name = config_name(s.config_path, profile=s.profile, overrides=s.overrides)
        try:
            try:
                head_cfg, base_cfg = self.configs()
                self.stats = self._stats_for(head_cfg)
            except ConfigError as exc:
                self.fail("the benchmark config is invalid", exc, None, name)
                return ExitCode.USAGE
            name = head_cfg.name
            base, head, problem = self.measure(head_cfg, base_cfg)
            self.fill_git(head, "head", s.results_dir / "results.json")
            self.fill_git(base, "base", s.results_dir / "base-results.json")
            if head is not None:
                (s.results_dir / "report.md").write_text(render_markdown(head), encoding="utf-8")
            if isinstance(problem, KeyboardInterrupt):
                _log(f"{problem}: partial results kept in {s.results_rel}; nothing published")
                if s.summary_path is not None:
                    commands.append_summary(
                        s.summary_path,
                        f"### bench-action: cancelled\n\nPartial results: `{s.results_rel}`.\n",
                    )
                return ExitCode.INTERRUPTED
            if problem is not None or head is None:
                if problem is not None and not isinstance(problem, BenchActionError):
                    raise problem  # a bug, not a user error: the traceback goes to the log
                self.fail("the benchmark failed", problem, head, name)
                return ExitCode.FAILED
            return self.verdict(head, base)
        except BenchActionError as exc:
            self.fail("the benchmark failed", exc, None, name)
            return exit_code(exc)  # a broken results or history file is bad input: 2


def run_action(
    settings: ActionSettings,
    placement: Placement,
    client: docker.DockerClient | None,
    environment: Mapping[str, str],
) -> ExitCode:
    """The whole action for checked settings."""
    return _Run(settings, placement, client, environment).run()


def main(env: Mapping[str, str] | None = None) -> int:
    """PID 1 of the action container: read the environment once, run, clean up, exit code."""
    env = dict(os.environ if env is None else env)
    print(f"bench-action {__version__}", flush=True)
    token = env.get("INPUT_GITHUB-TOKEN", "")
    if token and not token.startswith("${{"):
        commands.add_mask(token)
    with cancel_on_signals():
        try:
            settings = read_settings(env)
        except ConfigError as exc:
            return invalid_inputs(exc, env)
        if settings.mode == "join":  # no Docker, no config: the legs' results are all it reads
            return run_join(settings)
        try:
            client = docker_engine(env)
            return run_action(settings, locate_self(client), client, env)
        except Cancelled as exc:
            print(f"{exc}: stopped", flush=True)
            return ExitCode.INTERRUPTED
        finally:
            give_to_workspace_owner(settings.results_dir, settings.workspace)
