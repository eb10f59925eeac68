"""GitHub access: REST client, baseline lookup, publishing text it is given, workflow file commands.

Nothing here compares or renders; `flow.verdict` hands these functions finished texts.
"""

from benchaction.github.baseline import (
    BaselineResult,
    Provenance,
    RecentResults,
    find_baseline,
    recent_results,
)
from benchaction.github.client import (
    GitHubClient,
    GitHubError,
    Gone,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from benchaction.github.publish import (
    COMMENT_LIMIT,
    Conclusion,
    PullRequest,
    publish_check,
    pull_request_from_event,
    should_write,
    upsert_comment,
)

__all__ = [
    "COMMENT_LIMIT",
    "BaselineResult",
    "Conclusion",
    "GitHubClient",
    "GitHubError",
    "Gone",
    "NotFound",
    "PermissionDenied",
    "Provenance",
    "PullRequest",
    "RateLimited",
    "RecentResults",
    "find_baseline",
    "publish_check",
    "pull_request_from_event",
    "recent_results",
    "should_write",
    "upsert_comment",
]
