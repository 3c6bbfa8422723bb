"""The logistics part of the footprint engines, carried from night to night: a night computes again only the
shipments its new drops touch (`transforms.logistics.carry.shipments_touched`, `update_logistics`) and keeps
every other leg and allocation as published, instead of every shipment of the history (661 k legs at scale 100).

What the carry is: the published `shipment_emissions` and `shipment_allocations`, and beside them
`lake/computed/_logistics.carry.json`, what the run that published them read: the code, the products,
materials and installations (a change of any of them computes every shipment), the history files (drops) of
shipments, supplier_invoices and exports, and the hashes of the two published files. A night is incremental
only when all of them still hold, the published files included (a run that failed after publishing, or a
table changed by hand, gives a run over every shipment).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from orchestration.lib.home import Home
from orchestration.lib.incremental import (
    code_fingerprint,
    files_hash,
    history_hashes,
    new_drops,
    sha256_file,
)
from transforms.contracts import datasets
from transforms.ghg.factors import GhgFactors

CARRY = "_logistics.carry.json"
# the event datasets whose new rows touch shipments (their drops are files of `history/`)
DROPPED = ("shipments", "supplier_invoices", "exports")
# the tables every leg reads whole: a change of any of them computes every shipment again
DEPENDS = ("products", "materials", "installations")
TABLES = ("shipment_emissions", "shipment_allocations")


@dataclass
class LogisticsPlan:
    """`state`: what the carry will say once this run's tables are published; `new`: each dataset's new drops,
    or None for a run over every shipment (`why` says which)."""

    state: dict[str, Any]
    why: str
    new: dict[str, list[Path]] | None = field(default=None)


def _state(home: Home) -> dict[str, Any]:
    return {
        "code": code_fingerprint(),
        "depends": files_hash([home.raw_table(n) for n in DEPENDS], home.root),
        "history": {n: history_hashes(home, n) for n in DROPPED},
    }


def logistics_plan(home: Home) -> LogisticsPlan:
    state = _state(home)
    try:
        saved = json.loads((home.computed / CARRY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return LogisticsPlan(state, "no carry from a previous run: every shipment")
    if saved.get("code") != state["code"]:
        return LogisticsPlan(state, "code changed: every shipment")
    if saved.get("depends") != state["depends"]:
        return LogisticsPlan(state, "products, materials or installations changed: every shipment")
    published = saved.get("published", {})
    for name in TABLES:
        path = home.computed_table(name)
        if not path.is_file() or sha256_file(path) != published.get(name):
            return LogisticsPlan(state, f"{name} is not the table the carry describes: every shipment")
    new: dict[str, list[Path]] = {}
    kinds = datasets()
    for name in DROPPED:
        drops = new_drops(home, name, saved.get("history", {}).get(name, {}))
        if drops is None:
            return LogisticsPlan(state, f"a drop of {name} read before changed or is gone: every shipment")
        if drops and kinds[name].kind != "event":  # a snapshot's new drop replaces rows it does not repeat
            return LogisticsPlan(state, f"{name} is not an event dataset: every shipment")
        new[name] = drops
    count = len({p.name for files in new.values() for p in files})
    return LogisticsPlan(state, f"{count} new drop(s)", new)


def _rows(files: list[Path], column: str) -> pl.LazyFrame | None:
    """One column of the new drops' rows (each file scanned alone: drops written under older contracts may
    hold other columns)."""
    return pl.concat([pl.scan_parquet(p).select(column) for p in files]) if files else None


@dataclass
class CarriedLogistics:
    """The logistics tables for this lake from the carry (`tables`: legs, allocations; None for a run over every
    shipment), what was done (`why`, for the run's log) and the shipments computed again (`touched`)."""

    tables: tuple[pl.DataFrame, pl.DataFrame] | None
    why: str
    touched: pl.Series | None = None

    def suite_rows(self, verdicts: dict) -> dict[str, pl.Expr]:
        """The legs the computed gate's Great Expectations suite must read: only those computed again, when every
        other leg is carried from a publication whose gate passed them (`verdicts`: that publication's, from
        `last_verdicts`; the suite's rules are row by row, and the carry is dropped when the code changes);
        else all of them ({})."""
        if self.touched is None or not verdicts.get("shipment_emissions", {}).get("passed"):
            return {}
        return {"shipment_emissions": pl.col("shipment_id").is_in(self.touched.implode())}


def carried_logistics(
    home: Home, plan: LogisticsPlan, raw: dict[str, pl.LazyFrame], factors: GhgFactors
) -> CarriedLogistics:
    """The legs and allocations for this lake from the carry and the shipments the new drops touch."""
    from transforms.ghg.common import raw_frame
    from transforms.logistics.carry import shipments_touched, update_logistics
    from transforms.logistics.engine import EXTRA_COLUMNS

    if plan.new is None:
        return CarriedLogistics(None, plan.why)
    shipments = raw_frame(raw, "shipments", EXTRA_COLUMNS)
    touched = shipments_touched(
        shipments,
        _rows(plan.new["shipments"], "shipment_id"),
        _rows(plan.new["supplier_invoices"], "invoice_id"),
        _rows(plan.new["exports"], "export_id"),
    )
    legs, allocations = (pl.read_parquet(home.computed_table(n)) for n in TABLES)
    out = update_logistics(raw, factors, legs, allocations, touched)
    why = f"{plan.why}: {touched.len():,} shipment(s) computed again, the others carried"
    return CarriedLogistics(out, why, touched)


def save_logistics_carry(home: Home, plan: LogisticsPlan) -> None:
    """After the run's tables are published: the carry describes them (written whole, then renamed)."""
    state = {**plan.state, "published": {n: sha256_file(home.computed_table(n)) for n in TABLES}}
    path = home.computed / CARRY
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    tmp.replace(path)
