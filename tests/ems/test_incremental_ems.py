"""Incremental interval engine (issue 12, "a nightly drop of one day must not re-read the year"): a run over the
readings from a month on, continuing the carry of an earlier run, gives the tables of a run over every reading."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from tests.bench.ems_case import synthetic
from transforms.ems import EmsCarry, compute_ems_carry, incremental_since

CUT = datetime(2025, 3, 3)  # the earlier run saw the readings before this; the drop brings the rest


def _case() -> tuple[pl.DataFrame, pl.DataFrame]:
    """12 meters × 75 days (meter 7 a cumulative register, 1 and 6 in MWh), with: meter 3 silent from 10 Feb (its
    window grows when it comes back), meter 7 silent from 30 Jan to 2 Feb (a difference across the month the
    incremental run starts in), a duplicate and a negative reading of meter 2 in March."""
    meters, readings = synthetic(12, 75)
    t = pl.col("interval_start")
    m = pl.col("meter_id")
    readings = readings.filter(
        ~((m == "GROUP.METER0003") & (t >= datetime(2025, 2, 10)) & (t < datetime(2025, 3, 8)))
        & ~((m == "GROUP.METER0007") & (t >= datetime(2025, 1, 30)) & (t < datetime(2025, 2, 2, 6)))
    )
    extra = readings.filter((m == "GROUP.METER0002") & (t == datetime(2025, 3, 9, 12))).with_columns(
        pl.col("_row_number") + 10_000_000
    )
    neg = readings.filter((m == "GROUP.METER0002") & (t == datetime(2025, 3, 10, 12))).with_columns(
        value=pl.lit(-1.0), _row_number=pl.col("_row_number") + 20_000_000
    )
    return meters, pl.concat([readings, extra, neg])


def _collect(tables: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    return dict(zip(tables, pl.collect_all(list(tables.values())), strict=True))


def _saved(carry: EmsCarry, where: Path) -> EmsCarry:
    """The carry as the asset keeps it: Parquet files, read back lazily."""
    where.mkdir()
    parts = {}
    for name, frame in carry._asdict().items():
        frame.lazy().collect().write_parquet(where / f"{name}.parquet")
        parts[name] = pl.scan_parquet(where / f"{name}.parquet")
    return EmsCarry(**parts)


def test_incremental_run_equals_a_run_over_every_reading(tmp_path: Path) -> None:
    meters, readings = _case()
    full, _ = compute_ems_carry({"meters": meters.lazy(), "meter_readings": readings.lazy()})
    full = _collect(full)

    before = readings.filter(pl.col("interval_start") < CUT)
    _, carry = compute_ems_carry({"meters": meters.lazy(), "meter_readings": before.lazy()})
    carry = _saved(carry, tmp_path / "carry")

    new = readings.filter(pl.col("interval_start") >= CUT)
    since = incremental_since(new.lazy(), meters.lazy(), carry.ranges)
    assert since == datetime(2025, 2, 1)  # meter 3's last reading (9 Feb) and the drop: February on
    window = readings.filter(pl.col("interval_start") >= since - timedelta(days=2))
    assert window.height < readings.height * 0.65  # January (31 of 75 days) is not read again
    incr, _ = compute_ems_carry(
        {"meters": meters.lazy(), "meter_readings": window.lazy()}, since=since, carry=carry
    )
    incr = _collect(incr)
    for name, df in full.items():
        assert df.height > 0, name
        assert_frame_equal(incr[name], df, check_exact=True), name
    issues = full["meter_reading_issues"]
    gap = issues.filter((pl.col("kind") == "spans_gap") & (pl.col("interval_start") >= datetime(2025, 2, 2)))
    assert gap["meter_id"].to_list() == ["GROUP.METER0007"]  # differenced with its reading of 29 January
    assert issues.filter(pl.col("kind") == "rejected").height >= 3  # the duplicate pair, the negative value


def test_no_new_reading_keeps_the_carry() -> None:
    meters, readings = _case()
    _, carry = compute_ems_carry({"meters": meters.lazy(), "meter_readings": readings.lazy()})
    assert incremental_since(readings.head(0).lazy(), meters.lazy(), carry.ranges) is None


def test_the_asset_plans_an_incremental_run_only_over_new_drops(tmp_path: Path) -> None:
    """`incremental_plan`: the carry saved after a run, new history files (drops) → from the month before them;
    a drop read before that changed → every reading."""
    from orchestration.defs.compute.ems import _save_carry, incremental_plan, write_hourly
    from orchestration.lib.home import Home

    home = Home(tmp_path / "home")
    meters, readings = _case()
    raw_dir = home.raw_dir("meter_readings")
    (raw_dir / "history").mkdir(parents=True)
    home.raw_table("meters").parent.mkdir(parents=True)
    meters.write_parquet(home.raw_table("meters"))
    readings.filter(pl.col("interval_start") < CUT).write_parquet(raw_dir / "history" / "2025-03-02.parquet")
    assert incremental_plan(home)[0] is None  # no carry yet
    tables, carry = compute_ems_carry(
        {"meters": pl.scan_parquet(home.raw_table("meters")), "meter_readings": readings.lazy()}
    )
    published = home.computed_table("meter_hourly")
    write_hourly(tables["meter_hourly"].collect(), published)
    _save_carry(home, carry, published, {})
    since, kept, why = incremental_plan(home)
    assert (
        since is not None and kept is not None and "0 new drop" in why
    )  # nothing new: the carry's month after

    readings.filter(pl.col("interval_start") >= CUT).write_parquet(raw_dir / "history" / "2025-03-16.parquet")
    since, kept, why = incremental_plan(home)
    assert since == datetime(2025, 2, 1) and "1 new drop" in why

    readings.head(10).write_parquet(raw_dir / "history" / "2025-03-02.parquet")  # a drop read before, changed
    since, kept, why = incremental_plan(home)
    assert since is None and kept is None and "changed" in why


def test_incremental_equals_full_with_daylight_saving_and_end_stamps(tmp_path: Path) -> None:
    """Meters in Europe/Berlin (the readings of the missing hour on 30 March are rejected: no UTC time) and
    stamped at the interval end, the drop starting just after the change."""
    meters, readings = synthetic(6, 100)
    meters = meters.with_columns(
        timezone=pl.when(pl.col("meter_id") <= "GROUP.METER0002").then(pl.lit("Europe/Berlin")),
        stamp=pl.when(pl.col("meter_id") >= "GROUP.METER0004").then(pl.lit("end")),
    )
    cut = datetime(2025, 4, 1, 0, 15)
    full = _collect(compute_ems_carry({"meters": meters.lazy(), "meter_readings": readings.lazy()})[0])
    _, carry = compute_ems_carry(
        {"meters": meters.lazy(), "meter_readings": readings.filter(pl.col("interval_start") < cut).lazy()}
    )
    carry = _saved(carry, tmp_path / "carry")
    new = readings.filter(pl.col("interval_start") >= cut)
    since = incremental_since(new.lazy(), meters.lazy(), carry.ranges)
    assert since == datetime(2025, 3, 1)
    window = readings.filter(pl.col("interval_start") >= since - timedelta(days=2))
    incr = _collect(
        compute_ems_carry(
            {"meters": meters.lazy(), "meter_readings": window.lazy()}, since=since, carry=carry
        )[0]
    )
    for name, df in full.items():
        assert_frame_equal(incr[name], df, check_exact=True), name
    rejected = full["meter_reading_issues"].filter(pl.col("reason").str.contains("daylight-saving"))
    assert rejected.height == 3 * 4  # three Berlin meters, four readings of the hour that does not exist


def test_a_meter_whose_window_holds_no_hour_keeps_its_row_in_an_incremental_run(tmp_path: Path) -> None:
    """A cumulative register with a single reading has an empty data window: a run over every reading gives it
    one hourly row without an hour (which the energy balance counts). An incremental run dropped that row (its
    hour is null, neither before nor after the split) and two energy-balance rows with it."""
    meters, readings = _case()
    m, t = pl.col("meter_id"), pl.col("interval_start")
    readings = readings.filter((m != "GROUP.METER0007") | (t == datetime(2025, 1, 5)))
    full = _collect(compute_ems_carry({"meters": meters.lazy(), "meter_readings": readings.lazy()})[0])
    no_hour = full["meter_hourly"].filter(pl.col("hour_start_utc").is_null())
    assert no_hour["meter_id"].to_list() == ["GROUP.METER0007"]
    _, carry = compute_ems_carry({"meters": meters.lazy(), "meter_readings": readings.filter(t < CUT).lazy()})
    carry = _saved(carry, tmp_path / "carry")
    since = incremental_since(readings.filter(t >= CUT).lazy(), meters.lazy(), carry.ranges)
    assert since is not None
    window = readings.filter(t >= since - timedelta(days=2))
    incr = _collect(
        compute_ems_carry(
            {"meters": meters.lazy(), "meter_readings": window.lazy()}, since=since, carry=carry
        )[0]
    )
    for name, df in full.items():
        assert_frame_equal(incr[name], df, check_exact=True), name


def test_the_carry_keeps_its_version_when_the_table_is_published_again(tmp_path: Path) -> None:
    """The carry takes the published meter_hourly as a hard link (or a copy); publishing a new version renames
    a staged file over the table, which leaves the carry's bytes as they were."""
    import os

    from orchestration.defs.compute.ems import _copy

    published, staged = tmp_path / "meter_hourly.parquet", tmp_path / "staged.parquet"
    published.write_bytes(b"version 1")
    carry = tmp_path / "_ems_carry" / "hourly.parquet"
    _copy(published, carry)
    _copy(published, carry)  # again over itself (the next run's carry)
    staged.write_bytes(b"version 2")
    os.replace(staged, published)
    assert carry.read_bytes() == b"version 1" and published.read_bytes() == b"version 2"
    assert [p.name for p in carry.parent.iterdir()] == ["hourly.parquet"]


