"""Logistics emissions per shipment leg (ISO 14083:2023 / GLEC Framework v3) and their allocation to what is carried.

Per leg: `tonne_km = mass_t × distance_km`; emissions from the carrier's fuel data when given and usable
(primary data wins: fuel → TTW with IPCC NCV × EF, plus WTT), else `tonne_km × default intensity` (WTW and TTW
from ghg_transport_intensities.csv). Distances: as given, else from the place table by a documented rule per mode
(sea: port-pair table, else great circle × 1.3 flagged; road/rail: great circle × 1.2; air: great circle + 95 km),
the rule stored per leg in `distance_source`. Leg emissions are allocated to the items carried by mass share.
Every fallback is recorded in `issues`; a leg without mass or distance keeps a row with null emissions.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from transforms.computed import computed_table
from transforms.ghg.common import (
    compact_key,
    join_reasons,
    period_of,
    raw_frame,
    safe_div,
)
from transforms.ghg.factors import GhgFactors
from transforms.logistics.places import gcd_km, place_keys, resolve_places
from transforms.stable import canonical, fsum, fsum_of_one
from transforms.units import convert_expr, dimension_expr, to_base_expr, to_factor_expr

LEG_KEYS = ["shipment_id", "leg_no"]
# Optional columns the engine understands beyond the landing contract.
EXTRA_COLUMNS: dict[str, pl.DataType] = {
    "sub_type": pl.String(),  # vehicle/vessel type matching ghg_transport_intensities.sub_type
    "paid_by_company": pl.Boolean(),  # outbound freight paid by the reporting company (Scope 3 cat 4, else 9)
}
FACTOR_TABLES = ("transport_intensities", "fuel_factors", "distance_adjustments", "sea_distances", "places")

# Data-quality rating of a leg (1 best .. 5 worst), used by the footprint's DQ score (docs/computed/footprint.md).
DQR_FUEL, DQR_DEFAULT_GIVEN_DISTANCE, DQR_DEFAULT_ESTIMATED_DISTANCE, DQR_NONE = 2, 3, 4, 5

# the published columns, in order: data_contracts/computed/shipment_emissions.odcs.yaml
LEG_COLUMNS = computed_table("shipment_emissions").column_names

# the published columns, in order: data_contracts/computed/shipment_allocations.odcs.yaml
ALLOCATION_COLUMNS = computed_table("shipment_allocations").column_names


def _items(raw: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Shipment rows with their mass in tonnes: mass_t, else quantity × unit, else pieces × unit_mass_t."""
    products = raw_frame(raw, "products").select(
        "product_id", product_unit_mass_t="unit_mass_t", product_installation_id="installation_id"
    )
    materials = raw_frame(raw, "materials").select(
        "material_id",
        material_unit_mass_t="unit_mass_t",
        material_installation_id="consumed_in_installation_id",
    )
    items = (
        raw_frame(raw, "shipments", EXTRA_COLUMNS)
        .sort(
            "_source_row_id", maintain_order=True
        )  # lineage order: "first" item attributes, whatever the row order
        .with_row_index("_row")
        # product_id and material_id are the contract keys of products and materials, whose current tables hold
        # one row per key (raw expectations): `unique` drops nothing, so no row is picked arbitrarily
        .join(products.unique("product_id"), on="product_id", how="left")
        .join(materials.unique("material_id"), on="material_id", how="left")
    )
    qty_t = pl.col("quantity") * to_factor_expr(pl.col("unit"), "t")
    pieces = dimension_expr(pl.col("unit")) == "pieces"
    unit_mass = pl.coalesce("product_unit_mass_t", "material_unit_mass_t")
    pcs_t = pl.when(pieces).then(pl.col("quantity") * to_base_expr(pl.col("unit")) * unit_mass)
    return items.with_columns(
        item_mass_t=pl.coalesce("mass_t", qty_t, pcs_t),
        mass_source=pl.when(pl.col("mass_t").is_not_null()).then(pl.lit("mass_t"))
        .when(qty_t.is_not_null()).then(pl.lit("quantity_unit"))
        .when(pcs_t.is_not_null()).then(pl.lit("pieces_x_unit_mass")),
        mass_issue=pl.when(pl.coalesce("mass_t", qty_t, pcs_t).is_null()).then(
            pl.when(pieces).then(pl.lit("pieces without unit_mass_t on the product/material"))
            .otherwise(pl.lit("no cargo mass"))),
        item_kind=pl.when(pl.col("product_id").is_not_null()).then(pl.lit("product"))
        .when(pl.col("material_id").is_not_null()).then(pl.lit("material")).otherwise(pl.lit("unknown")),
    )  # fmt: skip


