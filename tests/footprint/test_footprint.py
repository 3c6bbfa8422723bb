"""Product carbon footprint: hand-computed roll-ups on the synthetic dataset (March 2024, lifecycle factor 2024)."""

from __future__ import annotations

import polars as pl
import pytest

from tests.footprint import synthetic
from transforms.footprint import compute_product_footprint
from transforms.ghg.materials import purchased_material_lines

REL = 1e-9
LC_2024 = 0.5777  # China electricity carbon footprint factor, data year 2024 (kgCO2e/kWh = tCO2e/MWh)
SEA_WTW = 18.66


@pytest.fixture(scope="module")
def pcf(raw, factors, logistics) -> dict[str, dict]:
    out = compute_product_footprint(
        raw,
        factors,
        synthetic.process_see(),
        synthetic.precursor_inputs(),
        logistics[1],
        synthetic.stream_emissions(),
    )
    return {r["product_id"]: r for r in out.filter(pl.col("period") == "2024-03").iter_rows(named=True)}


def leg_wtw(logistics, shipment_id: str) -> float:
    return logistics[0].filter(pl.col("shipment_id") == shipment_id)["wtw_tco2e"].sum()


def test_material_lines_supplier_secondary_and_gap(raw):
    lines = {r["material_id"]: r for r in purchased_material_lines(raw).collect().iter_rows(named=True)}
    # supplier footprint of 2024 (1.8 kg/kg) applies to an invoice of March 2024, not the 2023 one (2.5)
    assert lines["M_ALLOY"]["footprint_source"] == "supplier_specific"
    assert lines["M_ALLOY"]["tco2e"] == pytest.approx(10 * 1000 * 1.8 / 1000, rel=REL)
    assert lines["M_ALLOY"]["document_ref"] == "PCF-2024"
    assert lines["M_PACK"]["footprint_source"] == "secondary"
    assert lines["M_PACK"]["tco2e"] == pytest.approx(2000 * 1.5 / 1000, rel=REL)
    assert lines["M_GAS"]["scope3_category"] == 3 and lines["M_GAS"]["tco2e"] == pytest.approx(3.0, rel=REL)
    for gap in ("M_GLUE", "M_SCRAP"):
        assert lines[gap]["footprint_source"] == "gap" and lines[gap]["tco2e"] == 0.0
        assert "gap" in lines[gap]["fallback_reason"]
    assert "M_BILLET" not in lines  # precursors go through CBAM


def test_roll_up_with_missing_supplier_footprint(pcf, logistics):
    r = pcf["P_PROF"]  # FS1 extrusion, 500 t
    own_direct, own_indirect = 0.1, 1.0 * LC_2024
    precursors = 520 * (8.0 + 2.0) / 500
    materials = (3.0 + 3.0 + 0.0) / 500  # packaging (secondary) + gas upstream; glue is a gap at zero
    inbound = leg_wtw(logistics, "IN2") / 500
    total = own_direct + own_indirect + precursors + materials + inbound
    assert r["own_direct_tco2e_per_t"] == pytest.approx(own_direct, rel=REL)
    assert r["own_indirect_tco2e_per_t"] == pytest.approx(own_indirect, rel=REL)
    assert r["precursors_tco2e_per_t"] == pytest.approx(precursors, rel=REL)
    assert r["purchased_materials_tco2e_per_t"] == pytest.approx(materials, rel=REL)
    assert r["inbound_transport_tco2e_per_t"] == pytest.approx(inbound, rel=REL)
    assert r["cradle_to_gate_tco2e_per_t"] == pytest.approx(total, rel=REL)
    assert r["cradle_to_gate_kgco2e_per_piece"] == pytest.approx(total * 0.002 * 1000, rel=REL)
    assert r["has_gap"] and r["gap_materials"] == "M_GLUE"
    assert "without footprint" in r["issues"]
    primary = own_direct + own_indirect + precursors  # actual precursor SEE counts as supplier-specific
    assert r["primary_data_share"] == pytest.approx(primary / total, rel=REL)
    assert r["data_quality_score"] == 3.0  # gap floor; the weighted score alone would be about 2
    assert r["electricity_basis"] == "lifecycle_grid" and r["electricity_factor_data_year"] == 2024
    assert r["biogenic_co2_tco2e_per_t"] == pytest.approx(20 / 500, rel=REL)
    outbound = leg_wtw(logistics, "OUT2") / 5.0
    assert r["outbound_transport_tco2e_per_t"] == pytest.approx(outbound, rel=REL)
    assert r["cradle_to_customer_tco2e_per_t"] == pytest.approx(total + outbound, rel=REL)


def test_data_quality_score_weighted_without_gaps(pcf):
    r = pcf["P_CAST"]  # NB2: own direct 15 (plant, DQR 1) + 2 MWh/t × lifecycle factor (DQR 2)
    elec = 2.0 * LC_2024
    assert r["cradle_to_gate_tco2e_per_t"] == pytest.approx(15 + elec, rel=REL)
    assert r["data_quality_score"] == pytest.approx((15 * 1 + elec * 2) / (15 + elec), rel=REL)
    assert r["primary_data_share"] == pytest.approx(1.0, rel=REL) and not r["has_gap"]


