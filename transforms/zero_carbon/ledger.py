"""Green-certificate ledger (GEC 绿证, I-REC, GO) and retired carbon credits (docs/landing-zone.md
`green_certificates`, `carbon_credits`; docs/methodology/zero-carbon.md section 5).

Rules, applied to every version of every batch in drop order (the raw history, not only the current table: a
second claim must not replace the first one the way an ordinary correction would):
- validity (GEC): 24 months from the generation month inclusive; `valid_until` is the last valid day
  (2025-06 → 2027-05-31). A claim whose consumption period ends after it, or ends before the certificate was
  generated, is rejected with that reason. Other schemes have no validity rule here (`valid_until` null, noted).
- a batch is claimed (cancelled, 核销) at most once: the first accepted cancellation stands; a later row cancelling
  it for another site or period is rejected as a second claim; a later row for the same batch, site and period is
  a correction; a row returning a cancelled batch to `held`/`transferred` is rejected (a cancellation is final).
- `expired`: for batches still held, whether the run date is past `valid_until` (the run date is an argument).

Rejected rows come back in the ingestion quarantine schema, so they reach `quarantine` / `fct_data_quality`.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from transforms.ghg.common import MONTH, YEAR, grain_of
from transforms.ingest.validate import QUARANTINE_SCHEMA
from transforms.stable import canonical, fsum

DATASET = "green_certificates"
VALIDITY_MONTHS = {"GEC": 24}  # NEA rules of 5 Sep 2024: valid two years from the generation month
ORDER = ["_drop_date", "_file", "_row_number"]

LEDGER_COLUMNS = [
    "certificate_batch_id", "scheme", "mwh", "generation_month", "valid_until", "technology", "project_id",
    "project_province", "bundled", "status", "claimed_installation_id", "claimed_period", "claimed_period_grain",
    "cancelled_on", "claimed_mwh", "unused_mwh", "claimable", "expired", "run_date", "notes", "versions",
    "source_row_id", "source_row_ids",
]  # fmt: skip

CLAIM_COLUMNS = [
    "installation_id",
    "period",
    "period_grain",
    "gec_claimable_mwh",
    "batches",
    "source_row_ids",
]

_OPTIONAL = {
    "scheme": pl.String, "technology": pl.String, "project_id": pl.String, "project_province": pl.String,
    "cancelled_for_installation_id": pl.String, "cancelled_for_period": pl.String, "cancelled_on": pl.Date,
    "bundled": pl.Boolean, "_drop_date": pl.Date, "_file": pl.String, "_row_number": pl.Int64,
    "_source_row_id": pl.String,
}  # fmt: skip


def _month_start(expr: pl.Expr) -> pl.Expr:
    """`YYYY-MM` text, `YYYY-MM-DD` text or a date → the first day of that month."""
    return (expr.cast(pl.String).str.slice(0, 7) + "-01").str.to_date("%Y-%m-%d", strict=False)


def period_bounds(period: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """`YYYY` / `YYYY-MM` → (first day, last day) of that consumption period; null when not such a period."""
    text = period.cast(pl.String).str.strip_chars()
    is_year = text.str.contains(r"^\d{4}$")
    is_month = text.str.contains(r"^\d{4}-(0[1-9]|1[0-2])$")
    start = (
        pl.when(is_year)
        .then(text + "-01-01")
        .when(is_month)
        .then(text + "-01")
        .str.to_date("%Y-%m-%d", strict=False)
    )
    end = pl.when(is_year).then(start.dt.offset_by("1y")).when(is_month).then(start.dt.offset_by("1mo"))
    return start, end.dt.offset_by("-1d")


def _with_optional(history: pl.LazyFrame) -> pl.LazyFrame:
    names = history.collect_schema().names()
    return history.with_columns(
        [pl.lit(None, dtype).alias(c) for c, dtype in _OPTIONAL.items() if c not in names]
    ).with_columns(  # all-null columns of a hand-made frame arrive untyped
        pl.col(c).cast(dtype) for c, dtype in _OPTIONAL.items() if dtype in (pl.String, pl.Int64)
    )


def _raw_json(names: list[str]) -> pl.Expr:
    return pl.struct([pl.col(c).cast(pl.String) for c in names]).struct.json_encode()


def gec_ledger(history: pl.LazyFrame | pl.DataFrame, run_date: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(ledger, rejected) from every accepted version of the `green_certificates` rows (the raw history).

    ledger: one row per batch (LEDGER_COLUMNS): its current state after the rules, validity and expiry at
    `run_date`; rejected: QUARANTINE_SCHEMA rows (dataset, drop_date, file, row_number, column, reason, raw)."""
    lf = _with_optional(history.lazy())
    contract_cols = [c for c in lf.collect_schema().names() if not c.startswith("_")]
    scheme = pl.col("scheme").fill_null("GEC").str.strip_chars().str.to_uppercase()
    gen = _month_start(pl.col("generation_month"))
    months = scheme.replace_strict(VALIDITY_MONTHS, default=None, return_dtype=pl.Int32)
    claim_start, claim_end = period_bounds(pl.col("cancelled_for_period"))
    status = pl.col("status").str.strip_chars().str.to_lowercase()
    rows = (
        lf.with_columns(scheme=scheme, status=status, generation_start=gen, validity_months=months)
        .with_columns(
            valid_until=pl.when(pl.col("validity_months").is_not_null()).then(
                pl.col("generation_start")
                .dt.offset_by(pl.format("{}mo", pl.col("validity_months")))
                .dt.offset_by("-1d")
            ),
            claim_start=claim_start,
            claim_end=claim_end,
            _order=pl.int_range(pl.len()),
        )
        .sort([*ORDER, "_order"])
        .with_columns(_order=pl.int_range(pl.len()))
    )
    cancel = pl.col("status") == "cancelled"
    # Row rules that need nothing but the row itself (first failing rule wins; the column it names).
    own = (
        pl.when(pl.col("generation_start").is_null())
        .then(pl.struct(c=pl.lit("generation_month"), r=pl.lit("generation_month is not a YYYY-MM month")))
        .when(~pl.col("status").is_in(["held", "cancelled", "transferred"]))
        .then(pl.struct(c=pl.lit("status"), r=pl.format("status '{}' is not held, cancelled or transferred",
                                                           pl.col("status"))))
        .when(cancel & pl.col("cancelled_for_installation_id").is_null())
        .then(pl.struct(c=pl.lit("cancelled_for_installation_id"),
                        r=pl.lit("a cancelled batch must name the consumer site (cancelled_for_installation_id)")))
        .when(cancel & pl.col("claim_start").is_null())
        .then(pl.struct(c=pl.lit("cancelled_for_period"),
                        r=pl.format("cancelled_for_period '{}' is not YYYY or YYYY-MM",
                                    pl.col("cancelled_for_period").fill_null("(empty)"))))
        .when(cancel & (pl.col("claim_end") > pl.col("valid_until")))
        .then(pl.struct(c=pl.lit("cancelled_for_period"), r=pl.format(
            "claim for {} ends after the certificate's validity ({} generated {}, valid until {}): not claimable",
            "cancelled_for_period", "scheme", pl.col("generation_start").dt.strftime("%Y-%m"), "valid_until")))
        .when(cancel & (pl.col("claim_end") < pl.col("generation_start")))
        .then(pl.struct(c=pl.lit("cancelled_for_period"), r=pl.format(
            "claim for {} ends before the certificate was generated ({}): not claimable",
            "cancelled_for_period", pl.col("generation_start").dt.strftime("%Y-%m"))))
    )  # fmt: skip
    rows = rows.with_columns(_own=own).collect()
    ok = rows.filter(pl.col("_own").is_null())
    # The first accepted cancellation of a batch is its claim; every later row is measured against it.
    first = (
        ok.filter(pl.col("status") == "cancelled")
        .group_by("certificate_batch_id")
        .agg(pl.all().sort_by("_order").first())
        .select(
            "certificate_batch_id",
            _first_order="_order",
            _first_site="cancelled_for_installation_id",
            _first_period="cancelled_for_period",
            _first_where=pl.format("{} row {}", "_file", "_row_number"),
        )
    )
    after = pl.col("_order") > pl.col("_first_order")
    same_claim = (pl.col("cancelled_for_installation_id") == pl.col("_first_site")) & (
        pl.col("cancelled_for_period").str.strip_chars() == pl.col("_first_period").str.strip_chars()
    )
    sequence = (
        pl.when(after & cancel & ~same_claim)
        .then(pl.struct(c=pl.lit("certificate_batch_id"), r=pl.format(
            "second claim: batch already cancelled for {} period {} ({}); the first claim stands",
            "_first_site", "_first_period", "_first_where")))
        .when(after & ~cancel)
        .then(pl.struct(c=pl.lit("status"), r=pl.format(
            "batch was cancelled for {} period {} ({}): a cancelled certificate cannot become '{}' again",
            "_first_site", "_first_period", "_first_where", "status")))
    )  # fmt: skip
    ok = ok.join(first, on="certificate_batch_id", how="left").with_columns(_seq=sequence)
    rejected_rows = pl.concat(
        [
            rows.filter(pl.col("_own").is_not_null()).with_columns(_why=pl.col("_own")),
            ok.filter(pl.col("_seq").is_not_null()).with_columns(_why=pl.col("_seq")),
        ],
        how="diagonal_relaxed",
    )
    rejected = rejected_rows.select(
        dataset=pl.lit(DATASET),
        drop_date="_drop_date",
        file="_file",
        row_number="_row_number",
        column=pl.col("_why").struct.field("c"),
        reason=pl.lit("certificate ledger: ") + pl.col("_why").struct.field("r"),
        raw=_raw_json(contract_cols),
        key=pl.struct(certificate_batch_id="certificate_batch_id").struct.json_encode(),
    ).cast(QUARANTINE_SCHEMA)
    accepted = ok.filter(pl.col("_seq").is_null())
    ledger = _current(accepted, rejected_rows, run_date)
    return ledger, canonical(rejected, ["dataset", "drop_date", "file", "row_number", "column"])


