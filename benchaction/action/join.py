"""`mode: join`: the last job of a matrix run. Reads the legs' downloaded results, judges each
runner against its own baseline, and publishes one comment, one check, the summary and outputs.

It needs no checkout and no Docker engine: everything it compares is in the legs' folders.
"""

from __future__ import annotations

import contextlib

from benchaction.action.settings import ActionSettings
from benchaction.errors import BenchActionError, ExitCode, exit_code
from benchaction.flow.join import join_legs, read_legs, runner_key
from benchaction.flow.verdict import Channels, GitHubTarget, failure, publish
from benchaction.github import GitHubClient, GitHubError, commands

__all__ = ["github_target", "run_join"]


def _log(message: str) -> None:
    print(message, flush=True)


def github_target(settings: ActionSettings) -> GitHubTarget | None:
    """Where the action writes on GitHub, or None outside a GitHub Actions job."""
    ctx = settings.github
    if ctx is None:
        return None
    return GitHubTarget(
        client=GitHubClient(ctx.api_url, settings.token),
        repository=ctx.repository,
        repository_id=ctx.repository_id,
        server_url=ctx.server_url,
        run_id=ctx.run_id,
        pr=ctx.pull_request,
    )


def run_join(settings: ActionSettings) -> ExitCode:
    """Join the legs under `join-dir`; the exit code is the joined gate's."""
    assert settings.join_dir is not None  # read_settings requires it in join mode
    target = github_target(settings)
    run_url = target.run_url if target is not None else None
    channels = Channels(settings.summary_path, settings.output_path, target, settings.publish)
    if target is None:
        _log(settings.not_github_reason or "not in a GitHub Actions job: nothing is published")
    legs = []
    try:
        legs = read_legs(settings.join_dir)
        for leg in legs:
            _log(f"leg {runner_key(leg.runner)}: {leg.folder}")
        joined = join_legs(legs, settings.runners, settings.stats, run_url=run_url)
        for folder in joined.ignored:
            _log(f"not joined: {folder} holds the results of a runner not in `runners`")
    except BenchActionError as exc:
        commands.error(str(exc).splitlines()[0], title="bench-action: join failed")
        config = next((leg.head["config"]["name"] for leg in legs if leg.head), "bench")
        texts = failure("the results could not be joined", str(exc), None, config, run_url=run_url)
        try:
            publish(texts, channels, _log)
        except GitHubError as err:
            _log(f"could not publish the failure to GitHub: {err}")
        return exit_code(exc)  # a broken or missing leg file is bad input: 2
    try:
        with commands.group("Publish to GitHub") if target else contextlib.nullcontext():
            published = publish(joined.texts, channels, _log)
    except GitHubError as exc:
        commands.error(f"publishing to GitHub failed: {exc}", title="bench-action")
        return ExitCode.FAILED
    if target is not None:
        _log(f"comment: {published.comment}; check: {published.check}")
    verdict = joined.texts.outputs.get("verdict")
    _log(f"verdict: {verdict}{' (fails the gate)' if joined.failed else ''}")
    return ExitCode.FAILED if joined.failed else ExitCode.OK
