"""Ingestion semantics: corrections, snapshots, idempotence, reprocessing of changed files, S3 landing."""

from __future__ import annotations

import datetime as dt
import hashlib

import boto3
import polars as pl

from orchestration.lib.home import Home
from tests.ingest.helpers import current, drop, files, ingest, quarantine

HEAD = "invoice_id,line_no,invoice_date,supplier_id,installation_id,material_id,quantity,unit"


def lake_fingerprint(home) -> dict[str, str]:
    raw = Home(home).raw
    return {
        p.relative_to(raw).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in raw.rglob("*.parquet")
    }


def test_event_correction_replaces_earlier_row_and_history_keeps_both(tmp_path):
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    drop(landing, "supplier_invoices", "2026-04-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,7,t\n")
    ingest(landing, home, "supplier_invoices")
    cur = current(home, "supplier_invoices")
    assert cur["quantity"].to_list() == [7.0] and cur["_drop_date"].to_list() == [dt.date(2026, 4, 3)]
    hist = pl.read_parquet(Home(home).raw_dir("supplier_invoices") / "history" / "*.parquet")
    assert sorted(hist["quantity"].to_list()) == [5.0, 7.0]


def test_snapshot_newest_drop_is_the_truth_and_quarantined_key_keeps_previous(tmp_path):
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, "suppliers", "2026-01-05", "s.csv", "supplier_id,name,country\nS1,A,CN\nS2,B,CN\nS3,C,VN\n")
    drop(landing, "suppliers", "2026-06-05", "s.csv", "supplier_id,name,country\nS1,A2,CN\nS2,B2,Atlantis\n")
    ingest(landing, home, "suppliers")
    cur = current(home, "suppliers").sort("supplier_id")
    assert cur.select("supplier_id", "name").rows() == [("S1", "A2"), ("S2", "B")]  # S3 gone, S2 kept
    assert quarantine(home, "suppliers")["key"].to_list() == ['{"supplier_id":"S2"}']


def test_second_run_changes_nothing(tmp_path):
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(
        landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\nbad\n"
    )
    first = ingest(landing, home, "supplier_invoices")
    before = lake_fingerprint(home)
    second = ingest(landing, home, "supplier_invoices")
    assert first.drops_processed and not second.drops_processed
    assert lake_fingerprint(home) == before


def test_changed_bytes_are_processed_again(tmp_path):
    landing, home = tmp_path / "l", tmp_path / "h"
    p = drop(
        landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n"
    )
    ingest(landing, home, "supplier_invoices")
    p.write_text(f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,6,t\n")
    r = ingest(landing, home, "supplier_invoices")
    assert r.drops_processed == [dt.date(2026, 3, 3)]
    assert current(home, "supplier_invoices")["quantity"].to_list() == [6.0]
    assert files(home, "supplier_invoices").height == 1


def test_touched_but_identical_file_is_not_reprocessed(tmp_path):
    import os

    landing, home = tmp_path / "l", tmp_path / "h"
    p = drop(
        landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n"
    )
    ingest(landing, home, "supplier_invoices")
    os.utime(p, ns=(1, 1))
    assert not ingest(landing, home, "supplier_invoices").drops_processed


def test_drops_after_the_run_date_wait(tmp_path):
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    drop(landing, "supplier_invoices", "2026-04-03", "a.csv", f"{HEAD}\nINV2,1,2026-04-01,S1,I1,WR1,5,t\n")
    r = ingest(landing, home, "supplier_invoices", up_to=dt.date(2026, 3, 31))
    assert r.drops_processed == [dt.date(2026, 3, 3)]
    assert current(home, "supplier_invoices")["invoice_id"].to_list() == ["INV1"]


def test_writes_leave_no_temporary_files(tmp_path):
    landing, home = tmp_path / "l", tmp_path / "h"
    drop(landing, "supplier_invoices", "2026-03-03", "a.csv", f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n")
    ingest(landing, home, "supplier_invoices")
    leftovers = [p for p in Home(home).lake.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert leftovers == [] and not any(Home(home).staging.rglob("*.parquet"))


def put(bucket: str, key: str, body: bytes) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def test_s3_landing_with_prefix_and_escaping_key(tmp_path, s3_bucket):
    put(
        s3_bucket,
        "zone/supplier_invoices/2026-03-03/a.csv",
        f"{HEAD}\nINV1,1,2026-03-01,S1,I1,WR1,5,t\n".encode(),
    )
    put(s3_bucket, "zone/supplier_invoices/2026-03-03/../../../etc/evil.csv", b"x")
    put(
        s3_bucket,
        "other/supplier_invoices/2026-03-03/b.csv",
        f"{HEAD}\nINV9,1,2026-03-01,S1,I1,WR1,5,t\n".encode(),
    )
    home = tmp_path / "h"
    r = ingest(f"s3://{s3_bucket}/zone", home, "supplier_invoices")
    assert r.drops_processed == [dt.date(2026, 3, 3)]
    assert current(home, "supplier_invoices")["invoice_id"].to_list() == ["INV1"]  # other prefix not read
    f = files(home, "supplier_invoices")
    evil = f.filter(pl.col("file").str.contains("evil"))
    assert evil["file_status"].to_list() == ["rejected"]
    assert (
        "leaves its folder"
        in quarantine(home, "supplier_invoices").filter(pl.col("file").str.contains("evil"))["reason"][0]
    )
    assert not (tmp_path / "etc").exists()
    # idempotent on S3 too (ETag as change token)
    assert not ingest(f"s3://{s3_bucket}/zone", home, "supplier_invoices").drops_processed