_LEG_FIRST = ("ship_date", "direction", "mode", "sub_type", "origin", "destination", "distance_km", "fuel_type",
              "fuel_quantity", "fuel_unit", "mass_issue")  # fmt: skip


def _legs(items: pl.LazyFrame) -> pl.LazyFrame:
    """One row per shipment_id + leg_no (several item rows of a leg share one vehicle movement). Most legs
    carry one item: those rows are the leg as they stand (the same values the aggregation gives a group of
    one, `fsum_of_one` the same bits as `fsum`), and only the legs of several items are grouped (the grouping's
    sorted firsts took half of the legs' plan: 1.4 s of 631 k legs at scale 100)."""
    alone = pl.len().over(LEG_KEYS) == 1
    grouped = (
        items.filter(~alone)
        .group_by(LEG_KEYS)
        .agg(
            # file order, not thread order
            *(pl.col(c).sort_by("_row").drop_nulls().first() for c in _LEG_FIRST),
            mass_t=pl.when(pl.col("item_mass_t").is_null().any())
            .then(None)
            .otherwise(pl.col("item_mass_t").pipe(fsum)),
            mass_source=pl.col("mass_source").min(),
            item_count=pl.len(),
            _row=pl.col("_row").min(),
            source_row_ids=pl.col("_source_row_id").sort_by("_row").drop_nulls().str.join("|"),
        )
    )
    single = items.filter(alone).select(
        *LEG_KEYS,
        *_LEG_FIRST,
        mass_t=pl.when(pl.col("item_mass_t").is_null())
        .then(None)
        .otherwise(fsum_of_one(pl.col("item_mass_t"))),
        mass_source="mass_source",
        item_count=pl.lit(1, pl.get_index_type()),
        _row="_row",
        source_row_ids=pl.col("_source_row_id").fill_null(""),
    )
    return pl.concat([single, grouped], how="vertical")


def _valid_rows(keys: pl.LazyFrame, table: pl.DataFrame, on: list[str], date_col: str) -> pl.LazyFrame:
    """Join factor rows valid at each key's date (valid_from ≤ date ≤ valid_to, open end) on `on`;
    with several valid rows the latest valid_from wins."""
    joined = keys.join(table.lazy(), on=on, how="inner").filter(
        (pl.col("valid_from").is_null() | (pl.col("valid_from") <= pl.col(date_col)))
        & (pl.col("valid_to").is_null() | (pl.col(date_col) <= pl.col("valid_to")))
    )
    return joined


