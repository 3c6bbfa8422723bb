"""Eq 56 by hand: sub-metered and unassigned electricity, factor sources, certificates."""

from __future__ import annotations

from cbam_testkit import Plant, close, one, year_rows

from transforms.cbam.electricity import ALLOCATION_RULE


def two_processes(country: str = "CN") -> Plant:
    p = Plant(country=country).process("A", "Cement").process("B", "Cement")
    return p.produce("A", 300.0).produce("B", 100.0)


def test_bill_factor_else_country_default_and_mix():
    p = two_processes()
    p.electricity("A", 100.0, ef_tco2_per_mwh=0.5, ef_source="D.4.3.2")
    p.electricity("A", 200.0)  # no factor on the bill → China's DVR Annex II factor
    p.electricity("B", 50.0, ef_tco2_per_mwh=0.9, ef_source="D.4(b)")
    el = year_rows(p.run()["process_electricity"])
    a, b = one(el, process_id="A"), one(el, process_id="B")
    assert close(a["indirect_tco2e"], 100 * 0.5 + 200 * 0.605) and a["electricity_ef_source"] == "Mix"
    assert a["ef_sources"] == ["D.4(a)", "D.4.3.2"] and a["ef_origins"] == ["bill", "country_default"]
    assert close(a["electricity_ef_tco2_per_mwh"], (50 + 121) / 300)
    assert b["electricity_ef_source"] == "D.4(b)" and close(b["indirect_tco2e"], 45.0)


def test_unassigned_consumption_is_allocated_pro_rata_to_activity_level():
    p = two_processes()
    p.electricity("A", 100.0, ef_tco2_per_mwh=0.5, ef_source="D.4(b)")
    p.electricity(None, 400.0, unit="kWh")  # main meter remainder, in kWh
    out = p.run()
    el = year_rows(out["process_electricity"])
    a, b = one(el, process_id="A"), one(el, process_id="B")
    assert close(a["metered_mwh"], 100.0) and close(a["allocated_mwh"], 0.4 * 0.75)
    assert close(b["allocated_mwh"], 0.4 * 0.25) and b["allocation_rule"] == ALLOCATION_RULE
    assert close(b["indirect_tco2e"], 0.1 * 0.605)
    inst = one(year_rows(out["installation_emissions"]))
    assert close(inst["indirect_tco2e"], 50.0 + 0.4 * 0.605) and inst["unallocated_electricity_mwh"] == 0.0
    assert close(inst["unassigned_electricity_mwh"], 0.4)


def test_unlisted_country_falls_back_to_other_and_says_so():
    p = two_processes(country="BR").electricity("A", 10.0)
    a = one(year_rows(p.run()["process_electricity"]), process_id="A")
    assert close(a["indirect_tco2e"], 4.65) and a["ef_fallback_reason"] == ["country_not_listed"]


def test_green_certificates_never_lower_indirect_emissions():
    base = two_processes().electricity("A", 100.0).run()
    with_gec = two_processes().electricity("A", 100.0, gec_mwh=100.0).run()
    a0 = one(year_rows(base["process_electricity"]), process_id="A")
    a1 = one(year_rows(with_gec["process_electricity"]), process_id="A")
    assert a1["indirect_tco2e"] == a0["indirect_tco2e"] == 100.0 * 0.605
    assert a1["gec_mwh"] == 100.0 and "do not lower" in a1["gec_note"]
    s0 = one(year_rows(base["process_see"]), process_id="A")
    s1 = one(year_rows(with_gec["process_see"]), process_id="A")
    assert s1["see_indirect"] == s0["see_indirect"]
