"""The zero-carbon stage end to end on the synthetic multi-plant data: ledger → site inventory (market-based
Scope 2 from the ledger's claims) → indicators and claim view; the outputs match their computed-table contracts
and pass the gate rules; a broken claim view fails them."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from expectations.zero_carbon import (
    bills_disagreement,
    claim_problems,
    missing_inputs,
    reconcile_ledger,
    reconcile_zero_carbon,
)
from tests.footprint import synthetic
from transforms.computed import conform_all
from transforms.footprint import load_factors
from transforms.ghg.compute import compute_ghg
from transforms.zero_carbon.compute import (
    LEDGER_TABLES,
    ZERO_CARBON_TABLES,
    compute_ledger,
    compute_zero_carbon,
)
from transforms.zero_carbon.refdata import load_reference

D = date


@pytest.fixture(scope="module")
def stage() -> dict[str, pl.DataFrame]:
    raw = synthetic.raw()
    raw["parks"] = pl.LazyFrame(
        {"park_id": ["NBP", "NBP"], "installation_id": ["NB1", "NB2"], "park_name": ["Ningbo"] * 2}
    )
    raw["carbon_credits"] = pl.LazyFrame(
        {
            "credit_id": ["C1"],
            "tco2e": [100.0],
            "project_type": ["avoidance"],
            "retired_for_installation_id": ["NB1"],
            "retired_for_period": ["2024"],
            "_source_row_id": ["carbon_credits/2025-01-05/c.csv#1"],
        }  # fmt: skip
    )
    history = pl.LazyFrame(
        {
            "certificate_batch_id": ["G1", "G1", "G2"],
            "mwh": [300.0, 300.0, 50.0],
            "generation_month": ["2024-01", "2024-01", "2021-01"],
            "status": ["cancelled"] * 3,
            "cancelled_for_installation_id": ["NB1", "FS1", "NB1"],
            "cancelled_for_period": ["2024", "2024", "2024"],
            "_drop_date": [D(2024, 4, 1), D(2024, 5, 1), D(2024, 5, 1)],
            "_file": ["a.csv", "b.csv", "b.csv"],
            "_row_number": [1, 1, 2],
            "_source_row_id": ["g/a#1", "g/b#1", "g/b#2"],
        }  # fmt: skip
    )
    ledger = compute_ledger(history, raw, D(2026, 1, 15))
    cbam = (synthetic.stream_emissions(), synthetic.process_see(), synthetic.precursor_inputs())
    ghg = compute_ghg(
        raw, load_factors(), *cbam, inventory_as_of=D(2026, 1, 15), gec_claims=ledger["gec_claims"]
    )
    computed = {**ghg, **ledger, "stream_emissions": cbam[0]}
    zc = compute_zero_carbon(raw, computed, load_reference())
    return {**ledger, **zc, "site_inventory": ghg["site_inventory"]}


def test_tables_match_their_contracts_and_pass_the_gate(stage):
    tables = conform_all({t: stage[t] for t in (*LEDGER_TABLES, *ZERO_CARBON_TABLES)})
    assert reconcile_ledger(tables) == []
    assert reconcile_zero_carbon(tables) == []
    # the second claim (FS1) and the expired-validity claim (G2, valid until 2022-12-31) are rejected
    assert tables["gec_ledger_rejects"]["row_number"].to_list() == [1, 2]
    # NB1's bill names 300 MWh of GEC, the ledger 300 MWh for 2024: they match
    rec = tables["gec_reconciliation"].filter(pl.col("installation_id") == "NB1").row(0, named=True)
    assert rec["status"] == "match" and bills_disagreement(tables["gec_reconciliation"]) == []


def test_inventory_uses_the_ledger_and_indicators_cover_sites_and_park(stage):
    nb1 = stage["site_inventory"].filter((pl.col("installation_id") == "NB1") & (pl.col("period") == "2024"))
    assert nb1["gec_mwh"][0] == pytest.approx(300.0) and nb1["park_id"][0] == "NBP"
    ind = stage["zero_carbon_indicators"]
    assert set(ind.filter(pl.col("level") == "park")["entity_id"]) == {"NBP"}
    # a row is a site's or a park's, never both (readers such as the summary report tell them apart by that)
    sites, parks = ind.filter(pl.col("level") == "site"), ind.filter(pl.col("level") == "park")
    assert sites["park_id"].is_null().all() and (sites["installation_id"] == sites["entity_id"]).all()
    assert parks["installation_id"].is_null().all() and (parks["park_id"] == parks["entity_id"]).all()
    assert set(ind.filter(pl.col("level") == "site")["indicator_id"]) == {f"F{i}" for i in range(1, 8)}
    # NB1 has EMS meters but no energy balance reached the indicators: F3 misses its input, and says so;
    # sites without meters have no interval data to miss
    gaps = missing_inputs(ind, {"NB1"})
    assert any("NB1" in g and " F3 " in g and "fct_energy_balance" in g for g in gaps)
    assert not any("FS1" in g and " F3 " in g for g in gaps)
    claim = stage["carbon_neutrality_claims"].filter(pl.col("entity_id") == "NB1").row(0, named=True)
    assert claim["credits_retired_tco2e"] == 100.0 and claim["claim_allowed"] is False


def test_gate_refuses_a_claim_allowed_without_offset(stage):
    tables = {t: stage[t] for t in ZERO_CARBON_TABLES}
    broken = tables["carbon_neutrality_claims"].with_columns(claim_allowed=pl.lit(True))
    problems = claim_problems(
        {**tables, "carbon_neutrality_claims": broken}
    )  # per installation/park and year
    assert any("claim_allowed is true while the year is open" in p for p in problems)
    passing = tables["zero_carbon_indicators"].with_columns(passes=pl.lit(True))
    assert any(
        "set although the status is 'no data'" in p
        for p in claim_problems({**tables, "zero_carbon_indicators": passing})
    )


def test_no_certificates_and_no_credits_give_empty_tables_and_bills_only():
    from transforms.contracts import dataset

    empty = pl.LazyFrame(schema=dataset("green_certificates").schema)
    tables = conform_all(compute_ledger(empty, synthetic.raw(), D(2026, 1, 1)))
    assert tables["gec_ledger"].is_empty() and tables["credits_retired"].is_empty()
    assert set(tables["gec_reconciliation"]["status"]) == {"bills only"}
    assert reconcile_ledger(tables) == []
