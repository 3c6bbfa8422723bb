"""A drop the raw gate blocked was never published: it stays pending and is read again on the next run until the
gate passes (before, the ledger remembered its files as seen and the drop was lost without a word)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from expectations.gate import Gate
from orchestration.lib import ingest as ingest_mod
from orchestration.lib.home import Home
from orchestration.lib.storage import Landing
from tests.ingest.helpers import drop

HEAD = "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit"


def test_a_drop_blocked_by_the_raw_gate_is_retried_until_it_passes(tmp_path, monkeypatch):
    landing, home = tmp_path / "l", Home(tmp_path / "h")
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    zone = Landing.open(str(landing))
    ingest_mod.ensure_empty_tables(home)
    real_audit = ingest_mod.audit

    monkeypatch.setattr(ingest_mod, "audit", lambda *a: Gate("raw_gate", ("forced failure for test",)))
    blocked = ingest_mod.ingest_dataset(zone, home, "supplier_invoices")
    assert not blocked.gate.passed
    assert pl.read_parquet(home.raw_table("supplier_invoices")).is_empty()
    # still pending: the partition window of the next run includes it
    assert ingest_mod.pending_drop_dates(zone, home) == [dt.date(2026, 3, 3)]

    blocked_again = ingest_mod.ingest_dataset(zone, home, "supplier_invoices")
    assert blocked_again.drops_processed == [dt.date(2026, 3, 3)] and not blocked_again.gate.passed

    monkeypatch.setattr(ingest_mod, "audit", real_audit)
    passed = ingest_mod.ingest_dataset(zone, home, "supplier_invoices")
    assert passed.gate.passed and passed.drops_processed == [dt.date(2026, 3, 3)]
    assert pl.read_parquet(home.raw_table("supplier_invoices"))["invoice_id"].to_list() == ["INV1"]
    assert ingest_mod.pending_drop_dates(zone, home) == []  # published: nothing pending any more
    assert ingest_mod.ingest_dataset(zone, home, "supplier_invoices").drops_processed == []