def _default_intensity(legs: pl.LazyFrame, factors: GhgFactors) -> pl.LazyFrame:
    """Per distinct (mode, sub_type, ship_date): the sub-type's intensity row if known, else the mode default."""
    keys = legs.select("mode", "sub_type", "ship_date").unique()
    table = factors["transport_intensities"].select(
        "mode",
        row_sub_type="sub_type",
        is_mode_default="is_mode_default",
        wtw="wtw_gco2e_per_tkm",
        ttw="ttw_gco2e_per_tkm",
        intensity_status="status",
        valid_from="valid_from",
        valid_to="valid_to",
    )
    cand = _valid_rows(keys, table, ["mode"], "ship_date").with_columns(
        pref=pl.when(pl.col("row_sub_type") == pl.col("sub_type")).then(0)
        .when(pl.col("is_mode_default")).then(1).otherwise(None),
    ).filter(pl.col("pref").is_not_null())  # fmt: skip
    best = (
        # a total order (the intensity table declares no key: two mode defaults or two rows of one sub-type may
        # share a valid_from), then the first row per key in it (group_by keeps the order within a group);
        # the latest valid_from first, a row without one (valid since always) is the oldest
        cand.sort(["pref", "valid_from", "row_sub_type", "wtw", "ttw", "intensity_status"],
                  descending=[False, True, False, False, False, False],
                  nulls_last=[False, True, True, True, True, True])
        .group_by("mode", "sub_type", "ship_date")
        .first()
    )  # fmt: skip
    return best.select(
        "mode", "sub_type", "ship_date", "intensity_status", default_wtw="wtw", default_ttw="ttw",
        intensity_row=pl.col("mode") + "/" + pl.col("row_sub_type"),
        sub_type_issue=pl.when(pl.col("sub_type").is_not_null() & (pl.col("pref") == 1)).then(
            pl.lit("sub_type ") + pl.col("sub_type") + pl.lit(" not in the intensity table: mode default used")),
    )  # fmt: skip


def _distance_rule(legs: pl.LazyFrame, factors: GhgFactors) -> pl.LazyFrame:
    keys = legs.select("mode", "ship_date").unique()
    table = factors["distance_adjustments"].select(
        "mode", "gcd_multiplier", "gcd_addend_km", "flag", "valid_from", "valid_to"
    )
    return (
        _valid_rows(keys, table, ["mode"], "ship_date")
        # a total order (no key declared: two rows of a mode may share a valid_from; the latest valid_from
        # first, a row without one is the oldest), then the first row per key in it (group_by keeps the order)
        .sort(
            ["valid_from", "gcd_multiplier", "gcd_addend_km", "flag"],
            descending=[True, False, False, False],
            nulls_last=[True, True, True, True],
        )
        .group_by("mode", "ship_date")
        .first()
        .select("mode", "ship_date", "gcd_multiplier", "gcd_addend_km", distance_flag="flag")
    )


def _fuel_table(factors: GhgFactors) -> pl.LazyFrame:
    ff = factors["fuel_factors"].filter(pl.col("use") == "transport")
    names = pl.concat_list(pl.col("fuel_type"), pl.col("aliases").fill_null("").str.split("|"))
    return (
        ff.lazy().select("fuel_type", "ncv_gj_per_t", "ttw_tco2_per_tj", "wtt_tco2e_per_t", "wtt_tco2e_per_mwh",
                         "density_t_per_m3", name=names)
        .explode("name").with_columns(fuel_key=compact_key(pl.col("name"))).filter(pl.col("fuel_key") != "")
        .unique(["fuel_key", "fuel_type"]).filter(pl.len().over("fuel_key") == 1)  # ambiguous spelling: no match
        .drop("name").rename({"fuel_type": "fuel_type_canonical"})
    )  # fmt: skip


