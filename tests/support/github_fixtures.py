"""Fixtures: GitHub's REST description (fetched once with npm into the pytest cache) and a stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.github.npm import npm_json
from tests.github.standin import OpenAPIIndex, StandIn, serve, slim_spec

# Pinned so a new description cannot change test results silently; bump on purpose.
OPENAPI_PACKAGE = "@octokit/openapi@23.0.2"
SPEC_MEMBER = "package/generated/api.github.com.deref.json"


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
