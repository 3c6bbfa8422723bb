"""Certificate ledger rules (docs/landing-zone.md green_certificates): validity boundary, expiry at the run
date, one claim per batch (second claims rejected, corrections kept), rejects in the quarantine schema."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from transforms.ingest.validate import QUARANTINE_SCHEMA
from transforms.zero_carbon.ledger import (
    claims_by_site_period,
    credits_retired,
    gec_ledger,
    reconcile_with_bills,
)

COLS = ["certificate_batch_id", "mwh", "generation_month", "status", "cancelled_for_installation_id",
        "cancelled_for_period", "_drop_date", "_file", "_row_number"]  # fmt: skip


def history(rows: list[tuple]) -> pl.DataFrame:
    df = pl.DataFrame(rows, schema=COLS, orient="row").with_columns(
        pl.col("mwh").cast(pl.Float64), pl.col("_drop_date").str.to_date()
    )
    return df.with_columns(
        _source_row_id=pl.format("green_certificates/{}/{}#{}", "_drop_date", "_file", "_row_number")
    )


def test_validity_boundary_last_month_ok_next_month_rejected() -> None:
    h = history([
        ("B1", 10, "2025-06", "cancelled", "S1", "2027-05", "2027-06-02", "a.csv", 1),  # last valid month
        ("B2", 10, "2025-06", "cancelled", "S1", "2027-06", "2027-07-02", "a.csv", 2),  # one month late
        ("B3", 10, "2025-06", "cancelled", "S1", "2027", "2027-07-02", "a.csv", 3),  # year ends in December
        ("B4", 10, "2025-06", "cancelled", "S1", "2026", "2027-07-02", "a.csv", 4),  # year inside validity
        ("B5", 10, "2025-06", "cancelled", "S1", "2025-05", "2027-07-02", "a.csv", 5),  # before generation
    ])  # fmt: skip
    ledger, rejected = gec_ledger(h, date(2027, 7, 10))
    assert ledger.filter(pl.col("certificate_batch_id") == "B1")["valid_until"][0] == date(2027, 5, 31)
    claimable = dict(zip(ledger["certificate_batch_id"], ledger["claimable"], strict=True))
    assert claimable == {"B1": True, "B4": True}
    assert sorted(rejected["row_number"].to_list()) == [2, 3, 5]
    assert all("not claimable" in r for r in rejected["reason"])
    assert rejected.schema == QUARANTINE_SCHEMA
    assert set(rejected["column"]) == {"cancelled_for_period"}
    assert "valid until 2027-05-31" in rejected.filter(pl.col("row_number") == 2)["reason"][0]


def test_second_claim_rejected_first_stands_and_correction_kept() -> None:
    h = history([
        ("B1", 5, "2025-01", "held", None, None, "2025-02-01", "a.csv", 1),
        ("B1", 5, "2025-01", "cancelled", "S1", "2025", "2025-03-01", "b.csv", 1),  # the claim
        ("B1", 5, "2025-01", "cancelled", "S2", "2025", "2025-04-01", "c.csv", 1),  # another site: 2nd claim
        ("B1", 6, "2025-01", "cancelled", "S1", "2025", "2025-05-01", "d.csv", 1),  # same claim: correction
        ("B1", 6, "2025-01", "held", None, None, "2025-06-01", "e.csv", 1),  # un-cancel: rejected
    ])  # fmt: skip
    ledger, rejected = gec_ledger(h, date(2025, 12, 31))
    row = ledger.row(0, named=True)
    assert (row["status"], row["claimed_installation_id"], row["claimed_period"]) == (
        "cancelled",
        "S1",
        "2025",
    )
    assert row["claimed_mwh"] == 6.0 and row["unused_mwh"] == 0.0 and row["versions"] == 3
    assert row["source_row_id"].endswith("d.csv#1")
    assert rejected["file"].to_list() == ["c.csv", "e.csv"]
    assert "second claim" in rejected["reason"][0] and "S1 period 2025" in rejected["reason"][0]
    assert "cannot become 'held'" in rejected["reason"][1]
    claims = claims_by_site_period(ledger)
    assert claims.select("installation_id", "period", "period_grain", "gec_claimable_mwh").rows() == [
        ("S1", "2025", "year", 6.0)
    ]


def test_expired_at_run_date_only_for_held() -> None:
    h = history([
        ("H1", 3, "2023-01", "held", None, None, "2023-02-01", "a.csv", 1),  # valid until 2024-12-31
        ("H2", 4, "2024-06", "held", None, None, "2024-07-01", "a.csv", 2),
        ("T1", 2, "2023-01", "transferred", None, None, "2023-02-01", "a.csv", 3),
    ])  # fmt: skip
    on_last_day, _ = gec_ledger(h, date(2024, 12, 31))
    next_day, _ = gec_ledger(h, date(2025, 1, 1))
    exp = lambda df: dict(zip(df["certificate_batch_id"], df["expired"], strict=True))  # noqa: E731
    assert exp(on_last_day) == {"H1": False, "H2": False, "T1": None}
    assert exp(next_day) == {"H1": True, "H2": False, "T1": None}
    assert next_day.filter(pl.col("certificate_batch_id") == "H1")["unused_mwh"][0] == 3.0
    assert "can no longer be claimed" in next_day.filter(pl.col("certificate_batch_id") == "H1")["notes"][0]


def test_bad_rows_rejected_with_column() -> None:
    h = history([
        ("X1", 1, "2025-13", "held", None, None, "2025-02-01", "a.csv", 1),
        ("X2", 1, "2025-01", "cancelled", None, "2025", "2025-02-01", "a.csv", 2),
        ("X3", 1, "2025-01", "cancelled", "S1", "25", "2025-02-01", "a.csv", 3),
    ])  # fmt: skip
    ledger, rejected = gec_ledger(h, date(2025, 3, 1))
    assert ledger.is_empty()
    assert rejected["column"].to_list() == [
        "generation_month",
        "cancelled_for_installation_id",
        "cancelled_for_period",
    ]


def test_other_scheme_without_validity_rule_is_noted() -> None:
    h = history([("I1", 1, "2020-01", "cancelled", "S1", "2025", "2025-02-01", "a.csv", 1)]).with_columns(
        scheme=pl.lit("I-REC")
    )
    ledger, rejected = gec_ledger(h, date(2025, 3, 1))
    assert rejected.is_empty() and ledger["valid_until"][0] is None
    assert "no validity rule for scheme I-REC" in ledger["notes"][0]


def test_reconcile_with_bills_and_credits() -> None:
    claims = pl.DataFrame(
        {
            "installation_id": ["S1", "S2"],
            "period": ["2025", "2025-03"],
            "period_grain": ["year", "month"],
            "gec_claimable_mwh": [10.0, 4.0],
        }  # fmt: skip
    )
    bills = pl.LazyFrame(
        {
            "installation_id": ["S1", "S2", "S3"],
            "year": ["2025", "2025", "2025"],
            "energy_kind": ["electricity"] * 3,
            "gec_claimed_mwh": [10.0, 5.0, 2.0],
        }  # fmt: skip
    )
    rec = reconcile_with_bills(claims, bills)
    assert rec.select("installation_id", "status", "ledger_minus_bills_mwh").rows() == [
        ("S1", "match", 0.0), ("S2", "differ", -1.0), ("S3", "bills only", None)
    ]  # fmt: skip
    credits = pl.DataFrame(
        {
            "credit_id": ["C1", "C2", "C3"],
            "tco2e": [5.0, 2.5, 1.0],
            "project_type": ["removal", None, "avoidance"],
            "retired_for_installation_id": ["S1", "S1", "PARK"],
            "retired_for_period": ["2025", "2025", "2024"],
            "_source_row_id": ["r1", "r2", "r3"],
        }  # fmt: skip
    )
    out = credits_retired(credits)
    assert out.filter(pl.col("entity_id") == "S1").select(
        "credits_retired_tco2e", "removal_credits_tco2e", "avoidance_credits_tco2e"
    ).row(0) == pytest.approx((7.5, 5.0, 2.5))


def test_later_row_of_the_same_drop_is_a_second_claim():
    h = history([
        ("B9", 4, "2025-01", "cancelled", "S1", "2025-02", "2025-03-01", "a.csv", 7),
        ("B9", 4, "2025-01", "cancelled", "S2", "2025-02", "2025-03-01", "a.csv", 3),  # earlier row: first claim
    ])  # fmt: skip
    ledger, rejected = gec_ledger(h, date(2025, 3, 2))
    assert ledger["claimed_installation_id"].to_list() == ["S2"]
    assert rejected["row_number"].to_list() == [7] and "a.csv row 3" in rejected["reason"][0]
