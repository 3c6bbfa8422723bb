"""Small polars helpers shared by the logistics, footprint and inventory engines."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from transforms import frames
from transforms.contracts import dataset
from transforms.stable import quotient
from transforms.text import key_expr

YEAR, MONTH = "year", "month"


def with_columns_of(
    lf: pl.LazyFrame, name: str, extra: Mapping[str, pl.DataType] | None = None
) -> pl.LazyFrame:
    """The raw lake frame with every contract column of `name` (plus `extra` optional columns) present:
    absent optional columns come in as typed nulls, so tests and partial drops need not spell them out."""
    try:
        schema = dict(dataset(name).schema)
    except KeyError:
        schema = {}
    return frames.with_columns_of(lf, schema | dict(extra or {}))


def raw_frame(
    raw: Mapping[str, pl.LazyFrame],
    name: str,
    extra: Mapping[str, pl.DataType] | None = None,
) -> pl.LazyFrame:
    """`raw[name]` with all its columns; an empty frame of the right schema when the dataset is absent."""
    if name in raw:
        return with_columns_of(raw[name], name, extra)
    schema = dict(dataset(name).schema) | dict(extra or {})
    return pl.LazyFrame(schema=schema)


def period_of(date: pl.Expr, grain: str) -> pl.Expr:
    return date.dt.strftime("%Y" if grain == YEAR else "%Y-%m")


def in_both_grains(lf: pl.LazyFrame, date_col: str) -> pl.LazyFrame:
    """Each row twice: once with its year (`period_grain` year) and once with its month."""
    return pl.concat([
        lf.with_columns(period=period_of(pl.col(date_col), grain), period_grain=pl.lit(grain))
        for grain in (YEAR, MONTH)
    ])  # fmt: skip


def grain_of(period: pl.Expr) -> pl.Expr:
    return pl.when(period.str.len_chars() == 4).then(pl.lit(YEAR)).otherwise(pl.lit(MONTH))


def compact_key(expr: pl.Expr) -> pl.Expr:
    """Matching key for names people type: NFKC, lower case, without spaces and punctuation
    (`CN NGB`, `cn-ngb` and `CNNGB` meet; `Xi'an` meets `Xian`)."""
    return key_expr(expr).str.replace_all(r"[\s\-_.,'’·()/]", "")


def safe_div(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num / den, null when den is null or zero (never inf)."""
    return pl.when(den.is_null() | (den == 0)).then(None).otherwise(quotient(num, den))


def join_reasons(*reasons: pl.Expr) -> pl.Expr:
    """Non-null reason texts joined with '; ' (null when none)."""
    out = pl.concat_str([r for r in reasons], separator="; ", ignore_nulls=True)
    return pl.when(out == "").then(None).otherwise(out)
