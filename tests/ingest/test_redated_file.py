"""A landing file touched without changing its bytes (copied again by a sync tool, restored from a backup) has a
new change token (mtime + size locally, the ETag on S3) but the same hash. The first run after it reads and hashes
the file, finds nothing changed and must remember the new token: before, the ledger kept the old one, so every
later run hashed the file again and `pending_drop_dates` reported the drop forever, which kept the no-change
nightly from ever applying."""

from __future__ import annotations

import datetime as dt
import os

import polars as pl

from orchestration.lib import ingest as ingest_mod
from orchestration.lib.home import Home
from orchestration.lib.storage import Landing
from tests.ingest.helpers import drop

HEAD = "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit"


def test_a_touched_file_with_the_same_bytes_is_remembered_and_not_pending_again(tmp_path, monkeypatch):
    landing, home = tmp_path / "l", Home(tmp_path / "h")
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    ingest_mod.ensure_empty_tables(home)
    first = ingest_mod.ingest_dataset(Landing.open(str(landing)), home, "supplier_invoices")
    assert first.gate.passed and first.drops_processed == [dt.date(2026, 3, 3)]
    ledger_before = pl.read_parquet(home.raw_dir("supplier_invoices") / "_files.parquet")

    path = next(landing.rglob("a.csv"))
    later = path.stat().st_mtime + 3600
    os.utime(path, (later, later))  # same bytes, new mtime → new change token
    zone = Landing.open(str(landing))
    assert ingest_mod.pending_drop_dates(zone, home) == [dt.date(2026, 3, 3)]  # maybe changed: hash decides

    hashed: list[str] = []
    real_same_hash = ingest_mod._same_hash
    monkeypatch.setattr(
        ingest_mod, "_same_hash", lambda lz, rel, known: hashed.append(rel) or real_same_hash(lz, rel, known)
    )
    second = ingest_mod.ingest_dataset(zone, home, "supplier_invoices")
    assert second.drops_processed == [] and hashed == ["supplier_invoices/2026-03-03/a.csv"]
    ledger_after = pl.read_parquet(home.raw_dir("supplier_invoices") / "_files.parquet")
    # only the token moved: hash, rows, gate verdict and ingestion time are those of the first read
    assert ledger_after.drop("change_token").equals(ledger_before.drop("change_token"))
    assert ledger_after["change_token"].to_list() != ledger_before["change_token"].to_list()

    # remembered: not pending, not hashed again
    assert ingest_mod.pending_drop_dates(zone, home) == []
    third = ingest_mod.ingest_dataset(Landing.open(str(landing)), home, "supplier_invoices")
    assert third.drops_processed == [] and len(hashed) == 1
