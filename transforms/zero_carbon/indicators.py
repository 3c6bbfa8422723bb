"""Zero-carbon indicators per site (factory F1–F7) and per declared park (P1–P6) and year (docs/methodology/zero-carbon.md
sections 1, 2 and 4). One row per entity × year × indicator × basis: value, unit, threshold, comparison, passes,
status, reason, standard and clause, the threshold's source status, evidence (source row ids).

Energy in tonnes of standard coal (tce, GB/T 2589-2020; `refdata`): fuels from the CBAM engine's combustion streams
(energy_tj, the same activity data as Scope 1; biomass share non-fossil), electricity consumed (the inventory's
billed electricity incl. on-site generation) at the equivalent calorific value, purchased heat at its energy content.
Energy-related CO2 = fossil CO2 of the combustion streams + Scope 2 at the grid average (location-based) factor:
`physical only`; `with certificates` = the same with the claimable certificates' MWh at zero (gec_instrument_tco2e
off), so the two bases differ by the certificates alone, never by a change of grid factor. Process emissions (calcination, process streams) are not energy-related and stay out of P1/F1.

An indicator without its data is `no data` (passes null, with the reason); one without a threshold is reported with
`no threshold` (passes null); nothing passes by default.
"""

from __future__ import annotations

import polars as pl

from transforms.stable import canonical, fsum
from transforms.zero_carbon.flows import metering_share
from transforms.zero_carbon.meter_years import counted_meters, years_of
from transforms.zero_carbon.refdata import ZeroCarbonReference

YEAR = "year"
INDICATOR_COLUMNS = [
    "level", "entity_id", "installation_id", "park_id", "year", "indicator_id", "basis", "name_en", "name_zh", "value", "unit",
    "numerator", "denominator", "threshold", "comparison", "passes", "status", "reason", "standard", "clause",
    "threshold_status", "threshold_source", "provisional", "evidence", "reference_version",
]  # fmt: skip

SITE_MEASURES = [
    "combustion_co2_tco2e", "fuel_tce", "biomass_tce", "electricity_mwh", "renewable_electricity_mwh", "heat_gj",
    "scope1_tco2e", "scope2_location_tco2e", "scope2_market_tco2e", "gec_instrument_tco2e", "credits_tco2e",
    "output_t", "output_with_pcf_t", "matched_hourly_mwh", "load_hours_with_data_mwh", "metered_tce", "flows_tce",
]  # fmt: skip
NO_DATA = "no data"


def _year_rows(lf: pl.LazyFrame, keys: list[str], values: list[str], lists: list[str] = ()) -> pl.LazyFrame:
    """Per key × year: the year row where one exists, else the sum of the year's month rows."""
    lf = lf.with_columns(year=pl.col("period").str.slice(0, 4))
    has_year = lf.filter(pl.col("period_grain") == YEAR).select(*keys, "year").unique().with_columns(_y=True)
    picked = lf.join(has_year, on=[*keys, "year"], how="left").filter(
        (pl.col("period_grain") == YEAR) | pl.col("_y").is_null()
    )
    return picked.group_by(*keys, "year").agg(
        *[pl.col(v).pipe(fsum) for v in values],
        *[pl.col(c).list.explode(keep_nulls=False, empty_as_null=False).unique().sort() for c in lists],
    )


