"""The README's set-up commands, as a reader on a fresh machine would copy them."""

from __future__ import annotations

import re

from tests.support.paths import REPO_ROOT


def setup_commands() -> list[str]:
    """The shell commands under "## On a fresh machine", in order."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    return [c.strip() for c in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]