def _current(accepted: pl.DataFrame, rejected: pl.DataFrame, run_date: date) -> pl.DataFrame:
    """Latest accepted version of each batch, with its claim and expiry."""
    counts = accepted.group_by("certificate_batch_id").agg(
        versions=pl.len(), source_row_ids=pl.col("_source_row_id").sort_by("_order")
    )
    notes_rej = rejected.group_by("certificate_batch_id").agg(
        _rej=pl.format("{} row {}: rejected", "_file", "_row_number").sort_by("_order").str.join("; ")
    )
    latest = accepted.sort("_order").group_by("certificate_batch_id").last()
    cancelled = pl.col("status") == "cancelled"
    held = pl.col("status") == "held"
    out = (
        latest.join(counts, on="certificate_batch_id", how="left")
        .join(notes_rej, on="certificate_batch_id", how="left")
        .with_columns(
            generation_month=pl.col("generation_start").dt.strftime("%Y-%m"),
            claimed_installation_id=pl.when(cancelled).then("cancelled_for_installation_id"),
            claimed_period=pl.when(cancelled).then(pl.col("cancelled_for_period").str.strip_chars()),
            claimed_mwh=pl.when(cancelled).then("mwh").otherwise(0.0),
            unused_mwh=pl.when(held).then("mwh").otherwise(0.0),
            claimable=cancelled,
            expired=pl.when(held & pl.col("valid_until").is_not_null()).then(pl.lit(run_date) > pl.col("valid_until")),
            run_date=pl.lit(run_date),
            source_row_id="_source_row_id",
        )
        .with_columns(
            claimed_period_grain=pl.when(cancelled).then(grain_of(pl.col("claimed_period"))),
            notes=pl.concat_str(
                [
                    pl.when(pl.col("valid_until").is_null()).then(
                        pl.format("no validity rule for scheme {}: validity not checked", "scheme")
                    ),
                    pl.when(pl.col("expired").fill_null(False)).then(
                        pl.format("held past its validity ({}): can no longer be claimed", "valid_until")
                    ),
                    pl.col("_rej"),
                ],
                separator="; ",
                ignore_nulls=True,
            ),
        )
    )  # fmt: skip
    out = out.with_columns(pl.when(pl.col("notes") == "").then(None).otherwise("notes").alias("notes"))
    return canonical(out.select(LEDGER_COLUMNS), ["certificate_batch_id"])