def site_measures(
    site_inventory: pl.DataFrame,
    stream_emissions: pl.DataFrame | pl.LazyFrame,
    scope2_lines: pl.DataFrame | pl.LazyFrame,
    *,
    production: pl.LazyFrame | None = None,
    product_footprint: pl.DataFrame | pl.LazyFrame | None = None,
    energy_balance: pl.DataFrame | pl.LazyFrame | None = None,
    meter_hourly: pl.DataFrame | pl.LazyFrame | None = None,
    credits: pl.DataFrame | None = None,
    flows: pl.DataFrame | None = None,
    ref: ZeroCarbonReference,
    meter_years: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """One row per installation × year with every input of the indicators (SITE_MEASURES, `*_ids` evidence lists,
    `has_*` flags saying which inputs exist; tce columns added). The hours are read as their summary
    (`transforms.zero_carbon.meter_years`): `meter_years` when given, else made from `meter_hourly`."""
    inv = (
        site_inventory.lazy()
        .filter(pl.col("period_grain") == YEAR)
        .select(
            "installation_id", year="period", park_id="park_id", provisional="provisional",
            scope1_tco2e="scope1_tco2e", scope2_location_tco2e="scope2_location_tco2e",
            scope2_market_tco2e="scope2_market_tco2e", gec_instrument_tco2e="gec_instrument_tco2e",
            electricity_mwh="electricity_mwh", renewable_electricity_mwh="renewable_electricity_mwh",
        )
    )  # fmt: skip
    se = stream_emissions.lazy()
    have = se.collect_schema().names()
    optional = {
        "stream_id": pl.String,
        "energy_tj": pl.Float64,
        "biomass_fraction": pl.Float64,
        "_source_row_ids": pl.List(pl.String),
    }
    se = se.with_columns(pl.lit(None, t).alias(c) for c, t in optional.items() if c not in have).with_columns(
        _comb=pl.col("method") == "combustion", _bio=pl.col("biomass_fraction").fill_null(0.0)
    )
    streams = _year_rows(
        se.with_columns(
            combustion_co2_tco2e=pl.when("_comb").then(pl.col("fossil_tco2e").fill_null(0.0)).otherwise(0.0),
            fuel_tj=pl.when("_comb").then(pl.col("energy_tj").fill_null(0.0)).otherwise(0.0),
            biomass_tj=pl.when("_comb")
            .then(pl.col("energy_tj").fill_null(0.0) * pl.col("_bio"))
            .otherwise(0.0),
            stream_ids=pl.when("_comb")
            .then(pl.col("_source_row_ids").fill_null(pl.lit([], pl.List(pl.String))))
            .otherwise(pl.lit([], pl.List(pl.String))),
            # a combustion stream without energy content (no NCV) leaves the site's energy unknown
            unsized_streams=pl.when(pl.col("_comb") & pl.col("energy_tj").is_null())
            .then(pl.concat_list(pl.col("stream_id")))
            .otherwise(pl.lit([], pl.List(pl.String))),
        ),
        ["installation_id"],
        ["combustion_co2_tco2e", "fuel_tj", "biomass_tj"],
        ["stream_ids", "unsized_streams"],
    ).with_columns(has_streams=pl.lit(True))
    lines = (
        scope2_lines.lazy()
        .group_by("installation_id", "year")
        .agg(
            heat_gj=pl.col("heat_gj").fill_null(0.0).pipe(fsum),
            bill_ids=pl.col("source_row_id").unique().sort(),
        )
    )
    keys = ["installation_id", "year"]
    out = (
        inv.join(streams, on=keys, how="left")
        .join(lines, on=keys, how="left")
        .with_columns(
            fuel_tce=pl.col("fuel_tj").fill_null(0.0) * ref.tce_per_tj,
            biomass_tce=pl.col("biomass_tj").fill_null(0.0) * ref.tce_per_tj,
            heat_gj=pl.col("heat_gj").fill_null(0.0),
            combustion_co2_tco2e=pl.col("combustion_co2_tco2e").fill_null(0.0),
            has_streams=pl.col("has_streams").fill_null(False),
        )
    )
    out = _join_optional(out, _production_cover(production, product_footprint), keys, "has_production")
    out = _join_optional(out, _balance(energy_balance, meter_hourly, meter_years), keys, "has_balance")
    out = _join_optional(out, _credits(credits), keys, "has_credits")
    out = _join_optional(out, flows.lazy() if flows is not None else None, keys, "has_flows")
    cols = out.collect_schema().names()
    fill = [pl.lit(None, pl.Float64).alias(c) for c in SITE_MEASURES if c not in cols]
    if "flows_not_sized" not in cols:
        fill.append(pl.lit(None, pl.String).alias("flows_not_sized"))
    lists = [
        pl.lit([], pl.List(pl.String)).alias(c)
        for c in ("stream_ids", "bill_ids", "production_ids", "balance_ids", "credit_ids", "flow_ids")
        if c not in cols
    ]
    tce_el = ref.tce_per_mwh_electricity
    return (
        out.with_columns(*fill, *lists)
        .with_columns(
            [
                pl.col(c).fill_null(pl.lit([], pl.List(pl.String)))
                for c in ("stream_ids", "bill_ids", "unsized_streams")
            ],
            electricity_tce=pl.col("electricity_mwh").fill_null(0.0) * tce_el,
            renewable_electricity_tce=pl.col("renewable_electricity_mwh").fill_null(0.0) * tce_el,
            heat_tce=pl.col("heat_gj") * ref.kgce("energy_content"),  # GJ × kgce/MJ = tce
        )
        .with_columns(total_tce=pl.col("fuel_tce") + pl.col("electricity_tce") + pl.col("heat_tce"))
        .collect()
    )


def _join_optional(out: pl.LazyFrame, part: pl.LazyFrame | None, keys: list[str], flag: str) -> pl.LazyFrame:
    if part is None:
        return out.with_columns(pl.lit(False).alias(flag))
    return out.join(part.with_columns(pl.lit(True).alias(flag)), on=keys, how="left").with_columns(
        pl.col(flag).fill_null(False)
    )


def _production_cover(
    production: pl.LazyFrame | None, footprint: pl.DataFrame | pl.LazyFrame | None
) -> pl.LazyFrame | None:
    """Output mass per site × year and the part of it whose product has a cradle-to-gate footprint (F5)."""
    if production is None:
        return None
    prod = production.lazy().filter(pl.col("product_id").is_not_null())
    prod = prod.with_columns(year=pl.col("period_start").dt.year().cast(pl.String))
    if footprint is None:
        covered = pl.LazyFrame(schema={"product_id": pl.String, "year": pl.String, "_pcf": pl.Boolean})
    else:
        covered = (
            footprint.lazy()
            .filter(pl.col("cradle_to_gate_tco2e_per_t").is_not_null())
            .select("product_id", year=pl.col("period").str.slice(0, 4), _pcf=pl.lit(True))
            .unique()
        )
    return (
        prod.join(covered, on=["product_id", "year"], how="left")
        .group_by("installation_id", "year")
        .agg(
            output_t=pl.col("produced_t").fill_null(0.0).pipe(fsum),
            output_with_pcf_t=pl.when(pl.col("_pcf").fill_null(False))
            .then("produced_t")
            .otherwise(0.0)
            .pipe(fsum),
            production_ids=pl.col("_source_row_id").sort(),
        )
    )


def _balance(
    balance: pl.DataFrame | pl.LazyFrame | None,
    meter_hourly: pl.DataFrame | pl.LazyFrame | None,
    meter_years: pl.LazyFrame | None,
) -> pl.LazyFrame | None:
    """Hourly-matched renewable MWh and the load over the hours with data, per site × year (F3). Evidence: the
    energy-balance row and the meters it counts (`meter:<id>`: join fct_meter_hourly, whose source_row_id_first /
    _last lead to the meter_readings rows)."""
    if balance is None:
        return None
    b = balance.lazy().with_columns(
        matched_hourly_mwh="renewable_matched_hourly_mwh",
        load_hours_with_data_mwh="load_hours_with_data_mwh",
        balance_ids=pl.concat_list(pl.format("fct_energy_balance:{}:{}", "installation_id", "period")),
    )
    out = _year_rows(
        b, ["installation_id"], ["matched_hourly_mwh", "load_hours_with_data_mwh"], ["balance_ids"]
    )
    if meter_hourly is None and meter_years is None:
        return out
    meters = counted_meters(years_of(meter_hourly) if meter_years is None else meter_years)
    return (
        out.join(meters, on=["installation_id", "year"], how="left")
        .with_columns(
            balance_ids=pl.concat_list(
                "balance_ids", pl.col("_meters").fill_null(pl.lit([], pl.List(pl.String)))
            )
        )
        .drop("_meters")
    )


def _credits(credits: pl.DataFrame | None) -> pl.LazyFrame | None:
    """Credits retired for a site and a year (`YYYY`, or a month of it) (F6)."""
    if credits is None:
        return None
    return (
        credits.lazy()
        .group_by(installation_id="entity_id", year=pl.col("period").str.slice(0, 4))
        .agg(
            credits_tco2e=pl.col("credits_retired_tco2e").pipe(fsum),
            credit_ids=pl.col("source_row_ids").list.explode(keep_nulls=False, empty_as_null=False),
        )
    )


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den)


