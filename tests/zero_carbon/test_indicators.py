"""Every zero-carbon indicator on a hand-computed case (docs/methodology/zero-carbon.md sections 1-4), including "no data",
"no threshold", the P1 energy brackets and both P1 bases; the F4 flows; the ISO 14068-1 claim view."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from transforms.zero_carbon.claim import carbon_neutrality_claims
from transforms.zero_carbon.flows import metering_share
from transforms.zero_carbon.indicators import site_measures, zero_carbon_indicators
from transforms.zero_carbon.ledger import credits_retired
from transforms.zero_carbon.refdata import load_reference

REL = 1e-12
REF = load_reference()
TCE_TJ = 0.0341208 * 1e6 / 1e3  # kgce/MJ (1 kgce = 29 307.6 kJ, as printed to 6 digits) → tce/TJ
TCE_MWH = 0.1229  # kgce/kWh = tce/MWh


def inventory() -> pl.DataFrame:
    rows = [  # installation, scope1, scope2 location, market, gec instrument, electricity, renewable electricity
        ("S1", 1000.0, 500.0, 200.0, 300.0, 1000.0, 600.0),
        ("S2", None, 100.0, 100.0, 0.0, 200.0, 0.0),
        ("S3", 60000.0, 10000.0, 5000.0, 5000.0, 0.0, 0.0),
    ]
    df = pl.DataFrame(
        rows,
        schema=["installation_id", "scope1_tco2e", "scope2_location_tco2e", "scope2_market_tco2e",
                "gec_instrument_tco2e", "electricity_mwh", "renewable_electricity_mwh"],
        orient="row",
    )  # fmt: skip
    return df.with_columns(
        period=pl.lit("2025"),
        period_grain=pl.lit("year"),
        park_id=pl.lit(None, pl.String),
        provisional=pl.lit(False),
    )


def streams() -> pl.DataFrame:
    rows = [  # S1: 10 TJ of fuel (10 % biomass) → 800 t fossil CO2, process 200 t; S3: 10 000 TJ → 60 000 t
        ("S1", "combustion", 800.0, 10.0, 0.1, ["se1"]),
        ("S1", "process", 200.0, 0.0, 0.0, ["se2"]),
        ("S3", "combustion", 60000.0, 10000.0, 0.0, ["se3"]),
    ]
    return pl.DataFrame(
        rows, schema=["installation_id", "method", "fossil_tco2e", "energy_tj", "biomass_fraction", "_source_row_ids"],
        orient="row",
    ).with_columns(period=pl.lit("2025"), period_grain=pl.lit("year"))  # fmt: skip


def lines() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "installation_id": ["S1", "S2"],
            "year": ["2025", "2025"],
            "heat_gj": [1000.0, None],
            "source_row_id": ["bill1", "bill2"],
        }  # fmt: skip
    )


@pytest.fixture(scope="module")
def indicators() -> pl.DataFrame:
    production = pl.LazyFrame(
        {
            "installation_id": ["S1", "S1"],
            "product_id": ["A", "B"],
            "produced_t": [100.0, 300.0],
            "period_start": [datetime(2025, 1, 1).date()] * 2,
            "_source_row_id": ["p1", "p2"],
        }  # fmt: skip
    )
    footprint = pl.DataFrame(
        {"product_id": ["A", "B"], "period": ["2025", "2025"], "cradle_to_gate_tco2e_per_t": [1.5, None]}
    )
    balance = pl.DataFrame(
        {
            "installation_id": ["S1"],
            "period": ["2025"],
            "period_grain": ["year"],
            "renewable_matched_hourly_mwh": [300.0],
            "load_hours_with_data_mwh": [1000.0],
        }  # fmt: skip
    )
    credits = credits_retired(
        pl.DataFrame(
            {
                "credit_id": ["C1", "C2"],
                "tco2e": [900.0, 50.0],
                "retired_for_installation_id": ["S1", "S1"],
                "retired_for_period": ["2025", "2024"],
                "_source_row_id": ["c1", "c2"],
            }  # fmt: skip
        )
    )
    flows = pl.DataFrame(
        {
            "installation_id": ["S1"],
            "year": ["2025"],
            "metered_tce": [400.0],
            "flows_tce": [500.0],
            "flow_ids": [["bill1"]],
            "flows_not_sized": [""],
        }  # fmt: skip
    )
    hourly = pl.DataFrame(
        {
            "installation_id": ["S1", "S1"],
            "meter_id": ["PV1", "SUB1"],
            "hour_start": [datetime(2025, 6, 1, 12)] * 2,
            "counted": [True, False],
            "intervals_measured": [4, 4],
        }  # fmt: skip
    )
    measures = site_measures(
        inventory(), streams(), lines(), production=production, product_footprint=footprint,
        energy_balance=balance, meter_hourly=hourly, credits=credits, flows=flows, ref=REF,
    )  # fmt: skip
    parks = pl.DataFrame({"park_id": ["PK", "PK", "PK3"], "installation_id": ["S1", "S2", "S3"]})
    return zero_carbon_indicators(measures, parks, REF)


def ind(df: pl.DataFrame, entity: str, indicator: str, basis: str | None = None) -> dict:
    sub = df.filter((pl.col("entity_id") == entity) & (pl.col("indicator_id") == indicator))
    if basis:
        sub = sub.filter(pl.col("basis") == basis)
    assert sub.height == 1, sub
    return sub.row(0, named=True)


S1_TCE = 10 * TCE_TJ + 1000 * TCE_MWH + 1000 * 0.0341208  # fuel + electricity + heat (GJ × kgce/MJ = tce)


def test_f1_both_bases_and_no_threshold(indicators):
    phys = ind(indicators, "S1", "F1", "physical only")
    cert = ind(indicators, "S1", "F1", "with certificates")
    assert phys["denominator"] == pytest.approx(S1_TCE, rel=1e-6)
    assert phys["value"] == pytest.approx((800 + 500) / S1_TCE, rel=1e-6)
    assert cert["value"] == pytest.approx((800 + 500 - 300) / S1_TCE, rel=1e-6)  # certificates' 300 t off
    assert phys["unit"] == "tCO2/tce" and phys["status"] == "no threshold" and phys["passes"] is None
    assert set(phys["evidence"]) == {"se1", "bill1"}  # process stream se2 is not energy-related
    assert phys["standard"] == "工信部联节〔2026〕13号" and phys["threshold_status"] == "reported"


def test_f2_to_f6(indicators):
    f2 = ind(indicators, "S1", "F2")
    assert f2["value"] == pytest.approx((600 * TCE_MWH + 1 * TCE_TJ) / S1_TCE, rel=1e-6)
    f3 = ind(indicators, "S1", "F3")
    assert f3["value"] == pytest.approx(0.3, rel=REL)
    # lineage: the balance row and the meters it counts (sub-meters are never counted), then fct_meter_hourly
    assert f3["evidence"] == ["fct_energy_balance:S1:2025", "meter:PV1"]
    assert ind(indicators, "S1", "F4")["value"] == pytest.approx(0.8, rel=REL)
    f5 = ind(indicators, "S1", "F5")
    assert f5["value"] == pytest.approx(0.25, rel=REL) and set(f5["evidence"]) == {"p1", "p2"}
    f6 = ind(indicators, "S1", "F6")  # (300 + 900 of 2025; the 2024 credit does not count) ÷ (1000 + 500)
    assert f6["value"] == pytest.approx(0.8, rel=REL)
    assert (f6["threshold"], f6["comparison"], f6["passes"], f6["status"]) == (1.0, ">=", False, "fail")


def test_no_data_never_passes(indicators):
    for entity, indicator, words in [
        ("S1", "F7", "limit"),
        ("S2", "F1", "no Scope 1"),
        ("S2", "F3", "fct_energy_balance"),
        ("S2", "F4", "no energy flows"),
        ("S2", "F5", "no production"),
        ("PK", "P1", "no Scope 1"),
        ("PK", "P3", "limit"),
        ("PK", "P4", "does not ingest"),
        ("PK", "P5", "does not ingest"),
        ("PK", "P6", "does not ingest"),
    ]:
        for r in indicators.filter(
            (pl.col("entity_id") == entity) & (pl.col("indicator_id") == indicator)
        ).iter_rows(named=True):
            assert r["status"] == "no data" and r["passes"] is None and r["value"] is None, r
            assert words in r["reason"], r
    assert (indicators["status"] == "pass").sum() == indicators["passes"].fill_null(False).sum()


def test_p1_bracket_and_both_bases(indicators):
    tce = 10000 * TCE_TJ  # 341 208 tce: the 200k-1M bracket, ≤ 0.20
    phys = ind(indicators, "PK3", "P1", "physical only")
    cert = ind(indicators, "PK3", "P1", "with certificates")
    assert phys["threshold"] == 0.20 and phys["level"] == "park"
    assert phys["value"] == pytest.approx(70000 / tce, rel=1e-6) and phys["passes"] is False
    assert cert["value"] == pytest.approx(65000 / tce, rel=1e-6) and cert["passes"] is True
    assert ind(indicators, "PK3", "P2")["status"] == "fail"  # no non-fossil energy vs ≥ 90 %


def test_p1_below_the_smallest_bracket_has_no_threshold():
    measures = site_measures(
        inventory().filter(pl.col("installation_id") == "S1"), streams(), lines(), ref=REF
    )
    out = zero_carbon_indicators(measures, pl.DataFrame({"park_id": ["P"], "installation_id": ["S1"]}), REF)
    p1 = ind(out, "P", "P1", "physical only")
    assert (
        p1["status"] == "no threshold"
        and p1["passes"] is None
        and "below the smallest bracket" in p1["reason"]
    )
    assert p1["value"] == pytest.approx((800 + 500) / S1_TCE, rel=1e-6)


def test_metering_share_flows():
    bills = pl.LazyFrame(
        {
            "installation_id": ["S1"] * 3,
            "carrier": ["electricity", "natural_gas", "柴油"],
            "supply_type": ["grid", None, None],
            "quantity": [1000.0, 1000.0, 1000.0],
            "unit": ["MWh", "Nm3", "L"],
            "period_start": [datetime(2025, 3, 1).date()] * 3,
            "period_end": [datetime(2025, 3, 31).date()] * 3,
            "_source_row_id": ["b1", "b2", "b3"],
        }  # fmt: skip
    )
    meters = pl.LazyFrame(
        {
            "meter_id": ["M1", "PV", "SUB"],
            "installation_id": ["S1"] * 3,
            "carrier": ["electricity"] * 3,
            "role": ["grid_import", "onsite_generation", "sub_meter"],
            "parent_meter_id": [None, None, "M1"],
        }  # fmt: skip
    )
    hourly = pl.DataFrame(
        {
            "meter_id": ["M1", "PV", "SUB"],
            "hour_start": [datetime(2025, 3, 1, 10)] * 3,
            "quantity": [5.0, 100_000.0, 3.0],
            "unit": ["kWh"] * 3,
            "intervals_measured": [4, 4, 4],
        }  # fmt: skip
    )
    out = metering_share(bills, meters, hourly, REF).row(0, named=True)
    gas = 1000 * (273.15 + 20) / 273.15 * 1.2143 / 1000  # Nm3 → m3 at 20 °C × kgce/m3
    diesel = 1.0 * 0.832 * 1000 * 1.4571 / 1000  # 1 000 L = 1 m3 × 0.832 t/m3 (ghg_fuel_factors) × kgce/kg
    measured = (
        1000 * TCE_MWH + 100 * TCE_MWH
    )  # billed grid (sized by the bill) + PV known only from its meter
    assert out["metered_tce"] == pytest.approx(measured, rel=1e-9)
    assert out["flows_tce"] == pytest.approx(measured + gas + diesel, rel=1e-9)
    assert set(out["flow_ids"]) == {"b1", "b2", "b3", "meter:M1", "meter:PV"} and out["flows_not_sized"] == ""
    unsized = metering_share(bills.with_columns(unit=pl.lit("pcs")), None, None, REF).row(0, named=True)
    assert unsized["metered_tce"] == 0.0 and "natural_gas/grid" in unsized["flows_not_sized"]


def test_claim_view():
    inv = pl.DataFrame(
        {
            "installation_id": ["S1", "S1", "S1", "S2"],
            "period": ["2024", "2025", "2026", "2025"],
            "period_grain": ["year"] * 4,
            "scope1_tco2e": [1000.0, 800.0, 100.0, None],
            "scope2_market_tco2e": [200.0, 100.0, 0.0, 50.0],
            "provisional": [False, False, True, False],
        }  # fmt: skip
    )
    credits = credits_retired(
        pl.DataFrame(
            {
                "credit_id": ["C1", "C2", "C3"],
                "tco2e": [900.0, 500.0, 100.0],
                "project_type": ["removal", "avoidance", None],
                "retired_for_installation_id": ["S1", "S1", "S1"],
                "retired_for_period": ["2025", "2024", "2026"],
                "_source_row_id": ["c1", "c2", "c3"],
            }  # fmt: skip
        )
    )
    out = carbon_neutrality_claims(
        inv, credits, pl.DataFrame({"park_id": ["PK", "PK"], "installation_id": ["S1", "S2"]})
    )
    row = lambda e, y: out.filter((pl.col("entity_id") == e) & (pl.col("year") == y)).row(0, named=True)  # noqa: E731
    s25 = row("S1", "2025")
    assert (s25["gross_tco2e"], s25["base_year"], s25["reductions_tco2e"]) == (900.0, "2024", 300.0)
    assert (s25["credits_retired_tco2e"], s25["residual_tco2e"], s25["claim_allowed"]) == (900.0, 0.0, True)
    assert s25["credits_other_periods_tco2e"] == 600.0 and s25["removal_credits_tco2e"] == 900.0
    s24 = row("S1", "2024")  # 1 200 gross, only 500 retired for 2024: the 2025 credits never count
    assert s24["residual_tco2e"] == 700.0 and s24["claim_allowed"] is False and "other periods" in s24["why"]
    s26 = row("S1", "2026")  # fully offset but the year is provisional
    assert s26["residual_tco2e"] == 0.0 and s26["claim_allowed"] is False and "provisional" in s26["why"]
    assert row("S2", "2025")["claim_allowed"] is False and "Scope 1 missing" in row("S2", "2025")["why"]
    pk = row("PK", "2025")
    assert pk["level"] == "park" and pk["gross_tco2e"] is None and pk["claim_allowed"] is False
    with_base = carbon_neutrality_claims(inv, credits, base_year=2025)
    assert with_base.filter(pl.col("year") == "2024")["reductions_tco2e"][0] == pytest.approx(-300.0)
    assert "rose 300" in with_base.filter(pl.col("year") == "2024")["why"][0]


def test_combustion_stream_without_energy_content_is_no_data():
    s = streams().with_columns(
        energy_tj=pl.when(pl.col("method") == "combustion").then(None).otherwise("energy_tj"),
        stream_id=pl.lit("GAS1"),
    )
    out = zero_carbon_indicators(site_measures(inventory(), s, lines(), ref=REF), None, REF)
    f1 = ind(out, "S1", "F1", "physical only")
    assert f1["status"] == "no data" and "without energy content (NCV): GAS1" in f1["reason"]


def test_gas_consumption_meter_measures_the_gas_flow():
    bills = pl.LazyFrame(
        {
            "installation_id": ["S1"],
            "carrier": ["natural_gas"],
            "supply_type": [None],
            "quantity": [1000.0],
            "unit": ["m3"],
            "period_start": [datetime(2025, 3, 1).date()],
            "period_end": [datetime(2025, 3, 31).date()],
            "_source_row_id": ["b2"],
        }
    )
    meters = pl.LazyFrame(
        {
            "meter_id": ["G1"],
            "installation_id": ["S1"],
            "carrier": ["natural_gas"],
            "role": ["consumption"],
            "parent_meter_id": [None],
        }  # fmt: skip
    )
    hourly = pl.DataFrame(
        {
            "meter_id": ["G1"],
            "hour_start": [datetime(2025, 3, 1, 10)],
            "quantity": [2.0],
            "unit": ["m3"],
            "intervals_measured": [4],
        }  # fmt: skip
    )
    out = metering_share(bills, meters, hourly, REF).row(0, named=True)
    assert out["metered_tce"] == out["flows_tce"] == pytest.approx(1000 * 1.2143 / 1000, rel=1e-12)
