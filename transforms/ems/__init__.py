"""Interval engine for energy-management-system data (issue 12): meter readings → intervals → hourly aggregates
per meter → energy balance per installation and period. Pure polars, lazy; no Dagster.

API: `compute_ems(raw, as_of=None)` takes the raw lake tables (`meters`, `meter_readings`, `energy_bills`; absent
ones count as empty) and returns lazy frames named as the computed tables:
- `meter_hourly`: meter × hour (`transforms.ems.hourly`), the spec's `fct_meter_hourly`;
- `energy_balance`: installation × period (`transforms.ems.balance`), the spec's `fct_energy_balance` without the
  certificate columns (`gec_claimed_mwh`, `renewable_share_certificates`: the certificate ledger's);
- `meter_reading_issues`: every rejected reading and every interval a cumulative register could not give, with its
  reason (`transforms.ems.intervals`).
The readings are reduced to intervals when `compute_ems` is called (one pass, collected); the returned frames are
lazy over that reduction: collect them together (`pl.collect_all`) so the hourly table is computed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from transforms.ems.balance import BALANCE_COLUMNS, energy_balance
from transforms.ems.hourly import HOURLY_COLUMNS, meter_hourly
from transforms.ems.intervals import readings_to_intervals, zones_of
from transforms.ems.meters import METERS_SCHEMA, READINGS_SCHEMA, normalise_meters, with_columns_of

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
    # Master data, a few thousand rows at most: collected once, its attributes gathered onto the readings.
    meters_df = normalise_meters(_frame(raw, "meters", METERS_SCHEMA)).collect()
    meters = meters_df.lazy()
    zone_list = zones_of(meters_df)
    # The readings are reduced once, here (17.5 M readings a year → intervals, a few columns wide): the outputs
    # share the reduction without the query engine recomputing it for each.
    reduced = readings_to_intervals(_frame(raw, "meter_readings", READINGS_SCHEMA), meters_df)
    intervals, issues, ranges = (df.lazy() for df in pl.collect_all(list(reduced)))
    hourly = meter_hourly(intervals, issues, ranges, meters, zone_list).cache()  # read by the balance too
    bills = _frame(raw, "energy_bills", _BILLS_SCHEMA).with_columns(
        pl.col(c).cast(t) for c, t in _BILLS_SCHEMA.items()
    )
    balance = energy_balance(hourly, meters, bills, as_of)
    return {
        "meter_hourly": hourly.sort("meter_id", "hour_start_utc"),
        "energy_balance": balance.sort("installation_id", "period_grain", "period"),
        "meter_reading_issues": issues.select(ISSUE_COLUMNS).sort(
            "file", "row_number", "meter_id", "interval_start_utc", "kind", nulls_last=True
        ),
    }


__all__ = ["BALANCE_COLUMNS", "EMS_TABLES", "HOURLY_COLUMNS", "ISSUE_COLUMNS", "compute_ems"]
