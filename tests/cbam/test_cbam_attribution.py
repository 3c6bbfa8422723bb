"""Eq 55 by hand: heat, waste gas, electricity produced, floor at zero, plant DirEm*, zero production."""

from __future__ import annotations

import pytest
from cbam_testkit import Plant, close, one, year_rows

from transforms.cbam import MissingFactorError, ZeroProductionError

FLOWS = {
    "heat_imported_tj": 2.0,
    "heat_imported_ef": 60.0,
    "heat_exported_tj": 10.0,
    "heat_exported_ef": 70.0,
    "waste_gas_imported_tj": 1.0,
    "waste_gas_exported_tj": 5.0,
    "electricity_exported_mwh": 100.0,
    "electricity_exported_ef": 0.8,
}


def plant_with_flows(direct_t: float) -> Plant:
    p = Plant().process("P", "Pig iron")
    p.stream("S", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="P").reading("S", direct_t)
    return p.produce("P", 1000.0, **FLOWS)


def test_heat_waste_gas_and_electricity_terms():
    a = one(year_rows(plant_with_flows(1000.0).run()["process_attribution"]))
    assert close(a["heat_imported_tco2e"], 120.0) and close(a["heat_exported_tco2e"], 700.0)
    assert close(a["heat_term_tco2e"], -580.0)
    assert close(a["waste_gas_imported_tco2e"], 56.1)
    assert close(a["waste_gas_exported_tco2e"], 5.0 * 56.1 * 0.667)
    assert close(a["waste_gas_term_tco2e"], 56.1 - 5.0 * 56.1 * 0.667)
    assert close(a["el_prod_tco2e"], 80.0)
    expected = 1000.0 + 120.0 - 700.0 + 56.1 - 5.0 * 56.1 * 0.667 - 80.0
    assert close(a["attributed_direct_tco2e"], expected) and a["floor_applied"] is False


def test_net_exporter_has_negative_terms_and_is_floored_at_zero():
    out = plant_with_flows(100.0).run()
    a = one(year_rows(out["process_attribution"]))
    assert a["heat_term_tco2e"] < 0 and a["waste_gas_term_tco2e"] < 0
    assert close(a["attributed_direct_raw_tco2e"], 100.0 - 580.0 + 56.1 - 5.0 * 56.1 * 0.667 - 80.0)
    assert a["floor_applied"] is True and a["attributed_direct_tco2e"] == 0.0
    assert one(year_rows(out["process_see"]))["see_direct"] == 0.0


def test_plant_dirEm_replaces_streams_and_the_difference_is_reported():
    p = Plant().process("A", "Crude steel").process("B", "Iron or steel products")
    p.stream("S", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="A").reading("S", 1000.0)
    p.produce("A", 100.0, direct_emissions_t=700.0).produce("B", 50.0, direct_emissions_t=250.0)
    out = p.run()
    attr = year_rows(out["process_attribution"])
    a, b = one(attr, process_id="A"), one(attr, process_id="B")
    assert a["dirEm_source"] == "plant" and close(a["dirEm_tco2e"], 700.0)
    assert close(a["dirEm_streams_tco2e"], 1000.0) and close(a["plant_vs_streams_diff_tco2e"], -300.0)
    assert close(b["dirEm_tco2e"], 250.0)
    assert close(a["reconciliation_diff_tco2e"], 1000.0 - 950.0)
    assert close(one(year_rows(out["installation_emissions"]))["reconciliation_diff_tco2e"], 50.0)


def test_plant_dirEm_for_some_months_only_mixes_sources_in_the_year():
    p = Plant().process("A", "Crude steel")
    p.stream("S", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="A")
    p.reading("S", 310.0, start="2026-01-01", end="2026-01-31").reading(
        "S", 280.0, start="2026-02-01", end="2026-02-28"
    )
    p.produce("A", 10.0, start="2026-01-01", end="2026-01-31", direct_emissions_t=300.0)
    p.produce("A", 10.0, start="2026-02-01", end="2026-02-28")
    a = one(year_rows(p.run()["process_attribution"]))
    assert a["dirEm_source"] == "plant+streams" and close(a["dirEm_tco2e"], 300.0 + 280.0)


def test_activity_level_from_process_row_else_product_rows():
    p = Plant().process("A", "Cement").process("B", "Cement")
    p.stream("S", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="A").reading("S", 10.0)
    p.produce("A", 100.0).produce("A", 60.0, product_id="X").produce("A", 30.0, product_id="Y")
    p.produce("B", 60.0, product_id="X").produce("B", 30.0, product_id="Y")
    attr = year_rows(p.run()["process_attribution"])
    assert one(attr, process_id="A")["activity_level_t"] == 100.0
    assert one(attr, process_id="B")["activity_level_t"] == 90.0


def test_zero_production_with_emissions_is_a_clear_error():
    p = Plant().process("P", "Cement").process("Q", "Cement")
    p.stream("S", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="P").reading("S", 10.0)
    p.produce("Q", 10.0)
    with pytest.raises(ZeroProductionError) as e:
        p.run()
    (problem,) = e.value.problems
    assert problem["process_id"] == "P" and problem["period"] == "2026" and problem["installation_id"] == "I1"


def test_zero_production_in_a_month_only_marks_that_month():
    p = Plant().process("P", "Cement")
    p.stream("S", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="P").reading("S", 365.0)
    p.produce("P", 100.0, start="2026-01-01", end="2026-06-30")
    see = p.run()["process_see"]
    assert one(year_rows(see))["see_status"] == "ok"
    july = one(see, period="2026-07")
    assert july["see_status"] == "zero_production" and july["see_direct"] is None
    assert one(see, period="2026-06")["see_status"] == "ok"


def test_heat_without_its_factor_is_a_clear_error():
    p = Plant().process("P", "Cement").produce("P", 10.0, heat_imported_tj=1.0)
    with pytest.raises(MissingFactorError, match="heat_imported_ef"):
        p.run()
