"""From process SEE to goods (per product and period) and to export lines (per declaration line).

Every product of a process carries the process's SEE (the template's Summary_Products). `see_chargeable`
applies CBAM Reg Art 7(1) with the cross-rule of MIR Annex I pt 3.1: direct emissions plus the indirect
emissions that come from goods outside Annex II (so direct only for an Annex II good with Annex II inputs;
direct + indirect for cement). Functional units (MIR Art 4): `t clinker` divides by the clinker factor from
`qualifying_parameters` (`{"clinker_factor": 0.95}`), `kg N` by the nitrogen content (`{"n_content": 0.46}` as
a fraction) × 1000; other units (supplementary units, MWh) stay unconverted, with a note.

Export lines: net mass (t, or pieces × unit_mass_t) × the good's SEE for its installation and production
period (`production_period`, default the declaration year). Without a computed SEE the line takes the DVR
default for its CN code and the installation's country, marked up for the declaration year, and says why
(`default_value_reason`).
"""

from __future__ import annotations

import polars as pl

from transforms.cbam.periods import add_year_grain, month_parts
from transforms.reference import cn_codes, seeds
from transforms.reference.cbam import CbamReference
from transforms.reference.goods import ANNEX_II_CATEGORIES
from transforms.stable import fsum, quotient
from transforms.units import convert_expr, to_factor_expr

CHARGEABLE_RULE = "direct + indirect from non-Annex-II sources (CBAM Reg Art 7(1), MIR Annex I pt 3.1)"


def _param(key: str) -> pl.Expr:
    return pl.col("qualifying_parameters").str.json_path_match(f"$.{key}").cast(pl.Float64, strict=False)


def product_classification(
    products: pl.LazyFrame, processes: pl.LazyFrame, ref: CbamReference
) -> pl.DataFrame:
    """Every product's CBAM classification by its CN code (the computed table `product_classification`, which
    dbt's dim_product reads): the longest cbam_cn_goods prefix (`transforms.reference.cn_codes`, the rule
    `goods_see` applies through `ref`), its heading's columns, and the category of the process making it."""
    heading = (
        seeds.tables_or_seeds(ref.lookup)
        .cn_goods.lazy()
        .select(
            pl.col("cn_prefix").alias("cn_match_prefix"),
            "declaration_unit",
            "gases",
            pl.col("exclusion_reason").alias("cn_exclusion_reason"),
            pl.col("workbook_version").alias("cn_list_version"),
        )
    )
    process = processes.select(
        "installation_id", "process_id", pl.col("goods_category").alias("process_goods_category")
    ).unique(["installation_id", "process_id"])
    classified = cn_codes.with_cn_info(
        products.select("product_id", "installation_id", "process_id", "cn_code"),
        "cn_code",
        prefix="cn_",
        tables=ref.lookup,
    ).rename({"cn_matched_prefix": "cn_match_prefix"})
    return (
        classified.join(heading, on="cn_match_prefix", how="left")
        .join(process, on=["installation_id", "process_id"], how="left")
        .select(
            "product_id",
            "installation_id",
            "process_id",
            "cn_code",
            "cn_match_prefix",
            pl.col("cn_in_scope").alias("is_cbam_good"),
            pl.col("cn_goods_category").alias("goods_category"),
            pl.col("cn_sector").alias("cbam_sector"),
            pl.col("cn_annex_ii_direct_only").alias("annex_ii_direct_only"),
            pl.col("cn_functional_unit").alias("functional_unit"),
            "declaration_unit",
            "gases",
            "cn_ask_operator",
            "cn_exclusion_reason",
            "cn_list_version",
            "process_goods_category",
        )
        .collect()
    )


def product_output(production: pl.LazyFrame, years: list[int] | None) -> pl.LazyFrame:
    """Per product × period: tonnes produced (from production rows that name a product)."""
    parts = month_parts(production.filter(pl.col("product_id").is_not_null()), dataset="production")
    if years is not None:
        parts = parts.filter(pl.col("month").str.slice(0, 4).is_in([f"{y:04d}" for y in years]))
    monthly = parts.group_by(
        "installation_id", "process_id", "product_id", pl.col("month").alias("period")
    ).agg(produced_t=(pl.col("produced_t") * pl.col("fraction")).pipe(fsum))
    return add_year_grain(monthly, ["installation_id", "process_id", "product_id"], ["produced_t"])


