"""Periods: every dated row is split into calendar-month parts; years are sums of their months.

A row covering `period_start`..`period_end` (both inclusive; no end = the single day of its start) contributes
to each calendar month it overlaps with the share of its days in that month (`fraction`; the split itself is
`transforms/periods.split_by_month`, shared with the GHG engines). Additive quantities
are summed per month; the reporting year (`YYYY`) is the sum of its months, so both grains always agree.
Ratios (SEE, shares) are computed per period from those sums, never averaged (MIR Annex II A.1(3)).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.cbam.errors import CbamInputError
from transforms.periods import split_by_month
from transforms.stable import distinct_sorted, fsum

MONTH, YEAR = "month", "year"


def month_parts(
    lf: pl.LazyFrame, start: str = "period_start", end: str | None = "period_end", *, dataset: str = ""
) -> pl.LazyFrame:
    """One row per (input row × calendar month it overlaps) with `month` (`YYYY-MM`) and `fraction` (0..1)
    (`transforms/periods.split_by_month`); a row without a start or ending before it stops the run."""
    s = pl.col(start)
    e = pl.coalesce(pl.col(end), s) if end else s
    bad = lf.filter(s.is_null() | (e < s)).select(["_source_row_id", start]).head(20).collect()
    if bad.height:
        raise CbamInputError(
            [
                {
                    "dataset": dataset,
                    "row": r["_source_row_id"],
                    "reason": "no start date or end before start",
                }
                for r in bad.iter_rows(named=True)
            ]
        )
    return split_by_month(lf, start, end)


def keep_years(lf: pl.LazyFrame, years: Sequence[int] | None, col: str = "month") -> pl.LazyFrame:
    if years is None:
        return lf
    return lf.filter(pl.col(col).str.slice(0, 4).is_in([f"{y:04d}" for y in years]))


def sum_or_null(col: str) -> pl.Expr:
    """Sum that stays null when every value is null (an optional quantity never given ≠ zero given)."""
    return pl.when(pl.col(col).is_not_null().any()).then(pl.col(col).pipe(fsum)).otherwise(None).alias(col)


def add_year_grain(
    monthly: pl.LazyFrame,
    keys: Sequence[str],
    sums: Sequence[str],
    lists: Sequence[str] = (),
    firsts: Sequence[str] = (),
    grains: Sequence[str] = (YEAR, MONTH),
) -> pl.LazyFrame:
    """`monthly` has `period` = `YYYY-MM`; returns month rows (grain `month`) and yearly sums (grain `year`).

    `lists` are list columns (source row ids, ...) merged as sorted unique lists; `firsts` are attributes
    constant within a key (names, methods) carried along."""
    month_rows = monthly.with_columns(period_grain=pl.lit(MONTH))
    year_rows = (
        monthly.with_columns(period=pl.col("period").str.slice(0, 4))
        .group_by([*keys, "period"])
        .agg(
            [sum_or_null(c) for c in sums]
            + [pl.col(c).list.explode(keep_nulls=False, empty_as_null=False) for c in lists]
            # no tie: the one caller (cbam/streams.py) passes stream-plan attributes joined on (installation_id,
            # stream_id), the key of source_streams and part of `keys`, so a key's months all hold the same value
            + [pl.col(c).drop_nulls().first().alias(c) for c in firsts]
        )
        .with_columns(
            *(distinct_sorted(pl.col(c), drop_nulls=True) for c in lists), period_grain=pl.lit(YEAR)
        )
    )
    cols = [*keys, "period", "period_grain", *sums, *lists, *firsts]
    parts = []
    if YEAR in grains:
        parts.append(year_rows.select(cols))
    if MONTH in grains:
        parts.append(month_rows.select(cols))
    return pl.concat(parts, how="vertical_relaxed")
