"""No change, no work (issue 10): the EMS and zero-carbon assets save their check results with the stamp of their
inputs and, with the same stamp and their tables in place, report them again instead of computing."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from orchestration.defs.compute.ems import recorded, replay_or_none
from orchestration.lib.home import Home

TABLES = ["meter_hourly", "energy_balance"]


def _results() -> list:
    return [
        dg.AssetCheckResult(
            asset_key=dg.AssetKey(["computed", "meter_hourly"]), check_name="interval_counts", passed=True
        ),
        dg.AssetCheckResult(
            asset_key=dg.AssetKey(["computed", "energy_balance"]),
            check_name="bills_match_meters",
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"details": "site A 2025-03: bills 5 % above meters"},
        ),
        *(dg.MaterializeResult(asset_key=dg.AssetKey(["computed", t])) for t in TABLES),
    ]


def test_saved_checks_are_replayed_only_for_the_same_stamp(tmp_path: Path) -> None:
    home = Home(tmp_path)
    for t in TABLES:
        home.computed_table(t).parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"x": [1]}).write_parquet(home.computed_table(t))
    assert replay_or_none(home, "ems_engine", "stamp-1", TABLES) is None  # never published
    assert len(list(recorded(home, "ems_engine", "stamp-1", iter(_results())))) == 4

    replayed = list(replay_or_none(home, "ems_engine", "stamp-1", TABLES) or [])
    checks = {(r.asset_key.path[-1], r.check_name): r for r in replayed if isinstance(r, dg.AssetCheckResult)}
    assert checks[("meter_hourly", "interval_counts")].passed
    warn = checks[("energy_balance", "bills_match_meters")]
    assert not warn.passed and warn.severity == dg.AssetCheckSeverity.WARN
    assert warn.metadata["details"].value == "site A 2025-03: bills 5 % above meters"
    assert sum(isinstance(r, dg.MaterializeResult) for r in replayed) == len(TABLES)

    assert replay_or_none(home, "ems_engine", "stamp-2", TABLES) is None  # other inputs: compute
    home.computed_table("energy_balance").unlink()
    assert replay_or_none(home, "ems_engine", "stamp-1", TABLES) is None  # a table gone: compute


def test_a_failure_before_the_end_leaves_no_stamp(tmp_path: Path) -> None:
    home = Home(tmp_path)
    for t in TABLES:
        home.computed_table(t).parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"x": [1]}).write_parquet(home.computed_table(t))
    list(recorded(home, "ems_engine", "stamp-1", iter(_results())))

    def failing():
        yield _results()[0]
        raise dg.Failure(description="gate failed")

    with pytest.raises(dg.Failure):
        list(recorded(home, "ems_engine", "stamp-2", failing()))
    assert replay_or_none(home, "ems_engine", "stamp-1", TABLES) is None
    assert replay_or_none(home, "ems_engine", "stamp-2", TABLES) is None