def test_internal_process_chain_passes_on_the_whole_footprint(pcf, logistics):
    r = pcf["P_BAR"]  # NB1 rolling mill (1 000 t) fed with 1 100 t from the EAF (1 100 t)
    m = 1100 / 1000
    eaf = {
        "own_direct": 900 / 1100,
        "own_indirect": 0.5 * LC_2024,
        "precursors": 50 * 2.0 / 1100,
        "materials": 18.0 / 1100,
        "inbound": leg_wtw(logistics, "IN1") / 1100,
    }
    assert r["own_direct_tco2e_per_t"] == pytest.approx(0.1 + m * eaf["own_direct"], rel=REL)
    assert r["own_indirect_tco2e_per_t"] == pytest.approx(0.06 + m * eaf["own_indirect"], rel=REL)
    # the CBAM row for crude steel from the own EAF is internal: not counted as a purchased precursor
    assert r["precursors_tco2e_per_t"] == pytest.approx(m * eaf["precursors"], rel=REL)
    assert r["precursor_default_tco2e_per_t"] == pytest.approx(m * eaf["precursors"], rel=REL)
    assert r["purchased_materials_tco2e_per_t"] == pytest.approx(m * eaf["materials"], rel=REL)
    assert r["inbound_transport_tco2e_per_t"] == pytest.approx(m * eaf["inbound"], rel=REL)
    assert r["internal_inputs"] and r["has_gap"] and r["gap_materials"] == "M_SCRAP"
    assert r["electricity_basis"] == "cbam_indirect"  # the rolling mill has no own_electricity_mwh_per_t
    total = r["cradle_to_gate_tco2e_per_t"]
    primary = (
        (0.1 + m * eaf["own_direct"])
        + (0.06 + m * eaf["own_indirect"])
        + m * (eaf["materials"] + eaf["inbound"])
    )
    assert r["primary_data_share"] == pytest.approx(primary / total, rel=REL)
    # outbound: road 30 km + sea Ningbo → Rotterdam, 100 t (200 pieces × 0.5 t)
    assert r["outbound_shipped_t"] == 100.0
    assert r["outbound_transport_tco2e_per_t"] == pytest.approx(leg_wtw(logistics, "OUT1") / 100, rel=REL)
    assert pcf["P_WIRE"]["cradle_to_gate_tco2e_per_t"] == pytest.approx(
        total, rel=REL
    )  # same process, mass basis
    assert pcf["P_WIRE"]["outbound_transport_tco2e_per_t"] is None


def test_gec_backed_electricity_zero_rates_the_covered_share(raw, factors, logistics):
    out = compute_product_footprint(
        raw,
        factors,
        synthetic.process_see(),
        synthetic.precursor_inputs(),
        logistics[1],
        electricity_method="gec_backed",
    )
    r = out.filter((pl.col("product_id") == "P_PROF") & (pl.col("period") == "2024-03")).row(0, named=True)
    share = 400 / 1000  # FS1: PPA 400 MWh at zero (with 100 MWh GEC inside it) of 1 000 MWh
    assert r["renewable_electricity_share"] == pytest.approx(share, rel=REL)
    assert r["own_indirect_tco2e_per_t"] == pytest.approx(1.0 * LC_2024 * (1 - share), rel=REL)
    assert r["electricity_basis"] == "gec_backed"


def test_cbam_engine_precursor_columns(raw, factors, logistics):
    """The CBAM engine marks internal rows with source=internal / from_process_id and defaults with is_default."""
    pi = synthetic.precursor_inputs().with_columns(
        source=pl.Series(["purchased", "purchased", "internal"]),
        is_default=pl.Series([False, True, False]),
        from_process_id=pl.Series([None, None, "EAF"]),
        material_id=pl.Series(["M_BILLET", "M_PIG", None]),
    )
    out = compute_product_footprint(raw, factors, synthetic.process_see(), pi, logistics[1])
    r = out.filter(pl.col("product_id") == "P_BAR").row(0, named=True)
    assert r["precursors_tco2e_per_t"] == pytest.approx(1.1 * 100 / 1100, rel=REL)
    assert r["precursor_default_tco2e_per_t"] == pytest.approx(1.1 * 100 / 1100, rel=REL)
    assert r["own_direct_tco2e_per_t"] == pytest.approx(1.0, rel=REL)  # chain from CBAM's internal rows


def test_precursor_zero_rated_by_cbam_is_a_footprint_gap(raw, factors, logistics):
    """An EU-origin precursor has SEE 0 in CBAM (exempt origin), which says nothing about its real footprint."""
    pi = synthetic.precursor_inputs().with_columns(
        see_origin=pl.Series(["exempt_origin", "default_value", "internal"]),
        see_direct=pl.Series([0.0, 2.0, 0.9]), see_indirect=pl.Series([0.0, 0.0, 0.4]),
    )  # fmt: skip
    out = compute_product_footprint(raw, factors, synthetic.process_see(), pi, logistics[1])
    r = out.filter(pl.col("product_id") == "P_PROF").row(0, named=True)
    assert r["precursors_tco2e_per_t"] == 0.0
    assert r["has_gap"] and r["gap_materials"] == "M_BILLET,M_GLUE"


def test_no_activity_level_means_no_footprint(raw, factors, logistics):
    ps = synthetic.process_see().with_columns(
        activity_level_t=pl.when(pl.col("process_id") == "SM").then(0.0).otherwise("activity_level_t"),
        own_see_direct=pl.when(pl.col("process_id") == "SM").then(None).otherwise("own_see_direct"),
    )
    out = compute_product_footprint(raw, factors, ps, synthetic.precursor_inputs(), logistics[1])
    r = out.filter(pl.col("product_id") == "P_CAST").row(0, named=True)
    assert r["cradle_to_gate_tco2e_per_t"] is None and "activity level" in r["issues"]
