"""The zero-carbon stage as two pure functions (what the Dagster assets in orchestration/defs/compute/zero_carbon.py
call; names of the returned dicts = computed table names):

- `compute_ledger` (before the site inventory, which takes its `gec_claims`): the certificate ledger, its rejected
  rows (quarantine schema), claims per site × period, the reconciliation with `energy_bills.gec_mwh`, and the
  carbon credits retired per entity × period;
- `compute_zero_carbon` (after the inventory and the interval engine): indicators and the ISO 14068-1 claim view.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from transforms.ghg.common import raw_frame
from transforms.ghg.electricity import energy_bill_months
from transforms.zero_carbon.claim import carbon_neutrality_claims
from transforms.zero_carbon.flows import metering_share
from transforms.zero_carbon.indicators import site_measures, zero_carbon_indicators
from transforms.zero_carbon.ledger import (
    CREDIT_COLUMNS,
    claims_by_site_period,
    credits_retired,
    gec_ledger,
    reconcile_with_bills,
)
from transforms.zero_carbon.meter_years import years_of
from transforms.zero_carbon.refdata import ZeroCarbonReference

LEDGER_TABLES = ("gec_ledger", "gec_claims", "gec_ledger_rejects", "gec_reconciliation", "credits_retired")
ZERO_CARBON_TABLES = ("zero_carbon_indicators", "carbon_neutrality_claims")


def _has_rows(lf: pl.LazyFrame | None) -> bool:
    return lf is not None and lf.select(pl.len()).collect().item() > 0


def compute_ledger(
    certificate_history: pl.LazyFrame, raw: Mapping[str, pl.LazyFrame], run_date: date
) -> dict[str, pl.DataFrame]:
    """LEDGER_TABLES from every accepted version of `green_certificates` (the raw history) and the raw lake."""
    ledger, rejects = gec_ledger(certificate_history, run_date)
    claims = claims_by_site_period(ledger)
    credits = raw.get("carbon_credits")
    retired = (
        credits_retired(credits)
        if _has_rows(credits)
        else pl.DataFrame(
            schema={
                "entity_id": pl.String, "period": pl.String, "credits_retired_tco2e": pl.Float64,
                "removal_credits_tco2e": pl.Float64, "avoidance_credits_tco2e": pl.Float64,
                "credits": pl.List(pl.String), "source_row_ids": pl.List(pl.String),
            }
        ).select(CREDIT_COLUMNS)
    )  # fmt: skip
    return {
        "gec_ledger": ledger,
        "gec_claims": claims,
        "gec_ledger_rejects": rejects,
        "gec_reconciliation": reconcile_with_bills(claims, energy_bill_months(raw)),
        "credits_retired": retired,
    }


def compute_zero_carbon(
    raw: Mapping[str, pl.LazyFrame],
    computed: Mapping[str, pl.DataFrame | pl.LazyFrame],
    ref: ZeroCarbonReference,
    *,
    base_year: int | None = None,
) -> dict[str, pl.DataFrame]:
    """ZERO_CARBON_TABLES from the raw lake and the computed tables `site_inventory`, `scope2_lines`,
    `stream_emissions`, `credits_retired` (required) and `product_footprint`, `energy_balance`, `meter_hourly`
    (optional: the indicators they feed say `no data` without them). `meter_years`, the summary of meter_hourly
    (`transforms.zero_carbon.meter_years`), may stand for `meter_hourly`."""
    inv = computed["site_inventory"].lazy().collect()
    parks = raw.get("parks")
    parks = parks if _has_rows(parks) else None
    meters = raw.get("meters")
    # the hours are read as their summary per meter × year: kept by part from run to run when given
    hourly = computed.get("meter_hourly")
    years = computed.get("meter_years")
    if years is None and hourly is not None:
        years = years_of(hourly) if _has_rows(hourly.lazy()) else None
    elif years is not None:
        years = years.lazy() if _has_rows(years.lazy()) else None  # no hours: as without the table
    flows = metering_share(
        raw_frame(raw, "energy_bills"), meters if _has_rows(meters) else None, None, ref, years
    )
    credits = computed["credits_retired"].lazy().collect()
    production = raw.get("production")
    measures = site_measures(
        inv,
        computed["stream_emissions"],
        computed["scope2_lines"],
        production=production if _has_rows(production) else None,
        product_footprint=computed.get("product_footprint"),
        energy_balance=computed.get("energy_balance"),
        meter_years=years,
        credits=credits,
        flows=flows,
        ref=ref,
    )
    return {
        "zero_carbon_indicators": zero_carbon_indicators(measures, parks, ref),
        "carbon_neutrality_claims": carbon_neutrality_claims(inv, credits, parks, base_year),
    }