def test_the_asset_lists_each_version_with_the_time_before_which_rows_are_kept(tmp_path: Path) -> None:
    """The dbt step rebuilds fct_meter_hourly from the `since` the interval engine lists with each published
    meter_hourly (lake/computed/_meter_hourly.versions.json): the hours before it must be the previous version's
    rows, exactly; a run over every reading lists no `since`."""
    import json
    from datetime import date

    from orchestration.defs.compute.ems import _compute
    from orchestration.lib.config import LingtanConfig
    from orchestration.lib.home import Home
    from orchestration.lib.incremental import versions_path

    meters, readings = _case()
    home = Home(tmp_path / "home")
    raw = home.raw_dir("meter_readings")
    (raw / "history").mkdir(parents=True)
    home.raw_dir("meters").mkdir(parents=True)
    meters.write_parquet(home.raw_table("meters"))
    drops = {"2025-03-03": readings.filter(pl.col("interval_start") < CUT)}
    drops["2025-04-01"] = readings.filter(pl.col("interval_start") >= CUT)
    config = LingtanConfig(home=str(home.root))

    def publish(upto: int) -> pl.DataFrame:
        names = sorted(drops)[:upto]
        for name in names:
            drops[name].write_parquet(raw / "history" / f"{name}.parquet")
        pl.concat([drops[n] for n in names]).write_parquet(home.raw_table("meter_readings"))
        list(_compute(config, date(2025, 4, 2)))
        return pl.read_parquet(home.computed_table("meter_hourly"))

    first = publish(1)
    second = publish(2)
    versions = json.loads(versions_path(home, "meter_hourly").read_text(encoding="utf-8"))
    assert [v["since"] for v in versions] == [None, "2025-02-01T00:00:00"]
    since = datetime(2025, 2, 1)
    before = pl.col("hour_start_utc") < since
    assert_frame_equal(second.filter(before), first.filter(before), check_exact=True)
    assert second.filter(~before).height > first.filter(~before).height > 0
    # new meters: a run over every reading, listed without a `since`
    meters.with_columns(description=pl.lit("renamed")).write_parquet(home.raw_table("meters"))
    list(_compute(config, date(2025, 4, 2)))
    versions = json.loads(versions_path(home, "meter_hourly").read_text(encoding="utf-8"))
    assert [v["since"] for v in versions] == [None, "2025-02-01T00:00:00", None]


