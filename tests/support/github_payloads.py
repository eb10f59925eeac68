"""What the GitHub stand-in serves for the webhook examples' repository: paths and bodies."""

from __future__ import annotations

from typing import Any

from benchaction.github.publish import BOT_LOGIN
from tests.support.standin import Reply, StandIn

REPO = "Codertocat/Hello-World"  # the repository the webhook examples use
BASE = f"/repos/{REPO}"
COMMENTS = f"{BASE}/issues/2/comments"
CHECK_RUNS = f"{BASE}/check-runs"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def comment(comment_id: int, body: str, login: str = BOT_LOGIN) -> dict[str, Any]:
    """An issue comment as GitHub returns it (the fields we read plus a few around them)."""
    kind = "Bot" if login.endswith("[bot]") else "User"
    return {
        "id": comment_id,
        "node_id": f"IC_kwDO{comment_id}",
        "url": f"https://api.github.com{BASE}/issues/comments/{comment_id}",
        "html_url": f"https://github.com/{REPO}/pull/2#issuecomment-{comment_id}",
        "body": body,
        "user": {"login": login, "id": 41898282 if kind == "Bot" else 21031067, "type": kind},
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-01T10:00:00Z",
        "author_association": "NONE" if kind == "Bot" else "OWNER",
    }


def check_run(run_id: int, conclusion: str = "success") -> dict[str, Any]:
    """A completed check run on the pull request's head commit."""
    return {
        "id": run_id,
        "head_sha": SHA,
        "name": "bench",
        "status": "completed",
        "conclusion": conclusion,
        "html_url": f"https://github.com/{REPO}/runs/{run_id}",
    }


USER = "/user"
GRAPHQL = "/graphql"  # the client's GraphQL URL next to the stand-in's REST base
NOT_FOR_INSTALLATIONS = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
    "status": "403",
}


def user(login: str) -> dict[str, Any]:
    """`GET /user` for a personal access token (the fields we read plus a few around them)."""
    return {"login": login, "id": 583231, "type": "User", "site_admin": False}


def answer_as_job_token(github: StandIn, bot: str = BOT_LOGIN) -> None:
    """The stand-in answers like GitHub for an installation token: 403 on /user, GraphQL viewer."""
    github.route("GET", USER, Reply(403, NOT_FOR_INSTALLATIONS))
    github.route("POST", GRAPHQL, Reply(json={"data": {"viewer": {"login": bot}}}), external=True)


def answer_as_user(github: StandIn, login: str) -> None:
    """The stand-in answers like GitHub for a personal access token of `login`."""
    github.route("GET", USER, Reply(json=user(login)))
