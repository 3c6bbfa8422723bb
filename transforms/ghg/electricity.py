"""Electricity and purchased heat from energy_bills, split by calendar month; renewable attributes without double
counting; China grid factors picked by a documented vintage rule. Shared by the footprint and inventory engines.

Certificates (GECs, 绿证) count at most once: a bill's `gec_mwh` covers at most that bill's purchased MWh (the
excess is reported as unused, never moved to another bill or site), and a bill is one row (`bill_id` is its key).
Renewable MWh of a bill = all of it for on-site generation (no fuel factor) and zero-rated PPAs/direct lines,
else the GEC-covered MWh; a PPA bill with GECs counts its MWh once.

Grid factor vintage rule (docs/factors.md): for accounting year Y, the latest data year ≤ Y among the rows of the
installation's chain (province → regional grid → national); within that data year the most specific level. When
no data year ≤ Y exists, the earliest data year is used and flagged. The rule applied is stored per result.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from transforms.carriers import energy_kind_expr
from transforms.ghg.common import compact_key, raw_frame, safe_div
from transforms.ghg.factors import GhgFactors
from transforms.periods import split_by_month
from transforms.stable import fsum, quotient
from transforms.units import to_factor_expr

SPECIFICITY = {"provincial": 0, "regional": 1, "national": 2}


def energy_bill_months(raw: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Electricity and heat bills, one row per bill × calendar month it spans, quantities pro rata of days.

    Columns: bill_id, installation_id, month (YYYY-MM), year, energy_kind (electricity/heat), supply_type,
    ef_tco2_per_mwh, electricity_mwh, purchased_mwh, gec_claimed_mwh, gec_covered_mwh, gec_unused_mwh,
    ppa_renewable_mwh, onsite_renewable_mwh, renewable_mwh, heat_gj, day_share, bill_issue, source_row_id.
    """
    bills = raw_frame(raw, "energy_bills")
    kind = energy_kind_expr(pl.col("carrier"))  # transforms/carriers.py: the same rule as CBAM's
    supply = pl.col("supply_type").fill_null("grid")
    mwh = pl.when(kind == "electricity").then(pl.col("quantity") * to_factor_expr(pl.col("unit"), "MWh"))
    heat_gj = pl.when(kind == "heat").then(pl.col("quantity") * to_factor_expr(pl.col("unit"), "GJ"))
    purchased = (kind == "electricity") & (supply != "onsite")
    gec = pl.col("gec_mwh").fill_null(0.0)
    covered = (
        pl.when(purchased & pl.col("electricity_mwh").is_not_null())
        .then(pl.min_horizontal(gec, pl.col("electricity_mwh").clip(lower_bound=0.0)).clip(lower_bound=0.0))
        .otherwise(0.0)
    )
    zero_rated_contract = supply.is_in(("ppa", "direct_line")) & (pl.col("ef_tco2_per_mwh") == 0)
    onsite_renewable = (supply == "onsite") & (
        pl.col("ef_tco2_per_mwh").is_null() | (pl.col("ef_tco2_per_mwh") == 0)
    )
    end = pl.coalesce("period_end", "period_start")
    per_bill = (
        bills.with_columns(energy_kind=kind, supply_type=supply)
        .filter(pl.col("energy_kind").is_not_null())
        .with_columns(electricity_mwh=mwh, heat_gj=heat_gj, period_end=end)
        .with_columns(
            purchased_mwh=pl.when(purchased).then("electricity_mwh").otherwise(0.0),
            gec_claimed_mwh=pl.when(kind == "electricity").then(gec).otherwise(0.0),
            gec_covered_mwh=covered,
            ppa_renewable_mwh=pl.when(zero_rated_contract).then("electricity_mwh").otherwise(0.0),
            onsite_renewable_mwh=pl.when(onsite_renewable & (kind == "electricity")).then("electricity_mwh")
            .otherwise(0.0),
            bill_issue=pl.when(pl.col("electricity_mwh").is_null() & pl.col("heat_gj").is_null())
            .then(pl.lit("unit ") + pl.col("unit").fill_null("(empty)") + pl.lit(" is not an energy unit: bill not counted"))
            .when(pl.col("period_end") < pl.col("period_start")).then(pl.lit("period_end before period_start")),
        )
        .with_columns(
            gec_unused_mwh=pl.col("gec_claimed_mwh") - pl.col("gec_covered_mwh"),
            renewable_mwh=pl.col("onsite_renewable_mwh")
            + pl.max_horizontal("ppa_renewable_mwh", "gec_covered_mwh"),
        )
    )  # fmt: skip
    months = split_by_month(per_bill)  # transforms/periods.py: the same split as CBAM's
    quantities = ["electricity_mwh", "purchased_mwh", "gec_claimed_mwh", "gec_covered_mwh", "gec_unused_mwh",
                  "ppa_renewable_mwh", "onsite_renewable_mwh", "renewable_mwh", "heat_gj"]  # fmt: skip
    return months.rename({"fraction": "day_share"}).select(
        "bill_id", "installation_id", "process_id", "month", year=pl.col("month").str.slice(0, 4),
        energy_kind="energy_kind", supply_type="supply_type",
        ef_tco2_per_mwh="ef_tco2_per_mwh", **{q: pl.col(q) * pl.col("day_share") for q in quantities},
        day_share="day_share", bill_issue="bill_issue", source_row_id="_source_row_id",
    )  # fmt: skip


