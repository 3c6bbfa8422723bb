"""Attribution of direct emissions to production processes (MIR Annex III A.3, Eq 55).

    AttrEm_Dir = DirEm* + EmH,imp − EmH,exp + WGcorr,imp − WGcorr,exp − Em_el,prod ; negative → 0

DirEm* of a process and month is the plant's own figure (`production.direct_emissions_t`) when given, else the
sum of the source streams attributed to it (reading's process, else the stream's default process). Heat: TJ ×
its EF; waste gas: TJ × EF_NG (56.1), exports × Corr_η (0.667); electricity produced and exported: MWh × its
EF. Years are sums of months; the floor at zero applies per period. Process sums are reconciled with the
installation total.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.cbam.errors import MissingFactorError
from transforms.cbam.periods import MONTH, add_year_grain, keep_years, month_parts, sum_or_null
from transforms.reference.cbam import CbamReference
from transforms.stable import fsum, quotient

PROC_KEYS = ["installation_id", "process_id"]

_FACTOR_PAIRS = (
    ("heat_imported_tj", "heat_imported_ef", "heat imported without heat_imported_ef (tCO2/TJ)"),
    ("heat_exported_tj", "heat_exported_ef", "heat exported without heat_exported_ef (tCO2/TJ)"),
    (
        "electricity_exported_mwh",
        "electricity_exported_ef",
        "electricity exported without electricity_exported_ef (tCO2/MWh)",
    ),
)


def production_monthly(
    production: pl.LazyFrame, ref: CbamReference, years: Sequence[int] | None
) -> pl.LazyFrame:
    """Per process × month: activity level and the Eq 55 energy-flow terms.

    A process's activity level is its row without product_id when there is one, otherwise the sum of its
    product rows (landing-zone.md); the energy-flow columns are read from the same rows."""
    parts = keep_years(month_parts(production, dataset="production"), years)
    is_total = pl.col("product_id").is_null()
    parts = parts.filter(is_total == is_total.any().over([*PROC_KEYS, "month"]))
    bad = parts.filter(
        pl.any_horizontal(
            [(pl.col(q).fill_null(0.0) != 0.0) & pl.col(f).is_null() for q, f, _ in _FACTOR_PAIRS]
        )
    ).collect()
    if bad.height:
        problems = []
        for r in bad.iter_rows(named=True):
            for q, f, reason in _FACTOR_PAIRS:
                if (r[q] or 0.0) != 0.0 and r[f] is None:
                    problems.append(
                        {
                            "installation_id": r["installation_id"],
                            "process_id": r["process_id"],
                            "period": r["month"],
                            "row": r["_source_row_id"],
                            "reason": reason,
                        }
                    )
        raise MissingFactorError(problems)
    ef_ng = ref.constant("ef_natural_gas_tco2_per_tj")
    corr = ref.constant("corr_eta_waste_gas")
    f = pl.col("fraction")

    def scaled(c: str) -> pl.Expr:
        return pl.col(c) * f

    return (
        parts.with_columns(
            activity_level_t=scaled("produced_t"),
            dirEm_plant_tco2e=scaled("direct_emissions_t"),
            heat_imported_tj=scaled("heat_imported_tj"),
            heat_exported_tj=scaled("heat_exported_tj"),
            heat_imported_tco2e=scaled("heat_imported_tj") * pl.col("heat_imported_ef"),
            heat_exported_tco2e=scaled("heat_exported_tj") * pl.col("heat_exported_ef"),
            waste_gas_imported_tj=scaled("waste_gas_imported_tj"),
            waste_gas_exported_tj=scaled("waste_gas_exported_tj"),
            waste_gas_imported_tco2e=scaled("waste_gas_imported_tj") * ef_ng,
            waste_gas_exported_tco2e=scaled("waste_gas_exported_tj") * ef_ng * corr,
            electricity_exported_mwh=scaled("electricity_exported_mwh"),
            el_prod_tco2e=scaled("electricity_exported_mwh") * pl.col("electricity_exported_ef"),
        )
        .group_by(*PROC_KEYS, pl.col("month").alias("period"))
        .agg(
            pl.col("activity_level_t").pipe(fsum),
            sum_or_null("dirEm_plant_tco2e"),
            *(pl.col(c).fill_null(0.0).pipe(fsum) for c in _FLOW_SUMS),
            pl.col("_source_row_id").unique().sort().alias("production_row_ids"),
        )
    )


_FLOW_SUMS = (
    "heat_imported_tj",
    "heat_exported_tj",
    "heat_imported_tco2e",
    "heat_exported_tco2e",
    "waste_gas_imported_tj",
    "waste_gas_exported_tj",
    "waste_gas_imported_tco2e",
    "waste_gas_exported_tco2e",
    "electricity_exported_mwh",
    "el_prod_tco2e",
)


def process_attribution(
    stream_em: pl.DataFrame,
    installation_em: pl.DataFrame,
    production: pl.LazyFrame,
    ref: CbamReference,
    years: Sequence[int] | None,
) -> pl.DataFrame:
    """Per installation × process × period: every Eq 55 term, the floor flag and the reconciliation."""
    streams_monthly = (
        stream_em.lazy()
        .filter((pl.col("period_grain") == MONTH) & pl.col("process_id").is_not_null())
        .group_by(*PROC_KEYS, "period")
        .agg(
            dirEm_streams_tco2e=pl.col("fossil_tco2e").pipe(fsum),
            stream_row_ids=pl.col("_source_row_ids")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort(),
        )
    )
    prod = production_monthly(production, ref, years)
    monthly = (
        prod.join(streams_monthly, on=[*PROC_KEYS, "period"], how="full", coalesce=True)
        .with_columns(
            pl.col("activity_level_t").fill_null(0.0),
            pl.col("dirEm_streams_tco2e").fill_null(0.0),
            *(pl.col(c).fill_null(0.0) for c in _FLOW_SUMS),
            plant_months=pl.col("dirEm_plant_tco2e").is_not_null().cast(pl.Int64),
            stream_months=pl.col("dirEm_plant_tco2e").is_null().cast(pl.Int64),
        )
        .with_columns(
            dirEm_tco2e=pl.coalesce("dirEm_plant_tco2e", "dirEm_streams_tco2e"),
            _source_row_ids=pl.concat_list(
                pl.col("production_row_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                pl.col("stream_row_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            ),
        )
    )
    sums = [
        "activity_level_t",
        "dirEm_streams_tco2e",
        "dirEm_plant_tco2e",
        "dirEm_tco2e",
        "plant_months",
        "stream_months",
        *_FLOW_SUMS,
    ]
    both = add_year_grain(monthly, PROC_KEYS, sums, ["_source_row_ids"])
    keys = ["installation_id", "period", "period_grain"]
    inst = installation_em.lazy().select(*keys, pl.col("direct_tco2e").alias("installation_direct_tco2e"))
    out = (
        both.with_columns(
            dirEm_source=pl.when(pl.col("plant_months") == 0)
            .then(pl.lit("streams"))
            .when(pl.col("stream_months") == 0)
            .then(pl.lit("plant"))
            .otherwise(pl.lit("plant+streams")),
            heat_term_tco2e=pl.col("heat_imported_tco2e") - pl.col("heat_exported_tco2e"),
            waste_gas_term_tco2e=pl.col("waste_gas_imported_tco2e") - pl.col("waste_gas_exported_tco2e"),
        )
        .with_columns(
            attributed_direct_raw_tco2e=pl.col("dirEm_tco2e")
            + pl.col("heat_term_tco2e")
            + pl.col("waste_gas_term_tco2e")
            - pl.col("el_prod_tco2e"),
            plant_vs_streams_diff_tco2e=pl.col("dirEm_plant_tco2e") - pl.col("dirEm_streams_tco2e"),
        )
        .with_columns(
            floor_applied=pl.col("attributed_direct_raw_tco2e") < 0,
            attributed_direct_tco2e=pl.max_horizontal(pl.col("attributed_direct_raw_tco2e"), pl.lit(0.0)),
        )
        .join(inst, on=keys, how="left")
        .with_columns(
            pl.col("installation_direct_tco2e").fill_null(0.0),
            sum_dirEm_tco2e=pl.col("dirEm_tco2e").pipe(fsum).over(keys),
            sum_attributed_direct_tco2e=pl.col("attributed_direct_tco2e").pipe(fsum).over(keys),
        )
        .with_columns(
            # the template's "Rest": installation total minus what the processes' DirEm* account for
            reconciliation_diff_tco2e=pl.col("installation_direct_tco2e") - pl.col("sum_dirEm_tco2e"),
        )
        .with_columns(
            reconciliation_diff_share=pl.when(pl.col("installation_direct_tco2e") != 0).then(
                quotient(pl.col("reconciliation_diff_tco2e"), pl.col("installation_direct_tco2e"))
            )
        )
    )
    cols = [
        "installation_id",
        "process_id",
        "period",
        "period_grain",
        "activity_level_t",
        "dirEm_source",
        "dirEm_streams_tco2e",
        "dirEm_plant_tco2e",
        "plant_vs_streams_diff_tco2e",
        "dirEm_tco2e",
        "heat_imported_tj",
        "heat_imported_tco2e",
        "heat_exported_tj",
        "heat_exported_tco2e",
        "heat_term_tco2e",
        "waste_gas_imported_tj",
        "waste_gas_imported_tco2e",
        "waste_gas_exported_tj",
        "waste_gas_exported_tco2e",
        "waste_gas_term_tco2e",
        "electricity_exported_mwh",
        "el_prod_tco2e",
        "attributed_direct_raw_tco2e",
        "floor_applied",
        "attributed_direct_tco2e",
        "installation_direct_tco2e",
        "sum_dirEm_tco2e",
        "sum_attributed_direct_tco2e",
        "reconciliation_diff_tco2e",
        "reconciliation_diff_share",
        "_source_row_ids",
    ]
    return out.select(cols).sort("installation_id", "period_grain", "period", "process_id").collect()
