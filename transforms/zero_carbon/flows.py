"""Energy flows of a site and which of them an energy-management system measures (indicator F4, 能源数据自动采集率,
docs/methodology/zero-carbon.md section 2).

A flow is a carrier × supply account of a site (electricity: `grid`, `ppa`, `direct_line`, `onsite`; other carriers:
`grid`, i.e. bought). It is measured when an EMS meter covers it: a meter of the site for that carrier whose role
supplies that account (grid_import → grid, onsite_generation → onsite, ppa_delivery → ppa when it sits under the
grid meter, else direct_line; consumption without a parent → grid for non-electric carriers) and that logged
readings in the year (when the hourly table is given). Sub-meters and export/storage meters are parts or
directions of flows, never flows of their own. A flow's size is its billed quantity in tce (a bill naming a metered
flow adds nothing: it sizes the same flow); a flow known only from its meter is sized by the metered quantity.
"""

from __future__ import annotations

import polars as pl

from transforms.carriers import ELECTRICITY, carrier_expr, energy_kind_expr
from transforms.periods import split_by_month
from transforms.stable import fsum
from transforms.units import canonical_expr, gas_m3_to_nm3_factor, to_factor_expr
from transforms.zero_carbon.meter_years import metered_quantity, years_of
from transforms.zero_carbon.refdata import ZeroCarbonReference

FLOW_COLUMNS = ["installation_id", "year", "metered_tce", "flows_tce", "flow_ids", "flows_not_sized"]
_SUPPLY = {"grid_import": "grid", "onsite_generation": "onsite", "consumption": "grid"}


def _tce_expr(carrier: pl.Expr, quantity: pl.Expr, unit: pl.Expr, ref: ZeroCarbonReference) -> pl.Expr:
    """Quantity in its unit → tce: electricity at the equivalent calorific value, any energy unit at its energy
    content, fuels by the carrier's reference coefficient (a gas in Nm3 is taken to the standard's 20 °C m3)."""
    u = canonical_expr(unit)
    kind = energy_kind_expr(carrier)
    el = quantity * to_factor_expr(u, "kWh") * ref.kgce("electricity") / 1000.0
    energy = quantity * to_factor_expr(u, "MJ") * ref.kgce("energy_content") / 1000.0
    fuel = pl.lit(None, pl.Float64)
    for row in ref.tce.filter(~pl.col("carrier").is_in(["energy_content", "electricity"])).iter_rows(
        named=True
    ):
        per_unit = row["kgce_per_unit"] / 1000.0
        in_unit = quantity * to_factor_expr(u, row["unit"])
        if row["unit"] == "m3":  # Nm3 (0 °C) → m3 at 20 °C, the Chinese standard reference condition
            in_unit = pl.coalesce(in_unit, quantity * to_factor_expr(u, "Nm3") / gas_m3_to_nm3_factor())
        density = ref.densities.get(row["carrier"])
        if row["unit"] == "kg" and density is not None:  # a liquid fuel billed by volume (L, m3): its density
            in_unit = pl.coalesce(in_unit, quantity * to_factor_expr(u, "m3") * density * 1000.0)
        fuel = pl.when(carrier_expr(carrier) == row["carrier"]).then(in_unit * per_unit).otherwise(fuel)
    return pl.when(kind == ELECTRICITY).then(el).otherwise(pl.coalesce(energy, fuel))


