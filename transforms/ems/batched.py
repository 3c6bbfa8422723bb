"""The interval engine run batch by batch of meters (issue 13: a year of 71 M readings in bounded memory).

Every step of the engine up to the hourly table is per meter: a reading's checks, the sort into meter × time
order, duplicates, data windows, cumulative registers, inferred interval lengths, the hourly grid. So the usable
meters (`normalise_meters`: in meter_id order, `_mi`) are cut into batches of consecutive meters holding about
`batch_readings` readings each (one count of the readings per meter first), and each batch reads only its
meters' readings (a filter on meter_id, which the Parquet reader applies while it decodes; the readings of no
usable meter go with the first batch, where they are rejected). Each batch's hourly rows are handed to `sink`
as soon as they are made, in the hourly table's order (batches in meter order concatenate to the table a run
over every reading gives), so only one batch's readings, intervals and hours are held at a time. What spans
meters is small and kept: the counted meters' hours (the energy balance, per installation: `BALANCE_INPUT`
columns only), the issues, the data windows and the cumulative registers' tails.

`compute_ems_carry` (transforms/ems/__init__.py) is this run with one batch of every meter (no count, no
filter) and a sink that keeps the hourly table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import NamedTuple

import polars as pl

from transforms.ems.balance import energy_balance
from transforms.ems.hourly import meter_hourly
from transforms.ems.intervals import KEY_SHIFT, Carry, readings_to_intervals
from transforms.ems.meters import METERS_SCHEMA, READINGS_SCHEMA, normalise_meters, with_columns_of
from transforms.ems.zones import zones_of

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
# the hourly columns the energy balance reads (of the counted meters' rows)
BALANCE_INPUT = [
    "installation_id",
    "meter_id",
    "role",
    "hour_start",
    "hour_start_utc",
    "quantity",
    "ppa_direct",
    "counted",
    "intervals_expected",
    "intervals_measured",
    "intervals_estimated",
    "intervals_missing",
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


class EmsCarry(NamedTuple):
    """What a run leaves for the next incremental one: meter_hourly, the issues with `_at`, and the
    `intervals.Carry` (per-meter data windows, cumulative registers' last accepted reading per UTC month, inferred
    interval lengths' step counts per UTC month).
    `hourly` is None from `run_ems`: its rows went to the sink (the asset keeps the file it wrote)."""

    hourly: pl.LazyFrame | pl.DataFrame | None
    issues: pl.LazyFrame
    ranges: pl.LazyFrame | pl.DataFrame
    tails: pl.LazyFrame | pl.DataFrame
    steps: pl.LazyFrame | pl.DataFrame


class Batch(NamedTuple):
    """Meters `_mi` in [lo, hi): the usable meters `ids` (None: one batch of every reading, nothing
    filtered); `first` also takes the readings of no usable meter."""

    lo: int
    hi: int
    ids: pl.Series | None
    first: bool

    def rows(self, usable: pl.Series) -> pl.Expr | None:
        """Which rows (readings, or the carry's hourly rows) are of this batch's meters; None: every row."""
        if self.ids is None:
            return None
        mine = pl.col("meter_id").is_in(self.ids.implode())
        if self.first:  # (an unknown meter, an unusable one, no meter_id: rejected with the first batch)
            return mine | ~pl.col("meter_id").is_in(usable.implode()).fill_null(False)
        # the range lets a reader skip the row groups of other meters by their statistics
        lo, hi = self.ids.min(), self.ids.max()
        return (pl.col("meter_id") >= lo) & (pl.col("meter_id") <= hi) & mine


class EmsRun(NamedTuple):
    """`run_ems`'s result: `tables` energy_balance and meter_reading_issues (lazy over collected frames, in
    their published order), the `carry` for the next run (`hourly` None) and the hourly rows sunk."""

    tables: dict[str, pl.LazyFrame]
    carry: EmsCarry
    hourly_rows: int
    batches: int


def frame_of(raw: Mapping[str, pl.LazyFrame], name: str, schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    lf = raw.get(name)
    return with_columns_of(pl.LazyFrame(schema=schema) if lf is None else lf, schema)


def plan_batches(
    readings: pl.LazyFrame,
    meters: pl.DataFrame,
    batch_readings: int | None,
    weights: pl.DataFrame | None = None,
) -> list[Batch]:
    """Consecutive usable meters in batches of about `batch_readings` readings (a batch holds one meter at
    least, whatever its readings); one batch of everything when `batch_readings` is None or one batch would
    do. `meters`: `normalise_meters` output, collected. `weights` (`_mi`, `_w`): what else a meter's batch
    holds, counted in readings (an incremental run's carried hours)."""
    usable = meters.filter(pl.col("_mi").is_not_null()).select("meter_id", "_mi")
    n = int(usable["_mi"].max()) + 1 if usable.height else 0  # type: ignore[arg-type]
    if batch_readings is None or usable.height < 2:
        return [Batch(0, n, None, True)]
    counts = readings.select("meter_id").group_by("meter_id").agg(_n=pl.len()).collect(engine="streaming")
    per = usable.join(counts, on="meter_id", how="left", maintain_order="left")["_n"].fill_null(0)
    if weights is not None:
        w = weights.select(pl.col("_mi").cast(usable["_mi"].dtype), pl.col("_w").cast(per.dtype))
        per = per + usable.join(w, on="_mi", how="left", maintain_order="left")["_w"].fill_null(0)
    if int(per.sum()) <= batch_readings:
        return [Batch(0, n, None, True)]
    out: list[Batch] = []
    start, held = 0, 0
    mis = usable["_mi"].to_list()
    for i, k in enumerate(per.to_list()):
        if i > start and held + k > batch_readings:
            out.append(Batch(mis[start], mis[i], usable["meter_id"][start:i], not out))
            start, held = i, 0
        held += k
    out.append(Batch(mis[start], n, usable["meter_id"][start:], not out))
    return out


def run_ems(
    raw: Mapping[str, pl.LazyFrame],
    sink: Callable[[pl.DataFrame], None],
    as_of: date | None = None,
    since: datetime | None = None,
    carry: EmsCarry | None = None,
    batch_readings: int | None = None,
) -> EmsRun:
    """The EMS computed tables, meter_hourly handed to `sink` batch by batch (see module doc). `as_of`,
    `since` and `carry` as `compute_ems_carry` takes them (incremental: `carry.hourly` holds the hourly rows of
    the last run, meter_hourly's contract types or the engine's). A batch's frame starts with its rows without
    an hour (a meter whose data window holds no hour), which a run over every reading puts first in the table.
    An incremental run hands over the hours from `since` on only: the carry's hours before `since` are the
    table's (the nightly asset keeps the months before as published; `compute_ems_carry` adds them)."""
    # Master data, a few thousand rows at most: collected once, its attributes gathered onto the readings (one
    # chunk: a gather from a table in several chunks costs many times more).
    meters_df = normalise_meters(frame_of(raw, "meters", METERS_SCHEMA)).collect().rechunk()
    zone_list = zones_of(meters_df)
    part = (
        Carry(carry.ranges.lazy().collect(), carry.tails.lazy().collect(), carry.steps.lazy().collect())
        if carry is not None and since is not None
        else None
    )
    # incremental: an hour starting before `split` may hold intervals from before `since` (the carry's hours)
    split = since + timedelta(hours=1) if part is not None and since is not None else None
    readings = frame_of(raw, "meter_readings", READINGS_SCHEMA)
    batches = plan_batches(readings, meters_df, batch_readings)
    usable = meters_df.filter(pl.col("_mi").is_not_null())["meter_id"]
    counted: list[pl.DataFrame] = []
    issues: list[pl.DataFrame] = []
    ranges: list[pl.DataFrame] = []
    tails: list[pl.DataFrame] = []
    steps: list[pl.DataFrame] = []
    rows = 0
    for b in batches:
        mine = pl.col("_mi").is_between(b.lo, b.hi, closed="left")
        part_b = Carry(*(t.filter(mine) for t in part)) if part is not None else None
        rows_b = b.rows(usable)
        intervals, issues_lf, ranges_b, tails_b, decreases, steps_b = readings_to_intervals(
            readings, meters_df, since if part else None, part_b, rows_b
        )
        issues.append(issues_lf.collect())
        hourly = meter_hourly(intervals, decreases, ranges_b, meters_df, zone_list, split)
        del intervals, decreases
        if part is not None and carry is not None and carry.hourly is not None and split is not None:
            # the carried hours in [since, split) (those before `since` stand as the carry has them)
            carried = carry.hourly.lazy().filter(pl.col("hour_start_utc") >= since)
            hourly = _after_carry(
                carried if rows_b is None else carried.filter(rows_b), hourly, meters_df, split
            )
        ranges.append(ranges_b)
        tails.append(tails_b)
        steps.append(steps_b)
        counted.append(hourly.filter(pl.col("counted")).select(BALANCE_INPUT))
        rows += hourly.height
        sink(hourly)
        del hourly
    if part is not None and carry is not None and carry.hourly is not None and since is not None:
        # the energy balance reads every counted hour: those before `since` from the carry (its columns only;
        # the carry may hold the contract's types)
        schema = counted[0].schema
        before = carry.hourly.lazy().filter(pl.col("hour_start_utc") < since, pl.col("counted"))
        counted.insert(0, before.select(pl.col(c).cast(t) for c, t in schema.items()).collect())
    issues_df = pl.concat(issues)
    tails_df = pl.concat(tails)
    steps_df = pl.concat(steps)
    if part is not None and carry is not None and since is not None:
        # (a reading without any time is rejected whatever the run: the carry keeps its issue)
        kept = carry.issues.filter((pl.col("_at") < since) | pl.col("_at").is_null()).collect()
        issues_df = pl.concat([kept, issues_df])
        tails_df = pl.concat([part.tails.filter(pl.col("_month") < since), tails_df])
        steps_df = pl.concat([part.steps.filter(pl.col("_month") < since), steps_df])
    steps_df = steps_df.sort("_mi", "_month", "_step", nulls_last=False)
    bills = frame_of(raw, "energy_bills", _BILLS_SCHEMA).with_columns(
        pl.col(c).cast(t) for c, t in _BILLS_SCHEMA.items()
    )
    balance = energy_balance(pl.concat(counted), meters_df, bills, as_of)
    tables = {
        "energy_balance": balance.sort("installation_id", "period_grain", "period"),
        "meter_reading_issues": issues_df.lazy()
        .select(ISSUE_COLUMNS)
        .sort("file", "row_number", "meter_id", "interval_start_utc", "kind", nulls_last=True),
    }
    carried = EmsCarry(
        hourly=None,
        issues=issues_df.lazy().sort("_at", "file", "row_number", "kind", "meter_id", nulls_last=True),
        ranges=pl.concat(ranges),
        tails=tails_df,
        steps=steps_df,
    )
    return EmsRun(tables, carried, rows, len(batches))


def _after_carry(
    carried: pl.LazyFrame, hourly: pl.DataFrame, meters: pl.DataFrame, split: datetime
) -> pl.DataFrame:
    """The carry's hourly rows before `split` and the new ones from `split` on, in the table's order (meter_id's
    position among the meters, which are in meter_id order, then the hour). The carry's rows are cast to the
    engine's types (its file may hold the contract's). Rows without an hour (a meter whose window holds none) are
    the new part's, which has one for every such meter of the merged windows, and go first as in a run over every
    reading."""
    kept = (
        carried.filter(pl.col("hour_start_utc") < split)
        .select(pl.col(c).cast(t) for c, t in hourly.schema.items())
        .collect()
    )
    no_hour = pl.col("hour_start_utc").is_null()
    new = hourly.filter(~no_hour)
    merged = _interleaved(kept, new, meters)
    if merged is None:
        key = _hour_key(meters).alias("_k")
        kept = _in_key_order(kept.with_columns(key))
        merged = kept.merge_sorted(_in_key_order(new.with_columns(key)), "_k").drop("_k")
    return pl.concat([hourly.filter(no_hour), merged]) if hourly["hour_start_utc"].null_count() else merged


def _interleaved(kept: pl.DataFrame, new: pl.DataFrame, meters: pl.DataFrame) -> pl.DataFrame | None:
    """`kept` and `new` as one table in its order, when each is in that order already (None when one is not, or
    names a meter that is not usable). Every kept hour is before `split` and every new one from it on, so per
    meter the kept rows come first: the result is slices of the two frames concatenated, meter by meter, and
    no row is copied (a merge on the hour key copied the carried history: 4 s of 17 M hours at scale 100)."""
    position = {m: i for i, m in enumerate(meters.filter(pl.col("_mi").is_not_null())["meter_id"])}
    parts: list[tuple[int, int, pl.DataFrame]] = []
    for side, df in enumerate((kept, new)):
        runs = df.select(pl.col("meter_id").rle()).unnest("meter_id")
        if runs["value"].null_count() or not set(runs["value"]) <= position.keys():
            return None
        order = [position[m] for m in runs["value"]]
        repeated_or_unordered = any(a >= b for a, b in zip(order, order[1:], strict=False))
        if repeated_or_unordered:  # (a meter in two runs, or the meters out of their order)
            return None
        starts = runs["len"].cum_sum() - runs["len"]
        # within a run the hours increase: an hour not after the one before it only where a meter's run starts
        back = df.select((pl.col("hour_start_utc").diff() <= pl.duration()).arg_true()).to_series()
        if not set(back.to_list()) <= set(starts.to_list()):
            return None
        parts += [(p, side, df.slice(o, n)) for p, o, n in zip(order, starts, runs["len"], strict=True)]
    if not parts:
        return kept
    return pl.concat([df for _, _, df in sorted(parts, key=lambda t: t[:2])], rechunk=False)


def _in_key_order(df: pl.DataFrame) -> pl.DataFrame:
    """`df` sorted by its `_k` column (only flagged as such when it is in that order already)."""
    return df.with_columns(pl.col("_k").set_sorted()) if df["_k"].is_sorted() else df.sort("_k")


def _hour_key(meters: pl.DataFrame) -> pl.Expr:
    """(meter_id, hour_start_utc) as one integer, in the same order (`normalise_meters` sorts by meter_id)."""
    ids = meters.filter(pl.col("_mi").is_not_null())["meter_id"]
    position = pl.col("meter_id").cast(pl.Enum(ids)).to_physical().cast(pl.Int64)
    return position * KEY_SHIFT + pl.col("hour_start_utc").dt.epoch("s")


__all__ = [
    "BALANCE_INPUT",
    "ISSUE_COLUMNS",
    "Batch",
    "EmsCarry",
    "EmsRun",
    "plan_batches",
    "run_ems",
]
