"""Sequential trials: more trials while the comparison is undecided, within a count and a time.

A/B mode adds interleaved rounds (`flow.ab`); artifact mode, whose base is a stored document,
adds head trials here. Either way the looks at the comparison spend alpha (`StatsSettings.looks`),
so stopping when a metric is decided keeps false regressions at or below alpha.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchaction.config import Config
from benchaction.flow.measure import RunOptions, RunOutcome, run_benchmark
from benchaction.progress import ProgressDisplay
from benchaction.results import ResultsDocument, write_results

__all__ = ["Sequential", "add_head_trials", "merge_documents", "reuse_image", "stop_reason"]


@dataclass(frozen=True)
class Sequential:
    """Add trials (or A/B rounds) after the config's `trials` until `decided(base, head)` says so,
    up to `max_rounds` in all or `budget_s` seconds of measuring (whichever comes first)."""

    max_rounds: int
    budget_s: float | None
    decided: Callable[[ResultsDocument, ResultsDocument], bool]


def merge_documents(docs: Sequence[ResultsDocument]) -> ResultsDocument:
    """One results document from per-trial ones of the same config, trials and instances renumbered."""
    if not docs:
        raise ValueError("merge_documents needs at least one document")
    out = copy.deepcopy(docs[0])  # merging never edits the documents it reads
    out["instances"] = []
    sections = {s["name"]: s for s in out["scenarios"]}
    for section in out["scenarios"]:
        section["trials"] = []
    trial_offset = 0
    for doc in docs:
        offset = len(out["instances"])
        out["instances"] += [{**i, "instance": offset + i["instance"]} for i in doc["instances"]]
        trials_here = 0
        for section in doc["scenarios"]:
            merged = sections.get(section["name"])
            if merged is None:
                continue
            if "skipped" in section:
                merged.setdefault("skipped", section["skipped"])
            for trial in section["trials"]:
                merged["trials"].append(
                    {
                        **trial,
                        "trial": trial_offset + trial["trial"],
                        "instance": offset + trial["instance"],
                    }
                )
                trials_here = max(trials_here, trial["trial"] + 1)
        trial_offset += trials_here
    errors = [d.get("error") for d in docs if d.get("error")]
    out["status"] = "complete" if all(d["status"] == "complete" for d in docs) else "partial"
    out["error"] = errors[0] if errors else None
    settings = out["config"].get("settings")
    if isinstance(settings, dict):
        settings["trials"] = trial_offset
    return out


def reuse_image(config: Config, outcome: RunOutcome) -> Config:
    """After a side's first run: its later trials start the same image by id, no rebuild."""
    image = outcome.document["server"].get("image")
    if not image or config.server.url is not None:
        return config
    server = dataclasses.replace(config.server, image=str(image["id"]), build=None)
    return dataclasses.replace(config, server=server)


def stop_reason(
    sequential: Sequential,
    base: ResultsDocument | None,
    head: ResultsDocument | None,
    elapsed_s: float,
    runs: int,
) -> str | None:
    """None when another trial (or round) should run; else why not."""
    if runs >= sequential.max_rounds:  # the verdict takes the last look
        return f"the maximum of {sequential.max_rounds} trials a side is reached"
    if base is not None and head is not None and sequential.decided(base, head):
        return "every deciding metric is decided"
    per_run = elapsed_s / max(1, runs)
    if sequential.budget_s is not None and elapsed_s + per_run > sequential.budget_s:
        return f"another trial would pass the time budget of {sequential.budget_s:g} s"
    return None


def add_head_trials(
    head: Config,
    base_for: Callable[[ResultsDocument], ResultsDocument | None],
    options: RunOptions,
    display: ProgressDisplay,
    sequential: Sequential,
    *,
    log: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
) -> RunOutcome:
    """Artifact mode: the config's trials, then one head trial (a fresh server) at a time while
    the comparison with the stored base (`base_for(head)`: an artifact, or main's pooled runs,
    which depend on the head's setup) is undecided. The merged document is rewritten after every
    trial, so a failure or a cancel keeps what was measured."""
    started = clock()
    first = run_benchmark(head, options, display)
    docs = [first.document]
    error = first.error
    results_path = first.results_path
    one = reuse_image(dataclasses.replace(head, trials=1), first)
    merged = first.document
    with tempfile.TemporaryDirectory(prefix="bench-seq-") as scratch:
        while error is None:
            trials = len(docs) - 1 + head.trials
            why = stop_reason(sequential, base_for(merged), merged, clock() - started, trials)
            if why is not None:
                log(f"sequential trials: stopping after {trials}: {why}")
                break
            log(f"sequential trials: trial {trials + 1} (up to {sequential.max_rounds})")
            run_id = f"{options.run_id}-t{trials + 1}"
            out = run_benchmark(
                one,
                dataclasses.replace(
                    options, output_dir=Path(scratch) / run_id, run_id=run_id, accuracy=False
                ),  # the image's labelled set was scored after the first run's trials
                display,
            )
            docs.append(out.document)
            error = out.error
            merged = merge_documents(docs)
            write_results(merged, results_path)
    return RunOutcome(merged, results_path, error)
