"""What the zero-carbon indicators read of meter_hourly, per meter × installation × year (local hour's year).

Two indicators read the hours: F4's metering share (each meter's metered quantity of a year, in its unit) and
F3's evidence (the meters counted in the balance with data in a year). Both come from this summary of the hours
with a measured interval: `fsum`'s per-grid sums of the quantity (exact, so the sums of month parts add up to
the year's to the bit), the unit of the meter's first hour in the table's order, and whether an hour is counted.

A summary of each of meter_hourly's month parts (`summarise`) can therefore be kept from run to run and only the
parts a night rewrites summarised again; `combine` gives the table's summary from its parts' in part order.
`years_of` summarises a whole table at once (the engines' tests, a table without parts).
"""

from __future__ import annotations

import polars as pl

from transforms.stable import FSUM_LEVELS, fsum_levels, fsum_of_levels

LEVELS = [f"quantity_level_{i}" for i in range(FSUM_LEVELS)]
KEYS = ["meter_id", "installation_id", "year"]
# a summary row: its keys, the quantity's levels, the unit of its first hour, where that hour is (part, row)
SCHEMA = pl.Schema(
    {
        "meter_id": pl.String,
        "installation_id": pl.String,
        "year": pl.String,
        **{name: pl.Float64 for name in LEVELS},
        "unit": pl.String,
        "counted": pl.Boolean,
        "first_part": pl.Int64,
        "first_row": pl.Int64,
    }
)
# what the summary reads of meter_hourly; a frame with only one indicator's columns reads the others as null
HOURLY_COLUMNS = ["meter_id", "hour_start", "intervals_measured"]
OPTIONAL = {"installation_id": pl.String, "quantity": pl.Float64, "unit": pl.String, "counted": pl.Boolean}


def summarise(hourly: pl.LazyFrame, part: int = 0) -> pl.LazyFrame:
    """The summary (SCHEMA) of meter_hourly rows (one part, or the whole table as part 0)."""
    have = hourly.collect_schema()
    optional = [pl.col(c) if c in have else pl.lit(None, t).alias(c) for c, t in OPTIONAL.items()]
    return (
        hourly.select(*HOURLY_COLUMNS, *optional)
        .with_row_index("_row")
        .filter(pl.col("intervals_measured") > 0)
        .group_by("meter_id", "installation_id", year=pl.col("hour_start").dt.year().cast(pl.String))
        .agg(
            *(level.alias(name) for level, name in zip(fsum_levels(pl.col("quantity")), LEVELS, strict=True)),
            unit=pl.col("unit").first(),  # a group keeps its rows' order: its first hour's
            counted=pl.col("counted").fill_null(False).any(),
            first_part=pl.lit(part, pl.Int64),
            first_row=pl.col("_row").first().cast(pl.Int64),
        )
        .select(SCHEMA.names())
    )


def combine(parts: pl.LazyFrame) -> pl.LazyFrame:
    """The summaries of a table's parts (`first_part`: the part's place in the table) as the table's."""
    return (
        parts.group_by(KEYS)
        .agg(
            *(pl.col(name).sum() for name in LEVELS),
            unit=_first("unit"),
            counted=pl.col("counted").any(),
            first_part=_first("first_part"),
            first_row=_first("first_row"),
        )
        .select(SCHEMA.names())
        .sort(KEYS, nulls_last=True)
    )


def _first(column: str) -> pl.Expr:
    """The value of a group's earliest summary row (part, then row): its first hour in the table's order."""
    return pl.col(column).sort_by("first_part", "first_row").first()


def years_of(hourly: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The summary of a whole meter_hourly table."""
    return summarise(hourly.lazy())


def metered_quantity(years: pl.LazyFrame) -> pl.LazyFrame:
    """Per meter × year: the quantity of its hours with a measured interval (`fsum` of them) and its unit (the
    first hour's, in the table's order): what `metering_share` sizes a metered flow by."""
    return years.group_by("meter_id", "year").agg(
        quantity=fsum_of_levels([pl.col(name).sum() for name in LEVELS]), unit=_first("unit")
    )


def counted_meters(years: pl.LazyFrame) -> pl.LazyFrame:
    """Per installation × year: the meters counted in the balance with data that year (`meter:<id>`, sorted)."""
    return (
        years.filter(pl.col("counted"))
        .group_by("installation_id", "year")
        .agg(_meters=pl.format("meter:{}", "meter_id").unique().sort())
    )
