"""Intervals → hourly aggregates per meter (docs/outputs.md `fct_meter_hourly`).

Grain: meter × hour (`hour_start` local time of the meter's timezone; `hour_start_utc` is the same instant in UTC (naive timestamp), unique
also across a daylight-saving change). Every hour of the meter's data window has a row, measured or not:
`intervals_expected` = the meter's grid intervals in that hour inside its window = `intervals_measured` +
`intervals_estimated` + `intervals_missing`; `quantity` is the sum over measured and estimated intervals, in the
meter's output unit (electricity kWh, multiplier applied), and NULL when every interval of the hour is missing.
Lineage: `source_row_id_first` / `source_row_id_last` are the `<file>#<row>` ids of the hour's earliest and latest
interval (for a cumulative register, of the later reading of each difference); every reading behind the hour is the
meter's raw `meter_readings` rows with interval_start in [hour_start, hour_start + 1 h).
"""

from __future__ import annotations

import polars as pl

from transforms.ems.intervals import KEY_SHIFT
from transforms.ems.zones import _FIXED_SINCE, UTC, fixed_offset_s
from transforms.ingest.validate import lineage_file

HOUR = pl.duration(hours=1)


def _local_of(utc: pl.Expr, zones: list[str]) -> pl.Expr:
    """Local naive time of a naive-UTC instant in the row's `timezone` (fixed-offset zones by arithmetic)."""
    out: pl.Expr = pl.lit(None, dtype=pl.Datetime("us"))
    for z in zones:
        off = fixed_offset_s(z)
        early = utc if off is None else pl.when(utc < _FIXED_SINCE).then(utc)  # null rows cost nothing
        general = early.dt.replace_time_zone(UTC).dt.convert_time_zone(z).dt.replace_time_zone(None)
        here = general if off is None else pl.coalesce(general, utc + pl.duration(seconds=off))
        out = pl.when(pl.col("timezone") == z).then(here).otherwise(out)
    return out


def _lineage_files(files: pl.Series) -> pl.Series:
    """File → the file part of its `_source_row_id` (ingestion's encoding), once per distinct file."""
    distinct = files.drop_nulls().unique()
    encoded = [lineage_file(f) for f in distinct.to_list()]
    return files.replace_strict(distinct, encoded, default=None, return_dtype=pl.String)


def source_row_id(file: pl.Expr, row: pl.Expr) -> pl.Expr:
    """`<file>#<row>`, the lineage id ingestion gives a row (`transforms.ingest.validate.lineage_file`)."""
    enc = file.cast(pl.String).map_batches(_lineage_files, return_dtype=pl.String)
    return pl.concat_str([enc, pl.lit("#"), row.cast(pl.String)])


def hour_of(local: pl.Expr, utc: pl.Expr) -> pl.Expr:
    """UTC instant of the local hour an interval starts in (offsets change on whole hours)."""
    return utc - pl.duration(seconds=local.dt.epoch("s") % 3600)


def meter_hourly(
    intervals: pl.LazyFrame,
    issues: pl.LazyFrame,
    ranges: pl.LazyFrame,
    meters: pl.LazyFrame,
    zones: list[str],
) -> pl.LazyFrame:
    """One row per meter × hour of its data window (see module doc), sorted by meter_id and hour_start_utc.
    `intervals` sorted by (`_mi`, start)."""
    hour_utc = hour_of(pl.col("interval_start"), pl.col("interval_start_utc"))
    hk = (pl.col("_mi") * KEY_SHIFT + hour_utc.dt.epoch("s")).set_sorted()
    # Sorted slices: each hour's intervals in time order, so the sum's order (and bits) never vary.
    agg = (
        intervals.with_columns(_hk=hk)
        .group_by("_hk")
        .agg(
            quantity=pl.col("quantity").sum(),
            intervals_measured=(~pl.col("estimated")).sum().cast(pl.Int64),
            intervals_estimated=pl.col("estimated").sum().cast(pl.Int64),
            _f0=pl.col("_file").first(),
            _r0=pl.col("_row_number").first(),
            _f1=pl.col("_file").last(),
            _r1=pl.col("_row_number").last(),
        )
        .with_columns(
            source_row_id_first=source_row_id(pl.col("_f0"), pl.col("_r0")),
            source_row_id_last=source_row_id(pl.col("_f1"), pl.col("_r1")),
        )
        .drop("_f0", "_r0", "_f1", "_r1")
    )
    # the joins onto the hourly grid are on integers (`_hk`, `_mi`), never on the meter id text
    decreases = (
        issues.filter(pl.col("kind") == "register_decrease")
        .join(meters.select("meter_id", "_mi"), on="meter_id")
        .group_by(
            _hk=pl.col("_mi") * KEY_SHIFT
            + hour_of(pl.col("interval_start"), pl.col("interval_start_utc")).dt.epoch("s")
        )
        .agg(register_decreases=pl.len().cast(pl.Int64))
    )
    first_hour = hour_of(pl.col("range_start"), pl.col("range_start_utc"))
    grid = (
        ranges.join(meters.select("_mi", "timezone"), on="_mi")
        .with_columns(
            hour_start_utc=pl.datetime_ranges(
                first_hour,
                pl.col("range_end_utc") - pl.duration(microseconds=1),
                interval="1h",
                time_unit="us",
            )
        )
        .explode("hour_start_utc")
        .with_columns(
            _hk=pl.col("_mi") * KEY_SHIFT + pl.col("hour_start_utc").dt.epoch("s"),
            intervals_expected=(
                (
                    pl.min_horizontal(pl.col("hour_start_utc") + HOUR, "range_end_utc")
                    - pl.max_horizontal("hour_start_utc", "range_start_utc")
                ).dt.total_seconds()
                // (pl.col("interval_minutes") * 60)
            )
            .clip(0)
            .cast(pl.Int64),
            hour_start=_local_of(pl.col("hour_start_utc"), zones),
        )
        .select(
            "_hk",
            "_mi",
            "hour_start_utc",
            "hour_start",
            "intervals_expected",
            "interval_minutes",
            "interval_inferred",
        )
    )
    counts = ["intervals_measured", "intervals_estimated", "register_decreases"]
    out = (
        grid.join(agg, on="_hk", how="left")
        .join(decreases, on="_hk", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in counts)
        .with_columns(
            intervals_missing=pl.col("intervals_expected")
            - pl.col("intervals_measured")
            - pl.col("intervals_estimated")
        )
        .join(
            meters.select(
                "_mi",
                "meter_id",
                "installation_id",
                "process_id",
                "role",
                "carrier",
                "parent_meter_id",
                "counted",
                "ppa_direct",
                pl.col("out_unit").alias("unit"),
                "multiplier",
                "timezone",
            ),
            on="_mi",
        )
    )
    # Sorted by (meter_id, hour_start_utc) through the integer key: a usable meter's `_mi` follows meter_id order
    # (`meters.normalise_meters`), so one integer sort replaces a sort on the id text.
    return out.sort("_hk").select(HOURLY_COLUMNS)


HOURLY_COLUMNS = [
    "installation_id",
    "meter_id",
    "role",
    "carrier",
    "process_id",
    "parent_meter_id",
    "hour_start",
    "hour_start_utc",
    "timezone",
    "quantity",
    "unit",
    "multiplier",
    "interval_minutes",
    "interval_inferred",
    "intervals_expected",
    "intervals_measured",
    "intervals_estimated",
    "intervals_missing",
    "register_decreases",
    "counted",
    "ppa_direct",
    "source_row_id_first",
    "source_row_id_last",
]
__all__ = ["HOURLY_COLUMNS", "UTC", "hour_of", "meter_hourly"]
