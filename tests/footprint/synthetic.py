"""A small synthetic multi-plant dataset (raw lake frames + the CBAM engine's outputs) for the GHG engine tests.

Three installations: NB1 (Ningbo, `浙江`), NB2 (Ningbo, `East China`; same park as NB1 by city) and FS1 (Foshan,
`Guangdong`). Numbers are chosen so that hand calculations stay short.
"""

from __future__ import annotations

from datetime import date

import polars as pl

D = date


def lf(rows: list[dict], schema: dict[str, pl.DataType] | None = None) -> pl.LazyFrame:
    return pl.DataFrame(rows, schema=schema, strict=False).lazy()


def installations() -> pl.LazyFrame:
    return lf([
        {"installation_id": "NB1", "name": "宁波钢铁一厂", "country": "CN", "city": "Ningbo", "grid_region": "浙江",
         "unlocode": "CNNGB"},
        {"installation_id": "NB2", "name": "宁波铝业", "country": "CN", "city": "Ningbo", "grid_region": "East China",
         "unlocode": None},
        {"installation_id": "FS1", "name": "佛山铝型材", "country": "CN", "city": "Foshan", "grid_region": "Guangdong",
         "unlocode": "CNFOS"},
    ])  # fmt: skip


def products() -> pl.LazyFrame:
    return lf([
        {"product_id": "P_BAR", "name": "bar", "cn_code": "72142000", "installation_id": "NB1", "process_id": "RM",
         "unit_mass_t": 0.5},
        {"product_id": "P_WIRE", "name": "wire", "cn_code": "72172000", "installation_id": "NB1", "process_id": "RM",
         "unit_mass_t": None},
        {"product_id": "P_CAST", "name": "cast", "cn_code": "76011000", "installation_id": "NB2", "process_id": "SM",
         "unit_mass_t": None},
        {"product_id": "P_PROF", "name": "profile", "cn_code": "76042100", "installation_id": "FS1", "process_id": "EX",
         "unit_mass_t": 0.002},
    ])  # fmt: skip


def materials() -> pl.LazyFrame:
    return lf([
        {"material_id": "M_ALLOY", "name": "alloying", "kind": "material", "consumed_in_installation_id": "NB1",
         "consumed_in_process_id": "EAF", "pcf_kgco2e_per_unit": 2000.0, "pcf_unit": "t"},
        {"material_id": "M_GLUE", "name": "glue", "kind": "material", "consumed_in_installation_id": "FS1",
         "consumed_in_process_id": "EX", "pcf_kgco2e_per_unit": None, "pcf_unit": None},
        {"material_id": "M_PACK", "name": "packaging", "kind": "material", "consumed_in_installation_id": "FS1",
         "consumed_in_process_id": None, "pcf_kgco2e_per_unit": 1.5, "pcf_unit": "kg", "unit_mass_t": None},
        {"material_id": "M_GAS", "name": "natural gas", "kind": "fuel", "consumed_in_installation_id": "FS1",
         "consumed_in_process_id": "EX", "pcf_kgco2e_per_unit": 0.3, "pcf_unit": "Nm3"},
        {"material_id": "M_BILLET", "name": "aluminium billet", "kind": "precursor", "consumed_in_installation_id": "FS1",
         "consumed_in_process_id": "EX"},
        {"material_id": "M_SCRAP", "name": "steel scrap", "kind": "material", "consumed_in_installation_id": "NB1",
         "consumed_in_process_id": "EAF", "pcf_kgco2e_per_unit": None, "pcf_unit": None},
    ])  # fmt: skip


def suppliers() -> pl.LazyFrame:
    return lf([
        {"supplier_id": "SUP_A", "name": "alloy supplier", "country": "CN", "installation_id": "SA1"},
        {"supplier_id": "SUP_S", "name": "scrap dealer", "country": "CN", "installation_id": "SS1"},
        {"supplier_id": "SUP_G", "name": "glue maker", "country": "CN", "installation_id": None},
    ])  # fmt: skip


def supplier_invoices() -> pl.LazyFrame:
    return lf([
        # alloy: supplier-specific footprint (1.8 tCO2e/t) wins over the secondary 2.0
        {"invoice_id": "I1", "line_no": 1, "invoice_date": D(2024, 3, 5), "supplier_id": "SUP_A",
         "installation_id": "NB1", "material_id": "M_ALLOY", "quantity": 10.0, "unit": "t"},
        # scrap: no supplier footprint, no secondary → gap
        {"invoice_id": "I2", "line_no": 1, "invoice_date": D(2024, 3, 9), "supplier_id": "SUP_S",
         "installation_id": "NB1", "material_id": "M_SCRAP", "quantity": 200.0, "unit": "t"},
        # glue: gap
        {"invoice_id": "I3", "line_no": 1, "invoice_date": D(2024, 3, 12), "supplier_id": "SUP_G",
         "installation_id": "FS1", "material_id": "M_GLUE", "quantity": 500.0, "unit": "kg"},
        # packaging: secondary 1.5 kgCO2e/kg × 2 t = 3 tCO2e
        {"invoice_id": "I4", "line_no": 1, "invoice_date": D(2024, 3, 20), "supplier_id": "SUP_G",
         "installation_id": "FS1", "material_id": "M_PACK", "quantity": 2.0, "unit": "t"},
        # gas upstream: 10 000 Nm3 × 0.3 kg = 3 tCO2e (Scope 3 cat 3)
        {"invoice_id": "I5", "line_no": 1, "invoice_date": D(2024, 3, 25), "supplier_id": "SUP_G",
         "installation_id": "FS1", "material_id": "M_GAS", "quantity": 10000.0, "unit": "Nm3"},
    ])  # fmt: skip


