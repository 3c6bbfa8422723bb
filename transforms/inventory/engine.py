"""Site GHG inventory (GHG Protocol Corporate Standard / ISO 14064-1) per installation × month and year, and the
zero-carbon view per site and per park.

- Scope 1: the CBAM engine's stream_emissions (fossil; biomass CO2 as a memo) — one source of truth with CBAM.
- Scope 2, dual reporting (GHG Protocol Scope 2 Guidance): location-based with the MEE/NBS grid factor of the
  installation's province / regional grid / nation by the vintage rule (transforms/ghg/electricity.py);
  market-based: on-site generation 0 (not purchased), PPA / direct line at the bill's `ef_tco2_per_mwh`,
  GEC-covered MWh at 0 (the certificate ledger's claims for the site and period where it has any, else the
  bills' `gec_mwh`; never beyond the purchased MWh: ghg/electricity.apply_certificate_claims), the rest at the
  national factor excluding market-traded non-fossil electricity (residual-mix proxy; China publishes no residual mix). Purchased heat/steam
  at a default heat factor in both methods.
- Scope 3: cat 1 purchased goods (CBAM precursors incl. their indirect, plus materials' footprints), cat 3 fuel
  upstream, cat 4 inbound transport (and outbound paid by the company), cat 9 other outbound transport.
- Zero carbon: gross = Scope 1 + Scope 2 location-based; instrument = GEC-covered MWh × the location factor;
  net = gross − instrument − offsets (carbon credits retired for the site and period, `carbon_credits`); stored
  separately.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from transforms.computed import computed_table
from transforms.ghg.common import (
    MONTH,
    YEAR,
    compact_key,
    in_both_grains,
    join_reasons,
    raw_frame,
    safe_div,
)
from transforms.ghg.electricity import (
    apply_certificate_claims,
    energy_bill_months,
    grid_regions,
    pick_grid_factor,
)
from transforms.ghg.factors import GhgFactors, allocation_versions
from transforms.ghg.materials import TCO2E_LEVELS, days_tco2e, engine_material_days
from transforms.ghg.precursors import precursor_rows
from transforms.stable import canonical, fsum
from transforms.units import convert_expr

SITE_KEYS = ["installation_id", "period", "period_grain"]
FACTOR_TABLES = ("china_grid_factors", "grid_regions", "fuel_factors")
HEAT_FUEL = "purchased_heat_default"

# the published columns, in order: data_contracts/computed/scope2_lines.odcs.yaml
SCOPE2_LINE_COLUMNS = computed_table("scope2_lines").column_names

SUMMABLE = [
    "scope1_tco2e", "scope1_biogenic_memo_tco2e", "electricity_mwh", "purchased_electricity_mwh",
    "onsite_renewable_mwh", "ppa_renewable_mwh", "gec_mwh", "gec_covered_mwh", "gec_unused_mwh",
    "renewable_electricity_mwh", "scope2_location_tco2e", "scope2_market_tco2e", "scope2_heat_tco2e",
    "scope3_cat1_tco2e", "scope3_cat1_precursors_tco2e", "scope3_cat1_materials_tco2e", "scope3_cat1_gap_lines",
    "scope3_cat3_fuel_upstream_tco2e", "scope3_cat4_tco2e", "scope3_cat9_tco2e", "gross_tco2e",
    "gec_instrument_tco2e", "offsets_tco2e", "net_tco2e",
]  # fmt: skip

# the published columns, in order: data_contracts/computed/site_inventory.odcs.yaml
SITE_COLUMNS = computed_table("site_inventory").column_names


def scope2_lines(
    raw: Mapping[str, pl.LazyFrame],
    factors: GhgFactors,
    as_of: date | None = None,
    gec_claims: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Scope 2 per energy bill × month, both methods, with the factor and basis of each (SCOPE2_LINE_COLUMNS).

    `gec_claims`: claimable certificates per site × period from the ledger (zero_carbon.claims_by_site_period);
    where a site has a ledger claim in a year they replace the bills' gec_mwh (ghg.apply_certificate_claims)."""
    months = apply_certificate_claims(energy_bill_months(raw), gec_claims)
    keys = (
        months.select("installation_id", "year")
        .unique()
        .join(grid_regions(raw, factors), on="installation_id", how="left")
    )
    loc = pick_grid_factor(keys, factors, "co2_average", as_of).select(
        "installation_id",
        "year",
        "region_issue",
        loc_factor="factor_tco2_per_mwh",
        loc_rule="factor_vintage_rule",
    )
    res = pick_grid_factor(keys, factors, "co2_excl_market_nonfossil", as_of).select(
        "installation_id", "year", res_factor="factor_tco2_per_mwh"
    )
    heat_row = factors["fuel_factors"].filter(pl.col("fuel_type") == HEAT_FUEL)
    heat_factor = heat_row["ttw_tco2_per_tj"][0] if heat_row.height else None
    supply, ef = pl.col("supply_type"), pl.col("ef_tco2_per_mwh")
    elec = pl.col("energy_kind") == "electricity"
    onsite = supply == "onsite"
    contract = supply.is_in(("ppa", "direct_line"))
    loc_factor = (
        pl.when(onsite)
        .then(None)
        .when((supply == "direct_line") & ef.is_not_null())
        .then(ef)
        .otherwise("loc_factor")
    )
    market_factor = (
        pl.when(onsite).then(None).when(contract & ef.is_not_null()).then(ef).otherwise("res_factor")
    )
    return (
        months.join(loc, on=["installation_id", "year"], how="left")
        .join(res, on=["installation_id", "year"], how="left")
        .with_columns(
            location_factor_tco2_per_mwh=pl.when(elec).then(loc_factor),
            location_basis=pl.when(~elec).then(pl.lit("purchased heat default"))
            .when(onsite).then(pl.lit("on-site generation: not purchased, no Scope 2"))
            .when((supply == "direct_line") & ef.is_not_null()).then(pl.lit("direct line: its own factor"))
            .otherwise(pl.col("loc_rule")),
            market_factor_tco2_per_mwh=pl.when(elec).then(market_factor),
            market_basis=pl.when(~elec).then(pl.lit("purchased heat default"))
            .when(onsite).then(pl.lit("on-site generation: 0"))
            .when(contract & ef.is_not_null()).then(pl.format("contract factor (bill ef_tco2_per_mwh); GEC MWh "
                                                              "({}) at 0", "gec_source"))
            .otherwise(pl.format("GEC MWh ({}) at 0; rest at national excl. market-traded non-fossil "
                                 "(residual proxy)", "gec_source")),
            heat_tco2e=convert_expr(pl.col("heat_gj").fill_null(0.0), "GJ", "TJ")
            * pl.lit(heat_factor, pl.Float64).fill_null(0.0),
        )
        .with_columns(
            scope2_location_tco2e=pl.when(elec).then(pl.col("purchased_mwh") * pl.col("location_factor_tco2_per_mwh")
                                                     .fill_null(0.0)).otherwise("heat_tco2e"),
            scope2_market_tco2e=pl.when(elec).then((pl.col("purchased_mwh") - pl.col("gec_covered_mwh"))
                                                   * pl.col("market_factor_tco2_per_mwh").fill_null(0.0))
            .otherwise("heat_tco2e"),
            gec_instrument_tco2e=pl.col("gec_covered_mwh") * pl.col("location_factor_tco2_per_mwh").fill_null(0.0),
            issues=join_reasons(
                "bill_issue",
                pl.when(elec & ~onsite).then("region_issue"),
                pl.when(elec & ~onsite & pl.col("loc_factor").is_null()).then(pl.lit("no location-based factor")),
                pl.when(elec & ~onsite & pl.col("loc_rule").str.contains("flagged")).then("loc_rule"),
                pl.when(pl.col("gec_unused_mwh") > 0).then(pl.format(
                    "GECs exceed the bill's purchased MWh by {} MWh: excess not counted", pl.col("gec_unused_mwh")
                    .round(6))),
                pl.when(contract & ef.is_null()).then(pl.lit("PPA/direct line without ef_tco2_per_mwh: residual proxy")),
                pl.when(pl.col("ppa_renewable_mwh") > pl.col("gec_covered_mwh"))
                .then(pl.lit("zero-rated contract MWh without GECs: renewable share only, no instrument reduction")),
                pl.when(~elec & pl.col("heat_gj").is_null()).then(pl.lit("heat quantity not in energy units: not counted")),
                pl.when(~elec & pl.lit(heat_factor is None)).then(pl.lit(f"no {HEAT_FUEL} factor: heat not counted")),
            ),
        )
        .select(SCOPE2_LINE_COLUMNS)
        .pipe(canonical, ["bill_id", "month"])
    )  # fmt: skip