def test_the_asset_writes_the_months_from_since_and_keeps_the_others_as_published(tmp_path: Path) -> None:
    """meter_hourly is stored by UTC month (lake/computed/meter_hourly/part-YYYYMM.parquet): after a new drop the
    asset writes the months from `since` on, links the months before from the carry (the same files), and its
    folder, part by part, and its other tables are those a run over every reading publishes; the gate's
    findings too, though it reads only the parts it wrote."""
    from datetime import date

    from orchestration.defs.compute.ems import _compute
    from orchestration.lib.config import LingtanConfig
    from orchestration.lib.home import Home
    from transforms.ems import EMS_TABLES
    from transforms.paths import table_parts

    meters, readings = _case()
    drops = {
        "2025-03-03": readings.filter(pl.col("interval_start") < CUT),
        "2025-04-01": readings.filter(pl.col("interval_start") >= CUT),
    }

    def run(home: Home, names: list[str]) -> list:
        raw = home.raw_dir("meter_readings")
        (raw / "history").mkdir(parents=True, exist_ok=True)
        home.raw_dir("meters").mkdir(parents=True, exist_ok=True)
        meters.write_parquet(home.raw_table("meters"))
        for name in names:
            drops[name].write_parquet(raw / "history" / f"{name}.parquet")
        pl.concat([drops[n] for n in names]).write_parquet(home.raw_table("meter_readings"))
        return list(_compute(LingtanConfig(home=str(home.root)), date(2025, 4, 2)))

    nightly, whole = Home(tmp_path / "nightly"), Home(tmp_path / "whole")
    run(nightly, ["2025-03-03"])
    folder = nightly.computed_table("meter_hourly")
    before = {p.name: p.stat().st_ino for p in table_parts(folder)}
    # (the first readings' hours start on 31 December UTC: Shanghai time)
    months = ["000000", "202412", "202501", "202502", "202503"]
    assert list(before) == [f"part-{m}.parquet" for m in months]
    incremental = run(nightly, ["2025-03-03", "2025-04-01"])
    full = run(whole, ["2025-03-03", "2025-04-01"])

    after = {p.name: p.stat().st_ino for p in table_parts(folder)}
    assert after["part-202412.parquet"] == before["part-202412.parquet"]  # kept: the same file
    assert after["part-202501.parquet"] == before["part-202501.parquet"]
    assert after["part-202502.parquet"] != before["part-202502.parquet"]  # since 2025-02-01: written again
    assert [p.name for p in table_parts(whole.computed_table("meter_hourly"))] == list(after)
    for name in after:
        (
            assert_frame_equal(
                pl.read_parquet(folder / name),
                pl.read_parquet(whole.computed_table("meter_hourly") / name),
                check_exact=True,
            ),
            name,
        )
    for name in EMS_TABLES[1:]:
        (
            assert_frame_equal(
                pl.read_parquet(nightly.computed_table(name)),
                pl.read_parquet(whole.computed_table(name)),
                check_exact=True,
            ),
            name,
        )

    def checks(results: list) -> dict:
        return {
            (r.asset_key.path[-1], r.check_name): (r.passed, r.metadata["details"])
            for r in results
            if hasattr(r, "check_name")
        }

    assert checks(incremental) == checks(full)

    # the gate reads only the parts it wrote: a kept part's findings are the suspects saved when it was written
    saved = nightly.computed / "_ems_carry" / "hourly_suspects"
    assert sorted(p.name for p in saved.iterdir()) == list(after)
    row = pl.read_parquet(folder / "part-202412.parquet").head(1).with_columns(quantity=pl.lit(-1.0))
    row.write_parquet(saved / "part-202412.parquet")
    again = checks(run(nightly, ["2025-03-03", "2025-04-01"]))
    passed, details = again[("meter_hourly", "computed_gate")]
    assert "quantity" in str(details) and row["installation_id"][0] in str(details), details


