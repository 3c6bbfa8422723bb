"""Market-based Scope 2 from the certificate ledger (docs/methodology/zero-carbon.md section 5) on a hand-computed case,
and CBAM indirect emissions untouched by certificates on the same data."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from tests.cbam.cbam_testkit import chain, reference
from tests.footprint import synthetic
from tests.footprint.test_inventory import RESIDUAL, ZJ, grid_factor
from transforms.cbam import compute_cbam, frames_from_rows
from transforms.footprint import load_factors
from transforms.ghg.compute import compute_ghg
from transforms.inventory import compute_site_inventory, scope2_lines
from transforms.logistics import compute_logistics

REL = 1e-9
GD = grid_factor("co2_average", "Guangdong", 2023)


def claims(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(i, p, "year" if len(p) == 4 else "month", m) for i, p, m in rows],
        schema=["installation_id", "period", "period_grain", "gec_claimable_mwh"],
        orient="row",
    )


@pytest.fixture(scope="module")
def inventories() -> tuple[pl.DataFrame, pl.DataFrame]:
    raw, factors = synthetic.raw(), load_factors()
    alloc = compute_logistics(raw, factors)[1]
    args = (raw, factors, synthetic.stream_emissions(), synthetic.precursor_inputs(), alloc)
    # NB1 (1 000 MWh grid + 100 MWh PV, bill says 300 MWh GEC): ledger 100 MWh for 2024-03 and 400 MWh for 2024.
    # FS1 (400 MWh PPA at 0 + 600 MWh grid): ledger 700 MWh for 2024, only the 600 MWh grid are eligible.
    ledger = claims([("NB1", "2024-03", 100.0), ("NB1", "2024", 400.0), ("FS1", "2024", 700.0)])
    bills_only = compute_site_inventory(*args, as_of=date(2026, 1, 15))
    with_ledger = compute_site_inventory(*args, as_of=date(2026, 1, 15), gec_claims=ledger)
    return bills_only, with_ledger


def row(df: pl.DataFrame, inst: str, period: str) -> dict:
    return df.filter((pl.col("installation_id") == inst) & (pl.col("period") == period)).row(0, named=True)


def test_ledger_claims_replace_bill_gecs_month_then_year(inventories):
    bills_only, with_ledger = inventories
    before, after = row(bills_only, "NB1", "2024-03"), row(with_ledger, "NB1", "2024-03")
    assert before["scope2_market_tco2e"] == pytest.approx(700 * RESIDUAL, rel=REL)  # the bill's 300 MWh
    # month claim 100 of 1 000 eligible, then the year claim 400 of the 900 left: 500 MWh at zero
    assert after["gec_mwh"] == pytest.approx(500, rel=REL)
    assert after["gec_covered_mwh"] == pytest.approx(500, rel=REL)
    assert after["scope2_market_tco2e"] == pytest.approx(500 * RESIDUAL, rel=REL)
    assert (
        after["scope2_location_tco2e"] == before["scope2_location_tco2e"] == pytest.approx(1000 * ZJ, rel=REL)
    )
    assert after["gec_instrument_tco2e"] == pytest.approx(500 * ZJ, rel=REL)
    assert after["renewable_electricity_share"] == pytest.approx((500 + 100) / 1100, rel=REL)
    assert row(with_ledger, "NB1", "2024")["scope2_market_tco2e"] == pytest.approx(500 * RESIDUAL, rel=REL)


def test_certificates_never_cover_physically_green_power(inventories):
    _, with_ledger = inventories
    fs1 = row(with_ledger, "FS1", "2024")
    assert fs1["gec_mwh"] == pytest.approx(700, rel=REL)
    assert fs1["gec_covered_mwh"] == pytest.approx(600, rel=REL)  # grid only; the PPA at 0 is already green
    assert fs1["gec_unused_mwh"] == pytest.approx(100, rel=REL)
    assert fs1["scope2_market_tco2e"] == pytest.approx(0.0, abs=1e-12)
    assert fs1["scope2_location_tco2e"] == pytest.approx(1000 * GD, rel=REL)  # a grid PPA: grid average
    assert fs1["renewable_electricity_share"] == pytest.approx(1.0, rel=REL)


def test_sites_without_ledger_claims_keep_the_bills(inventories):
    bills_only, with_ledger = inventories
    assert row(with_ledger, "NB2", "2024-03") == row(bills_only, "NB2", "2024-03")
    lines = scope2_lines(synthetic.raw(), load_factors(), gec_claims=claims([("NB1", "2024", 1.0)])).collect()
    src = dict(zip(lines["bill_id"], lines["gec_source"], strict=True))
    assert src["E1"] == "ledger" and src["E3"] == "energy_bills.gec_mwh"
    assert "GEC MWh (ledger) at 0" in lines.filter(pl.col("bill_id") == "E1")["market_basis"][0]


def test_cbam_unchanged_by_certificates_inventory_changed():
    plant = chain()
    plain = {k: [dict(r) for r in v] for k, v in plant.rows.items()}
    with_gec = {k: [dict(r) for r in v] for k, v in plant.rows.items()}
    for bill in with_gec["energy_bills"]:
        bill["gec_mwh"] = bill["quantity"]  # every MWh certified on the bills as well
    ref = reference()
    cbam_plain = compute_cbam(frames_from_rows(plain), ref)
    cbam_gec = compute_cbam(frames_from_rows(with_gec), ref)
    for name, table in cbam_plain.items():
        # CBAM reports the bills' GECs as a memo (gec_mwh, gec_note) and nothing else may move
        memo = [c for c in table.columns if c.startswith("gec_")]
        assert table.drop(memo).equals(cbam_gec[name].drop(memo)), (
            f"CBAM table {name} moved with certificates"
        )
    memo = cbam_gec["installation_emissions"]
    assert memo["gec_mwh"].sum() > 0 and memo["indirect_tco2e"].equals(
        cbam_plain["installation_emissions"]["indirect_tco2e"]
    )
    indirect = cbam_plain["installation_emissions"]["indirect_tco2e"].sum()
    assert indirect > 0

    raw_plain, raw_gec, factors = frames_from_rows(plain), frames_from_rows(with_gec), load_factors()
    cbam_args = (cbam_plain["stream_emissions"], cbam_plain["process_see"], cbam_plain["precursor_inputs"])
    ledger = claims([("I1", "2026", 10_000.0)])
    ghg_plain = compute_ghg(raw_plain, factors, *cbam_args)
    ghg_gec = compute_ghg(raw_gec, factors, *cbam_args, gec_claims=ledger)
    year = lambda d: d["site_inventory"].filter(pl.col("period") == "2026").row(0, named=True)  # noqa: E731
    p, g = year(ghg_plain), year(ghg_gec)
    assert p["scope2_market_tco2e"] > 0 and g["scope2_market_tco2e"] == pytest.approx(0.0, abs=1e-9)
    assert g["scope2_location_tco2e"] == pytest.approx(p["scope2_location_tco2e"], rel=REL)


def test_declared_parks_dataset_sets_the_inventory_park():
    from transforms.inventory import park_mapping

    raw = synthetic.raw()
    raw["parks"] = pl.LazyFrame(
        {"park_id": ["PZ", "PA"], "installation_id": ["NB1", "NB1"], "park_name": [None, "Park A"]}
    )
    m = dict(park_mapping(raw).select("installation_id", "park_id").collect().iter_rows())
    assert m["NB1"] == "PA"  # in two declared parks: the smallest id
    assert m["FS1"].startswith("city:")  # undeclared sites keep the default grouping


def test_credits_retired_for_a_site_are_its_offsets():
    raw = synthetic.raw()
    raw["carbon_credits"] = pl.LazyFrame(
        {
            "credit_id": ["C1", "C2", "C3", "C4"],
            "tco2e": [10.0, 5.0, 7.0, 99.0],
            "retired_for_installation_id": ["NB1", "NB1", "NB1", "PARK"],
            "retired_for_period": ["2024", "2024-03", "2023", "2024"],
            "_source_row_id": ["c1", "c2", "c3", "c4"],
        }  # fmt: skip
    )
    factors = load_factors()
    alloc = compute_logistics(raw, factors)[1]
    sites = compute_site_inventory(
        raw,
        factors,
        synthetic.stream_emissions(),
        synthetic.precursor_inputs(),
        alloc,
        as_of=date(2026, 1, 15),
    )
    march, year = row(sites, "NB1", "2024-03"), row(sites, "NB1", "2024")
    assert (
        march["offsets_tco2e"] == 5.0 and year["offsets_tco2e"] == 15.0
    )  # the 2023 credit is another period
    assert year["net_tco2e"] == pytest.approx(
        year["gross_tco2e"] - year["gec_instrument_tco2e"] - 15.0, rel=REL
    )
    assert row(sites, "FS1", "2024")["offsets_tco2e"] == 0.0  # a park's credits are never spread over sites
