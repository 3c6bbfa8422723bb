"""Source-stream emissions by hand: every method, units, laboratory values, fuel bills, biomass, GWPs."""

from __future__ import annotations

import polars as pl
import pytest
from cbam_testkit import Plant, close, one, year_rows

from transforms.cbam import CbamInputError, MissingFactorError

RATIO_20C = 273.15 / 293.15


def plant() -> Plant:
    return Plant().process("P", "Cement").produce("P", 1000.0)


def test_combustion_from_gas_bills_in_m3_at_20c():
    p = plant().stream(
        "NG",
        "combustion",
        unit="1000Nm3",
        ncv=35.0,
        ncv_unit="GJ/1000Nm3",
        ef=56.1,
        ef_unit="tCO2/TJ",
        energy_carrier="natural_gas",
        default_process_id="P",
    )
    p.bill("natural_gas", 1_000_000.0, "m3")
    r = one(year_rows(p.run()["stream_emissions"]), stream_id="NG")
    ad = 1_000_000.0 * RATIO_20C / 1000.0
    assert close(r["activity_data"], ad) and r["activity_unit"] == "1000Nm3"
    assert close(r["energy_tj"], ad * 35.0 / 1000.0)
    assert close(r["fossil_tco2e"], ad * 35.0 / 1000.0 * 56.1)
    assert r["activity_origin"] == "bill"
    assert any("m3→1000Nm3" in note and "20 °C" in note for note in r["unit_conversions"])


def test_gas_reference_temperature_of_the_stream_is_used():
    p = plant().stream(
        "NG",
        "combustion",
        unit="Nm3",
        ncv=0.035,
        ncv_unit="GJ/Nm3",
        ef=56.1,
        ef_unit="tCO2/TJ",
        energy_carrier="natural_gas",
        gas_reference_c=15.0,
        default_process_id="P",
    )
    p.bill("natural_gas", 1000.0, "m3")
    r = one(year_rows(p.run()["stream_emissions"]), stream_id="NG")
    assert close(r["activity_data"], 1000.0 * 273.15 / 288.15)


def test_readings_take_precedence_over_bills_month_by_month():
    p = plant().stream(
        "NG",
        "combustion",
        unit="1000Nm3",
        ncv=35.0,
        ncv_unit="GJ/1000Nm3",
        ef=56.1,
        ef_unit="tCO2/TJ",
        energy_carrier="natural_gas",
        default_process_id="P",
    )
    p.bill("natural_gas", 365_000.0, "m3")  # 1000 m3 a day over the year
    p.reading("NG", 50.0, unit="1000Nm3", start="2026-03-01", end="2026-03-31")
    se = p.run()["stream_emissions"]
    year = one(year_rows(se), stream_id="NG")
    bill_part = 365_000.0 * (365 - 31) / 365 * RATIO_20C / 1000.0
    assert close(year["activity_data"], bill_part + 50.0)
    assert year["activity_origin"] == "bill+reading"
    march = one(se, stream_id="NG", period="2026-03")
    assert close(march["activity_data"], 50.0) and march["activity_origin"] == "reading"


def test_laboratory_values_override_the_plan_for_their_month():
    p = plant().stream(
        "C", "combustion", ncv=25.0, ncv_unit="GJ/t", ef=95.0, ef_unit="tCO2/TJ", default_process_id="P"
    )
    p.reading("C", 100.0, start="2026-01-05", end="2026-01-05", ncv=20.0)  # lab value on the reading
    p.reading(
        "C", 100.0, start="2026-01-20", end="2026-01-20"
    )  # same month, no analysis → January's lab value
    p.reading("C", 100.0, start="2026-02-10", end="2026-02-10")  # no lab in February → plan
    se = p.run()["stream_emissions"]
    jan, feb = one(se, stream_id="C", period="2026-01"), one(se, stream_id="C", period="2026-02")
    assert close(jan["fossil_tco2e"], 200.0 * 20.0 / 1000.0 * 95.0) and jan["factor_origin"] == ["lab:ncv"]
    assert close(feb["fossil_tco2e"], 100.0 * 25.0 / 1000.0 * 95.0) and feb["factor_origin"] == ["plan"]
    year = one(year_rows(se), stream_id="C")
    assert close(year["fossil_tco2e"], jan["fossil_tco2e"] + feb["fossil_tco2e"])
    assert close(year["ncv_tj_per_unit"], (200 * 0.020 + 100 * 0.025) / 300)


def test_biomass_share_is_zero_rated_and_kept_as_memo():
    p = (
        plant()
        .stream(
            "W",
            "combustion",
            ncv=20.0,
            ncv_unit="GJ/t",
            ef=83.0,
            ef_unit="tCO2/TJ",
            biomass_fraction=0.15,
            default_process_id="P",
        )
        .reading("W", 25_000.0)
    )
    out = p.run()
    r = one(year_rows(out["stream_emissions"]), stream_id="W")
    assert close(r["fossil_tco2e"], 35_275.0) and close(r["biomass_tco2e"], 6_225.0)
    inst = one(year_rows(out["installation_emissions"]))
    assert close(inst["direct_tco2e"], 35_275.0) and close(inst["biomass_tco2e"], 6_225.0)
    assert close(one(year_rows(out["process_attribution"]))["attributed_direct_tco2e"], 35_275.0)


