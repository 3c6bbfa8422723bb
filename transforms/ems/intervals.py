"""Meter readings → interval consumption (spec/landing-zone.md `meter_readings`, domain/zero-carbon.md §6).

Per reading, in order: the meter must be known and usable (`meters.normalise_meters`); the value finite; the local
timestamp (the meter's timezone, default Asia/Shanghai; a timestamp that carries an offset is an instant) is moved
from its stamp (`start`, `end`, `midpoint`: the row's own `stamp` overrides the meter's) to the interval start and
must fall on the meter's interval grid; the value × multiplier is converted to the meter's output unit (electricity
kWh). A reading that fails is rejected with its reason (`issues`, kind `rejected`), never dropped silently.

Cumulative registers: the consumption of the interval ending at a reading = (reading − previous reading) ×
multiplier; the first reading is the baseline. A decrease (reset, rollover, meter change) leaves that interval
missing, never negative (kind `register_decrease`); a difference over more than one interval is assigned to the
interval ending at the later reading, as the spec says, and the intervals between count as missing (kind
`spans_gap`). Estimated readings (`quality` = `estimated`) stay apart from measured ones. Gaps are not filled: the
expected intervals come from each meter's data window (`ranges`) and the interval length (given, else the most
frequent step between its readings).
"""

from __future__ import annotations

import polars as pl

from transforms.ems.meters import READINGS_SCHEMA, STAMPS, reading_unit_factor, with_columns_of
from transforms.text import key_expr, nfkc

UTC = "UTC"
_US = pl.Datetime("us")


def _localise(ts: pl.Expr, dtype: pl.DataType, zones: list[str]) -> tuple[pl.Expr, pl.Expr]:
    """(local naive, UTC instant) of a reading timestamp in the row's `timezone`. Naive timestamps are local
    time; a zone-aware one (an offset was given) is converted. A local time that does not exist or is ambiguous
    (DST changes) gives null."""
    if dtype == pl.String:
        ts = ts.str.to_datetime(time_unit="us", strict=False)
        dtype = _US
    tz = pl.col("timezone")
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        utc = ts.dt.convert_time_zone(UTC).dt.cast_time_unit("us")
        local: pl.Expr = pl.lit(None, dtype=_US)
        for z in zones:
            local = (
                pl.when(tz == z).then(utc.dt.convert_time_zone(z).dt.replace_time_zone(None)).otherwise(local)
            )
        return local, utc
    local = ts.cast(_US)
    utc = pl.lit(None, dtype=pl.Datetime("us", UTC))
    for z in zones:
        inst = local.dt.replace_time_zone(z, ambiguous="null", non_existent="null").dt.convert_time_zone(UTC)
        utc = pl.when(tz == z).then(inst).otherwise(utc)
    return local, utc


