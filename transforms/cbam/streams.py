"""Source-stream emissions (MIR Annex II B) and installation totals (Eq 4).

Activity data per stream and month come from `stream_readings`; fuel bills (`energy_bills` whose carrier is
the stream's `energy_carrier`) stand in only for months without any reading of that stream, so nothing is
counted twice. Laboratory values on readings (ncv, carbon_content, ef) override the monitoring plan for their
month: a reading's own value first, else the activity-weighted mean of the values analysed that month, else
the plan.

- combustion  Em = AD × NCV × EF × OxF (EF per energy) or AD × EF × OxF (EF per unit of AD)     Eq 5-6
- process     Em = AD × EF × ConvF                                                              Eq 11
- mass balance Em = f × AD × C, outputs negative AD (or AD × EF when only an EF is given)       Eq 12-14
- measured    Em = tonnes of the stream's gas from the readings (CEMS)                          Eq 16
Then × GWP of the stream's gas (AR5), and the biomass fraction is zero-rated and kept as memo (Eq 10).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.cbam.errors import CbamInputError, MissingFactorError
from transforms.cbam.periods import add_year_grain, keep_years, month_parts
from transforms.contracts import dataset as contract
from transforms.reference.cbam import CbamReference
from transforms.stable import fsum, quotient
from transforms.units import factor_table, join_factors, per_dimension

_PLAN = contract("source_streams")
METHODS = _PLAN.column("method").allowed  # combustion, process, mass_balance, measured
# what an empty plan value means (the contract's `default`): gas CO2, oxidation and conversion 1, biomass 0
_DEFAULT = {
    c: _PLAN.column(c).default for c in ("gas", "oxidation_factor", "conversion_factor", "biomass_fraction")
}

STREAM_KEYS = ["installation_id", "stream_id", "process_id"]


def _norm_text(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_lowercase()


def _stream_plan(streams: pl.LazyFrame) -> pl.DataFrame:
    """Monitoring plan with per-stream unit factors (computed once per stream: a small master table).

    The contract already holds ingestion to one row per (installation, stream) and to the canonical `method`
    and `gas` values; only the rule across rows is checked here: one energy carrier feeds one stream."""
    plan = streams.with_columns(
        gas=pl.col("gas").fill_null(_DEFAULT["gas"]),
        energy_carrier_key=_norm_text("energy_carrier"),
    ).collect()
    carriers = (
        plan.filter(pl.col("energy_carrier_key").is_not_null())
        .group_by("installation_id", "energy_carrier_key")
        .agg(pl.col("stream_id").sort())
        .filter(pl.col("stream_id").list.len() > 1)
    )
    if carriers.height:
        raise CbamInputError(
            [
                {
                    "installation_id": r["installation_id"],
                    "energy_carrier": r["energy_carrier_key"],
                    "streams": ",".join(r["stream_id"]),
                    "reason": "one energy carrier linked to several streams "
                    "(its bills would be counted twice)",
                }
                for r in carriers.iter_rows(named=True)
            ]
        )

    ncv_units: list[str | None] = []
    ncv_assumed: list[bool] = []
    ef_units: list[str | None] = []
    ef_basis: list[str | None] = []
    ef_targets: list[str | None] = []
    for r in plan.iter_rows(named=True):
        unit = r["unit"]
        nu = r["ncv_unit"] or (f"GJ/{unit}" if unit else None)
        ncv_units.append(nu)
        ncv_assumed.append(r["ncv_unit"] is None)
        eu = r["ef_unit"]
        if eu is None and unit:
            has_ncv = r["ncv"] is not None
            eu = "tCO2/TJ" if r["method"] == "combustion" and has_ncv else f"tCO2/{unit}"
        ef_units.append(eu)
        basis = "energy" if per_dimension(eu) == "energy" else "activity"
        ef_basis.append(basis)
        ef_targets.append("tCO2/TJ" if basis == "energy" else (f"tCO2/{unit}" if unit else None))
    plan = plan.with_columns(
        pl.Series("ncv_unit_used", ncv_units, dtype=pl.String),
        pl.Series("ncv_unit_assumed", ncv_assumed, dtype=pl.Boolean),
        pl.Series("ef_unit_used", ef_units, dtype=pl.String),
        pl.Series("ef_basis", ef_basis, dtype=pl.String),
        pl.Series("ef_unit_canonical", ef_targets, dtype=pl.String),
        (pl.lit("TJ/") + pl.col("unit")).alias("ncv_target"),
    )
    ncv = factor_table(plan, "ncv_unit_used", "ncv_target", "gas_reference_c", prefix="ncv_")
    ef = factor_table(plan, "ef_unit_used", "ef_unit_canonical", "gas_reference_c", prefix="ef_")
    plan = plan.join(ncv, on=["ncv_unit_used", "ncv_target", "gas_reference_c"], how="left", nulls_equal=True)
    plan = plan.join(
        ef, on=["ef_unit_used", "ef_unit_canonical", "gas_reference_c"], how="left", nulls_equal=True
    )
    return plan


def _lab_month_means(reading_parts: pl.LazyFrame) -> pl.LazyFrame:
    """Per stream and month: activity-weighted mean of laboratory values given on that month's readings."""
    w = (pl.col("quantity").fill_null(0.0) * pl.col("fraction")).abs()
    aggs = []
    for c in ("ncv", "carbon_content", "ef"):
        has = pl.col(c).is_not_null()
        wsum = pl.when(has).then(w).pipe(fsum)
        aggs.append(
            pl.when(has.any())
            .then(
                pl.when(wsum > 0)
                .then(quotient(pl.when(has).then(w * pl.col(c)).pipe(fsum), wsum))
                .otherwise(quotient(pl.col(c).pipe(fsum), pl.col(c).count().cast(pl.Float64)))  # the mean
            )
            .alias(f"lab_{c}_month")
        )
    return reading_parts.group_by("installation_id", "stream_id", "month").agg(aggs)


