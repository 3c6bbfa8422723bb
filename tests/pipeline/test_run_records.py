"""Run records under <home>/runs: written whole, and pruned to the newest RECORDS_KEPT without losing the records
the next run (newest success) and `period lock` (newest that published the warehouse) read."""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.lib.home import Home
from orchestration.lib.runrecord import prune_records


def _record(home: Home, stamp: str, *, success: bool, published: bool) -> Path:
    home.runs.mkdir(parents=True, exist_ok=True)
    path = home.runs / f"{stamp}-abcdef12.json"
    materialized = ["warehouse/lingtan_duckdb"] if published else []
    path.write_text(json.dumps({"success": success, "materialized": materialized}), encoding="utf-8")
    return path


def test_run_records_are_pruned_but_the_newest_success_and_publisher_kept(tmp_path):
    home = Home(tmp_path / "home")
    publisher = _record(home, "20260101T000000Z", success=True, published=True)
    success = _record(home, "20260102T000000Z", success=True, published=False)
    failed = [_record(home, f"202601{d:02d}T000000Z", success=False, published=False) for d in range(3, 9)]
    (home.runs / "20260109T000000Z-broken00.json").write_text("{not json", encoding="utf-8")

    removed = prune_records(home, keep=3)

    kept = sorted(p.name for p in home.runs.glob("*.json"))
    assert kept == sorted(
        ["20260109T000000Z-broken00.json", failed[-1].name, failed[-2].name, success.name, publisher.name]
    )
    assert sorted(removed) == sorted(failed[:-2])
    assert prune_records(home, keep=3) == []  # nothing more to remove
