"""The action image run the way the runner runs it, against real model containers.

Each test starts the action with the runner's `docker run` (the `run_action` fixture in
tests/e2e/conftest.py) on a workspace owned by a non-root user, with a real `pull_request`
payload and a validating stand-in of the GitHub API on the host's loopback, then checks what a
user would see: exit code, comment, check run, outputs, summary, results file and its owner,
and that no container was left behind.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from benchaction.flow.verdict import SAME_JOB_NOTE
from benchaction.history import parse_history
from benchaction.results import validate_results
from tests.support.action_runner import WORKSPACE_UID, ActionRun, build, leftovers
from tests.support.artifacts import ARTIFACTS, serve_baseline
from tests.support.documents import two_scenario_doc
from tests.support.fake_repo import FakeRepo
from tests.support.github_payloads import (
    BASE,
    CHECK_RUNS,
    COMMENTS,
    REPO,
    SHA,
    answer_as_job_token,
    check_run,
    comment,
)
from tests.support.paths import EXAMPLES, REPO_ROOT
from tests.support.standin import Reply, StandIn

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PAYLOADS = (EXAMPLES / "numpy-mlp" / "payloads.jsonl").read_bytes()
RUN_TIMEOUT_S = 240
TOKEN = "ghs_e2eToken0123456789"


def _bench_yml(port: int, *, scenarios: str, trials: int, build: str = "model") -> str:
    return f"""version: 1
name: e2e-mlp
server:
  build: {{context: {build}}}
  port: {port}
  ready: {{path: /health, timeout: 60s, interval: 50ms}}
scenarios:
{scenarios}
trials: {trials}
"""


def _predict(name: str = "predict", duration: str = "1s") -> str:
    return f"""  - name: {name}
    path: /predict
    method: POST
    headers: {{Content-Type: application/json}}
    payloads: {{file: payloads.jsonl}}
    concurrency: 2
    duration: {duration}
    warmup: 0.2s
    timeout: 2s
    limits: {{dispatch_lag_p99: 1s}}  # model, action and client share two cores here
"""


@dataclass
class PullRequestBench:
    """The action on a pull request, publishing to the GitHub stand-in, benchmarking the model."""

    run_action: Callable[..., ActionRun]
    github: StandIn
    event: dict[str, Any]
    model_image: str
    docker_client: docker.DockerClient
    port: int

    def serve_pr(self, *, artifacts: bool = True) -> None:
        """Replies for one pull request run without a baseline: a comment and a check run."""
        base_ref = self.event["pull_request"]["base"]["ref"]
        if artifacts:
            self.github.route(
                "GET",
                f"{BASE}/compare/{base_ref}...{SHA}",
                Reply(json={"merge_base_commit": {"sha": "c" * 40}, "status": "ahead"}),
            )
            self.github.route("GET", ARTIFACTS, Reply(json={"total_count": 0, "artifacts": []}))
            # The history branch does not exist yet: the newest artifact is the base.
            self.github.route(
                "GET", f"{BASE}/contents/e2e-mlp.json", Reply(404, {"message": "Not Found"})
            )
        self.github.route("GET", COMMENTS, Reply(json=[]))
        self.github.route("POST", COMMENTS, Reply(201, comment(31, "x")))
        self.github.route("POST", CHECK_RUNS, Reply(201, check_run(41)))

    def start(
        self,
        inputs: dict[str, str],
        files: dict[str, str | bytes],
        *,
        event: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> ActionRun:
        """Start the action on the event, the API at the stand-in, payloads.jsonl in `files`."""
        return self.run_action(
            inputs,
            event=event or self.event,
            api_url=self.github.url,
            files={"payloads.jsonl": PAYLOADS, **files},
            env=env,
        )

    def start_ab(self, config: str, head_env: str = "") -> ActionRun:
        """A/B mode against a checkout of the base in `base/`: the same config both sides, the
        head's model image with `head_env` (e.g. `ENV SLOWDOWN=8`) added."""
        return self.start(
            {"config": "bench.yml", "github-token": TOKEN, "mode": "ab", "base-ref": "base"},
            files={
                "bench.yml": config,
                "model/Dockerfile": f"FROM {self.model_image}\n{head_env}",
                "base/bench.yml": config,
                "base/payloads.jsonl": PAYLOADS,
                "base/model/Dockerfile": f"FROM {self.model_image}\n",
            },
        )

    def posted(self, path: str) -> dict[str, Any]:
        """The body of the last POST to `path` on the stand-in."""
        calls = [c for c in self.github.calls(path) if c.method == "POST"]
        assert calls, f"nothing was posted to {path}"
        body: dict[str, Any] = json.loads(calls[-1].body)
        return body

    def common_checks(self, run: ActionRun) -> None:
        """No leftovers; the token went only to the API and was masked in the log."""
        assert not leftovers(self.docker_client, run), "labelled containers left behind"
        for request in self.github.requests:
            if request.operation is not None:
                assert request.headers.get("authorization") == f"Bearer {TOKEN}"
        for line in run.stdout.splitlines():
            assert TOKEN not in line or line.startswith("::add-mask::"), line
        assert "runtime-token-never-printed" not in run.stdout


