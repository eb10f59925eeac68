"""What a run tells at its end: the step's outputs, and errors in the repository's own paths.

Outputs are written once, when the run ends however it ends, so `verdict` and `failed` are
always set and agree with the exit code, and `results-path` names a file that exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from benchaction.errors import ConfigError, ExitCode
from benchaction.github import commands
from benchaction.report import render_failure

__all__ = ["failure_words", "final_outputs", "in_workspace", "invalid_inputs", "write_outputs"]


def final_outputs(
    told: Mapping[str, str],
    code: int,
    results: Path,
    results_rel: str,
    since: float,
) -> dict[str, str]:
    """The outputs to write: those the texts told, `verdict` error when none was reached,
    `failed` from the exit code, and `results-path` only for a results file this run wrote
    (modified at or after `since`, a time.time())."""
    out = dict(told)
    out.setdefault("verdict", "error")
    out["failed"] = "false" if code == ExitCode.OK else "true"
    out.pop("results-path", None)
    try:
        fresh = results.is_file() and results.stat().st_mtime >= int(since)
    except OSError:
        fresh = False
    if fresh:
        out["results-path"] = f"{results_rel}/{results.name}"
    return out


def write_outputs(path: Path | None, outputs: Mapping[str, str]) -> None:
    if path is not None:
        for name, value in outputs.items():
            commands.set_output(path, name, value)


def in_workspace(text: str, workspace: Path) -> str:
    """Paths inside the workspace as the repository names them (bench.yml, not
    /github/workspace/bench.yml): the container's mount point means nothing to the reader."""
    root = re.escape(str(workspace).rstrip("/"))
    text = re.sub(root + r"/(?=[^\s/])", "", text)
    return re.sub(root + r"(?![\w.-])", ".", text)


def failure_words(
    exc: BaseException | None, title: str, workspace: Path
) -> tuple[str, list[str], str]:
    """What a failure says, in the repository's paths: (detail, config problems one a line,
    the one-line annotation: the first problem, or the detail's first line)."""
    detail = in_workspace(str(exc or ""), workspace)
    problems = [in_workspace(p, workspace) for p in getattr(exc, "problems", ())]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    first = problems[0] + more if problems else (detail or title).splitlines()[0]
    return detail, problems, first


def invalid_inputs(exc: ConfigError, env: Mapping[str, str]) -> ExitCode:
    """Inputs that could not be read: the log, the summary and the outputs say so."""
    commands.error(str(exc), title="bench-action: invalid inputs")
    if env.get("GITHUB_STEP_SUMMARY"):
        text = render_failure("", "invalid inputs", str(exc), None, None, problems=exc.problems)
        commands.append_summary(env["GITHUB_STEP_SUMMARY"], text)
    output = env.get("GITHUB_OUTPUT")
    write_outputs(Path(output) if output else None, {"verdict": "error", "failed": "true"})
    return ExitCode.USAGE
