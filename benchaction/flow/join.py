"""One verdict over several runners: each matrix leg leaves its head, its baseline and a small
record; the join judges every runner against its own baseline and tells it all in one comment.

A leg writes `verdict.json` next to `results.json` (and `baseline.json`, the base it compared
with), so the join reproduces the leg's comparison without looking anything up again: each runner
stays compared with its own runner's base. The order stays `verdict.py`'s: judge, then publish.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchaction.errors import ConfigError, ResultsError
from benchaction.flow.verdict import Baseline, Texts, Verdict, judge
from benchaction.github import COMMENT_LIMIT, Conclusion
from benchaction.report import (
    RunnerSection,
    comment_marker,
    render_failure,
    render_joined_comment,
    render_joined_summary,
)
from benchaction.results import ResultsDocument, load_results, write_results
from benchaction.stats import StatsSettings

__all__ = [
    "BASELINE_FILE",
    "LEG_FILE",
    "Joined",
    "Leg",
    "join_legs",
    "read_legs",
    "runner_key",
    "worst_verdict",
    "write_leg",
]

LEG_FILE = "verdict.json"
BASELINE_FILE = "baseline.json"
SAME_JOB_BASE = "base-results.json"  # A/B mode: the base measured in the leg's own job
FORMAT = 1

Runner = tuple[str, ...]


def runner_key(labels: Sequence[str]) -> str:
    """The runner's part of its artifact name: labels joined by `-`, as the reusable workflow's
    `join(matrix.runner, '-')` writes it."""
    return "-".join(labels)


@dataclass(frozen=True)
class Leg:
    """One runner's part of a matrix run, as its job left it (head None: it did not finish)."""

    folder: Path
    runner: Runner
    head: ResultsDocument | None
    baseline: Baseline
    looks: int = 1
    failure: tuple[str, str] | None = None  # (title, detail) of a leg that did not finish


def write_leg(
    folder: Path,
    runner: Runner,
    *,
    verdict: Verdict | None = None,
    same_job: bool = False,
    looks: int = 1,
    failure: tuple[str, str] | None = None,
) -> Path:
    """Record what a leg compared with (or why it stopped) beside its results, for the join.

    `same_job`: the base was measured in the leg's own job (A/B) and is already in its folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"format": FORMAT, "runner": list(runner), "looks": looks}
    if failure is not None:
        record.update(status="failed", title=failure[0], detail=failure[1])
    elif verdict is not None:
        baseline = verdict.baseline
        name: str | None = None
        if baseline.document is not None:
            name = SAME_JOB_BASE if same_job else BASELINE_FILE
            if not same_job:
                write_results(baseline.document, folder / name)
        record.update(
            status="judged",
            verdict=verdict.comparison.verdict,
            failed=verdict.failed,
            baseline=name,
            provenance=dict(baseline.provenance) if baseline.provenance else None,
            missing=baseline.missing,
        )
    path = folder / LEG_FILE
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def _labels(value: Any, where: str) -> Runner:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ResultsError(
        f"{where}: the leg recorded no runner labels (got {value!r}); run each matrix leg with "
        "the action input `runner: ${{ toJSON(matrix.runner) }}`"
    )


def _read_leg(folder: Path) -> Leg:
    where = folder / LEG_FILE
    try:
        record = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{where}: cannot read the leg's record: {exc}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ResultsError(
            f"{where}: not a bench-action leg record of format {FORMAT} "
            "(written by another version of the action? run the legs and the join with one)"
        )
    runner = _labels(record.get("runner"), str(where))
    looks = record.get("looks", 1)
    if not isinstance(looks, int) or looks < 1:
        raise ResultsError(f"{where}: `looks` must be a whole number of at least 1, got {looks!r}")
    head = load_results(folder / "results.json") if (folder / "results.json").is_file() else None
    if record.get("status") == "failed":
        failure = (str(record.get("title") or "failed"), str(record.get("detail") or ""))
        return Leg(folder, runner, head, Baseline.none("the run failed"), looks, failure)
    if head is None:
        raise ResultsError(f"{folder}: {LEG_FILE} says the run was judged, but no results.json")
    name = record.get("baseline")
    document = _read_base(folder / str(name)) if name else None
    provenance = record.get("provenance") if document is not None else None
    missing = None if document is not None else str(record.get("missing") or "no baseline")
    return Leg(folder, runner, head, Baseline(document, provenance, missing), looks)


def _read_base(path: Path) -> ResultsDocument:
    """The base a leg compared with. Main's runs pooled from the history make a compact document
    (per-trial values only), so only the parts a comparison reads are checked here."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read the leg's baseline: {exc}") from None
    shape = isinstance(doc, dict) and isinstance(doc.get("scenarios"), list)
    if not shape or not all(isinstance(doc.get(k), dict) for k in ("host", "config", "tool")):
        raise ResultsError(
            f"{path}: not a results document (needs `scenarios`, `host`, `config` and `tool`)"
        )
    validated: ResultsDocument = doc
    return validated


def read_legs(join_dir: Path) -> list[Leg]:
    """Every leg under `join_dir`: the folder itself (one artifact was downloaded) or one
    subfolder a leg (several were, each into a folder named after it), in name order."""
    if not join_dir.is_dir():
        return []
    if (join_dir / LEG_FILE).is_file():
        return [_read_leg(join_dir)]
    return [_read_leg(p) for p in sorted(join_dir.iterdir()) if (p / LEG_FILE).is_file()]


