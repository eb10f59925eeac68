"""A/B mode: base and head measured in the same job, trials interleaved, so drift hits both sides.

Each round runs one trial of each side through `run_benchmark` (a fresh server each time), and
the side that goes first alternates (base, head; head, base; ...). The per-trial documents are
merged into one base and one head document of the usual results schema, which the ordinary
comparison then reads. The image of each side is built or pulled once, in its first round.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from benchaction.config import Config, load_config
from benchaction.errors import ConfigError
from benchaction.flow.measure import RunOptions, run_benchmark
from benchaction.flow.sequential import Sequential, merge_documents, reuse_image, stop_reason
from benchaction.progress import ProgressDisplay
from benchaction.results import ResultsDocument, write_results

__all__ = [
    "BASE_RESULTS",
    "AbOutcome",
    "base_config",
    "round_order",
    "run_ab",
]

BASE_RESULTS = "base-results.json"
Side = Literal["base", "head"]


@dataclass(frozen=True)
class AbOutcome:
    """The merged base and head documents (None: that side never ran), and what stopped the rounds."""

    base: ResultsDocument | None
    head: ResultsDocument | None
    head_path: Path
    base_path: Path
    error: BaseException | None


def base_config(
    head: Config, *, base_image: str | None, base_dir: Path | None, config_rel: Path
) -> Config:
    """The base side: the head's scenarios and trials, the server from `base_image` or `base_dir`.

    From a base checkout the base's own `server` section is used (its build context, image,
    env and resources), so the comparison measures what each branch would deploy.
    """
    if base_image is not None:
        server = dataclasses.replace(head.server, image=base_image, build=None, url=None)
        return dataclasses.replace(head, server=server)
    if base_dir is None:
        raise ConfigError(["A/B mode needs `base-image` or `base-ref`"])
    path = base_dir / config_rel
    if not path.is_file():
        raise ConfigError(
            [
                f"base-ref: the base checkout has no {config_rel} (looked for {path}); the base "
                "branch must have the benchmark config too, or use `base-image` or `mode: artifact`"
            ]
        )
    try:
        base = load_config(path, profile=head.profile)
    except ConfigError as exc:
        raise ConfigError(
            [f"base-ref: the base branch's config: {p}" for p in exc.problems]
        ) from None
    return dataclasses.replace(head, path=base.path, server=base.server)


def round_order(rounds: int) -> list[tuple[int, Side]]:
    """(round, side) in run order: base first in even rounds, head first in odd ones."""
    return [(r, side) for r in range(rounds) for side in _sides(r)]


def run_ab(
    head: Config,
    base: Config,
    options: RunOptions,
    display: ProgressDisplay,
    *,
    log: Callable[[str], None] = print,
    sequential: Sequential | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AbOutcome:
    """Interleave rounds of one base and one head trial; write both merged documents.

    `head.trials` rounds always run; with `sequential`, more rounds follow while the comparison
    is undecided and the budget lasts. The merged documents are rewritten after every round, so
    a cancel keeps what was measured.
    """
    configs: dict[Side, Config] = {
        "base": dataclasses.replace(base, trials=1),
        "head": dataclasses.replace(head, trials=1),
    }
    docs: dict[Side, list[ResultsDocument]] = {"base": [], "head": []}
    merged: dict[Side, ResultsDocument] = {}
    head_path = options.output_dir / "results.json"
    base_path = options.output_dir / BASE_RESULTS
    error: BaseException | None = None
    started = clock()
    rounds = head.trials
    limit = max(rounds, sequential.max_rounds) if sequential is not None else rounds
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as scratch:
        r = 0
        while r < rounds and error is None:
            for side in _sides(r):
                run_id = f"{options.run_id}-{side}{r + 1}"
                log(
                    f"A/B round {r + 1}/{rounds}{f' (up to {limit})' if limit > rounds else ''}: {side}"
                )
                first = not docs[side]  # the image's one accuracy pass follows its first trial
                outcome = run_benchmark(
                    configs[side],
                    dataclasses.replace(
                        options,
                        output_dir=Path(scratch) / run_id,
                        run_id=run_id,
                        accuracy=first and options.accuracy,
                    ),
                    display,
                )
                docs[side].append(outcome.document)
                if len(docs[side]) == 1:  # built or pulled now: later rounds reuse the image
                    configs[side] = reuse_image(configs[side], outcome)
                merged = _write(docs, head_path, base_path)
                if outcome.error is not None:
                    error = outcome.error
                    break
            r += 1
            if r == rounds and error is None and sequential is not None and r < limit:
                why = stop_reason(
                    sequential, merged.get("base"), merged.get("head"), clock() - started, r
                )
                if why is None:
                    rounds += 1
                else:
                    log(f"A/B: stopping after {r} rounds: {why}")
    return AbOutcome(merged.get("base"), merged.get("head"), head_path, base_path, error)


def _sides(r: int) -> tuple[Side, Side]:
    return ("base", "head") if r % 2 == 0 else ("head", "base")


def _write(
    docs: dict[Side, list[ResultsDocument]], head_path: Path, base_path: Path
) -> dict[Side, ResultsDocument]:
    merged: dict[Side, ResultsDocument] = {}
    paths: tuple[tuple[Side, Path], ...] = (("head", head_path), ("base", base_path))
    for side, path in paths:
        if docs[side]:
            merged[side] = merge_documents(docs[side])
            write_results(merged[side], path)
    return merged