def infer_interval_minutes(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Per meter without `interval_minutes`: the most frequent positive step (minutes) between its readings."""
    return (
        rows.filter(pl.col("interval_minutes").is_null() & pl.col("_local").is_not_null())
        .select("meter_id", "_local")
        .unique()
        .sort("meter_id", "_local")
        .with_columns(_step=pl.col("_local").diff().over("meter_id").dt.total_minutes())
        .filter(pl.col("_step") > 0)
        .group_by("meter_id")
        .agg(_inferred=pl.col("_step").mode().min())
    )


def readings_to_intervals(
    readings: pl.LazyFrame, meters: pl.LazyFrame, zones: list[str]
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """(intervals, issues, ranges).

    `meters` is `normalise_meters` output; `zones` the distinct timezones of the meters. intervals: meter_id,
    interval_start_utc, interval_start (local), quantity (meter's output unit), estimated, source_row_id.
    issues: one row per rejected reading or missing/gap-spanning interval with its reason. ranges: per meter the
    data window [range_start_utc, range_end_utc) with range_start (local) and interval_minutes."""
    r = with_columns_of(readings, READINGS_SCHEMA)
    r = r.with_columns(pl.col(c).alias("_raw_" + c) for c in _RAW_COLS)
    ts_dtype = r.collect_schema()["interval_start"]
    m = meters.select(
        "meter_id",
        "register",
        pl.col("stamp").alias("_meter_stamp"),
        "interval_minutes",
        pl.col("unit").alias("_meter_unit"),
        "out_unit",
        "multiplier",
        "timezone",
        "meter_problem",
        pl.lit(True).alias("_known"),
    )
    local, utc = _localise(pl.col("interval_start"), ts_dtype, zones)
    j = (
        r.with_columns(nfkc(pl.col("meter_id")).alias("meter_id"))
        .join(m, on="meter_id", how="left")
        .with_columns(_local=local, _utc=utc)
    )
    j = j.join(infer_interval_minutes(j), on="meter_id", how="left").with_columns(
        _given=pl.col("interval_minutes").is_not_null(),
        interval_minutes=pl.coalesce("interval_minutes", "_inferred"),
    )
    delta_s = pl.col("interval_minutes") * 60
    cumulative = pl.col("register") == "cumulative"
    stamp = pl.coalesce(key_expr(pl.col("stamp")), pl.col("_meter_stamp"))
    shift_s = (
        pl.when(cumulative | (stamp == "start"))
        .then(0)
        .when(stamp == "end")
        .then(delta_s)
        .when(stamp == "midpoint")
        .then(delta_s // 2)
    )
    shift = pl.duration(seconds=shift_s)
    j = j.with_columns(
        _start_local=pl.col("_local") - shift,
        _start_utc=pl.col("_utc") - shift,
        _factor=reading_unit_factor(pl.col("unit"), pl.col("_meter_unit"), pl.col("out_unit")),
    )
    bad_interval = (pl.col("interval_minutes") <= 0) | (60 % pl.col("interval_minutes").clip(1) != 0)
    on_grid = pl.col("_start_local").dt.epoch("s") % delta_s.clip(1) == 0
    rules: list[tuple[pl.Expr, str, pl.Expr]] = [
        (
            pl.col("_known").is_null(),
            "meter_id",
            pl.format(
                "unknown meter '{}': not in meters (add it to the meters drop or correct the id)",
                pl.col("meter_id").fill_null(""),
            ),
        ),
        (
            pl.col("meter_problem").is_not_null(),
            "meter_id",
            pl.format("meter '{}' cannot be used: {}", pl.col("meter_id"), pl.col("meter_problem")),
        ),
        (
            pl.col("interval_minutes").is_null() | bad_interval,
            "interval_start",
            pl.format(
                "meter '{}': interval length not given and not inferable (step {} min; expected 15, 30 or 60): "
                "set interval_minutes in meters, or the log is change-of-value, not interval data",
                pl.col("meter_id"),
                pl.col("interval_minutes").cast(pl.String).fill_null("?"),
            ),
        ),
        (
            ~pl.col("value").is_finite(),
            "value",
            pl.format("value {} is not a finite number", pl.col("value")),
        ),
        (
            pl.col("_factor").is_null(),
            "unit",
            pl.format("unit '{}' cannot be converted to the meter's {}", pl.col("unit"), pl.col("out_unit")),
        ),
        (
            ~stamp.is_in(STAMPS),
            "stamp",
            pl.format("stamp '{}' unknown (start, end or midpoint)", pl.col("stamp")),
        ),
        (
            pl.col("_utc").is_null(),
            "interval_start",
            pl.format(
                "timestamp {} does not exist or is ambiguous in {} (daylight-saving change): give a UTC offset",
                pl.col("interval_start").cast(pl.String),
                pl.col("timezone"),
            ),
        ),
        (
            ~on_grid,
            "interval_start",
            pl.format(
                "timestamp {} (stamp {}) is not on the meter's {}-minute interval grid",
                pl.col("interval_start").cast(pl.String),
                stamp,
                pl.col("interval_minutes"),
            ),
        ),
        (
            ~cumulative & (pl.col("value") < 0),
            "value",
            pl.format("negative interval consumption {}", pl.col("value")),
        ),
    ]
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    column: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, col, text in reversed(rules):
        reason = pl.when(cond.fill_null(False)).then(text).otherwise(reason)
        column = pl.when(cond.fill_null(False)).then(pl.lit(col)).otherwise(column)
    j = j.filter(pl.col("value").is_not_null() | pl.col("_known").is_null()).with_columns(
        _reason=reason, _column=column
    )
    # Two readings for one interval after the stamp move: neither is believed.
    dup = (pl.len().over("meter_id", "_start_utc") > 1) & pl.col("_reason").is_null()
    j = j.with_columns(
        _reason=pl.when(dup)
        .then(
            pl.format(
                "two readings for meter '{}' at interval start {}: both rejected",
                pl.col("meter_id"),
                pl.col("_start_local").cast(pl.String),
            )
        )
        .otherwise("_reason"),
        _column=pl.when(dup).then(pl.lit("interval_start")).otherwise("_column"),
    )
    # The data window: every reading of a usable meter with a valid timestamp on the grid (rejected values too,
    # so that a rejected first or last reading still shows as a missing interval).
    placed = pl.col("_known") & pl.col("meter_problem").is_null() & pl.col("_utc").is_not_null() & on_grid
    ranges = (
        j.filter(placed.fill_null(False) & ~bad_interval.fill_null(True))
        .group_by("meter_id")
        .agg(
            range_start_utc=pl.col("_start_utc").min(),
            range_start=pl.col("_start_local").sort_by("_start_utc").first(),
            _last=pl.col("_start_utc").max(),
            interval_minutes=pl.col("interval_minutes").first(),
            interval_inferred=~pl.col("_given").first(),
            cumulative=(pl.col("register") == "cumulative").first(),
        )
        .with_columns(
            range_end_utc=pl.col("_last")
            + pl.when(pl.col("cumulative"))
            .then(pl.duration(seconds=0))
            .otherwise(pl.duration(minutes=pl.col("interval_minutes")))
        )
        .drop("_last")
    )
    rejected = j.filter(pl.col("_reason").is_not_null()).select(
        *_issue_cols("_start_local", "_start_utc"),
        pl.lit("rejected").alias("kind"),
        pl.col("_column").alias("column"),
        pl.col("_reason").alias("reason"),
        _raw_json(),
    )
    ok = j.filter(pl.col("_reason").is_null()).select(
        "meter_id",
        "register",
        "interval_minutes",
        pl.col("_start_utc").alias("interval_start_utc"),
        pl.col("_start_local").alias("interval_start"),
        (pl.col("value") * pl.col("multiplier") * pl.col("_factor")).alias("quantity"),
        (key_expr(pl.col("quality")) == "estimated").fill_null(False).alias("estimated"),
        pl.col("_source_row_id").alias("source_row_id"),
        "_drop_date",
        "_file",
        "_row_number",
        pl.col("^_raw_.*$"),
    )
    interval_reg = ok.filter(pl.col("register") != "cumulative").select(_INTERVAL_COLS)
    cum, cum_issues = _cumulative(ok.filter(pl.col("register") == "cumulative"))
    intervals = pl.concat([interval_reg, cum], how="vertical")
    issues = pl.concat([rejected, cum_issues], how="vertical")
    return intervals, issues, ranges


_RAW_COLS = ("meter_id", "interval_start", "value", "unit", "quality", "method", "stamp")


def _raw_json() -> pl.Expr:
    """The reading as read (JSON text), as the quarantine keeps it."""
    return (
        pl.struct(pl.col("_raw_" + c).cast(pl.String).alias(c) for c in _RAW_COLS)
        .struct.json_encode()
        .alias("raw")
    )


_INTERVAL_COLS = [
    "meter_id",
    "interval_start_utc",
    "interval_start",
    "quantity",
    "estimated",
    "source_row_id",
]


def _issue_cols(local_start: str, utc_start: str) -> list[pl.Expr]:
    return [
        pl.lit("meter_readings").alias("dataset"),
        pl.col("_drop_date").alias("drop_date"),
        pl.col("_file").alias("file"),
        pl.col("_row_number").alias("row_number"),
        pl.col("_source_row_id").alias("source_row_id"),
        pl.col("meter_id"),
        pl.col(local_start).alias("interval_start"),
        pl.col(utc_start).alias("interval_start_utc"),
    ]


def _cumulative(ok: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Cumulative register readings → (intervals ending at each reading, issues for decreases and spans)."""
    prev = [
        pl.col(c).shift(1).over("meter_id", order_by="interval_start_utc").alias(f"_prev_{c}")
        for c in ("quantity", "interval_start_utc", "estimated")
    ]
    step = pl.duration(minutes=pl.col("interval_minutes"))
    c = ok.with_columns(prev).with_columns(
        _diff=pl.col("quantity") - pl.col("_prev_quantity"),
        _span=(
            (pl.col("interval_start_utc") - pl.col("_prev_interval_start_utc")).dt.total_seconds()
            // (pl.col("interval_minutes") * 60)
        ),
        _end_local=pl.col("interval_start"),
    )
    c = c.filter(pl.col("_prev_quantity").is_not_null()).with_columns(
        interval_start_utc=pl.col("interval_start_utc") - step,
        interval_start=pl.col("interval_start") - step,
    )
    intervals = c.filter(pl.col("_diff") >= 0).select(
        "meter_id",
        "interval_start_utc",
        "interval_start",
        pl.col("_diff").alias("quantity"),
        (pl.col("estimated") | pl.col("_prev_estimated")).alias("estimated"),
        "source_row_id",
    )
    c = c.rename({"source_row_id": "_source_row_id"})
    issues = c.filter((pl.col("_diff") < 0) | (pl.col("_span") > 1)).select(
        *_issue_cols("interval_start", "interval_start_utc"),
        pl.when(pl.col("_diff") < 0)
        .then(pl.lit("register_decrease"))
        .otherwise(pl.lit("spans_gap"))
        .alias("kind"),
        pl.lit("value").alias("column"),
        pl.when(pl.col("_diff") < 0)
        .then(
            pl.format(
                "cumulative register fell by {} (reset, rollover or meter change) at {}: the interval is missing",
                -pl.col("_diff"),
                pl.col("_end_local").cast(pl.String),
            )
        )
        .otherwise(
            pl.format(
                "{} intervals between successive readings: the difference is assigned to the interval ending at "
                "{}, the {} before it are missing",
                pl.col("_span"),
                pl.col("_end_local").cast(pl.String),
                pl.col("_span") - 1,
            )
        )
        .alias("reason"),
        _raw_json(),
    )
    return intervals, issues
