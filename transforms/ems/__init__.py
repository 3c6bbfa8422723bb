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
them together with `pl.collect_all`). The nightly asset runs the same engine batch by batch of meters
(`transforms.ems.batched.run_ems`), handing the hourly table over as it is made: a year at scale 100 (71 M
readings) is never held whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import polars as pl

from transforms.ems.balance import BALANCE_COLUMNS
from transforms.ems.batched import ISSUE_COLUMNS, EmsCarry, EmsRun, _after_carry, frame_of, run_ems
from transforms.ems.hourly import HOURLY_COLUMNS
from transforms.ems.meters import METERS_SCHEMA, READINGS_SCHEMA, normalise_meters, with_columns_of

EMS_TABLES = ("meter_hourly", "energy_balance", "meter_reading_issues")


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
    """(the EMS computed tables, what a later run needs to continue from them): `transforms.ems.batched.run_ems`
    over every meter at once, its hourly table kept (the nightly asset runs it batch by batch instead).

    Incremental (`since`, a UTC month start, with the `carry` of the last run; `raw` meter_readings need hold
    only the readings written from two days before `since`): meter_hourly rows of hours starting before
    `since` + 1 h and issues before `since` (`_at`) are the carry's, the rest is computed from the readings;
    the energy balance from the whole hourly table. Equal to a run over every reading when no reading before
    `since` + 2 days changed, no meter with new readings had its last reading before `since` + 1 day
    (`incremental_since` chooses `since` so), `raw` holds `incremental_readings` at least and no inferred
    interval changed (`inferred_interval_changed`)."""
    parts: list[pl.DataFrame] = []
    run = run_ems(raw, parts.append, as_of, since, carry)
    (hourly,) = parts  # one batch
    if since is not None and carry is not None and carry.hourly is not None:  # the hours before `since` added
        meters = normalise_meters(frame_of(raw, "meters", METERS_SCHEMA)).collect()
        hourly = _after_carry(carry.hourly.lazy(), hourly, meters, since)
    tables = {"meter_hourly": hourly.lazy(), **run.tables}
    return {n: tables[n] for n in EMS_TABLES}, run.carry._replace(hourly=tables["meter_hourly"])


def incremental_readings(readings: pl.LazyFrame, since: datetime) -> pl.LazyFrame:
    """The readings an incremental run from `since` reads: those written from two days before `since` (a written
    time is within a day of its UTC interval start). A meter whose interval length is not given is no exception:
    its steps between readings before `since` are the carry's (`transforms.ems.inference`)."""
    return readings.filter(pl.col("interval_start") >= since - timedelta(days=2))


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
    "EmsRun",
    "compute_ems",
    "compute_ems_carry",
    "incremental_readings",
    "incremental_since",
    "inferred_interval_changed",
    "run_ems",
]