@pytest.fixture
def pr_bench(
    run_action: Callable[..., ActionRun],
    github: StandIn,
    event: dict[str, Any],
    model_image: str,
    docker_client: docker.DockerClient,
    free_port: int,
) -> PullRequestBench:
    """The numpy-mlp model on a free port, benchmarked by the action on the pull request `event`."""
    return PullRequestBench(run_action, github, event, model_image, docker_client, free_port)


def test_pull_request_run_publishes_comment_check_outputs_and_owned_results(
    pr_bench: PullRequestBench,
) -> None:
    pr_bench.serve_pr()
    run = pr_bench.start(
        {"config": "bench.yml", "github-token": TOKEN, "results-dir": "out/bench"},
        files={
            "bench.yml": _bench_yml(pr_bench.port, scenarios=_predict(), trials=2),
            "model/Dockerfile": f"FROM {pr_bench.model_image}\n",
        },
    )
    run.wait(RUN_TIMEOUT_S)
    assert run.returncode == 0, run.stdout  # no baseline: inconclusive, which fails no gate
    assert "the model server joins its network namespace" in run.stdout
    body = pr_bench.posted(COMMENTS)["body"]
    assert body.startswith("<!-- bench-action:e2e-mlp -->")
    assert "No baseline" in body and "predict" in body
    check = pr_bench.posted(CHECK_RUNS)
    assert (check["head_sha"], check["conclusion"]) == (SHA, "neutral")
    outputs = run.outputs
    assert outputs["verdict"] == "inconclusive" and outputs["failed"] == "false"
    assert outputs["results-path"] == "out/bench/results.json"
    assert float(outputs["head-latency-p99-ms"]) > 0 and float(outputs["head-throughput-rps"]) > 0
    assert "No baseline" in run.summary
    results = run.workspace / "out" / "bench" / "results.json"
    doc = json.loads(results.read_text())
    validate_results(doc)
    assert doc["status"] == "complete" and len(doc["instances"]) == 2
    assert doc["git"]["sha"] == "f" * 40  # no git in the image: the runner's GITHUB_SHA
    for path in (results, results.parent, results.parent.parent, results.parent / "report.md"):
        assert (path.stat().st_uid, path.stat().st_gid) == (WORKSPACE_UID, WORKSPACE_UID), path
    pr_bench.common_checks(run)


def test_cancel_removes_every_container_within_the_grace_and_keeps_partial_results(
    run_action: Any,
    event: dict[str, Any],
    model_image: str,
    docker_client: docker.DockerClient,
    free_port: int,
) -> None:
    # The runner's flags exactly (no --network host): nothing is published on a cancel anyway.
    run: ActionRun = run_action(
        {"config": "bench.yml"},
        event=event,
        host_network=False,
        files={
            "bench.yml": _bench_yml(
                free_port,
                scenarios=_predict("quick", "0.5s") + _predict("long", "60s"),
                trials=2,
            ),
            "payloads.jsonl": PAYLOADS,
            "model/Dockerfile": f"FROM {model_image}\n",
        },
    )
    assert run.proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + RUN_TIMEOUT_S
    for line in run.proc.stdout:
        seen.append(line)
        if "trial 1/2 long: started" in line or time.monotonic() > deadline:
            break
    assert leftovers(docker_client, run), "".join(seen)
    time.sleep(1.0)  # mid-measurement
    run.proc.send_signal(signal.SIGINT)  # what the runner does on cancel (to the docker CLI)
    cancelled = time.monotonic()
    while leftovers(docker_client, run) and time.monotonic() - cancelled < 15:
        time.sleep(0.1)
    gone_after = time.monotonic() - cancelled
    print(f"labelled containers gone {gone_after:.2f} s after SIGINT")
    run.wait(60)
    run.stdout = "".join(seen) + run.stdout
    assert not leftovers(docker_client, run)
    assert gone_after < 10, f"containers still there {gone_after:.1f} s after SIGINT"
    assert run.returncode == 130, run.stdout
    results = run.workspace / ".bench-action" / "results.json"
    doc = json.loads(results.read_text())
    assert doc["status"] == "partial" and "SIGINT" in doc["error"]
    quick = next(s for s in doc["scenarios"] if s["name"] == "quick")
    assert len(quick["trials"]) == 1  # measured before the cancel, kept
    assert results.stat().st_uid == WORKSPACE_UID
    assert "verdict" not in run.outputs  # nothing published on a cancel