def grid_regions(raw: Mapping[str, pl.LazyFrame], factors: GhgFactors) -> pl.LazyFrame:
    """installations.grid_region (`浙江`, `Zhejiang`, `East China`, `华东`, ...) → region, level, regional grid.

    Chinese installations without a recognisable region fall back to the national factor, with the reason."""
    table = factors["grid_regions"].lazy()
    names = pl.concat_list("region", "region_zh", pl.col("aliases").fill_null("").str.split("|"))
    keys = (
        table.select("region", "region_level", "regional_grid", name=names).explode("name")
        .with_columns(key=compact_key(pl.col("name"))).filter(pl.col("key") != "")
        .unique(["key", "region"]).filter(pl.len().over("key") == 1).drop("name")
    )  # fmt: skip
    inst = raw_frame(raw, "installations").select("installation_id", "country", "grid_region")
    joined = inst.with_columns(key=compact_key(pl.col("grid_region"))).join(keys, on="key", how="left")
    china = pl.col("country") == "CN"
    return joined.select(
        "installation_id", "country", "grid_region",
        region=pl.when(china).then(pl.coalesce("region", pl.lit("China"))),
        region_level=pl.when(china).then(pl.coalesce("region_level", pl.lit("national"))),
        regional_grid=pl.when(china).then("regional_grid"),
        region_issue=pl.when(~china).then(pl.lit("no grid factor table for country ") + pl.col("country").fill_null("?"))
        .when(pl.col("grid_region").is_null()).then(pl.lit("grid_region empty: national factor used"))
        .when(pl.col("region").is_null())
        .then(pl.lit("grid_region '") + pl.col("grid_region") + pl.lit("' not recognised: national factor used")),
    )  # fmt: skip


