"""CBAM grid emission factors of electricity (DVR Annex II; MIR Annex II D.4(a)) by country of production."""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from transforms.reference.countries import resolve_expr
from transforms.reference.seeds import LookupTables, tables_or_seeds


@lru_cache(maxsize=8)
def _grid(tables: LookupTables) -> tuple[list[str], list[float], float | None, str | None]:
    df = tables.grid_factors
    countries = df.filter(pl.col("table_kind") == "country")
    other = df.filter(pl.col("table_kind") == "other")
    return (
        countries["iso2"].to_list(),
        countries["value_tco2_per_mwh"].to_list(),
        other["value_tco2_per_mwh"].first(),
        other["act"].first(),
    )


def cbam_grid_factor_expr(
    country: pl.Expr | str = "country_iso2", tables: LookupTables | None = None
) -> pl.Expr:
    """DVR Annex II grid factor (tCO2/MWh) for a country (any accepted spelling); unlisted or unknown → 'Other'."""
    country = pl.col(country) if isinstance(country, str) else country
    iso2s, values, other, _ = _grid(tables_or_seeds(tables))
    return resolve_expr(country.cast(pl.String)).replace_strict(
        iso2s, values, default=other, return_dtype=pl.Float64
    )


def with_cbam_grid_factor(
    lf: pl.LazyFrame, country_col: str = "country_iso2", tables: LookupTables | None = None
) -> pl.LazyFrame:
    """Add grid_ef_tco2_per_mwh, grid_ef_source ('D.4(a)'), grid_ef_fallback_reason, grid_ef_act."""
    tables = tables_or_seeds(tables)
    iso2s, _, _, act = _grid(tables)
    iso2 = resolve_expr(pl.col(country_col).cast(pl.String))
    return lf.with_columns(
        cbam_grid_factor_expr(country_col, tables).alias("grid_ef_tco2_per_mwh"),
        pl.lit("D.4(a)").alias("grid_ef_source"),
        pl.when(iso2.is_null())
        .then(pl.lit("country_unknown"))
        .when(~iso2.is_in(iso2s))
        .then(pl.lit("country_not_listed"))
        .alias("grid_ef_fallback_reason"),
        pl.lit(act, dtype=pl.String).alias("grid_ef_act"),
    )
