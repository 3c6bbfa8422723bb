"""The certificate ledger over the demo's GEC accounts (orchestration/demo) against the demo manifest, which was
written independently: exactly the rows the manifest names as certificate-ledger faults are rejected, each for its
own reason, and the claims that stand equal the bills' gec_mwh month by month."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from orchestration.demo import DemoManifest, generate
from tests.demo.test_demo_ems import _bills, _gec
from transforms.zero_carbon.ledger import claims_by_site_period, gec_ledger

REASON = {
    "certificate_claimed_twice": "second claim",
    "certificate_expired_claim": "after the certificate's validity",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    landing = tmp_path_factory.mktemp("zc_demo") / "landing"
    return landing, generate(landing, scale=0.1, seed=7)


def test_demo_ledger_rejects_exactly_the_manifest_faults(demo):
    landing, manifest = demo
    rows = _gec(landing, manifest)
    history = rows.rename({"_row": "_row_number", "_drop": "_drop_date"}).with_columns(
        pl.col("_drop_date").cast(pl.String).str.to_date(),
        pl.col("_row_number").cast(pl.Int64),
        _source_row_id=pl.format("{}#{}", "_file", "_row_number"),
    )
    ledger, rejected = gec_ledger(history, date(2026, 12, 1))
    faults = {
        (d.file, d.row_number): d.fault for d in manifest.downstream_faults if d.stage == "certificate_ledger"
    }
    got = {(r["file"], r["row_number"]): r["reason"] for r in rejected.iter_rows(named=True)}
    assert set(got) == set(faults)
    for where, fault in faults.items():
        assert REASON[fault] in got[where], (where, got[where])
    claims = claims_by_site_period(ledger)
    bills = _bills(manifest).filter(pl.col("gec_mwh").is_not_null())
    want = {
        (r["installation_id"], f"{r['period_start']:%Y-%m}"): r["gec_mwh"]
        for r in bills.iter_rows(named=True)
    }
    got_claims = {
        (r["installation_id"], r["period"]): r["gec_claimable_mwh"] for r in claims.iter_rows(named=True)
    }
    assert got_claims == pytest.approx(want)