def logistics_lazy(raw: Mapping[str, pl.LazyFrame], factors: GhgFactors) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(legs, allocations) as lazy frames: the whole computation stays in one polars plan (2M+ legs)."""
    items, legs = _items_and_legs(raw, factors)
    allocations = _allocate(items, legs, raw, factors)
    return legs.sort("_row").select(LEG_COLUMNS), allocations.sort("_row").select(ALLOCATION_COLUMNS)


def _items_and_legs(
    raw: Mapping[str, pl.LazyFrame], factors: GhgFactors
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(items, legs with every working column): the plans the published legs and the allocations share."""
    items = _items(raw)
    legs = _legs(items)
    installations = raw_frame(raw, "installations") if "installations" in raw else None
    keys = place_keys(factors, installations)
    texts = pl.concat([legs.select(text="origin"), legs.select(text="destination")]).drop_nulls().unique()
    resolved = resolve_places(texts, keys)

    def side(prefix: str) -> pl.LazyFrame:
        return resolved.select(
            pl.col("text").alias(prefix),
            *[
                pl.col(c).alias(f"{prefix}_{c}")
                for c in ("place_id", "place_kind", "latitude", "longitude", "sea_node")
            ],
        )

    sea = factors["sea_distances"].lazy().select("port_a", "port_b", sea_km="distance_km")
    legs = (
        legs.join(side("origin"), on="origin", how="left")
        .join(side("destination"), on="destination", how="left")
        .with_columns(
            port_a=pl.when(pl.col("origin_place_id") < pl.col("destination_place_id"))
            .then("origin_place_id").otherwise("destination_place_id"),
            port_b=pl.when(pl.col("origin_place_id") < pl.col("destination_place_id"))
            .then("destination_place_id").otherwise("origin_place_id"),
        )
        .join(sea, on=["port_a", "port_b"], how="left")
        .join(_distance_rule(legs, factors), on=["mode", "ship_date"], how="left")
        .join(_default_intensity(legs, factors), on=["mode", "sub_type", "ship_date"], how="left", nulls_equal=True)
        .with_columns(fuel_key=compact_key(pl.col("fuel_type")))
        .join(_fuel_table(factors), on="fuel_key", how="left")
    )  # fmt: skip
    return items, _with_emissions(_with_distance(legs), factors)


def _with_distance(legs: pl.LazyFrame) -> pl.LazyFrame:
    gcd = gcd_km(
        pl.col("origin_latitude"),
        pl.col("origin_longitude"),
        pl.col("destination_latitude"),
        pl.col("destination_longitude"),
    )
    sea_pair = (
        (pl.col("mode") == "sea")
        & pl.col("sea_km").is_not_null()
        & pl.col("origin_sea_node")
        & pl.col("destination_sea_node")
    )
    rule = pl.concat_str(
        pl.lit("gcd"),
        pl.when(pl.col("gcd_multiplier") != 1).then(pl.lit("_x") + pl.col("gcd_multiplier").cast(pl.String)),
        pl.when(pl.col("gcd_addend_km") != 0).then(
            pl.lit("_plus_") + pl.col("gcd_addend_km").cast(pl.Int64).cast(pl.String) + pl.lit("km")
        ),
        pl.when(pl.col("distance_flag").is_not_null()).then(pl.lit("_flagged")),
        ignore_nulls=True,
    )
    unresolved = join_reasons(
        pl.when(pl.col("origin").is_null()).then(pl.lit("no origin"))
        .when(pl.col("origin_place_id").is_null()).then(pl.lit("origin not a known place: ") + pl.col("origin")),
        pl.when(pl.col("destination").is_null()).then(pl.lit("no destination"))
        .when(pl.col("destination_place_id").is_null())
        .then(pl.lit("destination not a known place: ") + pl.col("destination")),
    )  # fmt: skip
    return legs.with_columns(
        distance_km=pl.when(pl.col("distance_km").is_not_null()).then("distance_km")
        .when(sea_pair).then("sea_km")
        .otherwise(gcd * pl.col("gcd_multiplier") + pl.col("gcd_addend_km")),
        distance_source=pl.when(pl.col("distance_km").is_not_null()).then(pl.lit("given"))
        .when(sea_pair).then(pl.lit("sea_table"))
        .when(gcd.is_not_null() & pl.col("gcd_multiplier").is_not_null()).then(rule)
        .otherwise(pl.lit("unresolved")),
        distance_issue=pl.when(pl.col("distance_km").is_null() & gcd.is_null()).then(unresolved)
        .when(pl.col("distance_km").is_null() & ~sea_pair & pl.col("distance_flag").is_not_null())
        .then(pl.lit("distance estimated (") + pl.col("distance_flag") + pl.lit("): verify")),
    )  # fmt: skip