def _grains(lf: pl.LazyFrame, keys: list[str], values: list[str], basis: str | None = None) -> pl.LazyFrame:
    """Rows at month and/or year grain → month rows as given and year rows as given, else the sum of the year's
    months; `basis` names a column telling which ('given' / 'sum_of_months')."""
    months = lf.filter(pl.col("period_grain") == MONTH)
    given = (
        lf.filter(pl.col("period_grain") == YEAR)
        .group_by(*keys, "period", "period_grain")
        .agg(pl.col(values).pipe(fsum))
        .with_columns(_basis=pl.lit("given"))
    )
    summed = (
        months.with_columns(period=pl.col("period").str.slice(0, 4), period_grain=pl.lit(YEAR))
        .group_by(*keys, "period", "period_grain").agg(pl.col(values).pipe(fsum))
        .join(given.select(*keys, "period"), on=[*keys, "period"], how="anti")
        .with_columns(_basis=pl.lit("sum_of_months"))
    )  # fmt: skip
    month_rows = (
        months.group_by(*keys, "period", "period_grain")
        .agg(pl.col(values).pipe(fsum))
        .with_columns(_basis=pl.lit("given"))
    )
    out = pl.concat([month_rows, given, summed], how="vertical_relaxed")
    return out.rename({"_basis": basis}) if basis else out.drop("_basis")


