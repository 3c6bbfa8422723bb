"""The one type map: a contract's column type → DuckDB type name → polars type.

Landing contracts type their columns by `lingtanType` (how ingestion parses the text), computed-table contracts
by `physicalType` (the DuckDB name of the Parquet column). Both end in `PHYSICAL_TYPES`, so the raw lake, the
engines' frames and the dbt staging casts agree by construction.
"""

from __future__ import annotations

import polars as pl

# DuckDB type name → polars type of the Parquet column.
PHYSICAL_TYPES: dict[str, pl.DataType] = {
    "varchar": pl.String(),
    "double": pl.Float64(),
    "bigint": pl.Int64(),
    "integer": pl.Int32(),
    "tinyint": pl.Int8(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us"),  # wall-clock time as written (no zone)
    "varchar[]": pl.List(pl.String()),
}

# lingtanType of a landing contract column → DuckDB type name of its raw lake column.
LINGTAN_TYPES: dict[str, str] = {
    "text": "varchar",
    "decimal": "double",
    "int": "bigint",
    "date": "date",
    "bool": "boolean",
    "timestamp": "timestamp",
    "country": "varchar",
    "unit": "varchar",
    "compound_unit": "varchar",
    "currency": "varchar",
    "cn_code": "varchar",
    "hs_code": "varchar",
    "enum": "varchar",
    "goods_category": "varchar",
    "json": "varchar",
    "period": "varchar",
    "month": "varchar",
    "unlocode": "varchar",
}


def polars_type(physical: str) -> pl.DataType:
    """The polars type of a DuckDB type name (`varchar[]` → List(String))."""
    try:
        return PHYSICAL_TYPES[physical]
    except KeyError:
        raise KeyError(f"unknown physical type {physical!r}; known: {', '.join(PHYSICAL_TYPES)}") from None