def activity_parts(
    streams: pl.LazyFrame, readings: pl.LazyFrame, bills: pl.LazyFrame, years: Sequence[int] | None
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """(plan, month parts of activity data: readings, else carrier-linked bills)."""
    plan = _stream_plan(streams)
    rp = keep_years(month_parts(readings, dataset="stream_readings"), years)
    unknown = (
        rp.join(
            plan.lazy().select("installation_id", "stream_id"),
            on=["installation_id", "stream_id"],
            how="anti",
        )
        .select("installation_id", "stream_id", "_source_row_id")
        .head(20)
        .collect()
    )
    if unknown.height:
        raise CbamInputError(
            [
                {
                    "installation_id": r["installation_id"],
                    "stream_id": r["stream_id"],
                    "row": r["_source_row_id"],
                    "reason": "reading of a stream not in source_streams",
                }
                for r in unknown.iter_rows(named=True)
            ]
        )
    readings_part = rp.select(
        "installation_id",
        "stream_id",
        "process_id",
        "month",
        "fraction",
        "quantity",
        "unit",
        "emissions_t",
        pl.col("ncv").alias("lab_ncv"),
        pl.col("carbon_content").alias("lab_carbon_content"),
        pl.col("ef").alias("lab_ef"),
        "_source_row_id",
        ad_origin=pl.lit("reading"),
    )
    linked = (
        plan.lazy()
        .filter(pl.col("energy_carrier_key").is_not_null())
        .select("installation_id", "stream_id", pl.col("energy_carrier_key").alias("carrier_key"))
    )
    bp = keep_years(month_parts(bills, dataset="energy_bills"), years).with_columns(
        carrier_key=_norm_text("carrier")
    )
    bill_part = (
        bp.join(linked, on=["installation_id", "carrier_key"], how="inner")
        .join(
            rp.select("installation_id", "stream_id", "month").unique(),
            on=["installation_id", "stream_id", "month"],
            how="anti",
        )
        .select(
            "installation_id",
            "stream_id",
            "process_id",
            "month",
            "fraction",
            "quantity",
            "unit",
            pl.lit(None, dtype=pl.Float64).alias("emissions_t"),
            pl.lit(None, dtype=pl.Float64).alias("lab_ncv"),
            pl.lit(None, dtype=pl.Float64).alias("lab_carbon_content"),
            pl.lit(None, dtype=pl.Float64).alias("lab_ef"),
            "_source_row_id",
            ad_origin=pl.lit("bill"),
        )
    )
    parts = pl.concat([readings_part, bill_part], how="vertical_relaxed").join(
        _lab_month_means(rp), on=["installation_id", "stream_id", "month"], how="left"
    )
    return plan, parts


def stream_emissions(
    streams: pl.LazyFrame,
    readings: pl.LazyFrame,
    bills: pl.LazyFrame,
    ref: CbamReference,
    years: Sequence[int] | None,
    grains: Sequence[str],
) -> pl.DataFrame:
    """Per installation × stream × process × period: activity, factors, gas t, fossil and biomass CO2e."""
    plan, parts = activity_parts(streams, readings, bills, years)
    p = plan.lazy().select(
        "installation_id",
        "stream_id",
        pl.col("name").alias("stream_name"),
        "method",
        "gas",
        pl.col("unit").alias("activity_unit"),
        "gas_reference_c",
        "default_process_id",
        pl.col("ncv").alias("plan_ncv"),
        pl.col("ef").alias("plan_ef"),
        pl.col("carbon_content").alias("plan_carbon_content"),
        "oxidation_factor",
        "conversion_factor",
        "biomass_fraction",
        "ncv_factor",
        "ncv_note",
        "ncv_unit_used",
        "ncv_unit_assumed",
        "ef_factor",
        "ef_note",
        "ef_unit_used",
        "ef_basis",
        "ef_unit_canonical",
    )
    # Collected: the unit lookup reads its distinct units and the sums below read it again, and the plan above
    # (month splits, laboratory means) would be planned and run for each.
    lf = parts.join(p, on=["installation_id", "stream_id"], how="inner").collect().lazy()
    lf = join_factors(lf, "unit", "activity_unit", "gas_reference_c", prefix="ad_")

    f_c = ref.constant("f_co2_per_c")
    gwp = dict(ref.gwp)
    own_or_lab = {
        c: pl.coalesce(pl.col(f"lab_{c}"), pl.col(f"lab_{c}_month")) for c in ("ncv", "carbon_content", "ef")
    }
    lf = lf.with_columns(
        process_id=pl.coalesce("process_id", "default_process_id"),
        activity_data=pl.col("quantity") * pl.col("fraction") * pl.col("ad_factor"),
        ncv_tj_per_unit=pl.coalesce(own_or_lab["ncv"], pl.col("plan_ncv")) * pl.col("ncv_factor"),
        ef_canonical=pl.coalesce(own_or_lab["ef"], pl.col("plan_ef")) * pl.col("ef_factor"),
        carbon_content_tc_per_unit=pl.coalesce(own_or_lab["carbon_content"], pl.col("plan_carbon_content")),
        oxf=pl.col("oxidation_factor").fill_null(_DEFAULT["oxidation_factor"]),
        convf=pl.col("conversion_factor").fill_null(_DEFAULT["conversion_factor"]),
        bf=pl.col("biomass_fraction").fill_null(_DEFAULT["biomass_fraction"]),
        factor_origin=pl.concat_list(
            pl.when(own_or_lab[c].is_not_null()).then(pl.lit(f"lab:{c}"))
            for c in ("ncv", "carbon_content", "ef")
        ).list.drop_nulls(),
    ).with_columns(energy_tj=pl.col("activity_data") * pl.col("ncv_tj_per_unit"))

    ad, ef, energy = pl.col("activity_data"), pl.col("ef_canonical"), pl.col("energy_tj")
    by_basis = pl.when(pl.col("ef_basis") == "energy").then(energy * ef).otherwise(ad * ef)
    method = pl.col("method")
    gas_t = (
        pl.when(method == "combustion")
        .then(by_basis * pl.col("oxf"))
        .when(method == "process")
        .then(by_basis * pl.col("convf"))
        .when(method == "mass_balance")
        .then(
            pl.when(pl.col("carbon_content_tc_per_unit").is_not_null())
            .then(f_c * ad * pl.col("carbon_content_tc_per_unit"))
            .otherwise(by_basis)
        )
        .otherwise(pl.col("emissions_t") * pl.col("fraction"))
    )
    lf = (
        lf.with_columns(gas_t=gas_t)
        .with_columns(
            tco2e=pl.col("gas_t") * pl.col("gas").replace_strict(gwp, default=None, return_dtype=pl.Float64)
        )
        .with_columns(
            fossil_tco2e=pl.col("tco2e") * (1.0 - pl.col("bf")),
            biomass_tco2e=pl.col("tco2e") * pl.col("bf"),
        )
    )
    df = lf.collect()

    bad_unit = df.filter(
        pl.col("quantity").is_not_null() & pl.col("ad_factor").is_null() & (method != "measured")
    )
    if bad_unit.height:
        raise CbamInputError(
            [
                {
                    "installation_id": r["installation_id"],
                    "stream_id": r["stream_id"],
                    "period": r["month"],
                    "row": r["_source_row_id"],
                    "reason": f"{r['ad_note']} (activity unit of the stream is {r['activity_unit']})",
                }
                for r in bad_unit.unique("_source_row_id").head(50).iter_rows(named=True)
            ]
        )
    missing = df.filter(
        pl.col("tco2e").is_null() & ((method == "measured") | (pl.col("activity_data").fill_null(0.0) != 0.0))
    )
    if missing.height:
        problems = (
            missing.group_by("installation_id", "stream_id", "method", "month")
            .agg(pl.col("_source_row_id").sort().first().alias("first_row"))
            .sort("installation_id", "stream_id", "month")
            .with_columns(
                reason=pl.when(pl.col("method") == "measured")
                .then(pl.lit("measured stream reading without emissions_t"))
                .otherwise(pl.lit("no emission factor / NCV / carbon content usable for this activity data")),
                period=pl.col("month"),
            )
            .drop("month")
        )
        raise MissingFactorError(
            problems.to_dicts(),
            hint="Fill ncv/ef/carbon_content in source_streams (and their "
            "units) or give laboratory values on the readings.",
        )
    df = df.filter(pl.col("tco2e").is_not_null())

    w = pl.col("activity_data").abs()
    monthly = (
        df.lazy()
        .with_columns(
            _w=w,
            _w_ncv=w * pl.col("ncv_tj_per_unit"),
            _w_ef=w * pl.col("ef_canonical"),
            _w_cc=w * pl.col("carbon_content_tc_per_unit"),
            _w_oxf=w * pl.col("oxf"),
            _w_bf=w * pl.col("bf"),
            ad_note=pl.concat_list(pl.col("ad_note"), pl.col("ncv_note"), pl.col("ef_note")).list.eval(
                pl.element().filter(pl.element() != "")
            ),
        )
        .group_by(*STREAM_KEYS, pl.col("month").alias("period"))
        .agg(
            pl.col("stream_name", "method", "gas", "activity_unit", "ef_unit_canonical", "ef_basis").first(),
            pl.col("ncv_unit_assumed").any(),
            pl.col("activity_data").pipe(fsum),
            pl.col("energy_tj").pipe(fsum),
            pl.col("gas_t").pipe(fsum),
            pl.col("tco2e").pipe(fsum),
            pl.col("fossil_tco2e").pipe(fsum),
            pl.col("biomass_tco2e").pipe(fsum),
            *(pl.col(c).pipe(fsum) for c in ("_w", "_w_ncv", "_w_ef", "_w_cc", "_w_oxf", "_w_bf")),
            pl.col("ad_origin").unique().sort().alias("activity_origin"),
            pl.col("factor_origin").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
            pl.col("ad_note")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort()
            .alias("unit_conversions"),
            pl.col("_source_row_id").unique().sort().alias("_source_row_ids"),
        )
    )
    sums = [
        "activity_data",
        "energy_tj",
        "gas_t",
        "tco2e",
        "fossil_tco2e",
        "biomass_tco2e",
        "_w",
        "_w_ncv",
        "_w_ef",
        "_w_cc",
        "_w_oxf",
        "_w_bf",
    ]
    firsts = [
        "stream_name",
        "method",
        "gas",
        "activity_unit",
        "ef_unit_canonical",
        "ef_basis",
        "ncv_unit_assumed",
    ]
    lists = ["activity_origin", "factor_origin", "unit_conversions", "_source_row_ids"]
    out = add_year_grain(monthly, STREAM_KEYS, sums, lists, firsts, grains)

    def wmean(c: str) -> pl.Expr:
        return pl.when(pl.col("_w") > 0).then(quotient(pl.col(c), pl.col("_w")))

    return (
        out.with_columns(
            ncv_tj_per_unit=wmean("_w_ncv"),
            ef_value=wmean("_w_ef"),
            carbon_content_tc_per_unit=wmean("_w_cc"),
            oxidation_factor=wmean("_w_oxf"),
            biomass_fraction=wmean("_w_bf"),
            factor_origin=pl.when(pl.col("factor_origin").list.len() == 0)
            .then(pl.lit(["plan"]))
            .otherwise(pl.col("factor_origin")),
            activity_origin=pl.col("activity_origin").list.join("+"),
        )
        .select(
            "installation_id",
            "stream_id",
            "process_id",
            "period",
            "period_grain",
            "stream_name",
            "method",
            "gas",
            "activity_data",
            "activity_unit",
            "energy_tj",
            "ncv_tj_per_unit",
            "ef_value",
            "ef_unit_canonical",
            "carbon_content_tc_per_unit",
            "oxidation_factor",
            "biomass_fraction",
            "gas_t",
            "tco2e",
            "fossil_tco2e",
            "biomass_tco2e",
            "activity_origin",
            "factor_origin",
            "ncv_unit_assumed",
            "unit_conversions",
            "_source_row_ids",
        )
        .sort("installation_id", "period_grain", "period", "stream_id", "process_id", nulls_last=True)
        .collect()
    )


def installation_emissions(stream_em: pl.DataFrame) -> pl.DataFrame:
    """Installation × period totals (Eq 4): fossil direct, biomass memo, by monitoring method and by gas."""
    keys = ["installation_id", "period", "period_grain"]
    m, g = pl.col("method"), pl.col("gas")
    fossil = pl.col("fossil_tco2e")
    return (
        stream_em.group_by(keys)
        .agg(
            direct_tco2e=fossil.pipe(fsum),
            biomass_tco2e=pl.col("biomass_tco2e").pipe(fsum),
            **{f"{x}_tco2e": pl.when(m == x).then(fossil).pipe(fsum) for x in METHODS},
            co2_tco2e=pl.when(g == "CO2").then(fossil).pipe(fsum),
            n2o_tco2e=pl.when(g == "N2O").then(fossil).pipe(fsum),
            pfc_tco2e=pl.when(g.is_in(["CF4", "C2F6"])).then(fossil).pipe(fsum),
            other_co2e_tco2e=pl.when(g == "CO2e").then(fossil).pipe(fsum),
            n2o_t=pl.when(g == "N2O").then("gas_t").pipe(fsum),
            cf4_t=pl.when(g == "CF4").then("gas_t").pipe(fsum),
            c2f6_t=pl.when(g == "C2F6").then("gas_t").pipe(fsum),
            energy_tj=pl.col("energy_tj").pipe(fsum),
            unattributed_stream_tco2e=pl.when(pl.col("process_id").is_null()).then(fossil).pipe(fsum),
            _source_row_ids=pl.col("_source_row_ids")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort(),
        )
        .sort(keys)
    )
