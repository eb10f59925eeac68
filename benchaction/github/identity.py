"""Who the token writes as, so sticky comments and issues are matched on their real author.

The rule, cheapest first:

1. `GET /user` answers for a personal access token (classic or fine-grained) or a user token:
   its `login`.
2. It answers 403 "Resource not accessible by integration" for installation tokens: the job's
   `GITHUB_TOKEN` (an installation token of the GitHub Actions app) and a GitHub App's token.
   The REST API has no cheap call that names such a token's bot (`GET /app` and
   `GET /installation` take the app's JWT, not an installation token), but GraphQL's
   `viewer { login }` does: `github-actions[bot]` for the job token, `<app-slug>[bot]` for an app.
3. When GraphQL fails too (an old GHES, a proxy that passes only REST), `github-actions[bot]`:
   the job token is by far the common case.
4. 401 (no token, or a revoked or expired one) has no identity: None. Writes fail the same way.
"""

from __future__ import annotations

from benchaction.github.client import GitHubClient, GitHubError, PermissionDenied

__all__ = ["JOB_TOKEN_LOGIN", "VIEWER_QUERY", "token_login"]

JOB_TOKEN_LOGIN = "github-actions[bot]"
VIEWER_QUERY = "query { viewer { login } }"


def token_login(client: GitHubClient) -> str | None:
    """The login the client's token acts as (see the module docstring); None without an identity.

    Errors other than 401 and 403 on `GET /user` (5xx after retries, rate limits) are raised.
    """
    try:
        user = client.get_json("/user")
    except PermissionDenied:
        return _installation_login(client)
    except GitHubError as exc:
        if exc.status == 401:
            return None
        raise
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) and login else None


def _installation_login(client: GitHubClient) -> str:
    """The bot login of an installation token through GraphQL, else the job token's bot."""
    try:
        data = client.graphql(VIEWER_QUERY)
    except GitHubError:
        return JOB_TOKEN_LOGIN
    viewer = data.get("viewer") if isinstance(data, dict) else None
    login = viewer.get("login") if isinstance(viewer, dict) else None
    return login if isinstance(login, str) and login else JOB_TOKEN_LOGIN
