"""History files of every version keep loading, upgraded a step per version like results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchaction.errors import HistoryError
from benchaction.history.store import HISTORY_MIGRATIONS, VERSION, LocalStore, parse_history

FIXTURES = Path(__file__).parents[1] / "results" / "fixtures"


def migrate_v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """The made-up history version 0 called `runs` `records`."""
    doc["runs"] = doc.pop("records")
    return doc


@pytest.mark.parametrize("version", range(1, VERSION + 1))
def test_a_stored_history_of_every_version_still_loads(version: int, tmp_path: Path) -> None:
    text = (FIXTURES / f"history-v{version}.json").read_text()
    history = parse_history(text, f"history-v{version}.json")
    assert history["version"] == VERSION
    assert history["config"] == "fixture-service"
    assert sorted(history["runs"][0]["scenarios"]) == ["ping", "predict"]
    (tmp_path / "fixture-service.json").write_text(text)
    assert [h["config"] for h in LocalStore(tmp_path).histories()] == ["fixture-service"]


def test_every_history_version_has_its_fixture() -> None:
    stored = sorted(p.name for p in FIXTURES.glob("history-v*.json"))
    assert stored == [f"history-v{n}.json" for n in range(1, VERSION + 1)]
    assert (HISTORY_MIGRATIONS.oldest, HISTORY_MIGRATIONS.current) == (1, VERSION)


def test_a_test_migration_upgrades_an_older_history() -> None:
    current = json.loads((FIXTURES / f"history-v{VERSION}.json").read_text())
    old = {k: v for k, v in current.items() if k != "runs"} | {"version": 0}
    old["records"] = current["runs"]
    text = json.dumps(old)
    upgraded = parse_history(text, "svc.json", HISTORY_MIGRATIONS.with_step(0, migrate_v0_to_v1))
    assert upgraded == parse_history(json.dumps(current), "svc.json")
    with pytest.raises(HistoryError, match=r"svc.json: history version 0 is not one this .*\(1 to"):
        parse_history(text, "svc.json")
    del old["records"]
    with pytest.raises(HistoryError, match=r"cannot upgrade history version 0 to 1 \(KeyError"):
        parse_history(
            json.dumps(old), "svc.json", HISTORY_MIGRATIONS.with_step(0, migrate_v0_to_v1)
        )
