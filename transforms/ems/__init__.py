"""Interval engine for energy-management-system data (issue 12): meter readings → intervals → hourly aggregates
per meter → energy balance per installation and period. Pure polars, lazy; no Dagster.

API: `compute_ems(raw, as_of=None)` takes the raw lake tables (`meters`, `meter_readings`, `energy_bills`; absent
ones count as empty) and returns lazy frames named as the computed tables:
- `meter_hourly`: meter × hour (`transforms.ems.hourly`), the spec's `fct_meter_hourly`;
- `energy_balance`: installation × period (`transforms.ems.balance`), the spec's `fct_energy_balance` without the
  certificate columns (`gec_claimed_mwh`, `renewable_share_certificates`: the certificate ledger's);
- `meter_reading_issues`: every rejected reading and every interval a cumulative register could not give, with its
  reason (`transforms.ems.intervals`).
The readings are reduced to intervals, and the intervals to the hourly table, when `compute_ems` is called (one
pass over the readings, one for the issues' raw cells); the returned frames are lazy over those results (collect
them together with `pl.collect_all`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import NamedTuple

import polars as pl

from transforms.ems.balance import BALANCE_COLUMNS, energy_balance
from transforms.ems.hourly import HOURLY_COLUMNS, meter_hourly
from transforms.ems.intervals import KEY_SHIFT, Carry, readings_to_intervals
from transforms.ems.meters import METERS_SCHEMA, READINGS_SCHEMA, normalise_meters, with_columns_of
from transforms.ems.zones import zones_of

EMS_TABLES = ("meter_hourly", "energy_balance", "meter_reading_issues")
ISSUE_COLUMNS = [
    "dataset",
    "drop_date",
    "file",
    "row_number",
    "source_row_id",
    "meter_id",
    "interval_start",
    "interval_start_utc",
    "kind",
    "column",
    "reason",
    "raw",
]
_BILLS_SCHEMA = {
    "installation_id": pl.String,
    "meter_id": pl.String,
    "carrier": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "quantity": pl.Float64,
    "unit": pl.String,
    "supply_type": pl.String,
}


def _frame(raw: Mapping[str, pl.LazyFrame], name: str, schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    lf = raw.get(name)
    return with_columns_of(pl.LazyFrame(schema=schema) if lf is None else lf, schema)


def compute_ems(raw: Mapping[str, pl.LazyFrame], as_of: date | None = None) -> dict[str, pl.LazyFrame]:
    """The EMS computed tables (see module doc). `as_of`: the run date; periods of its year and later are marked
    provisional (null when not given)."""
    return compute_ems_carry(raw, as_of)[0]


def compute_ems_carry(
    raw: Mapping[str, pl.LazyFrame],
    as_of: date | None = None,
    since: datetime | None = None,
    carry: EmsCarry | None = None,
) -> tuple[dict[str, pl.LazyFrame], EmsCarry]:
    """(the EMS computed tables, what a later run needs to continue from them).

    Incremental (`since`, a UTC month start, with the `carry` of the last run; `raw` meter_readings need hold
    only the readings written from two days before `since`): meter_hourly rows of hours starting before
    `since` + 1 h and issues before `since` (`_at`) are the carry's, the rest is computed from the readings;
    the energy balance from the whole hourly table. Equal to a run over every reading when no reading before
    `since` + 2 days changed, no meter with new readings had its last reading before `since` + 1 day
    (`incremental_since` chooses `since` so), `raw` holds `incremental_readings` (every reading of a meter whose
    interval is inferred) and no inferred interval changed (`inferred_interval_changed`)."""
    # Master data, a few thousand rows at most: collected once, its attributes gathered onto the readings (one
    # chunk: a gather from a table in several chunks costs many times more).
    meters_df = normalise_meters(_frame(raw, "meters", METERS_SCHEMA)).collect().rechunk()
    zone_list = zones_of(meters_df)
    # The readings are reduced once, here (17.5 M readings a year → intervals, a few columns wide), and the hourly
    # table computed from them at once; the balance reads the hourly table.
    part = (
        Carry(carry.ranges.lazy().collect(), carry.tails.lazy().collect())
        if carry is not None and since is not None
        else None
    )
    intervals, issues_lf, ranges, tails, decreases = readings_to_intervals(
        _frame(raw, "meter_readings", READINGS_SCHEMA), meters_df, since if part else None, part
    )
    issues = issues_lf.collect()
    # incremental: an hour starting before `split` may hold intervals from before `since` (the carry's hours)
    split = since + timedelta(hours=1) if part is not None and since is not None else None
    hourly = meter_hourly(intervals, decreases, ranges, meters_df, zone_list, split)
    del intervals
    if part is not None and carry is not None and split is not None:
        # the two parts in the hourly table's order (meter_id's position among the meters, which are in meter_id
        # order, then the hour): each is in that order already, so they are merged, not sorted
        key = _hour_key(meters_df).alias("_k")
        kept = _in_key_order(
            carry.hourly.filter(pl.col("hour_start_utc") < split).collect().with_columns(key)
        )
        hourly = kept.merge_sorted(_in_key_order(hourly.with_columns(key)), "_k").drop("_k")
        del kept
        # (a reading without any time is rejected whatever the run: the carry keeps its issue)
        issues = pl.concat(
            [carry.issues.filter((pl.col("_at") < since) | pl.col("_at").is_null()).collect(), issues]
        )
        tails = pl.concat([part.tails.filter(pl.col("_month") < since), tails])
    bills = _frame(raw, "energy_bills", _BILLS_SCHEMA).with_columns(
        pl.col(c).cast(t) for c, t in _BILLS_SCHEMA.items()
    )
    balance = energy_balance(hourly, meters_df, bills, as_of)
    tables = {
        "meter_hourly": hourly.lazy(),
        "energy_balance": balance.sort("installation_id", "period_grain", "period"),
        "meter_reading_issues": issues.lazy()
        .select(ISSUE_COLUMNS)
        .sort("file", "row_number", "meter_id", "interval_start_utc", "kind", nulls_last=True),
    }
    return tables, EmsCarry(
        hourly=tables["meter_hourly"],
        issues=issues.lazy().sort("_at", "file", "row_number", "kind", "meter_id", nulls_last=True),
        ranges=ranges,
        tails=tails,
    )


def _in_key_order(df: pl.DataFrame) -> pl.DataFrame:
    """`df` sorted by its `_k` column (only flagged as such when it is in that order already)."""
    return df.with_columns(pl.col("_k").set_sorted()) if df["_k"].is_sorted() else df.sort("_k")


def _hour_key(meters: pl.DataFrame) -> pl.Expr:
    """(meter_id, hour_start_utc) as one integer, in the same order (`normalise_meters` sorts by meter_id)."""
    ids = meters.filter(pl.col("_mi").is_not_null())["meter_id"]
    position = pl.col("meter_id").cast(pl.Enum(ids)).to_physical().cast(pl.Int64)
    return position * KEY_SHIFT + pl.col("hour_start_utc").dt.epoch("s")


class EmsCarry(NamedTuple):
    """What a run leaves for the next incremental one: meter_hourly, the issues with `_at`, and the
    `intervals.Carry` (per-meter data windows, cumulative registers' last accepted reading per UTC month)."""

    hourly: pl.LazyFrame
    issues: pl.LazyFrame
    ranges: pl.LazyFrame | pl.DataFrame
    tails: pl.LazyFrame | pl.DataFrame


def incremental_readings(
    readings: pl.LazyFrame, meters: pl.LazyFrame | pl.DataFrame, since: datetime
) -> pl.LazyFrame:
    """The readings an incremental run from `since` reads: those written from two days before `since` (a written
    time is within a day of its UTC interval start), and every reading of a meter whose interval length is not
    given: it is inferred from all of that meter's readings, so a run over fewer could infer another one."""
    m = normalise_meters(with_columns_of(meters.lazy(), METERS_SCHEMA))
    inferred = m.filter(pl.col("_mi").is_not_null() & pl.col("interval_minutes").is_null()).collect()[
        "meter_id"
    ]
    keep = pl.col("interval_start") >= since - timedelta(days=2)
    if inferred.len():
        keep = keep | pl.col("meter_id").is_in(inferred.implode())
    return readings.filter(keep)


def inferred_interval_changed(
    before: pl.LazyFrame | pl.DataFrame, after: pl.LazyFrame | pl.DataFrame
) -> bool:
    """Whether a meter's inferred interval length (the carry's `ranges`, before and after an incremental run)
    changed: the carry's hours were then computed with another one, and only a run over every reading is right."""
    old = before.lazy().filter(pl.col("interval_inferred")).select("_mi", "interval_minutes")
    new = after.lazy().filter(pl.col("interval_inferred")).select("_mi", interval_now="interval_minutes")
    changed = old.join(new, on="_mi").filter(pl.col("interval_minutes") != pl.col("interval_now"))
    return changed.select(pl.len()).collect().item() > 0


def incremental_since(
    new_readings: pl.LazyFrame, meters: pl.LazyFrame, ranges: pl.LazyFrame | pl.DataFrame
) -> datetime | None:
    """The UTC month start from which an incremental run recomputes, given the readings that are new since the
    carry's run (`meter_id`, `interval_start` as written) and the carry's `ranges`: two days and more before the
    earliest new reading (a written time is within a day of its UTC interval start), and a day and more before the
    last reading the carry knew of each meter that has new readings (its data window grows). None: no new
    reading. The run then reads `incremental_readings`."""
    m = normalise_meters(with_columns_of(meters, METERS_SCHEMA)).select("meter_id", "_mi")
    new = with_columns_of(new_readings, READINGS_SCHEMA).select(
        "meter_id", pl.col("interval_start").cast(pl.Datetime("us"))
    )
    first = new.select(pl.col("interval_start").min()).collect().item()
    if first is None:
        return None
    lasts = (
        (
            new.select("meter_id")
            .unique()
            .join(m, on="meter_id")
            .join(ranges.lazy().select("_mi", "_last"), on="_mi")
        )
        .select(pl.col("_last").min())
        .collect()
        .item()
    )
    at = first - timedelta(days=3)
    if lasts is not None:
        at = min(at, lasts - timedelta(days=1))
    return datetime(at.year, at.month, 1)


__all__ = [
    "BALANCE_COLUMNS",
    "EMS_TABLES",
    "HOURLY_COLUMNS",
    "ISSUE_COLUMNS",
    "EmsCarry",
    "compute_ems",
    "compute_ems_carry",
    "incremental_readings",
    "incremental_since",
    "inferred_interval_changed",
]
