"""Logistics carried from night to night: a night computes again only the shipments its new drops touch and keeps
every other leg and allocation of the earlier run's tables (orchestration/defs/compute/logistics.py keeps them)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from transforms.computed import conform
from transforms.ghg.common import raw_frame
from transforms.ghg.factors import GhgFactors
from transforms.logistics.engine import EXTRA_COLUMNS, LEG_KEYS, compute_logistics
from transforms.stable import canonical


def shipments_touched(
    shipments: pl.LazyFrame,
    new_shipments: pl.LazyFrame | None = None,
    new_invoices: pl.LazyFrame | None = None,
    new_exports: pl.LazyFrame | None = None,
) -> pl.Series:
    """The shipment_ids whose legs or allocations can differ from those of a lake without the new rows
    (`new_*`: the new drops' rows of shipments, supplier_invoices and exports; `shipments`: the current table):
    a shipment with a new or restated row, and one carrying an item of an invoice or export with a new or
    restated line (an allocation's installation is its invoice's or export's, the lowest over their lines)."""
    touched = [] if new_shipments is None else [new_shipments.select("shipment_id")]
    for new, column in ((new_invoices, "invoice_id"), (new_exports, "export_id")):
        if new is not None:
            ids = new.select(column).unique().collect()[column]
            touched.append(shipments.filter(pl.col(column).is_in(ids.implode())).select("shipment_id"))
    if not touched:
        return pl.Series("shipment_id", [], pl.String)
    return pl.concat(touched).unique().collect()["shipment_id"].sort()


def update_logistics(
    raw: Mapping[str, pl.LazyFrame],
    factors: GhgFactors,
    legs: pl.DataFrame,
    allocations: pl.DataFrame,
    touched: pl.Series,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`compute_logistics(raw, factors)` from an earlier run's tables (`legs`, `allocations`, as published):
    only the `touched` shipments (`shipments_touched`) are computed again, their rows replacing the earlier
    ones. The same tables, to the bit, when the earlier run's lake had the same products, materials,
    installations and factors: every leg and allocation depends only on its shipment's rows, its invoice's and
    export's lines and those tables (fsum's sums are exact, and `canonical` orders rows by content)."""
    ids = touched.implode()
    shipments = raw_frame(raw, "shipments", EXTRA_COLUMNS).filter(pl.col("shipment_id").is_in(ids))
    items = shipments.select("invoice_id", "export_id").collect()
    sub = {
        **raw,
        "shipments": shipments,
        "supplier_invoices": raw_frame(raw, "supplier_invoices").filter(
            pl.col("invoice_id").is_in(items["invoice_id"].drop_nulls().unique().implode())
        ),
        "exports": raw_frame(raw, "exports").filter(
            pl.col("export_id").is_in(items["export_id"].drop_nulls().unique().implode())
        ),
    }
    new_legs, new_allocations = compute_logistics(sub, factors)

    def merged(name: str, earlier: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
        kept = conform(name, earlier).filter(~pl.col("shipment_id").is_in(ids))
        return canonical(pl.concat([kept, conform(name, new)]), LEG_KEYS)

    return (
        merged("shipment_emissions", legs, new_legs),
        merged("shipment_allocations", allocations, new_allocations),
    )