def test_process_and_mass_balance_methods():
    p = plant()
    p.stream("L", "process", ef=0.44, ef_unit="tCO2/t", conversion_factor=0.9, default_process_id="P")
    p.stream("IN", "mass_balance", carbon_content=0.8, default_process_id="P")
    p.stream("OUT", "mass_balance", carbon_content=0.002, default_process_id="P")
    p.stream("EF", "mass_balance", ef=3.0, ef_unit="tCO2/t", default_process_id="P")  # Eq 14: C = EF / f
    p.reading("L", 1000.0).reading("IN", 10.0).reading("OUT", -500.0).reading("EF", 2.0)
    se = year_rows(p.run()["stream_emissions"])
    assert close(one(se, stream_id="L")["fossil_tco2e"], 1000 * 0.44 * 0.9)
    assert close(one(se, stream_id="IN")["fossil_tco2e"], 3.664 * 10 * 0.8)
    assert close(one(se, stream_id="OUT")["fossil_tco2e"], -3.664 * 500 * 0.002)
    assert close(one(se, stream_id="EF")["fossil_tco2e"], 6.0)


def test_combustion_ef_per_tonne_and_kilo_units():
    p = (
        plant()
        .stream(
            "D",
            "combustion",
            unit="t",
            ef=3.15,
            ef_unit="tCO2/t",
            oxidation_factor=0.99,
            default_process_id="P",
        )
        .reading("D", 2000.0, unit="kg")
    )
    r = one(year_rows(p.run()["stream_emissions"]), stream_id="D")
    assert close(r["activity_data"], 2.0) and close(r["fossil_tco2e"], 2.0 * 3.15 * 0.99)


def test_measured_gases_use_ar5_gwps():
    p = plant()
    for sid, gas, t in (("N", "N2O", 2.0), ("F", "CF4", 0.1), ("H", "C2F6", 0.01), ("E", "CO2e", 50.0)):
        p.stream(sid, "measured", gas=gas, default_process_id="P").reading(sid, None, emissions_t=t)
    out = p.run()
    se = year_rows(out["stream_emissions"])
    assert close(one(se, stream_id="N")["fossil_tco2e"], 530.0)
    assert close(one(se, stream_id="F")["fossil_tco2e"], 663.0)
    assert close(one(se, stream_id="H")["fossil_tco2e"], 111.0)
    assert close(one(se, stream_id="E")["fossil_tco2e"], 50.0)
    inst = one(year_rows(out["installation_emissions"]))
    assert close(inst["n2o_tco2e"], 530.0) and close(inst["pfc_tco2e"], 774.0) and close(inst["n2o_t"], 2.0)
    assert close(inst["measured_tco2e"], 1354.0) and close(inst["direct_tco2e"], 1354.0)


def test_stream_without_factor_is_a_clear_error():
    p = (
        plant()
        .stream("C", "combustion", ncv=25.0, ncv_unit="GJ/t", default_process_id="P")
        .reading("C", 10.0)
    )
    with pytest.raises(MissingFactorError) as e:
        p.run()
    problem = e.value.problems[0]
    assert (
        problem["installation_id"] == "I1" and problem["stream_id"] == "C" and problem["period"] == "2026-01"
    )
    assert "installation_id=I1" in str(e.value) and "stream_id=C" in str(e.value)


def test_activity_in_a_unit_the_stream_cannot_take_is_a_clear_error():
    p = plant().stream("C", "process", unit="t", ef=1.0, ef_unit="tCO2/t", default_process_id="P")
    p.reading("C", 10.0, unit="m3")
    with pytest.raises(CbamInputError, match="stream_id=C"):
        p.run()


def test_stream_with_no_process_counts_for_the_installation_only():
    p = plant().stream("S", "process", ef=1.0, ef_unit="tCO2/t").reading("S", 10.0)
    out = p.run()
    inst = one(year_rows(out["installation_emissions"]))
    assert close(inst["direct_tco2e"], 10.0) and close(inst["unattributed_stream_tco2e"], 10.0)
    assert close(inst["reconciliation_diff_tco2e"], 10.0)
    assert year_rows(out["stream_emissions"])["process_id"].to_list() == [None]


def test_lineage_lists_source_rows():
    p = plant().stream("S", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="P").reading("S", 10.0)
    r = one(year_rows(p.run()["stream_emissions"]))
    assert r["_source_row_ids"] == ["stream_readings#1"]
    assert pl.Series(r["factor_origin"]).to_list() == ["plan"]


def test_ef_per_thousand_normal_cubic_metres_with_a_gas_bill_in_m3():
    p = plant().stream("NG", "combustion", unit="Nm3", ef=1.9, ef_unit="tCO2/1000Nm3", energy_carrier="gas",
                       default_process_id="P")  # fmt: skip
    p.bill("gas", 10_000.0, "m3")
    r = one(year_rows(p.run()["stream_emissions"]), stream_id="NG")
    assert r["ef_unit_canonical"] == "tCO2/Nm3" and close(r["ef_value"], 1.9e-3)
    assert close(r["fossil_tco2e"], 10_000.0 * RATIO_20C * 1.9 / 1000.0)
