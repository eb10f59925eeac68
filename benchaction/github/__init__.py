"""GitHub access for the container action: REST client, baseline lookup, publishing, file commands."""

from benchaction.github.baseline import BaselineResult, Provenance, find_baseline
from benchaction.github.client import (
    GitHubClient,
    GitHubError,
    Gone,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from benchaction.github.publish import (
    PullRequest,
    publish_check,
    pull_request_from_event,
    upsert_comment,
)
from benchaction.github.reporting import (
    GitHubContext,
    ReportOutcome,
    ReportSettings,
    report_to_github,
)

__all__ = [
    "BaselineResult",
    "GitHubClient",
    "GitHubContext",
    "GitHubError",
    "Gone",
    "NotFound",
    "PermissionDenied",
    "Provenance",
    "PullRequest",
    "RateLimited",
    "ReportOutcome",
    "ReportSettings",
    "find_baseline",
    "publish_check",
    "pull_request_from_event",
    "report_to_github",
    "upsert_comment",
]
