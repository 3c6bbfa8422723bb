"""fct_meter_hourly rebuilt from a time on (LINGTAN_METER_HOURLY_SINCE) instead of whole, and the chain of
meter_hourly versions that tells the dbt step when it may (orchestration/lib/incremental.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from orchestration.defs.compute.ems import write_hourly
from orchestration.defs.warehouse.dbt import HOURLY_SINCE_ENV, hourly_parts, hourly_since
from orchestration.lib.home import Home
from orchestration.lib.incremental import (
    SOURCES_STATE,
    record_version,
    save_build_state,
    source_digest,
    unchanged_before,
    versions_path,
)
from tests.dbt.conftest import failures, run_dbt
from transforms.computed import computed_table

SINCE = datetime(2026, 2, 1)


def _hourly(meters: list[str], start: datetime, hours: int, quantity: float = 1.0) -> pl.DataFrame:
    """meter_hourly rows (the contract's columns) for `meters` × `hours` hours from `start` (UTC)."""
    schema = computed_table("meter_hourly").schema
    stamps = [start + timedelta(hours=h) for h in range(hours)]
    rows = [
        {
            "installation_id": "CN-A",
            "meter_id": m,
            "role": "grid_import",
            "carrier": "electricity",
            "hour_start": t + timedelta(hours=8),
            "hour_start_utc": t,
            "timezone": "Asia/Shanghai",
            "quantity": quantity + i,
            "unit": "kWh",
            "multiplier": 1.0,
            "interval_minutes": 15,
            "interval_inferred": False,
            "intervals_expected": 4,
            "intervals_measured": 4,
            "intervals_estimated": 0,
            "intervals_missing": 0,
            "register_decreases": 0,
            "counted": True,
            "ppa_direct": False,
            "source_row_id_first": f"{m}-{i}-a",
            "source_row_id_last": f"{m}-{i}-b",
        }
        for m in meters
        for i, t in enumerate(stamps)
    ]
    return pl.DataFrame(rows, schema=schema)


def _mart(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(
            "select meter_id, hour_start_utc, quantity, source_row_id_first from marts.fct_meter_hourly order by all"
        ).fetchall()


def _rows(df: pl.DataFrame) -> list[tuple]:
    return sorted(df.select("meter_id", "hour_start_utc", "quantity", "source_row_id_first").rows())


def _statuses(result) -> list[str]:
    assert result.exception is None, result.exception
    return [str(getattr(r.status, "value", r.status)) for r in result.result]


def test_fct_meter_hourly_is_rebuilt_from_since_on_only(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "dbt"
    table = Home(home).computed_table("meter_hourly")
    path = home / "warehouse" / "build" / "lingtan.duckdb"
    path.parent.mkdir(parents=True)
    env = {
        "LINGTAN_HOME": str(home),
        "LINGTAN_WAREHOUSE_PATH": str(path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    # (models only: the mart's data tests read dim_installation, which this warehouse does not hold)
    args = ["build", "--select", "stg_computed__meter_hourly fct_meter_hourly", "--resource-type", "model"]

    def build(since: str) -> None:
        result = run_dbt(args, {**env, HOURLY_SINCE_ENV: since}, work)
        assert result.success, "\n".join(failures(result))

    # v1: two meters over the turn of January; built whole
    v1 = _hourly(["M1", "M2"], datetime(2026, 1, 31, 20), 8)
    write_hourly(v1, table)
    build("")
    assert _mart(path) == _rows(v1)

    # v2: the hours from February on recomputed (other quantities), more hours, a new meter: rebuilt from SINCE
    before = v1.filter(pl.col("hour_start_utc") < SINCE)
    v2 = pl.concat([before, _hourly(["M1", "M2"], SINCE, 10, 50.0), _hourly(["M3"], SINCE, 3, 7.0)])
    write_hourly(v2, table)
    build(SINCE.isoformat(sep=" "))
    assert _mart(path) == _rows(v2)

    # the hours before SINCE are not read again: a (broken) version that changed one of them keeps the built
    # row when rebuilt from SINCE, and shows it when built whole
    v3 = v2.with_columns(
        quantity=pl.when(pl.col("hour_start_utc") == datetime(2026, 1, 31, 20))
        .then(999.0)
        .otherwise(pl.col("quantity"))
    )
    write_hourly(v3, table)
    build(SINCE.isoformat(sep=" "))
    assert _mart(path) == _rows(v2)
    # ... which the data test comparing the mart with its source catches (the nightly's build then fails); given
    # SINCE it compares the months from it on only: the dbt step gives it only when the older months' parts are
    # the files the last build read (`hourly_since`, tested below), which January's part here is not
    check = ["build", "--select", "assert_fct_meter_hourly_equals_its_source", "--resource-type", "test"]
    assert _statuses(run_dbt(check, env, work)) == ["fail"]
    assert _statuses(run_dbt(check, {**env, HOURLY_SINCE_ENV: SINCE.isoformat(sep=" ")}, work)) == ["pass"]
    write_hourly(v3.with_columns(quantity=pl.col("quantity") + 1), table)  # February's hours differ too
    assert _statuses(run_dbt(check, {**env, HOURLY_SINCE_ENV: SINCE.isoformat(sep=" ")}, work)) == ["fail"]
    write_hourly(v3, table)
    build("")
    assert _mart(path) == _rows(v3)
    assert _statuses(run_dbt(check, env, work)) == ["pass"]


def test_versions_chain_gives_the_earliest_since_or_none(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    table = home.computed_table("meter_hourly")
    digests = []
    for i, since in enumerate([None, datetime(2026, 3, 1), datetime(2026, 2, 1), datetime(2026, 4, 1)]):
        write_hourly(_hourly(["M1"], datetime(2026, 1, 1), 2, float(i)), table)
        record_version(home, "meter_hourly", since)
        digests.append(source_digest(home, "computed", "meter_hourly"))
    d0, d1, d2, d3 = digests
    assert unchanged_before(home, "meter_hourly", d0, d1) == datetime(2026, 3, 1)
    assert unchanged_before(home, "meter_hourly", d1, d3) == datetime(2026, 2, 1)  # the earliest of v2, v3
    assert unchanged_before(home, "meter_hourly", d0, d3) == datetime(2026, 2, 1)
    assert unchanged_before(home, "meter_hourly", d3, d3) is None  # nothing changed: not rebuilt at all
    assert unchanged_before(home, "meter_hourly", None, d3) is None  # never built: whole
    assert unchanged_before(home, "meter_hourly", "unknown", d3) is None  # built from a version not listed
    assert unchanged_before(home, "meter_hourly", d3, d0) is None  # back to an older version: whole
    # a version published by a run over every reading (since None) in the chain: whole
    record_version(home, "meter_hourly", None)
    d4 = source_digest(home, "computed", "meter_hourly")
    assert unchanged_before(home, "meter_hourly", d3, d4) is None
    # a published table the list does not know (a run killed between publishing and listing it): whole
    write_hourly(_hourly(["M1"], datetime(2026, 1, 1), 3), table)
    assert unchanged_before(home, "meter_hourly", d4, source_digest(home, "computed", "meter_hourly")) is None
    assert len(json.loads(versions_path(home, "meter_hourly").read_text(encoding="utf-8"))) == 5


def test_hourly_since_only_when_the_build_keeps_what_did_not_change(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    table = home.computed_table("meter_hourly")
    build_dir = tmp_path / "build"
    build_dir.mkdir()
    write_hourly(_hourly(["M1"], datetime(2026, 1, 1), 2), table)
    record_version(home, "meter_hourly", None)
    save_build_state(
        build_dir,
        {"computed.meter_hourly": source_digest(home, "computed", "meter_hourly")},
        {"computed.meter_hourly": hourly_parts(home)},
    )
    january = hourly_parts(home)["part-202601.parquet"]
    # an incremental version from SINCE: January's part linked as it was, February's written
    write_hourly(pl.concat([_hourly(["M1"], datetime(2026, 1, 1), 2), _hourly(["M1"], SINCE, 3)]), table)
    assert hourly_parts(home)["part-202601.parquet"] == january
    record_version(home, "meter_hourly", SINCE)
    state = {"computed.meter_hourly": source_digest(home, "computed", "meter_hourly")}
    assert hourly_since(home, build_dir, ["source:computed.meter_hourly+"], state) == SINCE
    assert hourly_since(home, build_dir, None, state) is None  # a full build
    assert hourly_since(home, build_dir, ["source:lake.exports+"], state) is None  # meter_hourly unchanged
    # a part of a month before SINCE that is not the file the last build read: whole, whatever the versions say
    parts = {**hourly_parts(home), "part-202601.parquet": "another"}
    assert hourly_since(home, build_dir, ["source:computed.meter_hourly+"], state, parts) is None
    parts = {**hourly_parts(home), "part-202512.parquet": "a month the last build did not have"}
    assert hourly_since(home, build_dir, ["source:computed.meter_hourly+"], state, parts) is None
    # a build state from before parts by month (no parts recorded): whole
    save_build_state(build_dir, {"computed.meter_hourly": "x"})
    (build_dir / SOURCES_STATE).write_text(
        json.dumps({"sources": {"computed.meter_hourly": source_digest(home, "computed", "meter_hourly")}})
    )
    assert hourly_since(home, build_dir, ["source:computed.meter_hourly+"], state) is None


def test_key_tests_read_the_hours_from_since_on_when_it_is_set(tmp_path: Path) -> None:
    """The two key tests of meter_hourly (the staging view over the computed file, the mart) read only the rows
    from LINGTAN_METER_HOURLY_SINCE on when it is set (17.8 M keys at scale 100, 3.8 s of the one-day build); a
    duplicate at or after it always fails them, one before it only a whole build (or an earlier one) sees."""
    home, work = tmp_path / "home", tmp_path / "dbt"
    table = Home(home).computed_table("meter_hourly")
    path = home / "warehouse" / "build" / "lingtan.duckdb"
    path.parent.mkdir(parents=True)
    env = {
        "LINGTAN_HOME": str(home),
        "LINGTAN_WAREHOUSE_PATH": str(path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    tests = "stg_computed__meter_hourly_key_unique fct_meter_hourly_key_unique"
    models = ["build", "--select", "stg_computed__meter_hourly fct_meter_hourly", "--resource-type", "model"]
    check = ["test", "--select", tests]  # (`build` would skip the mart's test after the staging one failed)
    since = {HOURLY_SINCE_ENV: SINCE.isoformat(sep=" ")}
    hours = _hourly(["M1"], datetime(2026, 1, 31, 22), 4)
    for where, dup in (("before", datetime(2026, 1, 31, 23)), ("after", datetime(2026, 2, 1, 1))):
        write_hourly(pl.concat([hours, hours.filter(pl.col("hour_start_utc") == dup)]), table)
        assert run_dbt(models, {**env, HOURLY_SINCE_ENV: ""}, work).success
        whole = _statuses(run_dbt(check, {**env, HOURLY_SINCE_ENV: ""}, work))
        scoped = _statuses(run_dbt(check, {**env, **since}, work))
        assert whole == ["fail", "fail"], where
        assert scoped == (["pass", "pass"] if where == "before" else ["fail", "fail"]), where
