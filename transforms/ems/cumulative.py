"""Interval consumption from accepted readings (transforms/ems/intervals.py calls `_cumulative`): interval
registers as read, cumulative registers differenced with the meter's previous reading, and the issues a
difference raises (a decrease: reset, rollover or meter change; a span over missing intervals)."""

from __future__ import annotations

import polars as pl


def _of_meter(by_mi: pl.DataFrame, col: str) -> pl.Expr:
    """The meter's `col` (`_by_meter_index`) on each row, by the row's `_mi`."""
    return pl.lit(by_mi[col]).gather(pl.col("_mi"))


_STARTS = ("interval_start_utc", "interval_start")
_INTERVAL_COLS = [
    "_mi",
    "interval_start_utc",
    "interval_start",
    "quantity",
    "estimated",
    "_file",
    "_row_number",
]


def _cumulative(ok: pl.DataFrame, by_mi: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Accepted readings (sorted by key) → (intervals, issues): interval registers as read; cumulative registers
    differenced with the previous reading of the same meter, assigned to the interval ending at the later one.
    The intervals keep the key order (the hourly groups are sorted slices)."""
    cum = _of_meter(by_mi, "_cum")
    minutes = _of_meter(by_mi, "interval_minutes")
    same = pl.col("_mi") == pl.col("_mi").shift(1)
    step = pl.duration(minutes=minutes)
    if not ok.select(cum.any()).item():
        intervals = ok.select(_INTERVAL_COLS)
    else:
        intervals = (
            ok.lazy()
            .with_columns(
                _d=pl.col("quantity") - pl.when(cum & same).then(pl.col("quantity").shift(1)),
                _pe=pl.col("estimated").shift(1),
            )
            .filter(~cum | (pl.col("_d") >= 0))  # the first reading is the baseline; a decrease is missing
            .with_columns(
                *[pl.when(cum).then(pl.col(x) - step).otherwise(pl.col(x)).alias(x) for x in _STARTS],
                quantity=pl.when(cum).then("_d").otherwise("quantity"),
                estimated=pl.col("estimated") | (cum & pl.col("_pe")),
            )
            .select(_INTERVAL_COLS)
            .collect()
        )
    # Decreases and gap-spanning differences: on the cumulative rows only (a meter's rows are contiguous).
    c = (
        ok.filter(cum)
        .with_columns(
            _prev_q=pl.when(same).then(pl.col("quantity").shift(1)),
            _span=(
                (pl.col("interval_start_utc") - pl.col("interval_start_utc").shift(1)).dt.total_seconds()
                // (minutes * 60)
            ),
            _end_local=pl.col("interval_start"),
            _at=pl.col("interval_start_utc"),
        )
        .with_columns(_diff=pl.col("quantity") - pl.col("_prev_q"))
        .filter(pl.col("_prev_q").is_not_null())
        .with_columns(pl.col(x) - step for x in _STARTS)
    )
    # texts formatted as plain columns of the few rows, then chosen (a format inside when/then can panic polars)
    issues = (
        c.filter((pl.col("_diff") < 0) | (pl.col("_span") > 1))
        .rechunk()  # formatting a multi-chunk frame panics polars 2.1 (binview index)
        .with_columns(
            _fell=pl.format(
                "cumulative register fell by {} (reset, rollover or meter change) at {}: the interval is missing",
                -pl.col("_diff"),
                pl.col("_end_local").cast(pl.String),
            ),
            _spans=pl.format(
                "{} intervals between successive readings: the difference is assigned to the interval ending at "
                "{}, the {} before it are missing",
                pl.col("_span"),
                pl.col("_end_local").cast(pl.String),
                pl.col("_span") - 1,
            ),
        )
        .select(
            "_ri",
            "_mi",
            pl.col("interval_start").alias("_is"),
            pl.col("interval_start_utc").alias("_isu"),
            pl.when(pl.col("_diff") < 0)
            .then(pl.lit("register_decrease"))
            .otherwise(pl.lit("spans_gap"))
            .alias("kind"),
            pl.lit("value").alias("column"),
            pl.when(pl.col("_diff") < 0).then("_fell").otherwise("_spans").alias("reason"),
            "_at",
        )
    )
    return intervals, issues
