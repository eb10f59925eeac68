"""Fixture plugin (registered in tests/conftest.py): GitHub's REST description and a validating
stand-in, a real `pull_request` / `opened` payload, and a client for the stand-in.

The npm packages are fetched once into the pytest cache (`request.config.cache`).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchaction.github.client import GitHubClient
from tests.support.npm import npm_json
from tests.support.standin import OpenAPIIndex, StandIn, serve, slim_spec

# Pinned so a new description or new examples cannot change test results silently; bump on purpose.
OPENAPI_PACKAGE = "@octokit/openapi@23.0.2"
SPEC_MEMBER = "package/generated/api.github.com.deref.json"
EXAMPLES_PACKAGE = "@octokit/webhooks-examples@7.6.1"
EXAMPLES_MEMBER = "package/api.github.com/index.json"


def fetch_slim_spec(cache_dir: Path) -> Path:
    """`npm pack` the description into `cache_dir` once and keep only a slimmed copy of it."""
    slim = cache_dir / (OPENAPI_PACKAGE.replace("/", "_").replace("@", "") + ".slim.json")
    if slim.exists():
        return slim
    started = time.monotonic()
    spec = npm_json(OPENAPI_PACKAGE, SPEC_MEMBER, cache_dir)
    partial = slim.with_suffix(".tmp")
    partial.write_text(json.dumps(slim_spec(spec)))
    partial.replace(slim)
    elapsed = time.monotonic() - started
    (cache_dir / "fetch-seconds.txt").write_text(f"{elapsed:.1f}\n")
    return slim


@pytest.fixture(scope="session")
def github_openapi(request: pytest.FixtureRequest) -> OpenAPIIndex:
    """The path matcher and validator over GitHub's REST description (api.github.com)."""
    cache_dir = request.config.cache.mkdir("github-openapi")
    return OpenAPIIndex(json.loads(fetch_slim_spec(cache_dir).read_text()))


@pytest.fixture
def github(github_openapi: OpenAPIIndex) -> Iterator[StandIn]:
    """A validating stand-in; the test fails at teardown if any request did not fit the spec."""
    with serve(github_openapi) as server:
        yield server
        if server.problems:
            pytest.fail("stand-in GitHub saw invalid requests:\n" + "\n".join(server.problems))


def _fetch_pull_request_examples(cache_dir: Path) -> list[dict[str, Any]]:
    """The `pull_request` examples from `@octokit/webhooks-examples`, npm-packed once into the cache."""
    kept = cache_dir / (EXAMPLES_PACKAGE.replace("/", "_").replace("@", "") + ".pull_request.json")
    if not kept.exists():
        events = npm_json(EXAMPLES_PACKAGE, EXAMPLES_MEMBER, cache_dir)
        found = next(e for e in events if e["name"] == "pull_request")["examples"]
        partial = kept.with_suffix(".tmp")
        partial.write_text(json.dumps(found))
        partial.replace(kept)
    examples: list[dict[str, Any]] = json.loads(kept.read_text())
    return examples


@pytest.fixture(scope="session")
def pr_opened_event(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A real `pull_request` / `opened` payload, as the runner puts it in GITHUB_EVENT_PATH."""
    examples = _fetch_pull_request_examples(request.config.cache.mkdir("webhooks-examples"))
    return next(e for e in examples if e["action"] == "opened")


@pytest.fixture
def event(pr_opened_event: dict[str, Any]) -> dict[str, Any]:
    """A copy of the `opened` payload that a test may change."""
    return copy.deepcopy(pr_opened_event)


@pytest.fixture
def client(github: StandIn) -> GitHubClient:
    """A GitHubClient pointed at the stand-in; retries do not sleep."""
    return GitHubClient(github.url, "ghs_token", sleep=lambda _: None)
