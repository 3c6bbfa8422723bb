"""Frame helpers every engine shares."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl


def with_columns_of(lf: pl.LazyFrame, schema: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """`lf` with every column of `schema` (absent optional columns added as nulls of their type)."""
    # (a clone's schema: polars 2.1 no longer pushes a row index and a filter after it into a Parquet scan whose
    # own `collect_schema` was called, and a batch of meters then decoded every reading of the file)
    have = lf.clone().collect_schema()
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in have]
    return lf.with_columns(missing) if missing else lf