def supplier_emissions() -> pl.LazyFrame:
    return lf([
        {"supplier_installation_id": "SA1", "material_id": "M_ALLOY", "period_start": D(2024, 1, 1),
         "period_end": D(2024, 12, 31), "pcf_kgco2e_per_unit": 1.8, "pcf_unit": "kg", "document_ref": "PCF-2024"},
        {"supplier_installation_id": "SA1", "material_id": "M_ALLOY", "period_start": D(2023, 1, 1),
         "period_end": D(2023, 12, 31), "pcf_kgco2e_per_unit": 2.5, "pcf_unit": "kg", "document_ref": "PCF-2023"},
    ])  # fmt: skip


def energy_bills() -> pl.LazyFrame:
    return lf([
        # NB1: 1 000 MWh grid with 300 MWh GEC
        {"bill_id": "E1", "installation_id": "NB1", "carrier": "electricity", "period_start": D(2024, 3, 1),
         "period_end": D(2024, 3, 31), "quantity": 1_000_000.0, "unit": "kWh", "supply_type": "grid", "gec_mwh": 300.0},
        # NB1: on-site PV 100 MWh
        {"bill_id": "E2", "installation_id": "NB1", "carrier": "电力", "period_start": D(2024, 3, 1),
         "period_end": D(2024, 3, 31), "quantity": 100.0, "unit": "MWh", "supply_type": "onsite"},
        # NB2: 200 MWh grid, GEC 500 MWh (over-claimed: capped at 200, 300 unused and NOT moved to NB1/FS1)
        {"bill_id": "E3", "installation_id": "NB2", "carrier": "electricity", "period_start": D(2024, 3, 1),
         "period_end": D(2024, 3, 31), "quantity": 200.0, "unit": "MWh", "supply_type": "grid", "gec_mwh": 500.0},
        # FS1: PPA 400 MWh at 0 (renewable) with 100 MWh GEC; grid 600 MWh
        {"bill_id": "E4", "installation_id": "FS1", "carrier": "electricity", "period_start": D(2024, 3, 1),
         "period_end": D(2024, 3, 31), "quantity": 400.0, "unit": "MWh", "supply_type": "ppa",
         "ef_tco2_per_mwh": 0.0, "gec_mwh": 100.0},
        {"bill_id": "E5", "installation_id": "FS1", "carrier": "electricity", "period_start": D(2024, 3, 1),
         "period_end": D(2024, 3, 31), "quantity": 600.0, "unit": "MWh", "supply_type": "grid"},
        # FS1: natural gas bill: Scope 1 comes from stream_emissions, never from bills
        {"bill_id": "E6", "installation_id": "FS1", "carrier": "natural_gas", "period_start": D(2024, 3, 1),
         "period_end": D(2024, 3, 31), "quantity": 10000.0, "unit": "Nm3"},
    ])  # fmt: skip


def shipments() -> pl.LazyFrame:
    return lf([
        # inbound alloy by road to NB1, 180 km given, diesel fuel data 50 L
        {"shipment_id": "IN1", "leg_no": 1, "ship_date": D(2024, 3, 4), "direction": "inbound", "mode": "road",
         "origin": "Shanghai", "destination": "NB1", "distance_km": 180.0, "mass_t": 10.0, "material_id": "M_ALLOY",
         "invoice_id": "I1", "fuel_type": "柴油", "fuel_quantity": 50.0, "fuel_unit": "L"},
        # inbound packaging to FS1, distance from places (Guangzhou → Foshan road)
        {"shipment_id": "IN2", "leg_no": 1, "ship_date": D(2024, 3, 19), "direction": "inbound", "mode": "road",
         "origin": "Guangzhou", "destination": "佛山", "mass_t": 2.0, "material_id": "M_PACK", "invoice_id": "I4"},
        # outbound bars: road NB1 → Ningbo port, then sea Ningbo → Rotterdam
        {"shipment_id": "OUT1", "leg_no": 1, "ship_date": D(2024, 3, 10), "direction": "outbound", "mode": "road",
         "origin": "NB1", "destination": "CNNGB", "distance_km": 30.0, "quantity": 200.0, "unit": "pcs",
         "product_id": "P_BAR", "export_id": "X1"},
        {"shipment_id": "OUT1", "leg_no": 2, "ship_date": D(2024, 3, 12), "direction": "outbound", "mode": "sea",
         "origin": "宁波", "destination": "Rotterdam", "quantity": 200.0, "unit": "pcs", "product_id": "P_BAR",
         "export_id": "X1"},
        # outbound profiles from FS1, paid by the company (cat 4), Nansha → Hamburg
        {"shipment_id": "OUT2", "leg_no": 1, "ship_date": D(2024, 3, 15), "direction": "outbound", "mode": "sea",
         "origin": "CNNSA", "destination": "DEHAM", "mass_t": 5.0, "product_id": "P_PROF", "paid_by_company": True},
    ])  # fmt: skip


