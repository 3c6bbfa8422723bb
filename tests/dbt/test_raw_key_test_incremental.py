"""The key test of the raw meter readings (`stg_lake__meter_readings_key_unique`, 71 M keys at scale 100) reads
only the rows from a time on when a nightly extended the table: ingestion lists each published current with the
new rows' earliest key time (`Dataset.key_time`), and the dbt step sets `LINGTAN_METER_READINGS_KEYS_SINCE` when
every version since its last successful build extended the one before (orchestration/defs/warehouse/dbt.py
`keys_since`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from orchestration.defs.warehouse.dbt import keys_since
from orchestration.lib.home import Home
from orchestration.lib.incremental import SOURCES_STATE, source_digest, versions_path
from tests.dbt.conftest import run_dbt
from tests.ingest.helpers import drop, ingest
from transforms.contracts import dataset

WIDE = "Timestamp,M1#Real Energy Into the Load#kWh,M2#Real Energy Into the Load#kWh"
SINCE = datetime(2026, 2, 1)
ENV = dataset("meter_readings").keys_since_env


def _lines(start: datetime, hours: int) -> str:
    return "".join(f"{start + timedelta(hours=h):%Y-%m-%d %H:%M:%S},{h},{h}\n" for h in range(hours))


def _versions(home: Path) -> list[dict]:
    return json.loads(versions_path(Home(home), "meter_readings", "lake").read_text(encoding="utf-8"))


def test_ingestion_lists_each_current_with_the_new_rows_earliest_key_time(tmp_path: Path) -> None:
    zone, home = tmp_path / "landing", tmp_path / "home"
    drop(zone, "meter_readings", "2026-01-02", "pme.csv", WIDE + "\n" + _lines(datetime(2026, 1, 1), 24))
    ingest(zone, home, "meter_readings")
    first = _versions(home)
    assert [v["since"] for v in first] == [None]  # a first current: any row is new
    # the nightly case: a later drop extends the current; one of its readings corrects an earlier one
    drop(zone, "meter_readings", "2026-01-03", "pme.csv", WIDE + "\n" + _lines(datetime(2026, 1, 1, 23), 25))
    ingest(zone, home, "meter_readings")
    second = _versions(home)
    assert second[-1]["since"] == "2026-01-01T23:00:00"
    assert second[-1]["digest"] == source_digest(Home(home), "lake", "meter_readings")
    # an older drop delivered again (changed): the current is rebuilt from every drop, any row may change
    drop(zone, "meter_readings", "2026-01-02", "pme.csv", WIDE + "\n" + _lines(datetime(2026, 1, 1), 20))
    ingest(zone, home, "meter_readings")
    assert [v["since"] for v in _versions(home)] == [None, "2026-01-01T23:00:00", None]
    # the list is beside the table, not part of what the run fingerprint or dbt sources hash (Parquet only)
    assert versions_path(Home(home), "meter_readings", "lake").parent == Home(home).raw_dir("meter_readings")


def test_keys_since_only_when_every_version_since_the_last_build_extended_the_one_before(
    tmp_path: Path,
) -> None:
    zone, home, build_dir = tmp_path / "landing", tmp_path / "home", tmp_path / "build"
    build_dir.mkdir()
    drop(zone, "meter_readings", "2026-01-02", "pme.csv", WIDE + "\n" + _lines(datetime(2026, 1, 1), 24))
    ingest(zone, home, "meter_readings")
    h, key = Home(home), "lake.meter_readings"
    (build_dir / SOURCES_STATE).write_text(
        json.dumps({"sources": {key: source_digest(h, "lake", "meter_readings")}})
    )
    drop(zone, "meter_readings", "2026-01-03", "pme.csv", WIDE + "\n" + _lines(datetime(2026, 1, 2), 24))
    ingest(zone, home, "meter_readings")
    drop(zone, "meter_readings", "2026-01-04", "pme.csv", WIDE + "\n" + _lines(datetime(2026, 1, 3, 12), 24))
    ingest(zone, home, "meter_readings")
    state = {key: source_digest(h, "lake", "meter_readings")}
    select = [f"source:{key}+"]
    assert keys_since(h, build_dir, select, state) == {"meter_readings": datetime(2026, 1, 2)}  # the earliest
    assert keys_since(h, build_dir, None, state) == {"meter_readings": None}  # a full build
    assert keys_since(h, build_dir, ["source:lake.exports+"], state) == {
        "meter_readings": None
    }  # not rebuilt
    (build_dir / SOURCES_STATE).unlink()  # no successful build known: every row
    assert keys_since(h, build_dir, select, state) == {"meter_readings": None}


def _current(home: Path, stamps: list[datetime]) -> None:
    """A raw meter_readings current table of meter M1 at `stamps` (a stamp twice: a repeated key)."""
    ds = dataset("meter_readings")
    rows = pl.DataFrame(
        {"meter_id": ["M1"] * len(stamps), "interval_start": stamps, "value": 1.0}
    ).with_columns(_source_row_id=pl.format("meter_readings/x#{}", pl.int_range(pl.len())))
    path = Home(home).raw_table("meter_readings") / "part-00000.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.with_columns(
        pl.lit(None).cast(t).alias(c) for c, t in ds.schema.items() if c not in rows.columns
    ).select(list(ds.schema)).cast(dict(ds.schema)).write_parquet(path)


def test_the_key_test_reads_the_rows_from_since_on(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "dbt"
    path = home / "warehouse" / "build" / "lingtan.duckdb"
    path.parent.mkdir(parents=True)
    env = {
        "LINGTAN_HOME": str(home),
        "LINGTAN_WAREHOUSE_PATH": str(path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = ["build", "--select", "stg_lake__meter_readings"]

    def key_test(since: str) -> str:
        result = run_dbt(args, {**env, ENV: since}, work)
        assert result.exception is None, result.exception
        (status,) = [
            str(getattr(r.status, "value", r.status))
            for r in result.result
            if r.node.name == "stg_lake__meter_readings_key_unique"
        ]
        return status

    hours = [SINCE - timedelta(hours=3) + timedelta(hours=h) for h in range(6)]
    _current(home, [hours[0], *hours])  # a key twice before SINCE
    assert key_test("") == "fail"  # every row: found
    assert (
        key_test(SINCE.isoformat(sep=" ")) == "pass"
    )  # from SINCE on: not read (as checked by a build before)
    _current(home, [*hours, hours[3]])  # a key twice at SINCE
    assert key_test(SINCE.isoformat(sep=" ")) == "fail"


def test_the_not_null_test_reads_the_rows_from_since_on_and_those_without_a_time(tmp_path: Path) -> None:
    """`stg_lake__meter_readings_required_not_null` is scoped as the key test is (the rows before SINCE are those a
    build before checked); a reading without a time is always read."""
    home, work = tmp_path / "home", tmp_path / "dbt"
    path = home / "warehouse" / "build" / "lingtan.duckdb"
    path.parent.mkdir(parents=True)
    env = {
        "LINGTAN_HOME": str(home),
        "LINGTAN_WAREHOUSE_PATH": str(path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }

    def not_null(since: str) -> str:
        result = run_dbt(["build", "--select", "stg_lake__meter_readings"], {**env, ENV: since}, work)
        assert result.exception is None, result.exception
        (status,) = [
            str(getattr(r.status, "value", r.status))
            for r in result.result
            if r.node.name == "stg_lake__meter_readings_required_not_null"
        ]
        return status

    hours = [SINCE - timedelta(hours=3) + timedelta(hours=h) for h in range(6)]
    scoped = SINCE.isoformat(sep=" ")
    for null_at, whole, from_since in (
        (hours[0], "fail", "pass"),
        (hours[4], "fail", "fail"),
        (None, "fail", "fail"),
    ):
        _current(home, hours)
        part = Home(home).raw_table("meter_readings") / "part-00000.parquet"
        rows = pl.read_parquet(part)
        if null_at is None:  # a reading without its time
            rows = rows.with_columns(
                interval_start=pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise("interval_start")
            )
        else:
            rows = rows.with_columns(
                value=pl.when(pl.col("interval_start") == null_at).then(None).otherwise("value")
            )
        rows.write_parquet(part)
        assert (not_null(""), not_null(scoped)) == (whole, from_since), null_at
