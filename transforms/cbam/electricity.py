"""Indirect emissions from electricity consumed (MIR Annex III A.3 Eq 56, Annex II D: Em_el = E_el × EF_el).

Consumption: `energy_bills` whose carrier is electricity (`transforms/carriers.py`: `electricity`, `电力`,
`power`, ...), in MWh. A bill naming a `process_id` (sub-meter)
belongs to that process. Consumption without a process (the main meter's remainder) is allocated to the
installation's processes pro rata to their activity level in the same period (rule recorded as
`pro_rata_activity_level`); when no process produced in the period it stays unallocated and shows in the
installation totals.

Factor: the bill's `ef_tco2_per_mwh` with its `ef_source`, else the Commission's default grid factor of the
installation's country (D.4(a), DVR Annex II), recorded with any fallback. Green-electricity certificates
(`gec_mwh`) are reported but never lower CBAM indirect emissions (MIR Annex II D.4.3 accepts only a direct
line or a PPA with physical delivery). A process fed by several factor sources is marked `Mix`.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.carriers import is_electricity
from transforms.cbam.errors import CbamInputError, MissingFactorError
from transforms.cbam.periods import add_year_grain, keep_years, month_parts
from transforms.reference.cbam import CbamReference
from transforms.stable import fsum, quotient
from transforms.units import to_factor_expr

ALLOCATION_RULE = "pro_rata_activity_level"


def electricity_monthly(
    bills: pl.LazyFrame, installations: pl.LazyFrame, ref: CbamReference, years: Sequence[int] | None
) -> pl.LazyFrame:
    el = bills.filter(is_electricity(pl.col("carrier")))
    parts = keep_years(month_parts(el, dataset="energy_bills"), years).with_columns(
        _mwh_factor=to_factor_expr(pl.col("unit"), "MWh")
    )
    bad = parts.filter(pl.col("_mwh_factor").is_null()).select("installation_id", "_source_row_id", "unit")
    bad = bad.unique().head(50).collect()
    if bad.height:
        raise CbamInputError(
            [
                {
                    "installation_id": r["installation_id"],
                    "row": r["_source_row_id"],
                    "reason": f"electricity bill in unit {r['unit']!r}, not an energy unit",
                }
                for r in bad.iter_rows(named=True)
            ]
        )
    country = installations.select("installation_id", pl.col("country").alias("_country")).unique(
        "installation_id"
    )
    parts = ref.with_grid_factor(parts.join(country, on="installation_id", how="left"), "_country")
    from_bill = pl.col("ef_tco2_per_mwh").is_not_null()
    parts = parts.with_columns(
        electricity_mwh=pl.col("quantity") * pl.col("fraction") * pl.col("_mwh_factor"),
        gec_mwh=pl.col("gec_mwh").fill_null(0.0) * pl.col("fraction"),
        ef_tco2_per_mwh=pl.when(from_bill)
        .then(pl.col("ef_tco2_per_mwh"))
        .otherwise(pl.col("grid_ef_tco2_per_mwh")),
        ef_source=pl.when(from_bill)
        .then(pl.coalesce(pl.col("ef_source"), pl.lit("unspecified")))
        .otherwise(pl.col("grid_ef_source")),
        ef_origin=pl.when(from_bill).then(pl.lit("bill")).otherwise(pl.lit("country_default")),
        ef_fallback_reason=pl.when(from_bill).then(None).otherwise(pl.col("grid_ef_fallback_reason")),
    )
    missing = parts.filter(pl.col("ef_tco2_per_mwh").is_null()).select(
        "installation_id", "process_id", "month"
    )
    missing = missing.unique().collect()
    if missing.height:
        raise MissingFactorError(
            missing.rename({"month": "period"})
            .with_columns(
                reason=pl.lit(
                    "electricity without ef on the bill and no default grid factor for the "
                    "installation's country"
                )
            )
            .to_dicts()
        )
    return (
        parts.with_columns(indirect_tco2e=pl.col("electricity_mwh") * pl.col("ef_tco2_per_mwh"))
        .group_by("installation_id", "process_id", "ef_source", "ef_origin", pl.col("month").alias("period"))
        .agg(
            pl.col("electricity_mwh", "indirect_tco2e", "gec_mwh").pipe(fsum),
            pl.col("ef_fallback_reason").drop_nulls().unique().sort(),
            pl.col("_source_row_id").unique().sort().alias("_source_row_ids"),
        )
    )


def process_electricity(
    bills: pl.LazyFrame,
    installations: pl.LazyFrame,
    activity: pl.DataFrame,
    ref: CbamReference,
    years: Sequence[int] | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per process × period electricity and indirect emissions, per installation × period totals).

    `activity`: installation_id, process_id, period, period_grain, activity_level_t (from the attribution)."""
    monthly = electricity_monthly(bills, installations, ref, years)
    keys = ["installation_id", "process_id", "ef_source", "ef_origin"]
    both = add_year_grain(
        monthly,
        keys,
        ["electricity_mwh", "indirect_tco2e", "gec_mwh"],
        ["ef_fallback_reason", "_source_row_ids"],
    ).collect()
    per = ["installation_id", "period", "period_grain"]
    al = activity.lazy().filter(pl.col("activity_level_t") > 0).select(*per, "process_id", "activity_level_t")
    al = al.with_columns(
        _share=quotient(pl.col("activity_level_t"), pl.col("activity_level_t").pipe(fsum).over(per))
    )
    metered = (
        both.lazy()
        .filter(pl.col("process_id").is_not_null())
        .with_columns(
            metered_mwh=pl.col("electricity_mwh"),
            allocated_mwh=pl.lit(0.0),
            allocation_rule=pl.lit(None, pl.String),
        )
    )
    unassigned = both.lazy().filter(pl.col("process_id").is_null()).drop("process_id")
    allocated = unassigned.join(al, on=per, how="inner").with_columns(
        pl.col("electricity_mwh") * pl.col("_share"),
        pl.col("indirect_tco2e") * pl.col("_share"),
        pl.col("gec_mwh") * pl.col("_share"),
        metered_mwh=pl.lit(0.0),
        allocated_mwh=pl.col("electricity_mwh") * pl.col("_share"),
        allocation_rule=pl.lit(ALLOCATION_RULE),
    )
    cols = [
        *per,
        "process_id",
        "ef_source",
        "ef_origin",
        "electricity_mwh",
        "metered_mwh",
        "allocated_mwh",
        "indirect_tco2e",
        "gec_mwh",
        "allocation_rule",
        "ef_fallback_reason",
        "_source_row_ids",
    ]
    lines = pl.concat([metered.select(cols), allocated.select(cols)], how="vertical_relaxed")
    per_process = (
        lines.group_by([*per, "process_id"])
        .agg(
            pl.col("electricity_mwh", "metered_mwh", "allocated_mwh", "indirect_tco2e", "gec_mwh").pipe(fsum),
            pl.col("ef_source").unique().sort().alias("ef_sources"),
            pl.col("ef_origin").unique().sort().alias("ef_origins"),
            # no tie: metered lines carry null and allocated ones ALLOCATION_RULE, the only value this can pick
            pl.col("allocation_rule").drop_nulls().first(),
            pl.col("ef_fallback_reason")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .drop_nulls()
            .unique()
            .sort(),
            pl.col("_source_row_ids").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
        )
        .with_columns(
            electricity_ef_tco2_per_mwh=pl.when(pl.col("electricity_mwh") != 0).then(
                quotient(pl.col("indirect_tco2e"), pl.col("electricity_mwh"))
            ),
            electricity_ef_source=pl.when(pl.col("ef_sources").list.len() == 1)
            .then(pl.col("ef_sources").list.first())
            .otherwise(pl.lit("Mix")),
            gec_note=pl.when(pl.col("gec_mwh") > 0).then(
                pl.lit("certificates reported only; they do not lower CBAM indirect emissions (MIR D.4.3)")
            ),
        )
        .sort("installation_id", "period_grain", "period", "process_id")
        .collect()
    )
    allocated_ok = al.select(per).unique()
    totals = (
        both.lazy()
        .group_by(per)
        .agg(
            electricity_mwh=pl.col("electricity_mwh").pipe(fsum),
            indirect_tco2e=pl.col("indirect_tco2e").pipe(fsum),
            gec_mwh=pl.col("gec_mwh").pipe(fsum),
            unassigned_electricity_mwh=pl.when(pl.col("process_id").is_null())
            .then("electricity_mwh")
            .pipe(fsum),
            electricity_row_ids=pl.col("_source_row_ids")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort(),
        )
        .join(allocated_ok.with_columns(_alloc=pl.lit(True)), on=per, how="left")
        .with_columns(
            unallocated_electricity_mwh=pl.when(pl.col("_alloc").fill_null(False))
            .then(pl.lit(0.0))
            .otherwise(pl.col("unassigned_electricity_mwh"))
        )
        .drop("_alloc")
        .sort(per)
        .collect()
    )
    return per_process, totals
