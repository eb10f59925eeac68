"""The action's inputs and runner environment, read and checked once into a frozen ActionSettings.

Only the entrypoint calls `read_settings`, with a copy of the environment; nothing below it
reads `os.environ`. Defaults live in action.yml; `INPUT_DEFAULTS` repeats them for runs outside
the runner (a test keeps the two equal). Every problem is reported at once, each naming the
input, what was wrong and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchaction.action.context import GitHubContext, read_context, read_event
from benchaction.action.runners import RunnerInputError, parse_runner, parse_runners
from benchaction.config.fields import FieldError, duration
from benchaction.errors import ConfigError
from benchaction.flow.main_history import STORES, HistorySettings
from benchaction.flow.verdict import PublishSettings
from benchaction.stats import FAIL_ON, PRIMARY_METRICS, StatsSettings, parse_metrics, parse_share

__all__ = [
    "INPUT_DEFAULTS",
    "MODES",
    "ActionSettings",
    "input_env_name",
    "read_settings",
]

MODES = ("artifact", "ab", "join")
"""artifact: compare with the base branch's stored results; ab: run the base here too; join: tell
the results of several runners' jobs (a matrix) in one comment and check."""

INPUT_DEFAULTS: dict[str, str] = {
    "config": "bench.yml",
    "profile": "",
    "image": "",
    "build-context": "",
    "dockerfile": "",
    "mode": "artifact",
    "base-image": "",
    "base-ref": "",
    "baseline-artifact": "bench-results",
    "fail-on": "regression",
    "threshold": "0.05",
    "trials": "",
    "max-trials": "",
    "budget": "",
    "deciding-metrics": "",
    "sweep": "",
    "github-token": "${{ github.token }}",
    "comment": "true",
    "check": "true",
    "results-dir": ".bench-action",
    "history": "branch",
    "history-branch": "bench-history",
    "history-max-runs": "500",
    "history-baseline-runs": "10",
    "alert": "true",
    "runner": "",
    "runners": "",
    "join-dir": "",
}
"""Every input action.yml declares, with its default there (the token's is an expression)."""

REQUIRED = ("config", "mode", "baseline-artifact", "fail-on", "threshold", "results-dir")
DEFAULT_WORKSPACE = "/github/workspace"
_TRUE, _FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")
_ARTIFACT_FORBIDDEN = set('":<>|*?\\/\r\n')
_BRANCH_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_SWEEP_RE = re.compile(r"^\s*(?:(concurrency|rate)\s*:)?\s*([0-9.,\s]+)$")


def input_env_name(name: str) -> str:
    """The runner's variable for an input: upper case, spaces to `_`, hyphens kept."""
    return "INPUT_" + name.replace(" ", "_").upper()


@dataclass(frozen=True)
class ActionSettings:
    """Everything the action run needs, checked; derived values are worked out here once."""

    workspace: Path
    config_path: Path
    profile: str | None
    overrides: Mapping[str, Any]
    mode: Literal["artifact", "ab", "join"]
    base_image: str | None
    base_dir: Path | None
    results_dir: Path
    stats: StatsSettings
    publish: PublishSettings
    token: str | None
    github: GitHubContext | None
    output_path: Path | None = None
    summary_path: Path | None = None
    not_github_reason: str | None = None
    max_trials: int | None = None  # sequential: trials (A/B rounds) added while undecided
    budget_s: float | None = None
    history: HistorySettings = field(default_factory=HistorySettings)
    runner: tuple[str, ...] = ()  # this job's runner labels, recorded for a join
    runners: tuple[tuple[str, ...], ...] = ()  # join: the runners whose results are expected
    join_dir: Path | None = None  # join: the folder the legs' artifacts were downloaded into

    @property
    def results_rel(self) -> str:
        """The results folder relative to the workspace, as later steps of the job name it."""
        return self.results_dir.relative_to(self.workspace).as_posix()


