"""A meter without `interval_minutes` (its interval inferred from all its readings, as the demo's EBO meters)
no longer turns every nightly into a run over every reading, nor into a read of that meter's year: the
incremental run reads the window from two days before `since` for every meter, and the inference adds the
carry's step counts of the months before `since` (`transforms.ems.inference`), so it counts what a full run
counts. When the new readings change an inferred interval, the carry was built with another one: the run is then
over every reading (`inferred_interval_changed`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from tests.bench.ems_case import synthetic
from tests.ems.test_incremental_ems import _collect, _saved
from transforms.ems import (
    compute_ems_carry,
    incremental_readings,
    incremental_since,
    inferred_interval_changed,
)

CUT = datetime(2025, 3, 3)
INFERRED = "GROUP.METER0004"


def _case() -> tuple[pl.DataFrame, pl.DataFrame]:
    meters, readings = synthetic(8, 75)
    meters = meters.with_columns(
        interval_minutes=pl.when(pl.col("meter_id") == INFERRED).then(None).otherwise("interval_minutes")
    )
    return meters, readings


def test_incremental_with_an_inferred_meter_equals_a_run_over_every_reading(tmp_path: Path) -> None:
    meters, readings = _case()
    full = _collect(compute_ems_carry({"meters": meters.lazy(), "meter_readings": readings.lazy()})[0])
    _, carry = compute_ems_carry(
        {"meters": meters.lazy(), "meter_readings": readings.filter(pl.col("interval_start") < CUT).lazy()}
    )
    carry = _saved(carry, tmp_path / "carry")
    since = incremental_since(
        readings.filter(pl.col("interval_start") >= CUT).lazy(), meters.lazy(), carry.ranges
    )
    assert since is not None
    window = incremental_readings(readings.lazy(), since).collect()
    # no meter's January is read again, the inferred meter's neither
    assert window.height < readings.height * 0.75
    assert window.filter(pl.col("meter_id") == INFERRED)["interval_start"].min() == since - timedelta(days=2)
    assert window["interval_start"].min() == since - timedelta(days=2)
    incr, new_carry = compute_ems_carry(
        {"meters": meters.lazy(), "meter_readings": window.lazy()}, since=since, carry=carry
    )
    assert not inferred_interval_changed(carry.ranges, new_carry.ranges)
    incr = _collect(incr)
    hourly = full["meter_hourly"].filter(pl.col("meter_id") == INFERRED)
    assert (
        hourly.height > 0 and hourly["interval_inferred"].all() and (hourly["interval_minutes"] == 15).all()
    )
    for name, df in full.items():
        assert_frame_equal(incr[name], df, check_exact=True), name


def test_a_changed_inferred_interval_is_detected(tmp_path: Path) -> None:
    meters, readings = _case()
    before = readings.filter(pl.col("interval_start") < CUT)
    # the earlier drops held ten days of the inferred meter's full hours only: inferred 60 minutes
    before = before.filter(
        (pl.col("meter_id") != INFERRED)
        | (
            (pl.col("interval_start").dt.minute() == 0)
            & (pl.col("interval_start") >= CUT - timedelta(days=10))
        )
    )
    _, carry = compute_ems_carry({"meters": meters.lazy(), "meter_readings": before.lazy()})
    carry = _saved(carry, tmp_path / "carry")
    # then every quarter hour for longer than that history: the mode becomes 15 minutes
    both = pl.concat([before, readings.filter(pl.col("interval_start") >= CUT)])
    since = incremental_since(
        readings.filter(pl.col("interval_start") >= CUT).lazy(), meters.lazy(), carry.ranges
    )
    window = incremental_readings(both.lazy(), since)
    _, new_carry = compute_ems_carry(
        {"meters": meters.lazy(), "meter_readings": window}, since=since, carry=carry
    )
    assert carry.ranges.filter(pl.col("interval_inferred")).collect()["interval_minutes"].to_list() == [60]
    assert inferred_interval_changed(carry.ranges, new_carry.ranges)
