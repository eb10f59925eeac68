"""Write the stored fixtures of the current results schema and history version, once per version.

    python -m tests.support.version_fixtures tests/unit/results/fixtures

runs the real CLI (`benchaction run` against a local HTTP server on a free 127.0.0.1 port,
then `benchaction history add`) and keeps what it wrote as `results-v{N}.json` and
`history-v{N}.json`. A fixture is never overwritten: each must keep loading forever.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchaction.history.store import VERSION as HISTORY_VERSION
from benchaction.results import SCHEMA_VERSION
from tests.support.httpserver import Behaviour, serving

_CONFIG = """\
version: 1
name: fixture-service
server:
  url: http://127.0.0.1:{port}
  ready: {{path: /health, timeout: 5s}}
scenarios:
  - name: ping
    path: /ping
    concurrency: 2
    requests: 200
    warmup: {{requests: 20}}
  - name: predict
    path: /predict
    method: POST
    payloads: ['{{"inputs": [1, 2, 3]}}']
    concurrency: 1
    requests: 150
    warmup: {{requests: 10}}
trials: 2
"""


def _benchaction(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "benchaction", *args], check=True, timeout=120)


def write_fixtures(folder: Path) -> list[Path]:
    """Run the CLI once and keep this version's results and history files in `folder`."""
    targets = (
        folder / f"results-v{SCHEMA_VERSION}.json",
        folder / f"history-v{HISTORY_VERSION}.json",
    )
    taken = [str(t) for t in targets if t.exists()]
    if taken:
        raise SystemExit(f"{', '.join(taken)} already exist; fixtures are kept, never rewritten")
    with tempfile.TemporaryDirectory() as tmp, serving(Behaviour(status_every=(40, 503))) as srv:
        work = Path(tmp)
        (work / "bench.yml").write_text(_CONFIG.format(port=srv.port), encoding="utf-8")
        _benchaction("run", "-q", "-c", str(work / "bench.yml"), "-o", str(work / "out"))
        results = work / "out" / "results.json"
        _benchaction("history", "add", str(results), "--store", str(work / "store"))
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(results, targets[0])
        shutil.copyfile(work / "store" / "fixture-service.json", targets[1])
    return list(targets)


if __name__ == "__main__":
    for path in write_fixtures(Path(sys.argv[1])):
        print(path)