def pick_grid_factor(
    keys: pl.LazyFrame,
    factors: GhgFactors,
    series: str,
    as_of: date | None = None,
) -> pl.LazyFrame:
    """For rows (installation_id, year, region, region_level, regional_grid): the factor of `series` by the vintage
    rule. Adds factor_tco2_per_mwh, factor_region, factor_level, factor_data_year, factor_notice,
    factor_status, factor_vintage_rule (each prefixed with the series' short name by the caller if needed)."""
    table = factors["china_grid_factors"].filter(pl.col("series") == series)
    if as_of is not None:  # only factors published by the run's as-of date (unknown publication: available)
        table = table.filter(pl.col("published_on").is_null() | (pl.col("published_on") <= as_of))
    chain = keys.with_columns(
        candidates=pl.concat_list(
            pl.struct(cand=pl.when(pl.col("region_level") == "provincial").then("region"), spec=pl.lit(0)),
            pl.struct(cand=pl.when(pl.col("region_level") == "regional").then("region")
                      .otherwise("regional_grid"), spec=pl.lit(1)),
            pl.struct(cand=pl.when(pl.col("region").is_not_null()).then(pl.lit("China")), spec=pl.lit(2)),
        )
    ).explode("candidates").unnest("candidates").filter(pl.col("cand").is_not_null())  # fmt: skip
    cand = chain.join(
        table.lazy().select(cand="region", factor_level="region_level", factor_data_year="data_year",
                            factor_tco2_per_mwh="value", factor_value_text="value_text", factor_notice="notice",
                            factor_status="status", factor_published_on="published_on"),
        on="cand", how="inner",
    ).with_columns(year_int=pl.col("year").cast(pl.Int32))  # fmt: skip
    eligible = pl.col("factor_data_year") <= pl.col("year_int")
    ranked = (
        cand.with_columns(
            # dated and <= year: latest first; dated and later: earliest first; no data year: last of all
            vintage_rank=pl.when(eligible)
            .then(-pl.col("factor_data_year"))
            .otherwise(10_000 + pl.col("factor_data_year"))
            .fill_null(20_000),
        )
        # a total order, then the first row of each key in it (group_by keeps the order within a group): the factor
        # tables declare no key, so one region and data year may come twice (a correction published later, an
        # override); the latest publication wins, then the values themselves break the tie, whatever the row order
        .sort(["vintage_rank", "spec", "factor_published_on", "factor_tco2_per_mwh", "factor_value_text",
               "factor_notice", "factor_status", "factor_level"],
              descending=[False, False, True, False, False, False, False, False],
              nulls_last=[False, False, True, True, True, True, True, True])
        .group_by("installation_id", "year")
        .first()
    )  # fmt: skip
    rule = (
        pl.when(pl.col("factor_data_year").is_null() & pl.col("factor_tco2_per_mwh").is_not_null())
        .then(pl.format("data year unknown in the factor table: the only {} factor used - flagged", "factor_level"))
        .when(pl.col("factor_data_year") <= pl.col("year_int"))
        .then(pl.format("latest data year <= {}: {} ({})", "year", "factor_data_year", "factor_level"))
        .otherwise(pl.format("no data year <= {}: earliest available {} used ({}) - flagged", "year",
                             "factor_data_year", "factor_level"))
    )  # fmt: skip
    out = ranked.select(
        "installation_id", "year", "factor_tco2_per_mwh", "factor_value_text", factor_region="cand",
        factor_level="factor_level", factor_data_year="factor_data_year", factor_notice="factor_notice",
        factor_status="factor_status", factor_vintage_rule=rule,
    )  # fmt: skip
    return keys.join(out, on=["installation_id", "year"], how="left")