# indicator id → (basis, numerator, denominator, evidence columns, no-data reason (null when the data is there))
def _definitions() -> dict[str, list[tuple[str, pl.Expr, pl.Expr, list[str], pl.Expr]]]:
    c = pl.col
    no_energy = (
        pl.when(c("total_tce").fill_null(0.0) <= 0)
        .then(pl.lit("no energy consumption on file"))
        .when(c("unsized_streams").list.len() > 0)
        .then(
            pl.format(
                "combustion streams without energy content (NCV): {}", c("unsized_streams").list.join(", ")
            )
        )
    )
    no_s1 = pl.when(~c("has_streams") | c("scope1_tco2e").is_null()).then(
        pl.lit("no Scope 1 streams (stream_emissions) for the year")
    )
    energy_ev = ["stream_ids", "bill_ids"]
    p1 = [
        ("physical only", c("combustion_co2_tco2e") + c("scope2_location_tco2e"), c("total_tce"), energy_ev,
         pl.coalesce(no_s1, no_energy)),
        ("with certificates",
         c("combustion_co2_tco2e") + c("scope2_location_tco2e") - c("gec_instrument_tco2e").fill_null(0.0),
         c("total_tce"), energy_ev,
         pl.coalesce(no_s1, no_energy)),
    ]  # fmt: skip
    p2 = [
        ("physical + claimable certificates", c("renewable_electricity_tce") + c("biomass_tce"), c("total_tce"),
         energy_ev, pl.coalesce(no_s1, no_energy)),
    ]  # fmt: skip
    limits = [("limit standard", pl.lit(None, pl.Float64), pl.lit(None, pl.Float64), [],
               pl.lit("no energy-consumption limit values in zc_indicator_thresholds (limit standards not transcribed)"))]  # fmt: skip
    f3 = [
        ("hourly matched (own generation + PPA); certificates excluded", c("matched_hourly_mwh"),
         c("load_hours_with_data_mwh"), ["balance_ids"],
         pl.when(~c("has_balance") | (c("load_hours_with_data_mwh").fill_null(0.0) <= 0))
         .then(pl.lit("no metered load in fct_energy_balance for the year"))),
    ]  # fmt: skip
    f4 = [
        ("EMS-metered energy flows ÷ all flows (tce)", c("metered_tce"), c("flows_tce"), ["flow_ids"],
         pl.when(~c("has_flows") | (c("flows_tce").fill_null(0.0) <= 0)).then(pl.lit("no energy flows on file"))
         .when(c("flows_not_sized").fill_null("") != "")
         .then(pl.format("flows not convertible to tce: {}", c("flows_not_sized")))),
    ]  # fmt: skip
    f5 = [
        ("output mass with a cradle-to-gate footprint ÷ output mass", c("output_with_pcf_t"), c("output_t"),
         ["production_ids"],
         pl.when(~c("has_production") | (c("output_t").fill_null(0.0) <= 0)).then(pl.lit("no production on file"))),
    ]  # fmt: skip
    f6 = [
        ("(certificates applied to Scope 2 + credits retired) ÷ (Scope 1 + Scope 2 location-based)",
         c("gec_instrument_tco2e").fill_null(0.0) + c("credits_tco2e").fill_null(0.0),
         c("scope1_tco2e") + c("scope2_location_tco2e"), ["bill_ids", "credit_ids", "stream_ids"], no_s1),
    ]  # fmt: skip
    not_ingested = [("not ingested", pl.lit(None, pl.Float64), pl.lit(None, pl.Float64), [],
                     pl.lit("lingtan does not ingest this data yet"))]  # fmt: skip
    return {
        "P1": p1, "P2": p2, "P3": limits, "P4": not_ingested, "P5": not_ingested, "P6": not_ingested,
        "F1": p1, "F2": p2, "F3": f3, "F4": f4, "F5": f5, "F6": f6, "F7": limits,
    }  # fmt: skip


