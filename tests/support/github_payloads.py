"""What the GitHub stand-in serves for the webhook examples' repository: paths and bodies."""

from __future__ import annotations

from typing import Any

from benchaction.github.publish import BOT_LOGIN

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