def renewable_share(bill_months: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Renewable electricity share (GEC-covered + zero-rated PPA/direct line + on-site) over all electricity."""
    return (
        bill_months.filter(pl.col("energy_kind") == "electricity")
        .group_by(keys)
        .agg(
            pl.col("electricity_mwh").pipe(fsum),
            pl.col("renewable_mwh").pipe(fsum),
        )
        .with_columns(
            renewable_electricity_share=safe_div(pl.col("renewable_mwh"), pl.col("electricity_mwh"))
        )
    )


def apply_certificate_claims(
    bill_months: pl.LazyFrame, claims: pl.DataFrame | pl.LazyFrame | None
) -> pl.LazyFrame:
    """Certificates from the ledger (transforms/zero_carbon/ledger.py: claimable MWh per site × `YYYY`/`YYYY-MM`)
    instead of the bills' `gec_mwh`, for every site × year with a ledger claim (`gec_source` says which).

    A claim covers the site's eligible electricity of its period: purchased MWh not already at zero (on-site
    generation and zero-rated PPA/direct-line delivery are physically green, so certificates are never applied to
    them). A month claim is spread over that month's lines, then a year claim over what is left of the year, both
    pro rata of the eligible MWh, never beyond it: the excess stays `gec_unused_mwh` (counted once, never moved).
    Adds gec_source (`ledger` / `energy_bills.gec_mwh`) and recomputes gec_* and renewable_mwh."""
    out = bill_months.with_columns(gec_source=pl.lit("energy_bills.gec_mwh"))
    if claims is None:
        return out
    c = claims.lazy().select("installation_id", "period", "period_grain", mwh="gec_claimable_mwh")
    month_c = (
        c.filter(pl.col("period_grain") == "month")
        .group_by("installation_id", month="period")
        .agg(_m_claim=pl.col("mwh").pipe(fsum))
    )
    year_c = (
        c.filter(pl.col("period_grain") == "year")
        .group_by("installation_id", year="period")
        .agg(_y_claim=pl.col("mwh").pipe(fsum))
    )
    basis = (
        c.select("installation_id", year=pl.col("period").str.slice(0, 4)).unique().with_columns(_ledger=True)
    )
    elec = pl.col("energy_kind") == "electricity"
    zero_rated = pl.col("supply_type").is_in(("ppa", "direct_line")) & (pl.col("ef_tco2_per_mwh") == 0)
    eligible = pl.when(elec & (pl.col("supply_type") != "onsite") & ~zero_rated.fill_null(False)).then(
        pl.col("purchased_mwh").clip(lower_bound=0.0)
    )

    def share(claim: pl.Expr, pool: pl.Expr) -> pl.Expr:
        return pl.when(pool > 0).then(pl.min_horizontal(quotient(claim, pool), 1.0)).otherwise(0.0)

    ledger = (
        out.join(basis, on=["installation_id", "year"], how="left")
        .filter(pl.col("_ledger").fill_null(False))
        .with_columns(_elig=eligible.fill_null(0.0))
        .join(month_c, on=["installation_id", "month"], how="left")
        .join(year_c, on=["installation_id", "year"], how="left")
        .with_columns(_m_pool=pl.col("_elig").pipe(fsum).over("installation_id", "month"))
        .with_columns(_m_cov=pl.col("_elig") * share(pl.col("_m_claim").fill_null(0.0), pl.col("_m_pool")))
        .with_columns(_rest=pl.col("_elig") - pl.col("_m_cov"))
        .with_columns(_y_pool=pl.col("_rest").pipe(fsum).over("installation_id", "year"))
        .with_columns(
            _y_cov=pl.col("_rest") * share(pl.col("_y_claim").fill_null(0.0), pl.col("_y_pool")),
            # each claim spread over its lines in proportion to their eligible MWh (what the line carries)
            _claimed=safe_div(pl.col("_m_claim").fill_null(0.0) * pl.col("_elig"), pl.col("_m_pool")).fill_null(0.0)
            + safe_div(pl.col("_y_claim").fill_null(0.0) * pl.col("_rest"), pl.col("_y_pool")).fill_null(0.0),
        )
        .with_columns(
            gec_claimed_mwh=pl.col("_claimed"),
            gec_covered_mwh=pl.col("_m_cov") + pl.col("_y_cov"),
            gec_source=pl.lit("ledger"),
        )
        .with_columns(
            gec_unused_mwh=(pl.col("gec_claimed_mwh") - pl.col("gec_covered_mwh")).clip(lower_bound=0.0),
            renewable_mwh=pl.col("onsite_renewable_mwh") + pl.max_horizontal("ppa_renewable_mwh", "gec_covered_mwh"),
        )
    )  # fmt: skip
    names = out.collect_schema().names()
    rest = out.join(basis, on=["installation_id", "year"], how="anti")
    return pl.concat([rest, ledger.select(names)])