class _Reader:
    """Collects every input problem, so one run reports all of them."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def get(self, name: str) -> str:
        raw = self.env.get(input_env_name(name))
        value = INPUT_DEFAULTS[name] if raw is None else raw.strip()
        if name in REQUIRED and not value:
            self.bad(
                name,
                "is required but empty",
                f"set it or drop it to use the default `{INPUT_DEFAULTS[name]}`",
            )
        return value

    def bad(self, name: str, what: str, fix: str) -> None:
        self.problems.append(f"input `{name}` ({input_env_name(name)}) {what}; {fix}")

    def boolean(self, name: str) -> bool:
        value = self.get(name)
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.bad(name, f"must be true or false, got {value!r}", "write `true` or `false`")
        return False

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.get(name)
        if value and value not in allowed:
            self.bad(
                name, f"must be one of {', '.join(allowed)}, got {value!r}", "pick one of those"
            )
            return allowed[0]
        return value or allowed[0]

    def share(self, name: str) -> float:
        value = self.get(name)
        try:
            return parse_share(value)
        except ValueError as exc:
            self.bad(name, str(exc), "e.g. `0.05` or `5%` for a 5 % practical threshold")
            return 0.05

    def workspace_path(
        self, name: str, workspace: Path, *, folder: bool, must_exist: bool
    ) -> Path | None:
        value = self.get(name)
        if not value:
            return None
        path = (workspace / value).resolve()
        if not path.is_relative_to(workspace.resolve()):
            self.bad(
                name,
                f"points outside the workspace: {value!r}",
                f"give a path relative to the repository checkout ({workspace})",
            )
            return None
        if must_exist and not (path.is_dir() if folder else path.is_file()):
            kind = "folder" if folder else "file"
            self.bad(
                name,
                f"names a {kind} that does not exist: {value} (looked in {workspace})",
                "check the path, and check out the repository first (actions/checkout)"
                + (" into that folder" if folder else ""),
            )
            return None
        return path


def _positive_int(reader: _Reader, name: str) -> int | None:
    value = reader.get(name)
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        reader.bad(name, f"must be a whole number of at least 1, got {value!r}", "e.g. `5`")
        return None
    return int(value)


def _duration(reader: _Reader, name: str) -> float | None:
    value = reader.get(name)
    if not value:
        return None
    try:
        return duration(value)
    except FieldError as exc:
        reader.bad(name, str(exc), "e.g. `20m` or `90s`")
        return None


def _count(reader: _Reader, name: str, least: int) -> int:
    value = reader.get(name)
    if not value.isdigit() or int(value) < least:
        reader.bad(name, f"must be a whole number of at least {least}, got {value!r}", "e.g. `10`")
        return int(INPUT_DEFAULTS[name])
    return int(value)


def _history(reader: _Reader) -> HistorySettings:
    store = reader.choice("history", STORES)
    branch = reader.get("history-branch")
    if not _BRANCH_RE.fullmatch(branch) or ".." in branch or branch.endswith((".lock", "/")):
        reader.bad(
            "history-branch",
            f"is not a usable branch name: {branch!r}",
            "use a plain name such as `bench-history` (no spaces, no `refs/`, no `..`)",
        )
    return HistorySettings(
        store="branch" if store == "branch" else "artifacts" if store == "artifacts" else "off",
        branch=branch,
        max_runs=_count(reader, "history-max-runs", 1),
        pool_runs=_count(reader, "history-baseline-runs", 0),
        alert=reader.boolean("alert"),
    )


def _metric_names(reader: _Reader, name: str) -> tuple[str, ...]:
    try:
        return parse_metrics(reader.get(name))
    except ValueError as exc:
        reader.bad(name, str(exc), "leave it empty for the defaults")
        return ()


def _sweep(reader: _Reader) -> dict[str, Any] | None:
    value = reader.get("sweep")
    if not value:
        return None
    match = _SWEEP_RE.match(value)
    levels: list[float] = []
    if match is not None:
        try:
            levels = [float(x) for x in match.group(2).replace(" ", "").split(",") if x]
        except ValueError:
            levels = []
    if not levels:
        reader.bad(
            "sweep",
            f"must list load levels, got {value!r}",
            "e.g. `1,2,4,8` (concurrency) or `rate:10,50,100` (requests/s, open-loop scenarios)",
        )
        return None
    key = (match.group(1) if match is not None else None) or "concurrency"
    numbers: list[float] | list[int] = levels
    if key == "concurrency":
        numbers = [int(x) for x in levels]
    return {key: numbers}


def _runner(reader: _Reader) -> tuple[str, ...]:
    try:
        return parse_runner(reader.get("runner"))
    except RunnerInputError as exc:
        reader.bad("runner", exc.what, exc.fix)
        return ()


def _runners(reader: _Reader) -> tuple[tuple[str, ...], ...]:
    try:
        return parse_runners(reader.get("runners"))
    except RunnerInputError as exc:
        reader.bad("runners", exc.what, exc.fix)
        return ()


def _join(
    reader: _Reader, mode: str, workspace: Path
) -> tuple[tuple[tuple[str, ...], ...], Path | None]:
    """join mode's inputs: the expected runners and the folder the legs were downloaded into."""
    runners = _runners(reader)
    join_dir = reader.workspace_path("join-dir", workspace, folder=True, must_exist=False)
    if mode == "join" and join_dir is None and not reader.get("join-dir"):
        reader.bad(
            "join-dir",
            "is required with `mode: join`",
            "name the folder actions/download-artifact put the legs' artifacts in",
        )
    if mode != "join":
        for name in ("runners", "join-dir"):
            if reader.get(name):
                reader.bad(name, f"is only used with `mode: join` (mode is `{mode}`)", "remove it")
    return runners, join_dir


