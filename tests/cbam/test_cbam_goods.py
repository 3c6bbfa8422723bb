"""Goods and export lines: Annex II chargeable rule, functional units, net mass, default fallback per line."""

from __future__ import annotations

import json

from cbam_testkit import Plant, close, one, year_rows


def mill() -> Plant:
    """A steel process and a cement process in one plant, each with one product."""
    p = Plant().process("S", "Crude steel").process("K", "Cement")
    p.stream("SS", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="S").reading("SS", 200.0)
    p.stream("KS", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="K").reading("KS", 800.0)
    p.produce("S", 100.0).produce("K", 1000.0).electricity("S", 50.0).electricity("K", 100.0)
    p.product("STEEL", "S", "72071100", unit_mass_t=2.0)
    p.product("CEM", "K", "25232900", qualifying_parameters=json.dumps({"clinker_factor": 0.8}))
    return p


def test_annex_ii_good_is_chargeable_on_direct_only():
    goods = year_rows(mill().run()["goods_see"])
    steel, cement = one(goods, product_id="STEEL"), one(goods, product_id="CEM")
    assert steel["annex_ii_direct_only"] is True and close(steel["see_chargeable"], 2.0)
    assert close(steel["see_indirect"], 50 * 0.605 / 100)  # computed and reported all the same
    assert cement["annex_ii_direct_only"] is False and close(cement["see_chargeable"], 0.8 + 0.0605)
    assert cement["goods_category"] == "Cement" and steel["goods_category"] == "Crude steel"


def test_functional_unit_tonnes_of_clinker():
    cement = one(year_rows(mill().run()["goods_see"]), product_id="CEM")
    assert cement["functional_unit"] == "t clinker" and cement["fu_per_t"] == 0.8
    assert close(cement["see_direct_per_fu"], 0.8 / 0.8) and close(cement["see_total_per_fu"], 0.8605 / 0.8)


def test_functional_unit_without_its_parameter_is_noted():
    p = mill()
    p.rows["products"][1]["qualifying_parameters"] = None
    cement = one(year_rows(p.run()["goods_see"]), product_id="CEM")
    assert cement["see_direct_per_fu"] is None and "clinker_factor" in cement["fu_note"]


def test_export_lines_actual_from_goods_see_with_pieces():
    p = mill().export("STEEL", 30.0, unit="pcs").export("CEM", 500_000.0, unit="kg")
    lines = p.run()["export_lines"]
    steel, cement = one(lines, product_id="STEEL"), one(lines, product_id="CEM")
    assert steel["net_mass_t"] == 60.0 and steel["determination"] == "actual"
    assert close(steel["embedded_direct_tco2e"], 120.0) and close(steel["embedded_chargeable_tco2e"], 120.0)
    assert close(steel["embedded_indirect_tco2e"], 60 * 0.3025)
    assert cement["net_mass_t"] == 500.0 and close(cement["embedded_chargeable_tco2e"], 500 * 0.8605)
    assert steel["origin_country"] == "CN" and steel["production_period"] == "2026"


def test_export_without_computed_see_takes_the_default_with_reason():
    p = mill().export("STEEL", 10.0, production_period="2025", date="2027-02-01")
    line = one(p.run()["export_lines"])
    assert line["determination"] == "default"
    assert "no SEE computed" in line["default_value_reason"]
    assert close(line["see_direct"], 1.8 * 1.2)  # China 7207 11 00 default, mark-up of the 2027 import year
    assert close(line["embedded_chargeable_tco2e"], 10 * 1.8 * 1.2) and line["dv_used_table"] == "country"
    assert line["default_value_share"] == 1.0


def test_export_for_a_month_uses_that_months_see():
    p = mill().export("STEEL", 1.0, production_period="2026-05")
    line = one(p.run()["export_lines"])
    assert (
        line["determination"] == "actual"
        and line["period_grain"] == "month"
        and close(line["see_direct"], 2.0)
    )


def test_export_default_without_any_value_says_so():
    p = mill().product("DRI", "S", "72031000").export("DRI", 5.0, production_period="2024")
    line = one(p.run()["export_lines"])
    assert line["see_direct"] is None and "no default value" in line["default_value_reason"]


def test_functional_unit_kg_nitrogen():
    p = Plant().process("F", "Mixed fertilisers")
    p.stream("FS", "process", ef=1.0, ef_unit="tCO2/t", default_process_id="F").reading("FS", 300.0)
    p.produce("F", 1000.0).product(
        "NPK", "F", "31022100", qualifying_parameters=json.dumps({"n_content": 0.2})
    )
    g = one(year_rows(p.run()["goods_see"]))
    assert g["functional_unit"] == "kg N" and g["fu_per_t"] == 200.0
    assert close(g["see_direct_per_fu"], 0.3 / 200.0)  # tCO2e per kg N