def _with_emissions(legs: pl.LazyFrame, factors: GhgFactors) -> pl.LazyFrame:
    dim, base = dimension_expr(pl.col("fuel_unit")), to_base_expr(pl.col("fuel_unit"))
    q = pl.col("fuel_quantity")
    fuel_mass_t = (
        pl.when(dim == "mass")
        .then(q * base)
        .when(dim == "volume")
        .then(q * base * pl.col("density_t_per_m3"))
    )
    fuel_energy_gj = (
        pl.when(dim == "energy").then(q * base).otherwise(pl.col("fuel_mass_t") * pl.col("ncv_gj_per_t"))
    )
    ttw_fuel = convert_expr(pl.col("fuel_energy_gj"), "GJ", "TJ") * pl.col("ttw_tco2_per_tj")
    wtt_ratio = safe_div(pl.col("default_wtw"), pl.col("default_ttw")) - 1
    wtt_fuel = (
        pl.when(pl.col("wtt_tco2e_per_t").is_not_null() & pl.col("fuel_mass_t").is_not_null())
        .then(pl.col("fuel_mass_t") * pl.col("wtt_tco2e_per_t"))
        .when(pl.col("wtt_tco2e_per_mwh").is_not_null()).then(convert_expr(pl.col("fuel_energy_gj"), "GJ", "MWh") * pl.col("wtt_tco2e_per_mwh"))
        .otherwise(pl.col("ttw_fuel_tco2e") * wtt_ratio)
    )  # fmt: skip
    wtt_method = (
        pl.when(pl.col("wtt_tco2e_per_t").is_not_null() & pl.col("fuel_mass_t").is_not_null()).then(pl.lit("fuel_wtt"))
        .when(pl.col("wtt_tco2e_per_mwh").is_not_null()).then(pl.lit("electricity_wtt"))
        .otherwise(pl.lit("wtt_ratio_of_mode_default"))
    )  # fmt: skip
    has_fuel = pl.col("fuel_quantity").is_not_null()
    fuel_issue = (
        pl.when(~has_fuel).then(None)
        .when(pl.col("fuel_type_canonical").is_null())
        .then(pl.lit("fuel data unusable: unknown fuel_type ") + pl.col("fuel_type").fill_null("(empty)"))
        .when(pl.col("fuel_energy_gj").is_null())
        .then(pl.lit("fuel data unusable: fuel_unit ") + pl.col("fuel_unit").fill_null("(empty)")
              + pl.lit(" not convertible for ") + pl.col("fuel_type_canonical"))
        .when(pl.col("wtt_fuel_tco2e").is_null()).then(pl.lit("fuel data unusable: no WTT factor or mode default"))
    )  # fmt: skip
    tkm = pl.col("mass_t") * pl.col("distance_km")
    legs = (
        legs.with_columns(fuel_mass_t=fuel_mass_t)
        .with_columns(fuel_energy_gj=fuel_energy_gj)
        .with_columns(ttw_fuel_tco2e=ttw_fuel)
        .with_columns(wtt_fuel_tco2e=wtt_fuel, wtt_method=wtt_method)
        .with_columns(fuel_issue=fuel_issue, tonne_km=tkm)
        .with_columns(use_fuel=has_fuel & pl.col("fuel_issue").is_null())
    )
    default_wtw = convert_expr(pl.col("tonne_km") * pl.col("default_wtw"), "gCO2", "tCO2")
    default_ttw = convert_expr(pl.col("tonne_km") * pl.col("default_ttw"), "gCO2", "tCO2")
    given = pl.col("distance_source") == "given"
    return legs.with_columns(
        wtw_tco2e=pl.when("use_fuel").then(pl.col("ttw_fuel_tco2e") + pl.col("wtt_fuel_tco2e")).otherwise(default_wtw),
        ttw_tco2e=pl.when("use_fuel").then("ttw_fuel_tco2e").otherwise(default_ttw),
        intensity_source=pl.when("use_fuel").then(pl.lit("carrier_fuel:") + pl.col("fuel_type_canonical")
                                                  + pl.lit(":") + pl.col("wtt_method"))
        .otherwise(pl.lit("default:") + pl.col("intensity_row")),
        intensity_status=pl.when("use_fuel").then(pl.lit("primary")).otherwise("intensity_status"),
        fuel_type=pl.coalesce("fuel_type_canonical", "fuel_type"),
        is_primary_data=pl.col("use_fuel"),
    ).with_columns(
        intensity_wtw_gco2e_per_tkm=pl.when("use_fuel").then(safe_div(convert_expr(pl.col("wtw_tco2e"), "tCO2", "gCO2"), pl.col("tonne_km")))
        .otherwise("default_wtw"),
        intensity_ttw_gco2e_per_tkm=pl.when("use_fuel").then(safe_div(convert_expr(pl.col("ttw_tco2e"), "tCO2", "gCO2"), pl.col("tonne_km")))
        .otherwise("default_ttw"),
        data_quality_rating=pl.when(pl.col("wtw_tco2e").is_null()).then(DQR_NONE)
        .when("use_fuel").then(DQR_FUEL).when(given).then(DQR_DEFAULT_GIVEN_DISTANCE)
        .otherwise(DQR_DEFAULT_ESTIMATED_DISTANCE),
        issues=join_reasons("mass_issue", "distance_issue", "sub_type_issue", "fuel_issue",
                            pl.when(pl.col("default_wtw").is_null() & ~pl.col("use_fuel"))
                            .then(pl.lit("no default intensity for mode ") + pl.col("mode").fill_null("(empty)"))),
        factor_version=pl.lit(factors.tag(*FACTOR_TABLES)),
    )  # fmt: skip