def _server_overrides(reader: _Reader, workspace: Path) -> dict[str, Any]:
    image = reader.get("image")
    context = reader.workspace_path("build-context", workspace, folder=True, must_exist=True)
    dockerfile = reader.get("dockerfile")
    if image and (context is not None or reader.get("build-context")):
        reader.bad(
            "image",
            "and `build-context` are both set, but the server comes from one of them",
            "set `image` to benchmark a ready image, or `build-context` to build one",
        )
    if image:
        return {"image": image}
    build: dict[str, Any] = {}
    if context is not None:
        build["context"] = str(context)
    if dockerfile:
        build["dockerfile"] = dockerfile
    return {"build": build} if build else {}


def read_settings(env: Mapping[str, str]) -> ActionSettings:
    """Read every input and the runner's variables; raise ConfigError listing every problem."""
    reader = _Reader(env)
    workspace = Path(env.get("GITHUB_WORKSPACE") or DEFAULT_WORKSPACE)
    mode = reader.choice("mode", MODES)
    # A join reads the legs' results, not the config: its job needs no checkout.
    config_path = reader.workspace_path(
        "config", workspace, folder=False, must_exist=mode != "join"
    )
    base_image = reader.get("base-image") or None
    base_dir = reader.workspace_path("base-ref", workspace, folder=True, must_exist=True)
    has_base_ref = bool(reader.get("base-ref"))
    if mode == "ab" and (base_image is not None) == has_base_ref:
        reader.bad(
            "mode",
            "is `ab`, which needs exactly one of `base-image` and `base-ref`"
            + (" (both are set)" if has_base_ref else " (neither is set)"),
            "set `base-image` to the base's image, or `base-ref` to a checkout of the base "
            "branch (e.g. `base`, checked out with actions/checkout `path: base`)",
        )
    if mode == "artifact" and (base_image is not None or has_base_ref):
        reader.bad(
            "mode",
            "is `artifact`, so `base-image`/`base-ref` would be ignored",
            "set `mode: ab` to run the base in this job, or remove them",
        )
    artifact = reader.get("baseline-artifact")
    if set(artifact) & _ARTIFACT_FORBIDDEN:
        reader.bad(
            "baseline-artifact",
            f"is not a valid artifact name: {artifact!r}",
            'artifact names may not contain " : < > | * ? \\ / or line breaks',
        )
    server = _server_overrides(reader, workspace)
    overrides: dict[str, Any] = {"server": server} if server else {}
    trials = _positive_int(reader, "trials")
    if trials is not None:
        overrides["trials"] = trials
    sweep = _sweep(reader)
    if sweep is not None:
        overrides["scenarios"] = {"*": {"sweep": sweep}}
    max_trials = _positive_int(reader, "max-trials")
    if max_trials is not None and trials is not None and max_trials < trials:
        reader.bad("max-trials", f"is below `trials` ({trials}), got {max_trials}", "raise it")
    budget = _duration(reader, "budget")
    if budget is not None and max_trials is None:
        reader.bad("budget", "only limits added trials", "set `max-trials` as well")
    deciding = _metric_names(reader, "deciding-metrics")
    fail_on = reader.choice("fail-on", FAIL_ON)
    threshold = reader.share("threshold")
    comment, check = reader.boolean("comment"), reader.boolean("check")
    history = _history(reader)
    runner = _runner(reader)
    runners, join_dir = _join(reader, mode, workspace)
    results_dir = reader.workspace_path("results-dir", workspace, folder=True, must_exist=False)
    token = reader.get("github-token")
    if token.startswith("${{"):
        token = ""  # the default expression arrived unevaluated: not run by the runner
    event = read_event(env, reader.problems)
    github, why = read_context(env, event)
    if results_dir is not None and ".git" in results_dir.relative_to(workspace.resolve()).parts:
        reader.bad("results-dir", "is inside .git", "use a folder of its own, e.g. `.bench-action`")
    if reader.problems or config_path is None or results_dir is None:
        raise ConfigError(reader.problems or ["the action inputs are invalid"])
    return ActionSettings(
        workspace=workspace,
        config_path=config_path,
        profile=reader.get("profile") or None,
        overrides=overrides,
        mode="ab" if mode == "ab" else "join" if mode == "join" else "artifact",
        base_image=base_image,
        base_dir=base_dir,
        results_dir=results_dir,
        stats=StatsSettings(
            threshold=threshold, fail_on=fail_on, primary=deciding or PRIMARY_METRICS
        ),
        publish=PublishSettings(artifact_name=artifact, comment=comment, check=check),
        token=token or None,
        github=github,
        output_path=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
        summary_path=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
        not_github_reason=why,
        max_trials=max_trials,
        budget_s=budget,
        history=history,
        runner=runner,
        runners=runners,
        join_dir=join_dir,
    )