def claims_by_site_period(ledger: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Claimable certificate MWh per consumer site × claimed period (`YYYY` and `YYYY-MM` rows as claimed;
    CLAIM_COLUMNS). A claim for a year is one row for that year; it is never split into months here."""
    return canonical(
        ledger.lazy()
        .filter(pl.col("claimable"))
        .group_by(
            installation_id="claimed_installation_id",
            period="claimed_period",
            period_grain="claimed_period_grain",
        )
        .agg(
            gec_claimable_mwh=pl.col("mwh").pipe(fsum),
            batches=pl.col("certificate_batch_id").sort(),
            source_row_ids=pl.col("source_row_id").sort(),
        )
        .select(CLAIM_COLUMNS),
        ["installation_id", "period_grain", "period"],
    ).collect()


def claims_per_year(claims: pl.DataFrame) -> pl.DataFrame:
    """Claimable MWh per site × year, whichever grain it was claimed at (year claims + that year's months)."""
    return (
        claims.group_by("installation_id", year=pl.col("period").str.slice(0, 4))
        .agg(gec_claimable_mwh=pl.col("gec_claimable_mwh").pipe(fsum))
        .sort("installation_id", "year")
    )


RECONCILIATION_COLUMNS = [
    "installation_id", "year", "ledger_claimable_mwh", "bills_gec_mwh", "ledger_minus_bills_mwh", "status",
]  # fmt: skip


def reconcile_with_bills(
    claims: pl.DataFrame, bill_months: pl.LazyFrame, tolerance_mwh: float = 1e-6
) -> pl.DataFrame:
    """Ledger claims vs `energy_bills.gec_mwh` per site × year where either exists: `match`, `differ`,
    `ledger only` (bills name no GEC), `bills only` (no ledger claim: the bills' figure is used)."""
    bills = (
        bill_months.filter(pl.col("energy_kind") == "electricity")
        .group_by("installation_id", "year")
        .agg(bills_gec_mwh=pl.col("gec_claimed_mwh").pipe(fsum))
        .filter(pl.col("bills_gec_mwh") > 0)
        .collect()
    )
    ledger = claims_per_year(claims).rename({"gec_claimable_mwh": "ledger_claimable_mwh"})
    both = ledger.join(bills, on=["installation_id", "year"], how="full", coalesce=True)
    diff = pl.col("ledger_claimable_mwh") - pl.col("bills_gec_mwh")
    return canonical(
        both.with_columns(ledger_minus_bills_mwh=diff)
        .with_columns(
            status=pl.when(pl.col("bills_gec_mwh").is_null())
            .then(pl.lit("ledger only"))
            .when(pl.col("ledger_claimable_mwh").is_null())
            .then(pl.lit("bills only"))
            .when(diff.abs() <= tolerance_mwh)
            .then(pl.lit("match"))
            .otherwise(pl.lit("differ"))
        )
        .select(RECONCILIATION_COLUMNS),
        ["installation_id", "year"],
    )


CREDIT_COLUMNS = [
    "entity_id", "period", "credits_retired_tco2e", "removal_credits_tco2e", "avoidance_credits_tco2e",
    "credits", "source_row_ids",
]  # fmt: skip


def credits_retired(credits: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    """Carbon credits retired per claimed entity (a site or a park id) × claimed period (CREDIT_COLUMNS, tCO2e)."""
    lf = credits.lazy()
    names = lf.collect_schema().names()
    if "project_type" not in names:
        lf = lf.with_columns(project_type=pl.lit(None, pl.String))
    kind = pl.col("project_type").str.strip_chars().str.to_lowercase()
    return canonical(
        lf.group_by(
            entity_id="retired_for_installation_id",
            period=pl.col("retired_for_period").cast(pl.String).str.strip_chars(),
        )
        .agg(
            credits_retired_tco2e=pl.col("tco2e").pipe(fsum),
            removal_credits_tco2e=pl.when(kind == "removal").then("tco2e").otherwise(0.0).pipe(fsum),
            avoidance_credits_tco2e=pl.when(kind == "removal").then(0.0).otherwise("tco2e").pipe(fsum),
            credits=pl.col("credit_id").sort(),
            source_row_ids=pl.col("_source_row_id").sort(),
        )
        .select(CREDIT_COLUMNS),
        ["entity_id", "period"],
    ).collect()


__all__ = [
    "CLAIM_COLUMNS",
    "CREDIT_COLUMNS",
    "LEDGER_COLUMNS",
    "MONTH",
    "YEAR",
    "claims_by_site_period",
    "claims_per_year",
    "credits_retired",
    "gec_ledger",
    "period_bounds",
    "reconcile_with_bills",
]
