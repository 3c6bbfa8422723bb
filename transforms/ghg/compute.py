"""The GHG stage as one pure function: logistics → product footprint → site inventory (and its details).

What the `footprint_engines` asset wires by hand, in one place: the asset loads the raw lake, the CBAM results
and the factor set, calls `compute_ghg`, and publishes the tables it returns (names = computed table names).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from transforms.computed import conform_all
from transforms.footprint.engine import compute_product_footprint
from transforms.ghg.factors import GhgFactors, emission_factor_catalog
from transforms.ghg.materials import engine_material_days
from transforms.inventory.engine import compute_park_progress, compute_site_inventory, scope2_lines
from transforms.logistics.engine import compute_logistics

GHG_TABLES = (
    "shipment_emissions",
    "shipment_allocations",
    "product_footprint",
    "site_inventory",
    "scope2_lines",
    "park_progress",
    "factor_catalog",
)


def compute_ghg(
    raw: Mapping[str, pl.LazyFrame],
    factors: GhgFactors,
    stream_emissions: pl.DataFrame | pl.LazyFrame,
    process_see: pl.DataFrame | pl.LazyFrame,
    precursor_inputs: pl.DataFrame | pl.LazyFrame,
    *,
    inventory_as_of: date | None = None,
    parks: pl.DataFrame | pl.LazyFrame | None = None,
    gec_claims: pl.DataFrame | None = None,
    logistics: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> dict[str, pl.DataFrame]:
    """Every GHG table (GHG_TABLES) from the raw lake frames, the pinned factors and the CBAM engine's
    `stream_emissions`, `process_see` and `precursor_inputs`.

    `inventory_as_of`: the site inventory uses only grid factors published by that date (None: every factor on
    file). The product footprint and the Scope 2 detail lines use every factor on file, as the asset has always
    done; `parks` overrides the park mapping of the installations (see `inventory.park_mapping`); `gec_claims`
    (the certificate ledger's claims, zero_carbon.claims_by_site_period) replace the bills' gec_mwh in
    market-based Scope 2 where a site has a ledger claim in the year (CBAM never sees them). `logistics`: the
    (legs, allocations) `compute_logistics` gives for this lake, when the caller has them already
    (`transforms.logistics.carry.update_logistics` from an earlier run's tables)."""
    legs, allocations = logistics if logistics is not None else compute_logistics(raw, factors)
    # the purchased material and fuel lines' footprints summed per day (millions of invoice lines at scale):
    # computed once and read by both the footprint and the inventory engine
    material_days = engine_material_days(raw)
    footprint = compute_product_footprint(
        raw,
        factors,
        process_see,
        precursor_inputs,
        allocations,
        stream_emissions,
        material_days=material_days,
    )
    sites = compute_site_inventory(
        raw,
        factors,
        stream_emissions,
        precursor_inputs,
        allocations,
        parks=parks,
        as_of=inventory_as_of,
        gec_claims=gec_claims,
        material_days=material_days,
    )
    tables = {
        "shipment_emissions": legs,
        "shipment_allocations": allocations,
        "product_footprint": footprint,
        "site_inventory": sites,
        "scope2_lines": scope2_lines(raw, factors, gec_claims=gec_claims).collect(),
        "park_progress": compute_park_progress(sites, raw, parks),
        # every factor × version of the reference tables the factors come from (published as dim_emission_factor)
        "factor_catalog": emission_factor_catalog(factors.reference_dir),
    }
    # the columns, order and types each table's contract declares (data_contracts/computed/<table>.odcs.yaml)
    return conform_all(tables)
