"""Read one file (or one JSON file) out of an npm package, fetched with `npm pack` (no install, no node_modules)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from tests.support.skips import skip_or_fail

NPM_TIMEOUT_S = 300


def npm_json(package: str, member: str, work_dir: Path) -> Any:
    """The parsed `member` of `package` (pinned spec such as name@1.2.3); skips or fails without npm."""
    return json.loads(npm_file(package, member, work_dir))


def npm_file(package: str, member: str, work_dir: Path) -> bytes:
    """The bytes of `member` of `package` (pinned spec); skips or fails without npm."""
    npm = shutil.which("npm")
    if npm is None:
        skip_or_fail(f"npm is not installed; cannot fetch {package}")
    with tempfile.TemporaryDirectory(dir=work_dir) as work:
        try:
            done = subprocess.run(
                [npm, "pack", package, "--pack-destination", work, "--silent"],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            skip_or_fail(f"npm pack {package} timed out after {NPM_TIMEOUT_S}s")
        tarballs = list(Path(work).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            skip_or_fail(f"npm pack {package} failed: {done.stderr.strip()[-500:]}")
        with tarfile.open(tarballs[0]) as archive:
            extracted = archive.extractfile(member)
            if extracted is None:
                skip_or_fail(f"{member} missing from {package}")
            return extracted.read()