def _rows(entities: pl.DataFrame, level: str) -> pl.DataFrame:
    prefix = "P" if level == "park" else "F"
    parts = []
    for ind, defs in _definitions().items():
        if not ind.startswith(prefix):
            continue
        for basis, num, den, evidence, missing in defs:
            ev = pl.concat_list([pl.col(e) for e in evidence]).list.unique().list.sort() if evidence else None
            parts.append(
                entities.select(
                    level=pl.lit(level), entity_id="entity_id", installation_id="installation_id",
                    park_id="park_id", year="year",
                    indicator_id=pl.lit(ind), basis=pl.lit(basis), numerator=num.cast(pl.Float64),
                    denominator=den.cast(pl.Float64), missing=pl.coalesce(missing, "incomplete"),
                    provisional="provisional", total_tce="total_tce",
                    evidence=ev if ev is not None else pl.lit([], pl.List(pl.String)),
                )
            )  # fmt: skip
    return pl.concat(parts, how="vertical_relaxed")


def _judge(rows: pl.DataFrame, ref: ZeroCarbonReference) -> pl.DataFrame:
    """Attach the threshold row (P1 by the entity's energy bracket) and decide passes/status/reason."""
    th = ref.thresholds.select(
        "indicator_id", "name_en", "name_zh", "unit", "comparison", "threshold", "applies_from_tce",
        "applies_to_tce", "standard", "clause", threshold_status="status", threshold_source="source",
    )  # fmt: skip
    bracket = (pl.col("applies_from_tce").is_null() | (pl.col("total_tce") >= pl.col("applies_from_tce"))) & (
        pl.col("applies_to_tce").is_null() | (pl.col("total_tce") < pl.col("applies_to_tce"))
    )
    joined = rows.with_columns(_row=pl.int_range(pl.len())).join(th, on="indicator_id", how="left")
    matched = joined.filter(bracket.fill_null(False))
    unmatched = (
        joined.join(matched.select("_row"), on="_row", how="anti")
        .group_by("_row")
        .agg(pl.all().first(), _lowest=pl.col("applies_from_tce").min())
        .with_columns(threshold=pl.lit(None, pl.Float64))
    )
    value = _ratio(pl.col("numerator"), pl.col("denominator"))
    out = pl.concat([matched, unmatched.drop("_lowest")], how="diagonal_relaxed").join(
        unmatched.select("_row", "_lowest"), on="_row", how="left"
    )
    cmp = pl.col("comparison")
    ok = (
        pl.when(cmp == "<=")
        .then(pl.col("value") <= pl.col("threshold"))
        .when(cmp == ">=")
        .then(pl.col("value") >= pl.col("threshold"))
    )
    status = (
        pl.when(pl.col("missing").is_not_null() | pl.col("value").is_null())
        .then(pl.lit(NO_DATA))
        .when(pl.col("threshold").is_null())
        .then(pl.lit("no threshold"))
        .when(ok)
        .then(pl.lit("pass"))
        .otherwise(pl.lit("fail"))
    )
    reason = (
        pl.when(pl.col("missing").is_not_null())
        .then("missing")
        .when(pl.col("value").is_null())
        .then(pl.lit("denominator is zero"))
        .when(pl.col("threshold").is_null() & pl.col("_lowest").is_not_null())
        .then(pl.format("uses {} tce a year, below the smallest bracket of the indicator set ({} tce)",
                        pl.col("total_tce").round(3), pl.col("_lowest")))
        .when(pl.col("threshold").is_null())
        .then(pl.lit("no threshold set (see threshold_source)"))
    )  # fmt: skip
    return (
        out.with_columns(value=pl.when(pl.col("missing").is_null()).then(value))
        .with_columns(status=status, reason=reason)
        .with_columns(
            passes=pl.when(pl.col("status").is_in(["pass", "fail"])).then(pl.col("status") == "pass")
        )
    )