def test_server_crash_mid_run_fails_with_its_log_tail(
    pr_bench: PullRequestBench, tmp_path_factory: pytest.TempPathFactory
) -> None:
    context = tmp_path_factory.mktemp("crash")
    (context / "Dockerfile").write_text(
        f'FROM {pr_bench.model_image}\nCOPY crash.py .\nCMD ["python3", "crash.py"]\n'
    )
    (context / "crash.py").write_text(
        "import os, sys, threading, time\n"
        "import server\n"
        "threading.Thread(target=server.main, daemon=True).start()\n"
        "time.sleep(1.0)\n"
        "print('RuntimeError: CUDA error: out of memory (injected)', file=sys.stderr, flush=True)\n"
        "os._exit(3)\n"
    )
    crash_image = build(pr_bench.docker_client, context, "benchaction-test/crash:action", {})
    pr_bench.serve_pr(artifacts=False)
    run = pr_bench.start(
        {"config": "bench.yml", "github-token": TOKEN, "image": crash_image},
        files={"bench.yml": _bench_yml(pr_bench.port, scenarios=_predict(duration="3s"), trials=2)},
    )
    run.wait(RUN_TIMEOUT_S)
    assert run.returncode == 1, run.stdout
    body = pr_bench.posted(COMMENTS)["body"]
    assert body.startswith("<!-- bench-action:e2e-mlp -->")
    assert "the benchmark failed" in body and "exited with code 3" in body
    assert "CUDA error: out of memory (injected)" in body  # the log tail
    check = pr_bench.posted(CHECK_RUNS)
    assert check["conclusion"] == "failure"
    assert run.outputs["verdict"] == "error" and run.outputs["failed"] == "true"
    assert "exited with code 3" in run.summary
    doc = json.loads((run.workspace / ".bench-action" / "results.json").read_text())
    assert doc["status"] == "partial" and "exited with code 3" in doc["error"]
    pr_bench.common_checks(run)


def test_ab_mode_finds_the_slowdown_of_the_head(pr_bench: PullRequestBench) -> None:
    pr_bench.serve_pr(artifacts=False)  # A/B: no artifact lookup at all
    config = _bench_yml(pr_bench.port, scenarios=_predict(), trials=3)
    run = pr_bench.start_ab(config, "ENV SLOWDOWN=8\n")  # the change under test: a slower model
    run.wait(RUN_TIMEOUT_S)
    assert run.returncode == 1, run.stdout  # fail-on: regression
    rounds = [line for line in run.stdout.splitlines() if line.startswith("A/B round")]
    assert rounds == [
        "A/B round 1/3: base",
        "A/B round 1/3: head",
        "A/B round 2/3: head",
        "A/B round 2/3: base",
        "A/B round 3/3: base",
        "A/B round 3/3: head",
    ]
    body = pr_bench.posted(COMMENTS)["body"]
    assert "Regression" in body and f"Baseline: {SAME_JOB_NOTE}." in body
    assert pr_bench.posted(CHECK_RUNS)["conclusion"] == "failure"
    assert run.outputs["verdict"] == "regression" and run.outputs["failed"] == "true"
    assert float(run.outputs["change-latency-p50-ms"]) > 0.2
    declared = yaml.safe_load((REPO_ROOT / "action.yml").read_text())["outputs"]
    # With a baseline, every output is written but the join's own (`runners`, mode: join).
    assert set(run.outputs) == set(declared) - {"runners"}
    folder = run.workspace / ".bench-action"
    head, base = (
        json.loads((folder / n).read_text()) for n in ("results.json", "base-results.json")
    )
    for doc in (head, base):
        validate_results(doc)
        assert [t["trial"] for t in doc["scenarios"][0]["trials"]] == [0, 1, 2]
        assert [i["instance"] for i in doc["instances"]] == [0, 1, 2]
    assert head["config"]["hash"] == base["config"]["hash"]
    pr_bench.common_checks(run)