@dataclass(frozen=True)
class Joined:
    """Each runner's verdict (None: it did not finish) and the texts that tell them together."""

    verdicts: Mapping[Runner, Verdict | None]
    texts: Texts
    ignored: tuple[Path, ...] = ()  # legs of runners not among the expected ones

    @property
    def failed(self) -> bool:
        return self.texts.outputs.get("failed") == "true"


def _pick(legs: Sequence[Leg], expected: Sequence[Runner]) -> list[tuple[Runner, Leg | None]]:
    """The legs in the order of `expected` (all found when it is empty), one per runner; a runner
    with two results is refused (two configs' artifacts matched one download pattern)."""
    by_runner: dict[Runner, Leg] = {}
    for leg in legs:
        other = by_runner.get(leg.runner)
        if other is not None:
            raise ConfigError(
                [
                    f"two results for runner {', '.join(leg.runner)}: {other.folder} and "
                    f"{leg.folder}; give each config its own `artifact-name` so one's artifacts "
                    "do not match another's pattern"
                ]
            )
        by_runner[leg.runner] = leg
    if not expected:
        return list(by_runner.items())
    return [(runner, by_runner.get(runner)) for runner in expected]


def _setup(head: ResultsDocument | None) -> str:
    """The runner's machine in a few words: GPU (model and count) and CPU, from the head."""
    if head is None:
        return ""
    gpu = head.get("gpu") or {}
    host = head["host"]
    parts = []
    if gpu.get("available") and gpu.get("name"):
        count = gpu.get("count")
        parts.append(f"{count} × {gpu['name']}" if count and count > 1 else str(gpu["name"]))
    else:
        parts.append("no GPU")
    parts.append(f"{host.get('cpu_model')}, {host.get('cores')} cores")
    return "; ".join(parts)


WORST_FIRST = ("error", "regression", "inconclusive", "improvement", "unchanged")


def worst_verdict(verdicts: Sequence[str]) -> str:
    """The overall verdict of several runners: the worst of theirs (a runner that did not
    finish is worst of all)."""
    return min(verdicts, key=WORST_FIRST.index) if verdicts else "inconclusive"


def _conclusion(verdict: str, failed: bool) -> Conclusion:
    if failed:
        return "failure"
    return "neutral" if verdict == "inconclusive" else "success"


def join_legs(
    legs: Sequence[Leg],
    expected: Sequence[Runner],
    stats: StatsSettings,
    *,
    run_url: str | None = None,
) -> Joined:
    """Judge every runner against its own baseline and render one comment with a section each;
    the overall verdict is the worst, and a runner without results fails the join."""
    picked = _pick(legs, expected)
    if not picked:
        raise ConfigError(
            [
                "no leg results to join: the download step found no artifacts; check that the "
                "matrix jobs uploaded `<artifact-name>-<runner labels joined by ->`"
            ]
        )
    config = next((leg.head["config"]["name"] for _, leg in picked if leg and leg.head), "bench")
    verdicts: dict[Runner, Verdict | None] = {}
    sections: list[RunnerSection] = []
    outputs: dict[str, Any] = {}
    for runner, leg in picked:
        heading = ", ".join(runner)
        if leg is None or leg.failure is not None or leg.head is None:
            title, detail = (
                leg.failure
                if leg is not None and leg.failure is not None
                else ("no results", "this runner's job left no results: see its log")
            )
            partial = leg.head if leg is not None else None
            text = render_failure("", title, detail, partial, run_url)
            sections.append(
                RunnerSection(heading, _setup(partial), "error", failed=True, failure=text)
            )
            verdicts[runner] = None
            outputs[runner_key(runner)] = {"verdict": "error", "failed": "true"}
            continue
        looked = dataclasses.replace(stats, looks=leg.looks)
        verdict = judge(leg.head, leg.baseline, looked, run_url=run_url)
        verdicts[runner] = verdict
        outputs[runner_key(runner)] = dict(verdict.texts.outputs)
        sections.append(
            RunnerSection(
                heading,
                _setup(leg.head),
                verdict.comparison.verdict,
                failed=verdict.failed,
                comparison=verdict.comparison,
                base=leg.baseline.document,
                head=leg.head,
                provenance=leg.baseline.provenance,
                no_baseline_reason=None if leg.baseline.document else leg.baseline.missing,
            )
        )
    worst = worst_verdict([s.verdict for s in sections])
    failed = any(s.failed for s in sections)
    marker = comment_marker(config)
    first = next(iter(outputs.values()))
    flat = {k: v for k, v in first.items() if k not in ("verdict", "failed")}
    flat.update(verdict=worst, failed="true" if failed else "false", runners=json.dumps(outputs))
    texts = Texts(
        marker=marker,
        summary=render_joined_summary(sections, verdict=worst),
        comment=render_joined_comment(
            sections, verdict=worst, marker=marker, summary_url=run_url, limit=COMMENT_LIMIT
        ),
        outputs=flat,
        conclusion=_conclusion(worst, failed),
        title=f"bench-action: {worst} ({len(sections)} runners)",
    )
    ignored = tuple(leg.folder for leg in legs if expected and leg.runner not in expected)
    return Joined(verdicts, texts, ignored)
