"""The sticky "main regressed" issue and its recovery comment, as markdown.

The issue body carries its own state (the runs main was compared with before it regressed) in a
hidden JSON comment, so a later run can tell a recovery without any other store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from benchaction.report.comparison import render_comparison
from benchaction.results import ResultsDocument, metric_by_name
from benchaction.stats import Comparison

__all__ = ["alert_state", "render_alert", "render_recovery"]

_STATE = re.compile(r"<!-- bench-action-alert-state: (\{.*?\}) -->", re.DOTALL)


def alert_state(body: str) -> dict[str, Any] | None:
    """The state an alert issue carries (None when the body was edited past reading)."""
    found = _STATE.search(body or "")
    if not found:
        return None
    try:
        state = json.loads(found.group(1))
    except json.JSONDecodeError:
        return None
    return state if isinstance(state, dict) else None


def _commit(sha: str | None) -> str:
    return f"`{sha[:12]}`" if sha else "an unknown commit"


def render_alert(
    *,
    marker: str,
    config_name: str,
    reasons: Sequence[str],
    comparison: Comparison,
    base: ResultsDocument | None,
    head: ResultsDocument,
    run_url: str | None,
    compared_with: str,
    state: dict[str, Any],
) -> str:
    """The issue body: what regressed, on which commit, against what, and the full table."""
    sha = (head.get("git") or {}).get("sha")
    run = f" ([run]({run_url}))" if run_url else ""
    lines = [
        marker,
        f"<!-- bench-action-alert-state: {json.dumps(state, sort_keys=True)} -->",
        f"## ⚠️ `{config_name}` regressed on main",
        "",
        f"The run at {_commit(sha)}{run} found:",
        "",
        *[f"- {r}" for r in reasons],
        "",
        f"Compared with: {compared_with}.",
        "",
        render_comparison(comparison, base, head).strip(),
        "",
        "This issue is updated by every main-branch run while the regression lasts; a run back "
        "at the earlier level comments here and closes it.",
    ]
    return "\n".join(lines) + "\n"


def render_recovery(
    *, config_name: str, comparison: Comparison, head: ResultsDocument, run_url: str | None
) -> str:
    """The comment that closes the alert: main is back at the level it regressed from."""
    sha = (head.get("git") or {}).get("sha")
    run = f" ([run]({run_url}))" if run_url else ""
    parts = []
    for r in comparison.rows:
        if r.primary and r.change is not None:
            size = r.change.estimate * 100
            log_scale = metric_by_name(r.metric).log_scale
            parts.append(
                f"{r.scenario} {r.label} {size:+.1f} %"
                if log_scale
                else f"{r.scenario} {r.label} {size:+.2f} pp"
            )
    changes = ", ".join(parts)
    return (
        f"✅ `{config_name}` recovered at {_commit(sha)}{run}: compared with the runs before the "
        f"regression the verdict is **{comparison.verdict}**"
        f"{(' (' + changes + ')') if changes else ''}. Closing.\n"
    )
