"""GitHub access for the container action: the REST client and the workflow-command writers."""

from benchaction.github.client import (
    GitHubClient,
    GitHubError,
    Gone,
    NotFound,
    PermissionDenied,
    RateLimited,
)

__all__ = ["GitHubClient", "GitHubError", "Gone", "NotFound", "PermissionDenied", "RateLimited"]
