"""The one pro-rata month split, shared by the CBAM engine (`cbam/periods.month_parts`) and the GHG engines
(`ghg/electricity.energy_bill_months`).

A row covering `start`..`end` (both inclusive; no end = the single day of its start) contributes to each calendar
month it overlaps with the share of its days in that month (`fraction`, 0..1). Validation is the caller's (the
landing contracts already reject `period_end < period_start`): a row ending in an earlier month than it starts
has no part, one ending earlier within its start month has one part with a null `fraction`.
"""

from __future__ import annotations

import polars as pl

from transforms.stable import quotient


def split_by_month(
    lf: pl.LazyFrame, start: str = "period_start", end: str | None = "period_end"
) -> pl.LazyFrame:
    """One row per (input row × calendar month it overlaps) with `month` (`YYYY-MM`) and `fraction`."""
    s = pl.col(start)
    if end is None:
        # A single date lies wholly in its month: no date range to explode (invoices are millions of rows).
        return lf.with_columns(month=s.dt.strftime("%Y-%m"), fraction=pl.lit(1.0))
    e = pl.coalesce(pl.col(end), s)
    overlap = (
        pl.min_horizontal("_e", pl.col("_m").dt.month_end()) - pl.max_horizontal("_s", "_m")
    ).dt.total_days()
    days = (pl.col("_e") - pl.col("_s")).dt.total_days() + 1
    return (
        lf.with_columns(_s=s, _e=e)
        .with_columns(_m=pl.date_ranges(pl.col("_s").dt.month_start(), pl.col("_e").dt.month_start(), "1mo"))
        .explode("_m")
        .with_columns(
            month=pl.col("_m").dt.strftime("%Y-%m"),
            fraction=pl.when(days > 0).then(quotient((overlap + 1).cast(pl.Float64), days.cast(pl.Float64))),
        )
        .drop("_s", "_e", "_m")
    )
