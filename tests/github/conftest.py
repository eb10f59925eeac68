"""Fixtures: GitHub's REST description (fetched once with npm into the pytest cache) and a stand-in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.github.standin import OpenAPIIndex, StandIn, serve, slim_spec

# Pinned so a new description cannot change test results silently; bump on purpose.
OPENAPI_PACKAGE = "@octokit/openapi@23.0.2"
SPEC_MEMBER = "package/generated/api.github.com.deref.json"
NPM_TIMEOUT_S = 300


def _skip_or_fail(reason: str) -> NoReturn:
    """Skip locally; fail on CI (BENCHACTION_REQUIRE_DOCKER=1), where these tests must run."""
    if os.environ.get("BENCHACTION_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{reason} (BENCHACTION_REQUIRE_DOCKER=1)", pytrace=False)
    pytest.skip(reason)


def fetch_slim_spec(cache_dir: Path) -> Path:
    """`npm pack` the description into `cache_dir` once and keep only a slimmed copy of it."""
    slim = cache_dir / (OPENAPI_PACKAGE.replace("/", "_").replace("@", "") + ".slim.json")
    if slim.exists():
        return slim
    npm = shutil.which("npm")
    if npm is None:
        _skip_or_fail("npm is not installed; cannot fetch the GitHub REST description")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache_dir) as work:
        try:
            done = subprocess.run(
                [npm, "pack", OPENAPI_PACKAGE, "--pack-destination", work, "--silent"],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            _skip_or_fail(f"npm pack {OPENAPI_PACKAGE} timed out after {NPM_TIMEOUT_S}s")
        tarballs = list(Path(work).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            _skip_or_fail(f"npm pack {OPENAPI_PACKAGE} failed: {done.stderr.strip()[-500:]}")
        with tarfile.open(tarballs[0]) as archive:
            member = archive.extractfile(SPEC_MEMBER)
            if member is None:
                _skip_or_fail(f"{SPEC_MEMBER} missing from {OPENAPI_PACKAGE}")
            spec = json.load(member)
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