def _allocate(
    items: pl.LazyFrame, legs: pl.LazyFrame, raw: Mapping[str, pl.LazyFrame], factors: GhgFactors
) -> pl.LazyFrame:
    """Leg emissions to each carried item by mass share (one item: share 1), with the installation it
    concerns and its Scope 3 category (inbound → 4; outbound → 9 unless `paid_by_company`, then 4)."""
    invoice_inst = (
        raw_frame(raw, "supplier_invoices")
        .group_by("invoice_id")
        .agg(invoice_installation_id=pl.col("installation_id").drop_nulls().min())
    )
    export_inst = (
        raw_frame(raw, "exports").group_by("export_id")
        .agg(export_installation_id=pl.col("installation_id").drop_nulls().min())
    )  # fmt: skip
    leg_part = legs.select(
        *LEG_KEYS, "tonne_km", "wtw_tco2e", "ttw_tco2e", "is_primary_data", "data_quality_rating", "issues",
        "factor_version", "item_count", leg_mass_t="mass_t", dest_installation=pl.when(pl.col("destination_place_kind") == "installation")
        .then("destination_place_id"), origin_installation=pl.when(pl.col("origin_place_kind") == "installation")
        .then("origin_place_id"))  # fmt: skip
    share = (
        pl.when(pl.col("item_count") == 1)
        .then(pl.lit(1.0))
        .otherwise(safe_div(pl.col("item_mass_t"), pl.col("leg_mass_t")))
    )
    inbound = pl.col("direction") == "inbound"
    inst_in = pl.coalesce("invoice_installation_id", "material_installation_id", "dest_installation")
    inst_out = pl.coalesce("export_installation_id", "product_installation_id", "origin_installation")
    src_in = (
        pl.when(pl.col("invoice_installation_id").is_not_null())
        .then(pl.lit("invoice"))
        .when(pl.col("material_installation_id").is_not_null())
        .then(pl.lit("material"))
        .when(pl.col("dest_installation").is_not_null())
        .then(pl.lit("destination_place"))
    )
    src_out = (
        pl.when(pl.col("export_installation_id").is_not_null())
        .then(pl.lit("export"))
        .when(pl.col("product_installation_id").is_not_null())
        .then(pl.lit("product"))
        .when(pl.col("origin_installation").is_not_null())
        .then(pl.lit("origin_place"))
    )
    return (
        items.join(leg_part, on=LEG_KEYS, how="inner")
        .join(invoice_inst, on="invoice_id", how="left")
        .join(export_inst, on="export_id", how="left")
        .with_columns(
            mass_share=share,
            installation_id=pl.when(inbound).then(inst_in).otherwise(inst_out),
            installation_source=pl.when(inbound).then(src_in).otherwise(src_out),
        )
        .select(
            *LEG_KEYS, "ship_date", period_year=period_of(pl.col("ship_date"), "year"),
            period_month=period_of(pl.col("ship_date"), "month"), direction="direction", mode="mode",
            item_kind="item_kind", item_id=pl.coalesce("product_id", "material_id"), product_id="product_id",
            material_id="material_id", export_id="export_id", invoice_id="invoice_id",
            installation_id="installation_id", installation_source="installation_source",
            scope3_category=pl.when(inbound | pl.col("paid_by_company").fill_null(False)).then(pl.lit(4, pl.Int8))
            .otherwise(pl.lit(9, pl.Int8)),
            mass_t="item_mass_t", mass_share="mass_share", tonne_km=pl.col("tonne_km") * pl.col("mass_share"),
            wtw_tco2e=pl.col("wtw_tco2e") * pl.col("mass_share"), ttw_tco2e=pl.col("ttw_tco2e") * pl.col("mass_share"),
            is_primary_data="is_primary_data", data_quality_rating="data_quality_rating",
            issues=join_reasons(
                "issues", pl.when(pl.col("mass_share").is_null()).then(pl.lit("item mass unknown: not allocated")),
                pl.when(pl.col("installation_id").is_null())
                .then(pl.lit("no installation found (invoice/export/product/material/place): in no site inventory"))),
            factor_version="factor_version", source_row_id="_source_row_id", _row="_row",
        )
    )  # fmt: skip


