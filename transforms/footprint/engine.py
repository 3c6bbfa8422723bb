"""Product carbon footprint, ISO 14067 partial CFP cradle-to-gate, per product × period (per tonne and per piece).

Parts, each in tCO2e per tonne of the producing process's output (its CBAM activity level):
- own direct: CBAM `own_see_direct` (attributed direct emissions of the process, Scope 1 side);
- own indirect: the process's electricity × the China life-cycle electricity carbon footprint factor (MEE/NBS/NEA,
  data-year rule as for grid factors) when `own_electricity_mwh_per_t` is given, optionally with the GEC-covered
  share at zero (`electricity_method="gec_backed"`); else CBAM `own_see_indirect` (recorded as the basis);
- precursors: Σ precursor mass × CBAM SEE (direct + indirect) of purchased precursors (precursor_inputs);
- purchased materials: materials and fuel upstream from supplier_invoices (transforms/ghg/materials.py);
- inbound transport: WTW of inbound legs allocated to the installation (transforms/logistics).
Processes feeding each other inside one installation (process_flows) pass on their whole footprint per tonne
(solved by fixed-point iteration of x = b + A·x, the same structure as CBAM's (I − A)⁻¹ b).
Outbound transport (to the customer) is reported separately: cradle-to-customer = cradle-to-gate + outbound.
Primary data share and data-quality score follow the rules written in docs/computed/footprint.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import polars as pl

from transforms.computed import computed_table
from transforms.ghg.common import (
    MONTH,
    YEAR,
    in_both_grains,
    join_reasons,
    raw_frame,
    safe_div,
)
from transforms.ghg.electricity import energy_bill_months, pick_grid_factor
from transforms.ghg.factors import GhgFactors, allocation_versions
from transforms.ghg.materials import days_tco2e, engine_material_days
from transforms.ghg.precursors import precursor_rows
from transforms.stable import added, canonical, fsum
from transforms.units import convert_expr

ElectricityMethod = Literal["lifecycle_grid", "gec_backed"]
PROCESS_KEYS = ["installation_id", "process_id", "period", "period_grain"]
FACTOR_TABLES = ("china_grid_factors",)

# Data-quality ratings (1 best .. 5 worst) per source of a part; see docs/computed/footprint.md.
DQR = {"plant": 1.0, "plant_electricity": 2.0, "supplier_specific": 2.0, "secondary": 3.0, "cbam_default": 4.0,
       "gap": 5.0}  # fmt: skip
GAP_SCORE_FLOOR = 3.0  # an incomplete inventory is never rated better than "fair"
MAX_ITERATIONS = 200
TOLERANCE = 1e-12

# Per-tonne quantities that add up along internal process flows.
ADDITIVE = ["own_direct", "own_indirect", "precursors", "materials", "inbound_transport", "primary", "dq_weighted",
            "precursor_default", "biogenic"]  # fmt: skip

# the published columns, in order: data_contracts/computed/product_footprint.odcs.yaml
FOOTPRINT_COLUMNS = computed_table("product_footprint").column_names


def _spread(amounts: pl.LazyFrame, ps: pl.LazyFrame, value_cols: list[str]) -> pl.LazyFrame:
    """Amounts keyed by installation_id, process_id (may be null), period, period_grain → per process of the
    period: to the named process when it has a CBAM row, else spread over the installation's processes of the
    period by activity level. Amounts of installations without any process row in the period are dropped."""
    named = ps.select(*PROCESS_KEYS, known=pl.lit(True))
    tagged = amounts.join(named, on=PROCESS_KEYS, how="left")
    direct = tagged.filter(pl.col("known").fill_null(False)).drop("known")
    shares = ps.select(
        "installation_id",
        "period",
        "period_grain",
        process_to="process_id",
        share=safe_div(
            pl.col("activity_level_t"),
            pl.col("activity_level_t").pipe(fsum).over("installation_id", "period", "period_grain"),
        ),
    )
    spread = (
        tagged.filter(~pl.col("known").fill_null(False)).drop("known", "process_id")
        .join(shares, on=["installation_id", "period", "period_grain"], how="inner")
        .with_columns([pl.col(c) * pl.col("share") for c in value_cols])
        .rename({"process_to": "process_id"}).drop("share")
    )  # fmt: skip
    return pl.concat([direct, spread], how="diagonal")


def _electricity(
    ps: pl.LazyFrame,
    raw: Mapping[str, pl.LazyFrame],
    factors: GhgFactors,
    method: ElectricityMethod,
    as_of: date | None,
) -> pl.LazyFrame:
    """Own indirect per tonne, its basis and factor, per process-period row."""
    years = (
        ps.select("installation_id", year=pl.col("period").str.slice(0, 4))
        .unique()
        .with_columns(
            region=pl.lit("China"), region_level=pl.lit("national"), regional_grid=pl.lit(None, pl.String)
        )
    )
    lc = pick_grid_factor(years, factors, "lifecycle_footprint", as_of).select(
        "installation_id",
        "year",
        lc_factor="factor_tco2_per_mwh",
        lc_year="factor_data_year",
        lc_rule="factor_vintage_rule",
    )
    out = ps.with_columns(year=pl.col("period").str.slice(0, 4)).join(
        lc, on=["installation_id", "year"], how="left"
    )
    if method == "gec_backed":
        bills = in_both_grains(
            energy_bill_months(raw)
            .filter(pl.col("energy_kind") == "electricity")
            .with_columns(month_date=(pl.col("month") + "-01").str.to_date()),
            "month_date",
        )
        share = (
            bills.group_by("installation_id", "period", "period_grain")
            .agg(pl.col("electricity_mwh").pipe(fsum), pl.col("renewable_mwh").pipe(fsum))
            .select(
                "installation_id",
                "period",
                "period_grain",
                renewable_electricity_share=safe_div(pl.col("renewable_mwh"), pl.col("electricity_mwh")),
            )
        )
        out = out.join(share, on=["installation_id", "period", "period_grain"], how="left")
    else:
        out = out.with_columns(renewable_electricity_share=pl.lit(None, pl.Float64))
    has_mwh = pl.col("own_electricity_mwh_per_t").is_not_null() & pl.col("lc_factor").is_not_null()
    non_renewable = 1 - pl.col("renewable_electricity_share").fill_null(0.0)
    return out.with_columns(
        own_indirect=pl.when(has_mwh).then(pl.col("own_electricity_mwh_per_t") * pl.col("lc_factor") * non_renewable)
        .otherwise(pl.col("own_see_indirect").fill_null(0.0)),
        electricity_basis=pl.when(has_mwh).then(pl.lit(method)).otherwise(pl.lit("cbam_indirect")),
        electricity_factor_kgco2e_per_kwh=pl.when(has_mwh).then(convert_expr(pl.col("lc_factor"), "tCO2/MWh", "kgCO2/kWh")),
        electricity_factor_data_year=pl.when(has_mwh).then("lc_year"),
        electricity_factor_rule=pl.when(has_mwh).then("lc_rule"),
        electricity_issue=pl.when(~has_mwh).then(pl.lit(
            "own_electricity_mwh_per_t not given: CBAM own_see_indirect (CBAM electricity factor) used")),
    )  # fmt: skip


def _split_names(col: str) -> pl.Expr:
    return (
        pl.when(pl.col(col).fill_null("") != "")
        .then(pl.col(col).str.split(","))
        .otherwise(pl.lit([], pl.List(pl.String)))
    )


def _precursors(purchased: pl.LazyFrame) -> pl.LazyFrame:
    total = pl.col("mass_t") * (pl.col("see_direct").fill_null(0.0) + pl.col("see_indirect").fill_null(0.0))
    is_default = pl.col("is_default_value")
    return purchased.group_by(PROCESS_KEYS).agg(
        precursors_t=total.pipe(fsum),
        precursor_default_t=pl.when(is_default).then(total).otherwise(0.0).pipe(fsum),
        primary_t=pl.when(is_default).then(0.0).otherwise(total).pipe(fsum),
        dq_weighted_t=(total * pl.when(is_default).then(DQR["cbam_default"]).otherwise(DQR["supplier_specific"])).pipe(fsum),
        prec_gap_count=pl.col("footprint_gap").cast(pl.Float64).pipe(fsum),
        prec_gap_materials=pl.when("footprint_gap").then(pl.coalesce("material_id", "cn_code"))
        .drop_nulls().unique().sort().str.join(","),
    )  # fmt: skip


def _materials(days: pl.LazyFrame, ps: pl.LazyFrame) -> pl.LazyFrame:
    # `days`: engine_material_days, the invoice lines summed per day (everything below is linear in tco2e and
    # keyed by these), so millions of invoice lines are a few thousand rows before the grains, the spread and sums
    day = ["installation_id", "process_id", "invoice_date", "material_id", "footprint_source"]
    per_day = days.group_by(day).agg(tco2e=days_tco2e(), _lines=pl.col("lines").sum())
    lines = in_both_grains(per_day.collect().lazy(), "invoice_date")
    src = pl.col("footprint_source")
    dqr = (
        pl.when(src == "supplier_specific")
        .then(DQR["supplier_specific"])
        .when(src == "secondary")
        .then(DQR["secondary"])
        .otherwise(DQR["gap"])
    )
    per_line = lines.select(
        *PROCESS_KEYS,
        materials_t="tco2e",
        primary_t=pl.when(src == "supplier_specific").then("tco2e").otherwise(0.0),
        dq_weighted_t=pl.col("tco2e") * dqr,
        gap_count=(src == "gap").cast(pl.Float64) * pl.col("_lines"),
        gap_material=pl.when(src == "gap").then("material_id"),
    )
    spread = _spread(per_line, ps, ["materials_t", "primary_t", "dq_weighted_t"])
    return spread.group_by(PROCESS_KEYS).agg(
        pl.col("materials_t").pipe(fsum), pl.col("primary_t").pipe(fsum), pl.col("dq_weighted_t").pipe(fsum),
        gap_count=pl.col("gap_count").pipe(fsum),
        gap_materials=pl.col("gap_material").drop_nulls().unique().sort().str.join(","),
    )  # fmt: skip


def _inbound(allocations: pl.LazyFrame, raw: Mapping[str, pl.LazyFrame], ps: pl.LazyFrame) -> pl.LazyFrame:
    materials = (
        raw_frame(raw, "materials")
        .select("material_id", process_id="consumed_in_process_id")
        .unique("material_id")
    )
    legs = (
        allocations.filter((pl.col("direction") == "inbound") & pl.col("installation_id").is_not_null()
                           & pl.col("wtw_tco2e").is_not_null())
        .join(materials, on="material_id", how="left")
    )  # fmt: skip
    per_item = in_both_grains(legs, "ship_date").select(
        *PROCESS_KEYS,
        inbound_transport_t="wtw_tco2e",
        primary_t=pl.when(pl.col("is_primary_data")).then("wtw_tco2e").otherwise(0.0),
        dq_weighted_t=pl.col("wtw_tco2e") * pl.col("data_quality_rating").cast(pl.Float64),
    )
    spread = _spread(per_item, ps, ["inbound_transport_t", "primary_t", "dq_weighted_t"])
    return spread.group_by(PROCESS_KEYS).agg(
        pl.col("inbound_transport_t", "primary_t", "dq_weighted_t").pipe(fsum)
    )


def _outbound(allocations: pl.LazyFrame) -> pl.LazyFrame:
    """Per product × period: outbound WTW per tonne shipped (a shipment counts once, in its first leg's period)."""
    out = allocations.filter((pl.col("direction") == "outbound") & pl.col("product_id").is_not_null())
    per_shipment = out.group_by("shipment_id", "product_id").agg(
        ship_date=pl.col("ship_date").min(),
        wtw_tco2e=pl.col("wtw_tco2e").pipe(fsum),
        shipped_t=pl.col("mass_t").max(),
        missing=pl.col("wtw_tco2e").is_null().any(),
    )
    return (
        in_both_grains(per_shipment, "ship_date")
        .group_by("product_id", "period", "period_grain")
        .agg(
            outbound_tco2e=pl.col("wtw_tco2e").pipe(fsum),
            outbound_shipped_t=pl.col("shipped_t").pipe(fsum),
            outbound_missing=pl.col("missing").any(),
        )
        .with_columns(
            outbound_transport_tco2e_per_t=safe_div(pl.col("outbound_tco2e"), pl.col("outbound_shipped_t"))
        )
    )


def _internal_matrix(
    raw: Mapping[str, pl.LazyFrame], ps: pl.LazyFrame, internal: pl.LazyFrame
) -> pl.LazyFrame:
    """A[p, q] = tonnes of q's output used by p per tonne of p, per installation and period: from the CBAM
    engine's internal precursor rows (with `from_process_id`) when there are any, else from raw process_flows."""
    cbam = internal.filter(pl.col("from_process_id").is_not_null()).select(
        "installation_id",
        "period",
        "period_grain",
        "mass_t",
        to_process_id="process_id",
        from_process_id="from_process_id",
    )
    raw_flows = in_both_grains(raw_frame(raw, "process_flows"), "period_start").select(
        "installation_id", "period", "period_grain", "mass_t", "to_process_id", "from_process_id"
    )
    has_cbam = cbam.select(pl.len()).collect().item() > 0
    flows = (
        (cbam if has_cbam else raw_flows)
        .group_by("installation_id", "period", "period_grain", "from_process_id", "to_process_id")
        .agg(pl.col("mass_t").pipe(fsum))
    )
    al = ps.select(
        "installation_id", "period", "period_grain", to_process_id="process_id", al="activity_level_t"
    )
    return (
        flows.join(al, on=["installation_id", "period", "period_grain", "to_process_id"], how="inner")
        .select(
            "installation_id",
            "period",
            "period_grain",
            process_id="to_process_id",
            from_process_id="from_process_id",
            coef=safe_div(pl.col("mass_t"), pl.col("al")),
        )
        .filter(pl.col("coef").is_not_null())
    )


def _propagate(b: pl.DataFrame, a: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """Solve x = b + A·x for the ADDITIVE columns by fixed-point iteration (A's spectral radius < 1 for any
    physical chain: less than one tonne of upstream per tonne of output along a loop); gap flags and the names of
    materials without footprint travel downstream as a logical or / set union."""
    if a.is_empty():
        return b, True
    keys = ["installation_id", "period", "period_grain"]
    carried = [*ADDITIVE, "gap_flag", "gap_list"]
    x = b
    for _ in range(MAX_ITERATIONS):
        upstream = (
            a.join(x.select(*keys, pl.col("process_id").alias("from_process_id"), *carried),
                   on=[*keys, "from_process_id"], how="inner")
            .group_by(*keys, "process_id")
            .agg(*[(pl.col(c) * pl.col("coef")).pipe(fsum).alias(f"up_{c}") for c in ADDITIVE],
                 up_gap=pl.col("gap_flag").max(), up_list=pl.col("gap_list").list.explode(keep_nulls=False, empty_as_null=False).unique())
        )  # fmt: skip
        new = b.join(upstream, on=[*keys, "process_id"], how="left").with_columns(
            *[(pl.col(c) + pl.col(f"up_{c}").fill_null(0.0)).alias(c) for c in ADDITIVE],
            gap_flag=pl.max_horizontal("gap_flag", pl.col("up_gap").fill_null(0.0)),
            gap_list=pl.concat_list(pl.col("gap_list").fill_null([]), pl.col("up_list").fill_null([]))
            .list.unique().list.sort(),
        ).drop([f"up_{c}" for c in ADDITIVE] + ["up_gap", "up_list"])  # fmt: skip
        diff = (
            new.join(x, on=[*keys, "process_id"], suffix="_old")
            .select(pl.max_horizontal([(pl.col(c) - pl.col(f"{c}_old")).abs() for c in ADDITIVE]).max())
            .item()
        )
        lists_same = (
            new.join(x, on=[*keys, "process_id"], suffix="_old")
            .select((pl.col("gap_list") == pl.col("gap_list_old")).all())
            .item()
        )
        x = new
        if (diff is None or diff <= TOLERANCE) and lists_same:
            return x, True
    return x, False


def compute_product_footprint(
    raw: Mapping[str, pl.LazyFrame],
    factors: GhgFactors,
    process_see: pl.DataFrame | pl.LazyFrame,
    precursor_inputs: pl.DataFrame | pl.LazyFrame,
    shipment_allocations: pl.DataFrame | pl.LazyFrame,
    stream_emissions: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    electricity_method: ElectricityMethod = "lifecycle_grid",
    as_of: date | None = None,
    material_days: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """PCF per product × period (rows follow the CBAM process periods); columns FOOTPRINT_COLUMNS.

    `process_see`, `precursor_inputs`, `stream_emissions`: the CBAM engine's outputs (docs/computed/cbam.md);
    `shipment_allocations`: transforms.logistics allocations. `process_see` may carry `own_electricity_mwh_per_t`.
    `material_days`: `transforms.ghg.materials.engine_material_days(raw)` when the caller already has it
    (compute_ghg shares it with the inventory engine); None: computed here.
    """
    ps = process_see.lazy()
    if "own_electricity_mwh_per_t" not in ps.collect_schema().names():
        ps = ps.with_columns(own_electricity_mwh_per_t=pl.lit(None, pl.Float64))
    ps = ps.select(
        *PROCESS_KEYS, "activity_level_t", "own_see_direct", "own_see_indirect", "own_electricity_mwh_per_t"
    ).filter(pl.col("period_grain").is_in((YEAR, MONTH)))
    al = pl.col("activity_level_t")
    base = _electricity(ps, raw, factors, electricity_method, as_of)
    purchased, internal = precursor_rows(precursor_inputs, raw, ps)
    prec = _precursors(purchased)
    if material_days is None:
        material_days = engine_material_days(raw)
    mats = _materials(material_days.lazy(), ps)
    inbound = _inbound(shipment_allocations.lazy(), raw, ps)
    bio = None
    if stream_emissions is not None:
        bio = (
            stream_emissions.lazy().group_by(PROCESS_KEYS).agg(biogenic_t=pl.col("biomass_tco2e").pipe(fsum))
        )
    b = (
        base.join(prec, on=PROCESS_KEYS, how="left")
        .join(mats.rename({"primary_t": "mat_primary_t", "dq_weighted_t": "mat_dq_t"}), on=PROCESS_KEYS, how="left")
        .join(inbound.rename({"primary_t": "in_primary_t", "dq_weighted_t": "in_dq_t"}), on=PROCESS_KEYS, how="left")
    )  # fmt: skip
    b = (
        b.join(bio, on=PROCESS_KEYS, how="left")
        if bio is not None
        else b.with_columns(biogenic_t=pl.lit(None))
    )
    valid_al = al.is_not_null() & (al > 0)
    b = b.with_columns(
        own_direct=pl.when(valid_al).then(pl.col("own_see_direct").fill_null(0.0)),
        own_indirect=pl.when(valid_al).then("own_indirect"),
        precursors=safe_div(pl.col("precursors_t").fill_null(0.0), al),
        materials=safe_div(pl.col("materials_t").fill_null(0.0), al),
        inbound_transport=safe_div(pl.col("inbound_transport_t").fill_null(0.0), al),
        precursor_default=safe_div(pl.col("precursor_default_t").fill_null(0.0), al),
        biogenic=safe_div(pl.col("biogenic_t").fill_null(0.0), al),
    ).with_columns(
        primary=pl.col("own_direct") + pl.col("own_indirect")
        + safe_div(added(*(pl.col(c).fill_null(0.0) for c in ("primary_t", "mat_primary_t", "in_primary_t"))), al),
        dq_weighted=pl.col("own_direct") * DQR["plant"] + pl.col("own_indirect") * DQR["plant_electricity"]
        + safe_div(added(*(pl.col(c).fill_null(0.0) for c in ("dq_weighted_t", "mat_dq_t", "in_dq_t"))), al),
        gap_flag=((pl.col("gap_count").fill_null(0.0) + pl.col("prec_gap_count").fill_null(0.0)) > 0).cast(pl.Float64),
        gap_list=pl.concat_list(_split_names("gap_materials"), _split_names("prec_gap_materials")).list.unique().list.sort(),
        al_issue=pl.when(al.is_null() | (al <= 0)).then(pl.lit("activity level missing or zero: per-tonne parts null")),
    ).collect()  # fmt: skip
    matrix = _internal_matrix(raw, ps, internal).collect()
    x, converged = _propagate(b, matrix)
    fed = (
        matrix.select("installation_id", "period", "period_grain", "process_id")
        .unique()
        .with_columns(internal_inputs=pl.lit(True))
    )
    parts = ["own_direct", "own_indirect", "precursors", "materials", "inbound_transport"]
    total = added(*parts)  # no activity level: no footprint
    products = (
        raw_frame(raw, "products")
        .select("product_id", "installation_id", "process_id", "cn_code", "unit_mass_t")
        .unique("product_id")
    )
    score = safe_div(pl.col("dq_weighted"), total)
    result = (
        products.join(x.lazy(), on=["installation_id", "process_id"], how="inner")
        .join(fed.lazy(), on=PROCESS_KEYS, how="left")
        .join(_outbound(shipment_allocations.lazy()), on=["product_id", "period", "period_grain"], how="left")
        .with_columns(cradle_to_gate=total)
        .select(
            "product_id", "installation_id", "process_id", "cn_code", "period", "period_grain", "activity_level_t",
            own_direct_tco2e_per_t="own_direct", own_indirect_tco2e_per_t="own_indirect",
            precursors_tco2e_per_t="precursors", purchased_materials_tco2e_per_t="materials",
            inbound_transport_tco2e_per_t="inbound_transport", cradle_to_gate_tco2e_per_t="cradle_to_gate",
            unit_mass_t="unit_mass_t",
            cradle_to_gate_kgco2e_per_piece=convert_expr(pl.col("cradle_to_gate") * pl.col("unit_mass_t"), "tCO2", "kgCO2"),
            outbound_transport_tco2e_per_t="outbound_transport_tco2e_per_t",
            outbound_shipped_t="outbound_shipped_t",
            cradle_to_customer_tco2e_per_t=pl.col("cradle_to_gate") + pl.col("outbound_transport_tco2e_per_t"),
            biogenic_co2_tco2e_per_t="biogenic", precursor_default_tco2e_per_t="precursor_default",
            electricity_basis="electricity_basis", electricity_factor_kgco2e_per_kwh="electricity_factor_kgco2e_per_kwh",
            electricity_factor_data_year="electricity_factor_data_year", electricity_factor_rule="electricity_factor_rule",
            renewable_electricity_share="renewable_electricity_share",
            primary_data_share=safe_div(pl.col("primary"), total),
            data_quality_score=pl.when(pl.col("gap_flag") > 0).then(pl.max_horizontal(score, pl.lit(GAP_SCORE_FLOOR)))
            .otherwise(score),
            has_gap=pl.col("gap_flag") > 0,
            gap_materials=pl.when(pl.col("gap_flag") > 0).then(pl.col("gap_list").list.join(",")),
            internal_inputs=pl.col("internal_inputs").fill_null(False),
            issues=join_reasons(
                "al_issue", "electricity_issue",
                pl.when(pl.col("gap_flag") > 0).then(
                    pl.lit("purchased input without footprint counted as zero (materials without any footprint; "
                           "precursors zero-rated by CBAM origin rules or without SEE)")),
                pl.when(pl.col("outbound_missing").fill_null(False))
                .then(pl.lit("some outbound legs without emissions (see fct_shipment_emissions.issues)")),
                pl.lit(None if converged else "internal process loop did not converge", pl.String),
            ),
            factor_version=pl.lit(factors.tag(*FACTOR_TABLES) + " " + allocation_versions(shipment_allocations)),
        )
    )  # fmt: skip
    return canonical(result.select(FOOTPRINT_COLUMNS).collect(), ["product_id", "period_grain", "period"])
