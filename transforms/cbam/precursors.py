"""Precursors: internal flows between processes and purchased precursors with the SEE each one carries.

Purchased precursors (materials of kind `precursor`) count as consumed in the material's process:
- from `supplier_invoices` in the month of the invoice date, unless `precursor_consumption` has rows for that
  material, installation and month, which then replace the invoices; consumption rows take the supplier /
  origin mix of the same year's invoices of that material (mass-weighted), else their origin is unknown;
- at the supplier's SEE when a `supplier_emissions` row applies (same supplier installation, the material or
  its CN code, date within period_start..period_end, one year when no end; the latest period_start wins). Rows
  with determination `default` are used as given and count as default values; actual rows without verification
  count as actual and are flagged `actual_unverified`;
- else at the default value (DVR Annex I) of the origin country (invoice's country_of_origin, else the
  supplier's country; unknown → Annex IV) increased by the mark-up of the complex good's reporting year (Q&A
  4.25, MIR Art 13), with no embedded electricity (unknown → 0, recorded);
- EU and CBAM Reg Annex III pt 1 origins count zero (MIR Annex III B).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.cbam.errors import CbamInputError, MissingFactorError
from transforms.cbam.periods import add_year_grain, keep_years, month_parts
from transforms.reference.cbam import DV_COLUMNS, CbamReference
from transforms.reference.goods import ANNEX_II_CATEGORIES, category_expr
from transforms.stable import distinct_sorted, fsum, quotient
from transforms.units import to_factor_expr

# a month part's key columns (`_purchase_parts`): everything but its mass and lineage
PART_KEYS = [
    "installation_id",
    "process_id",
    "material_id",
    "month",
    "cn_code",
    "supplier_id",
    "supplier_installation_id",
    "origin_country",
    "applies_on",
    "material_goods_category",
    "quantity_source",
]
PURCHASE_GROUP = [
    "installation_id",
    "process_id",
    "material_id",
    "cn_code",
    "supplier_id",
    "supplier_installation_id",
    "origin_country",
    "quantity_source",
    "see_origin",
    "determination",
    "is_default",
    "actual_unverified",
    "precursor_annex_ii",
    "document_ref",
    "supplier_data_status",
    "fallback_reason",
    "dv_used_table",
    "dv_fallback_reason",
    "dv_markup",
    "dv_workbook_version",
    "electricity_note",
]


def internal_flows(flows: pl.LazyFrame, years: Sequence[int] | None) -> pl.DataFrame:
    """Per installation × from-process × to-process × period: mass passed (t); self-loops allowed."""
    monthly = (
        keep_years(month_parts(flows, dataset="process_flows"), years)
        .with_columns(mass_t=pl.col("mass_t") * pl.col("fraction"))
        .group_by("installation_id", "from_process_id", "to_process_id", pl.col("month").alias("period"))
        .agg(pl.col("mass_t").pipe(fsum), pl.col("_source_row_id").unique().sort().alias("_source_row_ids"))
    )
    keys = ["installation_id", "from_process_id", "to_process_id"]
    return add_year_grain(monthly, keys, ["mass_t"], ["_source_row_ids"]).collect()


def _to_tonnes(qty: str, unit: str, unit_mass: str) -> pl.Expr:
    mass = pl.col(qty) * to_factor_expr(pl.col(unit), "t")
    return pl.when(pl.col(unit) == "pcs").then(pl.col(qty) * pl.col(unit_mass)).otherwise(mass)


def _purchase_parts(
    materials: pl.LazyFrame,
    suppliers: pl.LazyFrame,
    invoices: pl.LazyFrame,
    consumption: pl.LazyFrame,
    years: Sequence[int] | None,
) -> pl.DataFrame:
    """Month parts of precursor quantities (t) with supplier installation, origin and applicability date: one
    row per distinct part key (PART_KEYS) with the parts' masses (`_masses`) and source rows.

    Collected: the caller looks parts up in themselves (supplier match, default values) and branches on them,
    and a lazy plan would re-read and re-split the invoices in every branch."""
    mats = materials.filter(pl.col("kind").str.strip_chars().str.to_lowercase() == "precursor").select(
        "material_id",
        pl.col("cn_code").alias("material_cn_code"),
        pl.col("goods_category").alias("material_goods_category"),
        pl.col("consumed_in_process_id"),
        pl.col("unit_mass_t"),
    )
    sup = suppliers.select(
        "supplier_id",
        pl.col("country").alias("supplier_country"),
        pl.col("installation_id").alias("sup_inst"),
    )
    # Only precursor invoices matter: join the materials before splitting into months (most invoices are not).
    # Collected once: both the invoice parts and the consumption mix below read it.
    # The filter on the (few) precursor material ids goes into the Parquet scan: only the matching rows of the
    # other columns are decoded (an inner join would read every invoice line first).
    mats = mats.collect().lazy()
    # a list of values: `is_in` with a Series of the column's own type is deprecated (ambiguous) in polars 2
    ids = mats.select(pl.col("material_id").drop_nulls().unique()).collect().to_series().to_list()
    # Collected: the date check in month_parts and the split below would each read the Parquet file again.
    precursor_invoices = (
        invoices.filter(pl.col("material_id").is_in(ids))
        .join(mats, on="material_id", how="inner")
        .collect()
        .lazy()
    )
    inv = (
        keep_years(month_parts(precursor_invoices, "invoice_date", None, dataset="supplier_invoices"), years)
        .join(sup, on="supplier_id", how="left")
        .with_columns(mass_t=_to_tonnes("quantity", "unit", "unit_mass_t"))
        .collect()
    )
    bad = inv.filter(pl.col("mass_t").is_null()).select(
        "installation_id", "material_id", "_source_row_id", "unit"
    )
    bad = bad.head(50)
    if bad.height:
        raise CbamInputError(
            [
                {
                    "installation_id": r["installation_id"],
                    "material_id": r["material_id"],
                    "row": r["_source_row_id"],
                    "reason": f"precursor quantity in {r['unit']!r} cannot be turned into tonnes "
                    "(pieces need the material's unit_mass_t)",
                }
                for r in bad.iter_rows(named=True)
            ]
        )
    inv = inv.lazy().with_columns(
        supplier_installation_id=pl.coalesce("supplier_installation_id", "sup_inst"),
        origin_country=pl.coalesce("country_of_origin", "supplier_country"),
        cn_code=pl.coalesce("cn_code", "material_cn_code"),
        process_id=pl.col("consumed_in_process_id"),
        applies_on=pl.col("invoice_date"),
        year=pl.col("month").str.slice(0, 4),
    )
    cons = keep_years(month_parts(consumption, dataset="precursor_consumption"), years).join(
        mats, on="material_id", how="inner"
    )
    replaced = cons.select("installation_id", "material_id", "month").unique()
    from_invoices = inv.join(replaced, on=["installation_id", "material_id", "month"], how="anti").select(
        "installation_id",
        "process_id",
        "material_id",
        "month",
        pl.col("mass_t") * pl.col("fraction"),
        "cn_code",
        "supplier_id",
        "supplier_installation_id",
        "origin_country",
        "applies_on",
        "material_goods_category",
        "_source_row_id",
        quantity_source=pl.lit("invoice"),
    )
    cons = cons.with_columns(
        year=pl.col("month").str.slice(0, 4), _mass=pl.col("mass_t") * pl.col("fraction")
    )
    keys3 = ["installation_id", "material_id", "year"]
    # Supplier / origin mix of a material's invoices per installation and year (credit notes netted), for the
    # installations, materials and years that have consumption rows.
    mix = (
        inv.join(cons.select("installation_id", "material_id", "year").unique(), on=keys3, how="semi")
        .group_by(
            "installation_id",
            "material_id",
            "year",
            "cn_code",
            "supplier_id",
            "supplier_installation_id",
            "origin_country",
        )
        .agg(
            pl.col("mass_t").pipe(fsum).alias("_mix_t"),
            pl.col("_source_row_id").unique().sort().alias("_mix_ids"),
        )
        .filter(pl.col("_mix_t") > 0)
        .with_columns(
            _share=quotient(
                pl.col("_mix_t"), pl.col("_mix_t").pipe(fsum).over("installation_id", "material_id", "year")
            )
        )
    )
    from_consumption = (
        cons.join(mix, on=["installation_id", "material_id", "year"], how="left")
        .with_columns(
            mass_t=pl.col("_mass") * pl.col("_share").fill_null(1.0),
            cn_code=pl.coalesce("cn_code", "material_cn_code"),
            applies_on=pl.col("period_start"),
            _source_row_ids=pl.concat_list(
                pl.col("_source_row_id"), pl.col("_mix_ids").fill_null(pl.lit([], dtype=pl.List(pl.String)))
            ),
        )
        .select(
            "installation_id",
            "process_id",
            "material_id",
            "month",
            "mass_t",
            "cn_code",
            "supplier_id",
            "supplier_installation_id",
            "origin_country",
            "applies_on",
            "material_goods_category",
            "_source_row_ids",
            quantity_source=pl.lit("precursor_consumption"),
        )
    )
    # One row per distinct part key (PART_KEYS) with the masses of its parts and their source rows.
    per_key = [
        from_invoices.group_by(PART_KEYS).agg(
            pl.col("mass_t").alias("_masses"), pl.col("_source_row_id").alias("_source_row_ids")
        ),
        from_consumption.group_by(PART_KEYS).agg(
            pl.col("mass_t").alias("_masses"),
            pl.col("_source_row_ids").list.explode(keep_nulls=False, empty_as_null=False),
        ),
    ]
    return pl.concat(per_key, how="vertical_relaxed").collect()


def _supplier_match(parts: pl.LazyFrame, supplier_em: pl.LazyFrame) -> pl.DataFrame:
    """The applicable supplier_emissions row per (supplier installation, material, cn, date)."""
    keys = ["supplier_installation_id", "material_id", "cn_code", "applies_on"]
    wanted = parts.select(keys).unique().filter(pl.col("supplier_installation_id").is_not_null())
    se = supplier_em.select(
        "supplier_installation_id",
        pl.col("cn_code").alias("se_cn_code"),
        pl.col("material_id").alias("se_material_id"),
        pl.col("period_start").alias("se_period_start"),
        pl.coalesce(
            pl.col("period_end"), pl.col("period_start").dt.offset_by("1y").dt.offset_by("-1d")
        ).alias("se_period_end"),
        "see_direct",
        "see_indirect",
        "embedded_electricity_mwh_per_t",
        "electricity_ef_tco2_per_mwh",
        "electricity_ef_source",
        "determination",
        "verified",
        "document_ref",
        pl.col("_source_row_id").alias("se_row_id"),
    )
    cand = wanted.join(se, on="supplier_installation_id", how="inner").filter(
        (pl.col("se_material_id").is_null() | (pl.col("se_material_id") == pl.col("material_id")))
        & (pl.col("se_cn_code").is_null() | (pl.col("se_cn_code") == pl.col("cn_code")))
        & (pl.col("se_material_id").is_not_null() | pl.col("se_cn_code").is_not_null())
    )
    for_key = cand.select(keys).unique().with_columns(_has_rows=pl.lit(True))
    hit = cand.filter(pl.col("applies_on").is_between(pl.col("se_period_start"), pl.col("se_period_end")))
    hit = hit.filter(pl.col("se_period_start") == pl.col("se_period_start").max().over(keys))
    hit = hit.filter(pl.col("se_row_id") == pl.col("se_row_id").max().over(keys))  # deterministic tie-break
    # Collected: `wanted` and `cand` each feed two branches of this plan.
    return (
        wanted.join(hit, on=keys, how="left", nulls_equal=True)
        .join(for_key, on=keys, how="left", nulls_equal=True)
        .collect()
    )


def purchased_precursors(
    materials: pl.LazyFrame,
    suppliers: pl.LazyFrame,
    invoices: pl.LazyFrame,
    consumption: pl.LazyFrame,
    supplier_em: pl.LazyFrame,
    ref: CbamReference,
    years: Sequence[int] | None,
) -> pl.DataFrame:
    """Per installation × process × precursor source × period: mass (t), SEE used and where it came from."""
    keys = ["supplier_installation_id", "material_id", "cn_code", "applies_on"]
    # Every attribute below (supplier match, default value, SEE, texts) depends only on a part's key columns, so
    # it is worked out once per distinct key; each key keeps the masses of its parts (a list) for the sums, which
    # stay per part (Σ mass × SEE, not SEE × Σ mass: the same bits as summing the parts one by one).
    found = _purchase_parts(materials, suppliers, invoices, consumption, years).with_row_index("_part")
    # The parts' masses and source rows (10^5 of each) wait aside, by `_part`, until the sums: every join below
    # would copy them.
    carried = found.select("_part", "_masses", "_source_row_ids")
    parts = found.drop("_masses", "_source_row_ids").lazy()
    parts = parts.join(_supplier_match(parts, supplier_em).lazy(), on=keys, how="left", nulls_equal=True)
    exempt = pl.col("origin_country").is_in(sorted(ref.exempt_origins))
    has_supplier = pl.col("se_row_id").is_not_null()
    parts = parts.with_columns(
        year=pl.col("month").str.slice(0, 4).cast(pl.Int64),
        see_origin=pl.when(exempt)
        .then(pl.lit("exempt_origin"))
        .when(has_supplier & (pl.col("determination").str.to_lowercase() == "default"))
        .then(pl.lit("supplier_default"))
        .when(has_supplier)
        .then(pl.lit("supplier_actual"))
        .otherwise(pl.lit("default_value")),
        supplier_data_status=pl.when(has_supplier)
        .then(pl.lit("applied"))
        .when(pl.col("supplier_installation_id").is_null())
        .then(pl.lit("no_supplier_installation"))
        .when(pl.col("_has_rows").fill_null(False))
        .then(pl.lit("period_not_covered"))
        .otherwise(pl.lit("no_supplier_emissions")),
    )
    need_dv = pl.col("see_origin") == "default_value"
    parts = ref.with_default_values(
        parts.with_columns(
            _dv_cn=pl.when(need_dv).then(pl.col("cn_code")),
            _dv_country=pl.when(need_dv).then(pl.col("origin_country")),
            _dv_year=pl.when(need_dv).then(pl.col("year")),
        ),
        "_dv_cn",
        "_dv_country",
        "_dv_year",
    )
    parts = parts.with_columns(pl.when(need_dv).then(pl.col(c)).alias(c) for c in DV_COLUMNS)
    parts = ref.with_cn_info(parts, "cn_code").with_columns(
        precursor_annex_ii=pl.coalesce(
            pl.col("cn_annex_ii_direct_only"),
            category_expr(pl.col("material_goods_category"), pl.col("cn_code")).is_in(
                sorted(ANNEX_II_CATEGORIES)
            ),
        ).fill_null(False)
    )
    dv_direct = pl.coalesce("dv_direct_marked_up", "dv_total_marked_up")
    origin = pl.col("see_origin")
    supplier = origin.is_in(["supplier_actual", "supplier_default"])
    ee_supplier = pl.coalesce(
        pl.col("embedded_electricity_mwh_per_t"),
        pl.when(pl.col("electricity_ef_tco2_per_mwh") > 0).then(
            quotient(pl.col("see_indirect"), pl.col("electricity_ef_tco2_per_mwh"))
        ),
    )
    parts = parts.with_columns(
        see_direct=pl.when(origin == "exempt_origin")
        .then(0.0)
        .when(supplier)
        .then(pl.col("see_direct"))
        .otherwise(dv_direct),
        see_indirect=pl.when(origin == "exempt_origin")
        .then(0.0)
        .when(supplier)
        .then(pl.col("see_indirect").fill_null(0.0))
        .otherwise(pl.max_horizontal(pl.col("dv_total_marked_up") - dv_direct, pl.lit(0.0))),
        embedded_electricity_mwh_per_t=pl.when(supplier).then(ee_supplier.fill_null(0.0)).otherwise(0.0),
        electricity_note=pl.when(supplier & ee_supplier.is_null())
        .then(pl.lit("supplier gave no embedded electricity: 0"))
        .when(origin == "default_value")
        .then(pl.lit("default value: embedded electricity unknown, 0"))
        .when(supplier & pl.col("see_indirect").is_null())
        .then(pl.lit("supplier gave no see_indirect: 0")),
        determination=pl.when(origin.is_in(["supplier_default", "default_value"]))
        .then(pl.lit("default"))
        .otherwise(pl.lit("actual")),
        is_default=origin.is_in(["supplier_default", "default_value"]),
        actual_unverified=(origin == "supplier_actual") & ~pl.col("verified").fill_null(False),
        fallback_reason=pl.when(origin == "default_value").then(
            pl.concat_str(
                pl.col("supplier_data_status"),
                pl.when(pl.col("origin_country").is_null()).then(pl.lit("origin_unknown_annex_iv")),
                separator="; ",
                ignore_nulls=True,
            )
        ),
    ).collect()  # once: read by the missing-SEE check and the sums below (the lookups self-join the plan)
    missing = parts.filter(pl.col("see_direct").is_null()).select(
        "installation_id", "process_id", "material_id", "cn_code", "origin_country", "month", "see_origin"
    )
    missing = missing.unique()
    if missing.height:
        raise MissingFactorError(
            missing.rename({"month": "period"})
            .with_columns(
                reason=pl.lit(
                    "no SEE for purchased precursor: supplier row without see_direct, or no "
                    "default value for its CN code and origin"
                )
            )
            .to_dicts()
        )
    group = [*PURCHASE_GROUP, "month"]
    parts = (
        parts.join(parts.select(group).unique().with_row_index("_g"), on=group, how="left", nulls_equal=True)
        .join(carried, on="_part", how="left")
        .lazy()
    )
    w = pl.col("_masses")
    sums = (
        parts.select("_g", "_masses", "see_direct", "see_indirect", "embedded_electricity_mwh_per_t")
        .explode("_masses")
        .group_by("_g")
        .agg(
            w.pipe(fsum).alias("mass_t"),
            (w * pl.col("see_direct")).pipe(fsum).alias("embedded_direct_tco2e"),
            (w * pl.col("see_indirect")).pipe(fsum).alias("embedded_indirect_tco2e"),
            (w * pl.col("embedded_electricity_mwh_per_t")).pipe(fsum).alias("embedded_electricity_mwh"),
        )
    )
    monthly = (
        parts.group_by("_g")
        .agg(
            pl.col(group).first(),
            pl.col("_source_row_ids").list.explode(keep_nulls=False, empty_as_null=False),
            pl.col("se_row_id").drop_nulls().unique().sort().alias("supplier_emissions_row_ids"),
        )
        .with_columns(distinct_sorted(pl.col("_source_row_ids")))
        .join(sums, on="_g", how="inner")
        .rename({"month": "period"})
        .drop("_g")
    )
    sums = ["mass_t", "embedded_direct_tco2e", "embedded_indirect_tco2e", "embedded_electricity_mwh"]
    both = add_year_grain(monthly, PURCHASE_GROUP, sums, ["_source_row_ids", "supplier_emissions_row_ids"])
    nz = pl.col("mass_t") != 0
    return (
        both.with_columns(
            source=pl.lit("purchased"),
            see_direct=pl.when(nz).then(quotient(pl.col("embedded_direct_tco2e"), pl.col("mass_t"))),
            see_indirect=pl.when(nz).then(quotient(pl.col("embedded_indirect_tco2e"), pl.col("mass_t"))),
            embedded_electricity_mwh_per_t=pl.when(nz).then(
                quotient(pl.col("embedded_electricity_mwh"), pl.col("mass_t"))
            ),
            default_direct_tco2e=pl.when(pl.col("is_default"))
            .then(pl.col("embedded_direct_tco2e"))
            .otherwise(0.0),
            embedded_indirect_non_annex_ii_tco2e=pl.when(pl.col("precursor_annex_ii"))
            .then(0.0)
            .otherwise(pl.col("embedded_indirect_tco2e")),
            process_missing_reason=pl.when(pl.col("process_id").is_null()).then(
                pl.lit("material has no consumed_in_process_id: not in any SEE")
            ),
        )
        .sort(
            "installation_id",
            "period_grain",
            "period",
            "process_id",
            "material_id",
            "supplier_installation_id",
            "origin_country",
            "quantity_source",
            nulls_last=True,
        )
        .collect()
    )