def _add_to_sorted_ids(lf: pl.LazyFrame, ids: str, item: str) -> pl.LazyFrame:
    """`ids` (each a sorted list of distinct row ids, as process_see's lineage is) with `item` put in its place
    unless already there: the same lists as `concat_list(ids, item).list.unique().list.sort()`, without hashing
    and sorting lists of 10^5 ids again (a process's lineage holds every precursor invoice line)."""
    lf = lf.with_row_index("_r")
    x, new = pl.col(ids), pl.col(item)
    place = (
        lf.select("_r", ids, item)
        .explode(ids)  # an empty list gives no row: position 0
        .group_by("_r")
        .agg(_k=((x < new) | x.is_null()).sum(), _has=x.eq_missing(new).any())
    )
    k = pl.col("_k").fill_null(0)
    return (
        lf.join(place, on="_r", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_has").fill_null(False))
            .then(x)
            .otherwise(pl.concat_list(x.list.slice(0, k), new, x.list.slice(k)))
            .alias(ids)
        )
        .drop("_r", "_k", "_has")
    )


def goods_see(
    products: pl.LazyFrame,
    process_see: pl.DataFrame,
    production: pl.LazyFrame,
    ref: CbamReference,
    years: list[int] | None,
) -> pl.DataFrame:
    """Per installation × product × period: SEE direct / indirect / total / chargeable, per t and per FU; the
    product's own row id as `_product_row_id` (`with_goods_lineage` turns it into the good's lineage)."""
    prods = ref.with_cn_info(
        products.select(
            "product_id",
            pl.col("name").alias("product_name"),
            "cn_code",
            "installation_id",
            "process_id",
            "qualifying_parameters",
            pl.col("_source_row_id").alias("_product_row_id"),
        ),
        "cn_code",
    )
    ps = process_see.lazy().select(
        "installation_id",
        "process_id",
        "period",
        "period_grain",
        pl.col("goods_category").alias("process_category"),
        "see_status",
        "see_direct",
        "see_indirect",
        "see_total",
        "see_indirect_non_annex_ii",
        "default_value_share",
        "electricity_ef_source",
        "embedded_electricity_mwh_per_t",
        "activity_level_t",
    )
    out = prods.join(ps, on=["installation_id", "process_id"], how="inner").join(
        product_output(production, years),
        on=["installation_id", "process_id", "product_id", "period", "period_grain"],
        how="left",
    )
    fu = pl.col("cn_functional_unit").fill_null("t")
    clinker = pl.coalesce(_param("clinker_factor"), _param("clinker_content"))
    n_content = pl.coalesce(_param("n_content"), _param("nitrogen_content"))
    is_clinker = fu.str.contains("(?i)clinker")
    is_n = fu.str.contains(r"(?i)^kg\s*N\b")
    fu_per_t = (
        pl.when(fu == "t")
        .then(pl.lit(1.0))
        .when(is_clinker)
        .then(clinker)
        .when(is_n)
        .then(convert_expr(n_content, "t", "kg"))  # t N per t of good → kg N per t
        .otherwise(None)
    )
    annex = pl.coalesce(
        pl.col("cn_annex_ii_direct_only"), pl.col("process_category").is_in(sorted(ANNEX_II_CATEGORIES))
    )
    out = out.with_columns(
        goods_category=pl.coalesce("cn_goods_category", "process_category"),
        annex_ii_direct_only=annex.fill_null(False),
        functional_unit=fu,
        fu_per_t=fu_per_t,
        see_chargeable=pl.col("see_direct") + pl.col("see_indirect_non_annex_ii"),
        chargeable_rule=pl.lit(CHARGEABLE_RULE),
        determination=pl.when(pl.col("see_direct").is_not_null()).then(pl.lit("actual")),
        default_value_reason=pl.lit(None, dtype=pl.String),
        fu_note=pl.when(fu_per_t.is_null() & (is_clinker | is_n))
        .then(
            pl.concat_str(
                pl.lit("functional unit "),
                fu,
                pl.lit(" needs a qualifying parameter (clinker_factor / n_content) on the product"),
            )
        )
        .when(fu_per_t.is_null())
        .then(pl.concat_str(pl.lit("functional unit "), fu, pl.lit(" is not converted from tonnes"))),
    ).with_columns(
        pl.when(pl.col("fu_per_t") > 0).then(quotient(pl.col(c), pl.col("fu_per_t"))).alias(f"{c}_per_fu")
        for c in ("see_direct", "see_indirect", "see_total", "see_chargeable")
    )
    cols = [
        "installation_id",
        "product_id",
        "period",
        "period_grain",
        "process_id",
        "product_name",
        "cn_code",
        "goods_category",
        "annex_ii_direct_only",
        "see_status",
        "see_direct",
        "see_indirect",
        "see_total",
        "see_chargeable",
        "chargeable_rule",
        "default_value_share",
        "electricity_ef_source",
        "embedded_electricity_mwh_per_t",
        "determination",
        "default_value_reason",
        "functional_unit",
        "fu_per_t",
        "see_direct_per_fu",
        "see_indirect_per_fu",
        "see_total_per_fu",
        "see_chargeable_per_fu",
        "fu_note",
        "produced_t",
        "activity_level_t",
    ]
    return (
        out.select(*cols, "_product_row_id")
        .sort("installation_id", "period_grain", "period", "product_id")
        .collect()
    )


