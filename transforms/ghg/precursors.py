"""CBAM results read by the GHG engines: precursor inputs split into purchased goods and internal flows."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from transforms.ghg.common import grain_of, raw_frame


def _internal_ids(raw: Mapping[str, pl.LazyFrame], processes: pl.LazyFrame) -> pl.LazyFrame:
    """(installation_id, material_id) pairs that name the installation's own products or processes."""
    products = raw_frame(raw, "products").select("installation_id", material_id="product_id")
    declared = raw_frame(raw, "processes").select("installation_id", material_id="process_id")
    known = processes.select("installation_id", material_id="process_id")
    return pl.concat([products, declared, known]).drop_nulls().unique().with_columns(_own=pl.lit(True))


def precursor_rows(
    precursor_inputs: pl.DataFrame | pl.LazyFrame, raw: Mapping[str, pl.LazyFrame], processes: pl.LazyFrame
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The CBAM engine's precursor_inputs split into (purchased, internal).

    Internal rows (`source = internal` or a `from_process_id`, or a material_id naming one of the installation's
    own products/processes) are flows between own processes: their emissions are the installation's own Scope 1/2,
    so they are never a purchased good; the footprint passes them on through the process chain instead.
    Purchased rows get `is_default_value` from `is_default` / `source = default` / `determination = default`, and
    `footprint_gap` when CBAM's SEE says nothing about their real footprint: zero-rated EU / Annex III origin
    (`see_origin = exempt_origin`) or no SEE at all.
    """
    pi = precursor_inputs.lazy()
    names = pi.collect_schema().names()
    for col, dtype in (("from_process_id", pl.String), ("is_default", pl.Boolean), ("determination", pl.String),
                       ("source", pl.String), ("period_grain", pl.String), ("see_origin", pl.String),
                       ("cn_code", pl.String)):  # fmt: skip
        if col not in names:
            pi = pi.with_columns(pl.lit(None, dtype).alias(col))
    pi = pi.with_columns(period_grain=pl.coalesce("period_grain", grain_of(pl.col("period")))).join(
        _internal_ids(raw, processes), on=["installation_id", "material_id"], how="left"
    )
    internal = (
        (pl.col("source") == "internal")
        | pl.col("from_process_id").is_not_null()
        | pl.col("_own").fill_null(False)
    )
    default = pl.coalesce("is_default", pl.col("source") == "default", pl.col("determination") == "default")
    gap = (pl.col("see_origin") == "exempt_origin").fill_null(False) | (
        pl.col("see_direct").is_null() & pl.col("see_indirect").is_null()
    )
    purchased = (
        pi.filter(~internal)
        .with_columns(is_default_value=default.fill_null(False), footprint_gap=gap)
        .drop("_own")
    )
    return purchased, pi.filter(internal).drop("_own")