def test_a_home_written_before_parts_by_month_is_recomputed_into_parts(tmp_path: Path) -> None:
    """A home whose meter_hourly is one file (and its carry's copy too): the carry counts as incomplete, the next
    run is over every reading, publishes the folder of parts and removes the old files."""
    import shutil
    from datetime import date

    from orchestration.defs.compute.ems import _compute, incremental_plan
    from orchestration.lib.config import LingtanConfig
    from orchestration.lib.home import Home

    meters, readings = _case()
    home = Home(tmp_path / "home")
    raw = home.raw_dir("meter_readings")
    (raw / "history").mkdir(parents=True)
    home.raw_dir("meters").mkdir(parents=True)
    meters.write_parquet(home.raw_table("meters"))
    readings.write_parquet(raw / "history" / "2025-04-01.parquet")
    readings.write_parquet(home.raw_table("meter_readings"))
    config = LingtanConfig(home=str(home.root))
    list(_compute(config, date(2025, 4, 2)))
    folder, carry = home.computed_table("meter_hourly"), home.computed / "_ems_carry"
    table = pl.read_parquet(folder)
    # as an older version left it: one file each
    shutil.rmtree(folder)
    shutil.rmtree(carry / "hourly")
    shutil.rmtree(carry / "hourly_suspects")
    for path in (home.computed / "meter_hourly.parquet", carry / "hourly.parquet"):
        table.write_parquet(path)
    assert "incomplete" in incremental_plan(home)[2]
    list(_compute(config, date(2025, 4, 2)))
    assert not (home.computed / "meter_hourly.parquet").exists() and not (carry / "hourly.parquet").exists()
    assert_frame_equal(pl.read_parquet(folder), table, check_exact=True)
    assert "0 new drop" in incremental_plan(home)[2]