def compute_logistics(
    raw: Mapping[str, pl.LazyFrame], factors: GhgFactors
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(legs, allocations). The items and the legs (with their working columns) are collected first and both
    outputs are built from them: `collect_all` of the two lazy outputs ran the legs' plan (grouping, places,
    joins) once for each (scale 100, 631 k legs: 6.7 s → see docs/performance.md)."""
    items, legs = _items_and_legs(raw, factors)
    # The streaming engine runs these plans 3-4x faster than the in-memory one on millions of legs (2 cores).
    items_df, legs_df = pl.collect_all([items, legs], engine="streaming")
    # (no sort by `_row` first: `canonical` orders both by their keys and every other column)
    allocations = _allocate(items_df.lazy(), legs_df.lazy(), raw, factors).select(ALLOCATION_COLUMNS)
    out_legs = canonical(legs_df.select(LEG_COLUMNS), LEG_KEYS)
    return out_legs, canonical(allocations.collect(engine="streaming"), LEG_KEYS)


def compute_shipments(raw: Mapping[str, pl.LazyFrame], factors: GhgFactors) -> pl.DataFrame:
    """Per leg: shipment_id, leg_no, direction, mode, mass_t, distance_km, distance_source, tonne_km, wtw_tco2e,
    ttw_tco2e, intensity_wtw_gco2e_per_tkm, intensity_source, factor_version (and the columns in LEG_COLUMNS)."""
    return canonical(logistics_lazy(raw, factors)[0], LEG_KEYS).collect(engine="streaming")


def compute_shipment_allocations(raw: Mapping[str, pl.LazyFrame], factors: GhgFactors) -> pl.DataFrame:
    """Per leg × carried item: mass share, allocated tonne_km / WTW / TTW, installation and Scope 3 category."""
    return canonical(logistics_lazy(raw, factors)[1], LEG_KEYS).collect(engine="streaming")