def metering_share(
    bills: pl.LazyFrame,
    meters: pl.LazyFrame | None,
    meter_hourly: pl.DataFrame | pl.LazyFrame | None,
    ref: ZeroCarbonReference,
    meter_years: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Per site × year: tce of the flows an EMS meter measures, of all flows, the evidence ids and the flows that
    could not be sized (FLOW_COLUMNS). The hours are read as their summary (`meter_years`): given, or made from
    `meter_hourly`."""
    carrier = carrier_expr(pl.col("carrier"))
    is_el = (energy_kind_expr(pl.col("carrier")) == ELECTRICITY).fill_null(False)  # fuels have no energy kind
    billed = (
        split_by_month(bills.filter(pl.col("installation_id").is_not_null()))
        .with_columns(
            year=pl.col("month").str.slice(0, 4),
            carrier_key=pl.coalesce(carrier, pl.col("carrier")),
            supply=pl.when(is_el).then(pl.col("supply_type").fill_null("grid")).otherwise(pl.lit("grid")),
            tce=_tce_expr(pl.col("carrier"), pl.col("quantity"), pl.col("unit"), ref) * pl.col("fraction"),
        )
        .group_by("installation_id", "year", "carrier_key", "supply")
        .agg(
            billed_tce=pl.col("tce").pipe(fsum),
            unsized=pl.col("tce").is_null().any(),
            ids=pl.col("_source_row_id").unique().sort(),
        )
    )
    keys = ["installation_id", "year", "carrier_key", "supply"]
    if meters is None:
        flows = billed.with_columns(measured=pl.lit(False), metered_tce_meter=pl.lit(None, pl.Float64))
    else:
        m = meters.lazy().filter(
            pl.col("role").is_in(["grid_import", "onsite_generation", "ppa_delivery", "consumption"])
        )
        m = m.with_columns(
            carrier_key=pl.coalesce(carrier_expr(pl.col("carrier")), pl.col("carrier")),
            supply=pl.when(pl.col("role") == "ppa_delivery")
            .then(pl.when(pl.col("parent_meter_id").is_null()).then(pl.lit("direct_line")).otherwise(pl.lit("ppa")))
            .otherwise(pl.col("role").replace_strict(_SUPPLY, default=None)),
        ).filter(
            pl.col("supply").is_not_null()
            & ((pl.col("role") != "consumption") | (pl.col("parent_meter_id").is_null() & ~is_el))
        )  # fmt: skip
        if (
            meter_hourly is None and meter_years is None
        ):  # registry only: a listed meter counts for every year of the site's bills
            per_year = m.join(
                billed.select("installation_id", "year").unique(), on="installation_id"
            ).with_columns(metered_quantity_tce=pl.lit(None, pl.Float64))
        else:
            h = metered_quantity(years_of(meter_hourly) if meter_years is None else meter_years)
            per_year = m.join(h, on="meter_id", how="inner").with_columns(
                metered_quantity_tce=_tce_expr(pl.col("carrier"), pl.col("quantity"), pl.col("unit"), ref)
            )
        metered = per_year.group_by(keys).agg(
            metered_tce_meter=pl.col("metered_quantity_tce").pipe(fsum),
            meter_ids=pl.format("meter:{}", "meter_id").unique().sort(),
        )
        flows = (
            billed.join(metered, on=keys, how="full", coalesce=True)
            .with_columns(
                measured=pl.col("meter_ids").is_not_null(),
                ids=pl.concat_list(
                    pl.col("ids").fill_null(pl.lit([], pl.List(pl.String))),
                    pl.col("meter_ids").fill_null(pl.lit([], pl.List(pl.String))),
                ),
            )
            .drop("meter_ids")
        )
    size = pl.coalesce("billed_tce", "metered_tce_meter")
    flows = flows.with_columns(
        size=size,
        unsized=pl.col("unsized").fill_null(False) | size.is_null(),
        flow=pl.format("{}/{}", "carrier_key", "supply"),
    )
    return (
        flows.group_by("installation_id", "year")
        .agg(
            metered_tce=pl.when(pl.col("measured")).then("size").otherwise(0.0).fill_null(0.0).pipe(fsum),
            flows_tce=pl.col("size").fill_null(0.0).pipe(fsum),
            flow_ids=pl.col("ids").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
            flows_not_sized=pl.col("flow").filter(pl.col("unsized")).sort().str.join(", "),
        )
        .select(FLOW_COLUMNS)
        .sort("installation_id", "year")
        .collect()
    )
