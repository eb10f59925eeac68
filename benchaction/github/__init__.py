"""GitHub access: REST client, baseline lookup, publishing text it is given, workflow file commands,
files on a branch (the history store) and the sticky alert issue.

Nothing here compares or renders; `flow.verdict` hands these functions finished texts.
"""

from benchaction.github.baseline import (
    BaselineResult,
    Provenance,
    RecentResults,
    find_baseline,
    recent_results,
)
from benchaction.github.branch_files import BranchFiles, FileVersion, WriteConflict
from benchaction.github.client import (
    GitHubClient,
    GitHubError,
    Gone,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from benchaction.github.identity import JOB_TOKEN_LOGIN, token_login
from benchaction.github.issues import IssueRef, StickyIssue, alert_marker
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
    "JOB_TOKEN_LOGIN",
    "BaselineResult",
    "BranchFiles",
    "Conclusion",
    "FileVersion",
    "GitHubClient",
    "GitHubError",
    "Gone",
    "IssueRef",
    "NotFound",
    "PermissionDenied",
    "Provenance",
    "PullRequest",
    "RateLimited",
    "RecentResults",
    "StickyIssue",
    "WriteConflict",
    "alert_marker",
    "find_baseline",
    "publish_check",
    "pull_request_from_event",
    "recent_results",
    "should_write",
    "token_login",
    "upsert_comment",
]