def with_goods_lineage(goods: pl.DataFrame, process_see: pl.DataFrame) -> pl.DataFrame:
    """`goods_see`'s rows with their `_source_row_ids`: the process's (sorted, distinct) row ids with the
    product's row put in its place. Apart from the SEE: the export lines need only the SEE, and these lists (a
    process's lineage holds every precursor invoice line: 10^5 ids) take as long as the rest of the goods."""
    keys = ["installation_id", "process_id", "period", "period_grain"]
    lineage = process_see.lazy().select(*keys, "_source_row_ids")
    out = goods.lazy().join(lineage, on=keys, how="left", maintain_order="left")
    return _add_to_sorted_ids(out, "_source_row_ids", "_product_row_id").drop("_product_row_id").collect()


def default_see_exprs(annex_ii: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The DVR default SEE of a good from `with_default_values`' marked-up columns, tCO2e/t: (direct,
    indirect, chargeable). An Annex IV row has only a total, which counts as direct; chargeable is the direct
    value for Annex II goods, else the total. One rule for export lines and the reports' what-if."""
    direct = pl.coalesce("dv_direct_marked_up", "dv_total_marked_up")
    indirect = pl.max_horizontal(pl.col("dv_total_marked_up") - direct, pl.lit(0.0))
    chargeable = pl.when(annex_ii).then(direct).otherwise(pl.col("dv_total_marked_up"))
    return direct, indirect, chargeable


# An export line's SEE, default value and texts depend only on these columns (the line's own values, before the
# product's fill in): worked out once per distinct key, then joined to the lines.
LINE_KEY = {
    "product_id": "_k_product",
    "cn_code": "_k_cn",
    "installation_id": "_k_inst",
    "production_period": "_k_period",
    "declaration_year": "_k_year",
}


def export_rows(exports: pl.LazyFrame) -> pl.DataFrame:
    """The export lines in their grain's order (export_id, line_no) with their key columns for the SEE lookup:
    what `export_lines` reads, collected on its own (it needs no other table)."""
    # read by the distinct keys and by the join back (which keeps this order: sorted before the columns are added)
    return (
        exports.with_columns(declaration_year=pl.col("declaration_date").dt.year().cast(pl.Int64))
        .rename(LINE_KEY)
        .sort("export_id", "line_no")
        .collect()
    )