def exports() -> pl.LazyFrame:
    return lf([{"export_id": "X1", "line_no": 1, "declaration_date": D(2024, 3, 11), "product_id": "P_BAR",
                "quantity": 100.0, "unit": "t", "importer_eori": "NL123", "destination_country": "NL",
                "installation_id": "NB1"}])  # fmt: skip


def process_flows() -> pl.LazyFrame:
    # NB1: EAF → RM, 1 100 t crude steel into 1 000 t of rolled products in March
    return lf(
        [
            {
                "installation_id": "NB1",
                "from_process_id": "EAF",
                "to_process_id": "RM",
                "period_start": D(2024, 3, 1),
                "period_end": D(2024, 3, 31),
                "mass_t": 1100.0,
            }
        ]
    )


def raw() -> dict[str, pl.LazyFrame]:
    return {
        "installations": installations(), "products": products(), "materials": materials(),
        "suppliers": suppliers(), "supplier_invoices": supplier_invoices(),
        "supplier_emissions": supplier_emissions(), "energy_bills": energy_bills(), "shipments": shipments(),
        "exports": exports(), "process_flows": process_flows(),
    }  # fmt: skip


# --- the CBAM engine's outputs (docs/computed/cbam.md), monthly, March 2024 ---------------------------------------


def stream_emissions() -> pl.DataFrame:
    rows = [
        ("NB1", "S_EAF_ELECTRODES", "EAF", 900.0, 0.0), ("NB1", "S_NG", "RM", 100.0, 0.0),
        ("NB2", "S_ANODE", "SM", 1500.0, 0.0), ("FS1", "S_NG", "EX", 50.0, 0.0), ("FS1", "S_WOOD", "EX", 0.0, 20.0),
    ]  # fmt: skip
    return pl.DataFrame(
        [
            {
                "installation_id": i,
                "stream_id": s,
                "process_id": p,
                "period": "2024-03",
                "period_grain": "month",
                "method": "combustion",
                "gas": "CO2",
                "fossil_tco2e": f,
                "biomass_tco2e": b,
            }
            for i, s, p, f, b in rows
        ]
    )


def process_see() -> pl.DataFrame:
    rows = [
        # installation, process, AL, attributed direct, indirect, own direct/t, own indirect/t, own MWh/t
        ("NB1", "EAF", 1100.0, 900.0, 440.0, 900 / 1100, 440 / 1100, 0.5),
        ("NB1", "RM", 1000.0, 100.0, 60.0, 0.1, 0.06, None),
        ("NB2", "SM", 100.0, 1500.0, 121.0, 15.0, 1.21, 2.0),
        ("FS1", "EX", 500.0, 50.0, 302.5, 0.1, 0.605, 1.0),
    ]  # fmt: skip
    return pl.DataFrame(
        [
            {
                "installation_id": i,
                "process_id": p,
                "period": "2024-03",
                "period_grain": "month",
                "activity_level_t": al,
                "attributed_direct_tco2e": ad,
                "attributed_indirect_tco2e": ai,
                "own_see_direct": od,
                "own_see_indirect": oi,
                "see_direct": od,
                "see_indirect": oi,
                "default_value_share": 0.0,
                "own_electricity_mwh_per_t": mwh,
            }
            for i, p, al, ad, ai, od, oi, mwh in rows
        ]
    )


def precursor_inputs() -> pl.DataFrame:
    return pl.DataFrame([
        # FS1 extrusion: 520 t purchased billet, actual SEE 8.0 direct + 2.0 indirect
        {"installation_id": "FS1", "process_id": "EX", "period": "2024-03", "material_id": "M_BILLET",
         "mass_t": 520.0, "see_direct": 8.0, "see_indirect": 2.0, "source": "actual"},
        # NB1 EAF: 50 t pig iron on CBAM defaults
        {"installation_id": "NB1", "process_id": "EAF", "period": "2024-03", "material_id": "M_PIG",
         "mass_t": 50.0, "see_direct": 2.0, "see_indirect": 0.0, "source": "default"},
        # NB1 RM: crude steel from own EAF listed by the CBAM engine as well: skipped (propagated via process_flows)
        {"installation_id": "NB1", "process_id": "RM", "period": "2024-03", "material_id": "EAF",
         "mass_t": 1100.0, "see_direct": 0.9, "see_indirect": 0.4, "source": "actual"},
    ])  # fmt: skip