def zero_carbon_indicators(
    measures: pl.DataFrame, parks: pl.DataFrame | pl.LazyFrame | None, ref: ZeroCarbonReference
) -> pl.DataFrame:
    """F1–F7 per site × year and P1–P6 per declared park × year (INDICATOR_COLUMNS) from `site_measures`.

    `parks`: park_id, installation_id (the `parks` dataset); a park's figures are sums over its member sites with
    data for the year; a member without Scope 1 streams makes the park's energy indicators `no data`."""
    sums = [
        *SITE_MEASURES, "total_tce", "electricity_tce", "renewable_electricity_tce", "heat_tce",
    ]  # fmt: skip
    members = (
        parks.lazy().select("park_id", "installation_id").unique().collect()
        if parks is not None
        else pl.DataFrame(schema={"park_id": pl.String, "installation_id": pl.String})
    )
    # a row is a site's (installation_id set) or a park's (park_id set), never both: readers tell them apart so
    site = measures.with_columns(
        entity_id="installation_id", park_id=pl.lit(None, pl.String), incomplete=pl.lit(None, pl.String)
    )
    frames = [_rows(site, "site")]
    if not members.is_empty():
        evidence = [
            "stream_ids",
            "bill_ids",
            "production_ids",
            "balance_ids",
            "credit_ids",
            "flow_ids",
            "unsized_streams",
        ]
        park = (
            members.join(measures, on="installation_id", how="inner")
            .group_by("park_id", "year")
            .agg(
                *[pl.col(c).pipe(fsum) for c in sums if c in measures.columns],
                *[
                    pl.col(c).list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
                    for c in evidence
                ],
                has_streams=pl.col("has_streams").all(),
                provisional=pl.col("provisional").any(),
                incomplete=pl.when(~pl.col("has_streams").all()).then(
                    pl.format(
                        "member sites without Scope 1 streams: {}",
                        pl.col("installation_id").filter(~pl.col("has_streams")).sort().str.join(", "),
                    )
                ),
                members=pl.col("installation_id").sort().str.join(", "),
            )  # fmt: skip
            .with_columns(
                entity_id="park_id",
                installation_id=pl.lit(None, pl.String),
                flows_not_sized=pl.lit(None, pl.String),
            )
        )
        park = park.with_columns(
            [
                pl.lit(False).alias(f)
                for f in ("has_balance", "has_flows", "has_production")
                if f not in park.columns
            ]
        )
        if not park.is_empty():
            frames.append(_rows(park, "park"))
    judged = _judge(pl.concat(frames, how="vertical_relaxed"), ref)
    return canonical(
        judged.with_columns(reference_version=pl.lit(ref.tag())).select(INDICATOR_COLUMNS),
        ["level", "entity_id", "year", "indicator_id", "basis"],
    )


__all__ = ["INDICATOR_COLUMNS", "SITE_MEASURES", "metering_share", "site_measures", "zero_carbon_indicators"]