def export_lines(
    exports: pl.LazyFrame | pl.DataFrame,
    products: pl.LazyFrame,
    installations: pl.LazyFrame,
    goods: pl.DataFrame,
    ref: CbamReference,
) -> pl.DataFrame:
    """Per export line: net mass, SEE (actual from goods_see, else DVR default) and embedded emissions.
    `exports`: the raw lines, or `export_rows` of them."""
    prods = products.select(
        "product_id",
        pl.col("cn_code").alias("_p_cn"),
        pl.col("installation_id").alias("_p_inst"),
        pl.col("unit_mass_t").alias("_p_unit_mass_t"),
    )
    inst = installations.select("installation_id", pl.col("country").alias("origin_country")).unique(
        "installation_id"
    )
    ex = exports if isinstance(exports, pl.DataFrame) else export_rows(exports)
    keys = ex.lazy().select(LINE_KEY.values()).unique()
    lines = (
        keys.with_columns(pl.col(k).alias(c) for c, k in LINE_KEY.items())
        .join(prods, on="product_id", how="left")
        .with_columns(
            cn_code=pl.coalesce("cn_code", "_p_cn"),
            installation_id=pl.coalesce("installation_id", "_p_inst"),
            production_period=pl.coalesce("production_period", pl.col("declaration_year").cast(pl.String)),
        )
        .with_columns(
            period_grain=pl.when(pl.col("production_period").str.len_chars() == 7)
            .then(pl.lit("month"))
            .otherwise(pl.lit("year"))
        )
        .join(inst, on="installation_id", how="left")
    )
    g = goods.lazy().select(
        "installation_id",
        "product_id",
        pl.col("period").alias("production_period"),
        "period_grain",
        pl.col("see_direct").alias("_g_dir"),
        pl.col("see_indirect").alias("_g_ind"),
        pl.col("see_chargeable").alias("_g_chg"),
        pl.col("default_value_share").alias("_g_share"),
        pl.col("see_status").alias("_g_status"),
        pl.col("annex_ii_direct_only").alias("_g_annex"),
    )
    # collected: the default-value lookup reads its distinct keys first, and the lines' keys come from the
    # export lines (a unique over every line)
    lines = (
        lines.join(g, on=["installation_id", "product_id", "production_period", "period_grain"], how="left")
        .collect()
        .lazy()
    )
    actual = pl.col("_g_dir").is_not_null()
    lines = ref.with_default_values(
        lines.with_columns(
            _dv_cn=pl.when(~actual).then(pl.col("cn_code")),
            _dv_country=pl.when(~actual).then(pl.col("origin_country")),
            _dv_year=pl.when(~actual).then(pl.col("declaration_year")),
        ),
        "_dv_cn",
        "_dv_country",
        "_dv_year",
    )
    lines = ref.with_cn_info(lines, "cn_code")
    annex = pl.coalesce(pl.col("cn_annex_ii_direct_only"), pl.col("_g_annex")).fill_null(False)
    dv_dir, dv_ind, dv_chg = default_see_exprs(annex)
    reason = (
        pl.when(actual)
        .then(None)
        .when(pl.col("installation_id").is_null())
        .then(pl.lit("no installation for the line or its product"))
        .when(pl.col("_g_status").is_not_null())
        .then(
            pl.concat_str(pl.lit("SEE not computable for the installation and period: "), pl.col("_g_status"))
        )
        .otherwise(pl.lit("no SEE computed for the installation, product and production period"))
    )
    per_key = lines.select(
        *LINE_KEY.values(),
        "cn_code",
        "installation_id",
        "origin_country",
        "production_period",
        "period_grain",
        "_p_unit_mass_t",
        determination=pl.when(actual).then(pl.lit("actual")).otherwise(pl.lit("default")),
        default_value_reason=pl.when(actual | dv_dir.is_not_null())
        .then(reason)
        .otherwise(pl.concat_str(reason, pl.lit("; no default value for the CN code and origin"))),
        see_direct=pl.when(actual).then(pl.col("_g_dir")).otherwise(dv_dir),
        see_indirect=pl.when(actual).then(pl.col("_g_ind")).otherwise(dv_ind),
        see_chargeable_per_t=pl.when(actual).then(pl.col("_g_chg")).otherwise(dv_chg),
        default_value_share=pl.when(actual).then(pl.col("_g_share")).otherwise(pl.lit(1.0)),
        annex_ii_direct_only=annex,
        dv_used_table=pl.col("dv_used_table"),
        dv_fallback_reason=pl.col("dv_fallback_reason"),
        dv_markup=pl.when(~actual).then(pl.col("dv_markup")),
        dv_workbook_version=pl.col("dv_workbook_version"),
    )
    net_mass = (
        pl.when(pl.col("unit") == "pcs")
        .then(pl.col("quantity") * pl.col("_p_unit_mass_t"))
        .otherwise(pl.col("quantity") * to_factor_expr(pl.col("unit"), "t"))
    )
    out = (
        ex.lazy()
        .join(per_key, on=list(LINE_KEY.values()), how="left", nulls_equal=True, maintain_order="left")
        .with_columns(net_mass_t=net_mass, product_id=pl.col("_k_product"))
        .with_columns(
            embedded_direct_tco2e=pl.col("net_mass_t") * pl.col("see_direct"),
            embedded_indirect_tco2e=pl.col("net_mass_t") * pl.col("see_indirect"),
            embedded_chargeable_tco2e=pl.col("net_mass_t") * pl.col("see_chargeable_per_t"),
            net_mass_note=pl.when(pl.col("net_mass_t").is_null()).then(
                pl.concat_str(pl.lit("quantity in "), pl.col("unit"), pl.lit(" cannot be turned into tonnes"))
            ),
        )
    )
    cols = [
        "export_id",
        "line_no",
        "declaration_date",
        "importer_eori",
        "importer_name",
        "importer_country",
        "destination_country",
        "product_id",
        "cn_code",
        "installation_id",
        "origin_country",
        "production_period",
        "period_grain",
        "quantity",
        "unit",
        "net_mass_t",
        "net_mass_note",
        "see_direct",
        "see_indirect",
        "see_chargeable_per_t",
        "annex_ii_direct_only",
        "embedded_direct_tco2e",
        "embedded_indirect_tco2e",
        "embedded_chargeable_tco2e",
        "default_value_share",
        "determination",
        "default_value_reason",
        "dv_used_table",
        "dv_fallback_reason",
        "dv_markup",
        "dv_workbook_version",
        "_source_row_id",
    ]
    return out.select(cols).collect()
