"""The year's export lines split by source, for the summary page: own direct / own indirect emissions of the
producing process, precursors, actual lines not splittable, default-value lines, and the what-if of every actual
line on DVR default values (the rules the engine uses: `transforms.reference.default_values` and
`transforms.cbam.products.default_see_exprs`). One vectorised pass over the lines (joins, no loop)."""

from __future__ import annotations

import polars as pl

from transforms.cbam.products import default_see_exprs
from transforms.reference import default_values


def lines_with_parts(lines: pl.DataFrame, goods: pl.DataFrame, process: pl.DataFrame) -> pl.DataFrame:
    """Export lines + own SEE of their producing process (actual lines) + the DVR default SEE a line would
    carry on default values (its CN code, origin and declaration year), for the by-source split and the what-if.
    """
    g = goods.select(
        "installation_id",
        "product_id",
        pl.col("period").alias("production_period"),
        "period_grain",
        "process_id",
    ).unique(["installation_id", "product_id", "production_period", "period_grain"])
    p = process.select(
        "installation_id",
        "process_id",
        pl.col("period").alias("production_period"),
        "period_grain",
        "own_see_direct",
        "own_see_indirect",
    ).unique(["installation_id", "process_id", "production_period", "period_grain"])
    out = lines.with_columns(declaration_year=pl.col("declaration_date").dt.year().cast(pl.Int64))
    keys = out.select("cn_code", "origin_country", "declaration_year").unique()
    dv = default_values.with_default_values(
        keys.lazy(), country_col="origin_country", cn_col="cn_code", year_col="declaration_year"
    ).collect()
    dv = dv.select(
        "cn_code", "origin_country", "declaration_year", "dv_direct_marked_up", "dv_total_marked_up"
    )
    key = ["installation_id", "product_id", "production_period", "period_grain"]
    out = (
        out.join(g, on=key, how="left", nulls_equal=True, maintain_order="left")
        .join(
            p,
            on=["installation_id", "process_id", "production_period", "period_grain"],
            how="left",
            maintain_order="left",
        )
        .join(
            dv,
            on=["cn_code", "origin_country", "declaration_year"],
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
    )
    _, _, dv_chg = default_see_exprs(pl.col("annex_ii_direct_only").fill_null(False))
    actual = pl.col("determination") == "actual"
    split = actual & pl.col("own_see_direct").is_not_null() & pl.col("own_see_indirect").is_not_null()
    mass = pl.col("net_mass_t")
    own_dir = mass * pl.col("own_see_direct")
    own_ind = mass * pl.col("own_see_indirect")
    return out.with_columns(
        month=pl.col("declaration_date").dt.month(),
        src_own_direct=pl.when(split).then(own_dir),
        src_own_indirect=pl.when(split).then(own_ind),
        # The precursor part is what the applied SEE adds to the process's own: the parts sum to the line.
        src_precursors_direct=pl.when(split).then(pl.col("embedded_direct_tco2e") - own_dir),
        src_precursors_indirect=pl.when(split).then(pl.col("embedded_indirect_tco2e") - own_ind),
        src_actual_not_split=pl.when(actual & ~split).then(
            pl.col("embedded_direct_tco2e") + pl.col("embedded_indirect_tco2e")
        ),
        src_default_direct=pl.when(~actual).then(pl.col("embedded_direct_tco2e")),
        src_default_indirect=pl.when(~actual).then(pl.col("embedded_indirect_tco2e")),
        chg_actual=pl.when(actual).then(pl.col("embedded_chargeable_tco2e")),
        chg_default=pl.when(~actual).then(pl.col("embedded_chargeable_tco2e")),
        precursor_default_direct=pl.when(actual).then(
            pl.col("embedded_direct_tco2e") * pl.col("default_value_share").fill_null(0.0)
        ),
        if_default_chg=pl.when(actual).then(mass * dv_chg),
        no_default=actual & dv_chg.is_null(),
    )
