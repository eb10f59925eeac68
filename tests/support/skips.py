"""Skip locally, fail on CI: the policy for tests whose prerequisites (Docker, npm) are missing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def docker_required() -> bool:
    """CI sets BENCHACTION_REQUIRE_DOCKER=1 so that a missing engine fails instead of skipping."""
    return os.environ.get("BENCHACTION_REQUIRE_DOCKER") == "1"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip locally; fail where Docker tests are required to run."""
    if docker_required():
        pytest.fail(f"{reason} (BENCHACTION_REQUIRE_DOCKER=1)", pytrace=False)
    pytest.skip(reason)
