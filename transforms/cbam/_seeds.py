"""Adapter from the project's reference API (transforms/reference.py, over the committed seed CSVs) to the
`CbamReference` interface the engine codes against (column names documented in refdata.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from transforms.cbam.refdata import CN_COLUMNS, CONSTANTS, DV_COLUMNS, GRID_COLUMNS

if TYPE_CHECKING:
    from transforms.cbam.refdata import CbamReference


def reference_from_seeds(cls: type[CbamReference]) -> CbamReference:
    from transforms import reference as r

    def with_cn_info(lf: pl.LazyFrame, cn_col: str) -> pl.LazyFrame:
        keys = lf.select(pl.col(cn_col).alias("_k_cn")).unique().filter(pl.col("_k_cn").is_not_null())
        info = r.with_cn_info(keys, "_k_cn").select(
            pl.col("_k_cn").alias(cn_col),
            pl.col("goods_category").alias("cn_goods_category"),
            pl.col("annex_ii_direct_only").alias("cn_annex_ii_direct_only"),
            pl.col("functional_unit").alias("cn_functional_unit"),
            pl.col("in_scope").alias("cn_in_scope"),
        )
        out = lf.join(info, on=cn_col, how="left", maintain_order="left")
        return out.with_columns(pl.col("cn_in_scope").fill_null(False)).select(
            *[c for c in lf.collect_schema().names() if c not in CN_COLUMNS], *CN_COLUMNS
        )

    def with_default_values(lf: pl.LazyFrame, cn_col: str, country_col: str, year_col: str) -> pl.LazyFrame:
        keys = lf.select(
            pl.col(cn_col).alias("_k_cn"),
            pl.col(country_col).alias("_k_country"),
            pl.col(year_col).alias("_k_year"),
        ).unique()
        dv = r.with_default_values(keys, country_col="_k_country", cn_col="_k_cn", year_col="_k_year").select(
            pl.col("_k_cn").alias(cn_col),
            pl.col("_k_country").alias(country_col),
            pl.col("_k_year").alias(year_col),
            *DV_COLUMNS,
        )
        return lf.join(
            dv, on=[cn_col, country_col, year_col], how="left", nulls_equal=True, maintain_order="left"
        )

    def with_grid_factor(lf: pl.LazyFrame, country_col: str) -> pl.LazyFrame:
        return r.with_cbam_grid_factor(lf, country_col).select(
            *[c for c in lf.collect_schema().names() if c not in GRID_COLUMNS], *GRID_COLUMNS
        )

    versions = r.default_values()["workbook_version"].drop_nulls().unique().sort().to_list()
    return cls(
        with_cn_info=with_cn_info,
        with_default_values=with_default_values,
        with_grid_factor=with_grid_factor,
        gwp=r.gwp(),
        constants={name: r.constant(name) for name in CONSTANTS},
        versions={"default_values": ", ".join(versions)},
    )