def test_artifact_mode_adds_head_trials_while_the_stored_base_leaves_it_undecided(
    pr_bench: PullRequestBench,
) -> None:
    """Sequential trials against a stored base: the artifact is looked up before measuring, and
    a base of two trials (fewer than the three a verdict needs) keeps every row undecided, so
    head trials are added up to `max-trials`."""
    pr_bench.serve_pr()
    base = two_scenario_doc("predict", 1.0, 1.0, "c" * 40)
    for section in base["scenarios"]:
        section["trials"] = section["trials"][:2]
    serve_baseline(pr_bench.github, pr_bench.event, base)
    run = pr_bench.start(
        {"config": "bench.yml", "github-token": TOKEN, "max-trials": "3"},
        files={
            "bench.yml": _bench_yml(pr_bench.port, scenarios=_predict(duration="0.5s"), trials=2),
            "model/Dockerfile": f"FROM {pr_bench.model_image}\n",
        },
    )
    run.wait(RUN_TIMEOUT_S)
    assert run.returncode == 0, run.stdout
    assert "sequential trials: trial 3 (up to 3)" in run.stdout
    assert "stopping after 3: the maximum of 3 trials a side is reached" in run.stdout
    doc = json.loads((run.workspace / ".bench-action" / "results.json").read_text())
    validate_results(doc)
    assert [t["trial"] for t in doc["scenarios"][0]["trials"]] == [0, 1, 2]
    assert len(doc["instances"]) == 3 and doc["status"] == "complete"
    assert len(pr_bench.github.calls(ARTIFACTS)) == 1  # looked up once, before measuring
    assert run.outputs["verdict"] == "inconclusive"
    assert "only 2 valid base trial(s)" in pr_bench.posted(COMMENTS)["body"]
    pr_bench.common_checks(run)


def test_a_push_to_main_adds_the_run_to_the_history_branch(pr_bench: PullRequestBench) -> None:
    """A run of the default branch, as the runner starts it on `push`: no comment and no check,
    the run's record on a new orphan history branch, and no alert (nothing to compare with)."""
    repo = FakeRepo(pr_bench.github, REPO)
    answer_as_job_token(pr_bench.github)
    default = pr_bench.event["repository"]["default_branch"]
    push = {"ref": f"refs/heads/{default}", "repository": pr_bench.event["repository"]}
    run = pr_bench.start(
        {"config": "bench.yml", "github-token": TOKEN},
        files={
            "bench.yml": _bench_yml(pr_bench.port, scenarios=_predict(duration="0.5s"), trials=2),
            "model/Dockerfile": f"FROM {pr_bench.model_image}\n",
        },
        event=push,
        env={
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": f"refs/heads/{default}",
            "GITHUB_REF_NAME": default,
        },
    )
    run.wait(RUN_TIMEOUT_S)
    assert run.returncode == 0, run.stdout
    text = repo.file("bench-history", "e2e-mlp.json")
    assert text is not None, run.stdout
    (record,) = parse_history(text, "e2e-mlp.json")["runs"]
    assert record["key"] == f"gh-{run.github_run_id}" and record["commit"] == "f" * 40
    assert record["url"] == f"https://github.com/{REPO}/actions/runs/{run.github_run_id}"
    assert len(record["scenarios"]["predict"]["values"]["latency_p50_ms"]) == 2
    assert repo.history("bench-history")[-1].parents == ()
    assert "history: added run" in run.stdout and not repo.issues
    assert not pr_bench.github.calls(COMMENTS) and not pr_bench.github.calls(CHECK_RUNS)
    assert run.outputs["verdict"] == "inconclusive"
    pr_bench.common_checks(run)


AB_EVIDENCE = int(os.environ.get("BENCHACTION_AB_EVIDENCE", "0") or 0)


@pytest.mark.skipif(
    AB_EVIDENCE < 1, reason="evidence run: set BENCHACTION_AB_EVIDENCE=N (runs per arm)"
)
def test_ab_sequential_evidence(pr_bench: PullRequestBench, tmp_path_factory: Any) -> None:
    """N A/A runs and N runs with a 20 % slower head, through the action in A/B mode with
    sequential trials (5 to 12 a side): verdict counts, rounds and wall time per run."""
    pr_bench.serve_pr(artifacts=False)
    config = _bench_yml(pr_bench.port, scenarios=_predict(duration="2s"), trials=5).replace(
        "trials: 5", "trials: {min: 5, max: 12}\nbudget: 4m"
    )
    rows: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    for arm, slowdown in (("A/A", "0"), ("+20 %", "0.2")):
        for _ in range(AB_EVIDENCE):
            started = time.monotonic()
            run = pr_bench.start_ab(config, f"ENV SLOWDOWN={slowdown}\n")
            run.wait(900)
            rounds = {
                line.split(":")[0]
                for line in run.stdout.splitlines()
                if line.startswith("A/B round")
            }
            verdict = run.outputs.get("verdict")
            assert verdict in ("regression", "improvement", "unchanged", "inconclusive"), run.stdout
            assert 5 <= len(rounds) <= 12
            wall = time.monotonic() - started
            body = pr_bench.posted(COMMENTS)["body"]
            rows.append({"arm": arm, "verdict": verdict, "rounds": len(rounds), "wall_s": wall})
            comments.append({"arm": arm, "verdict": verdict, "body": body})
    out = os.environ.get("BENCHACTION_AB_EVIDENCE_OUT")
    if out:
        Path(out).write_text(json.dumps({"runs": rows, "comments": comments}, indent=1))
    for row in rows:
        print(row)