def park_mapping(
    raw: Mapping[str, pl.LazyFrame], parks: pl.DataFrame | pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """installation_id → park_id, park_name. Given `parks` (installation_id, park_id[, park_name]) wins, else the
    `parks` landing dataset when it has rows; else one park per country + city (`city:CN:ningbo`); an installation
    without a city is its own park. A site in several declared parks keeps the smallest park_id here."""
    inst = raw_frame(raw, "installations").select("installation_id", "country", "city")
    default = inst.select(
        "installation_id",
        park_id=pl.when(pl.col("city").is_not_null()).then(
            pl.concat_str(pl.lit("city:"), pl.col("country").fill_null("?"), pl.lit(":"), compact_key(pl.col("city"))))
        .otherwise(pl.lit("installation:") + pl.col("installation_id")),
        park_name=pl.coalesce("city", "installation_id"),
    )  # fmt: skip
    if parks is None and "parks" in raw:
        declared = raw["parks"].select(
            "installation_id", "park_id", park_name=pl.coalesce("park_name", "park_id")
        )
        if declared.select(pl.len()).collect().item():
            parks = declared.sort("park_id").unique("installation_id", keep="first", maintain_order=True)
    if parks is None:
        return default
    given = parks.lazy()
    if "park_name" not in given.collect_schema().names():
        given = given.with_columns(park_name=pl.col("park_id"))
    given = given.select("installation_id", "park_id", "park_name")
    return pl.concat([given, default.join(given, on="installation_id", how="anti")])


def _site_offsets(raw: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Carbon credits retired for a site (zero_carbon.ledger.credits_retired) per site × period: a month's row
    gets the credits retired for that month, a year's row those for the year and its months. Credits retired for a
    park id are the park's (the claim view), never spread over its sites."""
    from transforms.zero_carbon.ledger import credits_retired  # the one rule of retired credits

    empty = pl.LazyFrame(schema={**dict.fromkeys(SITE_KEYS, pl.String), "offsets_tco2e": pl.Float64})
    credits = raw.get("carbon_credits")
    if credits is None or not credits.select(pl.len()).collect().item():
        return empty
    cr = credits_retired(credits).lazy()
    months = cr.filter(pl.col("period").str.len_chars() == 7).select(
        installation_id="entity_id",
        period="period",
        period_grain=pl.lit(MONTH),
        offsets_tco2e="credits_retired_tco2e",
    )
    years = (
        cr.group_by(installation_id="entity_id", period=pl.col("period").str.slice(0, 4))
        .agg(offsets_tco2e=pl.col("credits_retired_tco2e").pipe(fsum))
        .with_columns(period_grain=pl.lit(YEAR))
    )
    return pl.concat([months, years.select(months.collect_schema().names())])


def compute_site_inventory(
    raw: Mapping[str, pl.LazyFrame],
    factors: GhgFactors,
    stream_emissions: pl.DataFrame | pl.LazyFrame,
    precursor_inputs: pl.DataFrame | pl.LazyFrame,
    shipment_allocations: pl.DataFrame | pl.LazyFrame,
    *,
    parks: pl.DataFrame | pl.LazyFrame | None = None,
    as_of: date | None = None,
    gec_claims: pl.DataFrame | None = None,
    material_days: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Inventory per installation × period (month and year rows); columns SITE_COLUMNS, units in the names.

    `gec_claims`: the certificate ledger's claims (see `scope2_lines`); None: the bills' gec_mwh only.
    `material_days`: `transforms.ghg.materials.engine_material_days(raw)` when the caller already has it
    (compute_ghg shares it with the footprint engine); None: computed here."""
    s1 = _grains(
        stream_emissions.lazy().select(
            *SITE_KEYS, scope1_tco2e="fossil_tco2e", scope1_biogenic_memo_tco2e="biomass_tco2e"
        ),
        ["installation_id"],
        ["scope1_tco2e", "scope1_biogenic_memo_tco2e"],
        basis="scope1_basis",
    )
    # Bills and invoice lines are small next to shipment legs: materialised once, which keeps polars' plan small.
    lines = (
        scope2_lines(raw, factors, as_of, gec_claims)
        .collect()
        .lazy()
        .with_columns(month_date=(pl.col("month") + "-01").str.to_date())
    )
    s2_month = in_both_grains(lines, "month_date").group_by(SITE_KEYS).agg(
        electricity_mwh=pl.col("electricity_mwh").pipe(fsum), purchased_electricity_mwh=pl.col("purchased_mwh").pipe(fsum),
        onsite_renewable_mwh=pl.col("onsite_renewable_mwh").pipe(fsum), ppa_renewable_mwh=pl.col("ppa_renewable_mwh").pipe(fsum),
        gec_mwh=pl.col("gec_claimed_mwh").pipe(fsum), gec_covered_mwh=pl.col("gec_covered_mwh").pipe(fsum),
        gec_unused_mwh=pl.col("gec_unused_mwh").pipe(fsum), renewable_electricity_mwh=pl.col("renewable_mwh").pipe(fsum),
        scope2_location_tco2e=pl.col("scope2_location_tco2e").pipe(fsum), scope2_market_tco2e=pl.col("scope2_market_tco2e").pipe(fsum),
        scope2_heat_tco2e=pl.col("heat_tco2e").pipe(fsum), gec_instrument_tco2e=pl.col("gec_instrument_tco2e").pipe(fsum),
        s2_issues=pl.col("issues").drop_nulls().unique().sort().str.join("; "),
    )  # fmt: skip
    known_processes = stream_emissions.lazy().select("installation_id", "process_id").unique()
    purchased, _internal = precursor_rows(precursor_inputs, raw, known_processes)
    pi = purchased.select(
        "installation_id",
        "period",
        "period_grain",
        scope3_cat1_precursors_tco2e=pl.col("mass_t")
        * (pl.col("see_direct").fill_null(0.0) + pl.col("see_indirect").fill_null(0.0)),
        precursor_gap_lines=pl.col("footprint_gap").cast(pl.Float64),  # CBAM zero-rated origin or no SEE
    )
    cat1_prec = _grains(pi, ["installation_id"], ["scope3_cat1_precursors_tco2e", "precursor_gap_lines"])
    if material_days is None:
        material_days = engine_material_days(raw)
    used = ["installation_id", "invoice_date", "kind", "footprint_source", *TCO2E_LEVELS, "lines"]
    mat_days = in_both_grains(material_days.lazy().select(used), "invoice_date")
    mats = mat_days.group_by(SITE_KEYS).agg(
        scope3_cat1_materials_tco2e=days_tco2e(pl.col("kind") == "material"),
        scope3_cat3_fuel_upstream_tco2e=days_tco2e(pl.col("kind") == "fuel"),
        scope3_cat1_gap_lines=pl.col("lines")
        .filter(pl.col("footprint_source") == "gap")
        .sum()
        .cast(pl.Float64),
    )
    alloc = shipment_allocations.lazy().filter(pl.col("installation_id").is_not_null())
    transport = (
        in_both_grains(alloc, "ship_date")
        .group_by(SITE_KEYS)
        .agg(
            scope3_cat4_tco2e=pl.when(pl.col("scope3_category") == 4)
            .then("wtw_tco2e")
            .otherwise(0.0)
            .pipe(fsum),
            scope3_cat9_tco2e=pl.when(pl.col("scope3_category") == 9)
            .then("wtw_tco2e")
            .otherwise(0.0)
            .pipe(fsum),
        )
    )
    # materialised once: the keys and the joins below read each part (polars ran the invoice lines' grouping,
    # millions of rows at scale, once for each)
    parts = [p.lazy() for p in pl.collect_all([s1, s2_month, cat1_prec, mats, transport])]
    keys = pl.concat([p.select(SITE_KEYS) for p in parts]).unique()
    site = keys
    for p in parts:
        site = site.join(p, on=SITE_KEYS, how="left")
    zero_if_null = [
        c
        for c in SUMMABLE
        if c
        not in (
            "scope1_tco2e",
            "scope1_biogenic_memo_tco2e",
            "gross_tco2e",
            "offsets_tco2e",
            "net_tco2e",
            "scope3_cat1_tco2e",
        )
    ]
    year = pl.col("period").str.slice(0, 4)
    regions = grid_regions(raw, factors)
    fkeys = site.select("installation_id", year=year).unique().join(regions, on="installation_id", how="left")
    loc = pick_grid_factor(fkeys, factors, "co2_average", as_of).select(
        "installation_id",
        "year",
        grid_factor_tco2_per_mwh="factor_tco2_per_mwh",
        grid_factor_region="factor_region",
        grid_factor_level="factor_level",
        grid_factor_data_year="factor_data_year",
        grid_factor_notice="factor_notice",
        grid_factor_status="factor_status",
        grid_factor_rule="factor_vintage_rule",
    )
    res = pick_grid_factor(fkeys, factors, "co2_excl_market_nonfossil", as_of).select(
        "installation_id",
        "year",
        residual_factor_tco2_per_mwh="factor_tco2_per_mwh",
        residual_factor_data_year="factor_data_year",
        residual_factor_rule="factor_vintage_rule",
    )
    site = (
        site.with_columns([pl.col(c).fill_null(0.0) for c in zero_if_null])
        .with_columns(year=year)
        .join(loc, on=["installation_id", "year"], how="left")
        .join(res, on=["installation_id", "year"], how="left")
        .join(park_mapping(raw, parks).select("installation_id", "park_id"), on="installation_id", how="left")
        .join(_site_offsets(raw), on=SITE_KEYS, how="left")
        .with_columns(
            renewable_electricity_share=safe_div(pl.col("renewable_electricity_mwh"), pl.col("electricity_mwh")),
            scope3_cat1_tco2e=pl.col("scope3_cat1_precursors_tco2e") + pl.col("scope3_cat1_materials_tco2e"),
            scope3_cat1_gap_lines=pl.col("scope3_cat1_gap_lines") + pl.col("precursor_gap_lines").fill_null(0.0),
            gross_tco2e=pl.col("scope1_tco2e") + pl.col("scope2_location_tco2e"),
            offsets_tco2e=pl.col("offsets_tco2e").fill_null(0.0),
            scope1_basis=pl.col("scope1_basis").fill_null("missing"),
            provisional=pl.lit(None, pl.Boolean) if as_of is None else pl.col("year").cast(pl.Int32) >= as_of.year,
        )
        .with_columns(net_tco2e=pl.col("gross_tco2e") - pl.col("gec_instrument_tco2e") - pl.col("offsets_tco2e"))
        .with_columns(
            net_tco2e_ytd=pl.when(pl.col("period_grain") == MONTH).then(
                pl.col("net_tco2e").cum_sum().over(["installation_id", "year", "period_grain"], order_by="period")),
            issues=join_reasons(
                pl.when(pl.col("scope1_basis") == "missing").then(pl.lit("no stream_emissions for this period: "
                                                                         "Scope 1 and gross/net null")),
                pl.when(pl.col("s2_issues") != "").then("s2_issues"),
                pl.when(pl.col("scope3_cat1_gap_lines") > 0).then(pl.lit("purchased inputs without footprint (gap)")),
            ),
            factor_version=pl.lit(factors.tag(*FACTOR_TABLES) + " " + allocation_versions(shipment_allocations)),
        )
    )  # fmt: skip
    return canonical(site.select(SITE_COLUMNS).collect(), ["installation_id", "period_grain", "period"])


# the published columns, in order: data_contracts/computed/park_progress.odcs.yaml
PARK_COLUMNS = computed_table("park_progress").column_names


def compute_park_progress(
    site_inventory: pl.DataFrame,
    raw: Mapping[str, pl.LazyFrame],
    parks: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Zero-carbon progress per park × period: sums of the sites' figures, renewable share of the sums, net.

    Gross and net of a park are summed over sites with Scope 1 (`installations_missing_scope1` says how many
    lack it)."""
    mapping = park_mapping(raw, parks)
    values = [c for c in SUMMABLE if c != "scope1_biogenic_memo_tco2e"]
    out = (
        site_inventory.lazy().drop("park_id").join(mapping, on="installation_id", how="left")
        .group_by("park_id", "park_name", "period", "period_grain")
        .agg(pl.len().alias("installation_count"),
             pl.col("scope1_tco2e").is_null().sum().alias("installations_missing_scope1"),
             *[pl.col(c).pipe(fsum) for c in values])
        .with_columns(
            renewable_electricity_share=safe_div(pl.col("renewable_electricity_mwh"), pl.col("electricity_mwh")),
            net_tco2e_ytd=pl.when(pl.col("period_grain") == MONTH).then(pl.col("net_tco2e").cum_sum().over(
                ["park_id", pl.col("period").str.slice(0, 4), "period_grain"], order_by="period")),
        )
    )  # fmt: skip
    return canonical(out.select(PARK_COLUMNS).collect(), ["park_id", "period_grain", "period"])
