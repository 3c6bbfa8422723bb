"""The landing-zone rows that describe the same installations as the Commission's worked examples.

`fixture_to_landing_rows(fixture)` turns a fixture (see `fixtures.py`) into rows of the landing datasets (spec
column names, ISO2 countries, canonical units, ISO dates), so the same example can run through the engine
directly (tests) or through ingestion as CSV drops. Modelling choices are listed on that function.
"""

from __future__ import annotations

import json
import re
from typing import Any

_METHODS = {
    "combustion": "combustion",
    "process emissions": "process",
    "process": "process",
    "mass balance": "mass_balance",
}
# The template names purchased precursors by goods category only; these CN codes are illustrative headings
# for the categories (not in the workbooks) so the rows carry one; the engine needs them only to fall back.
ILLUSTRATIVE_CN = {
    "Crude steel": "72061000",
    "FeNi": "72026000",
    "FeCr": "72024100",
    "FeMn": "72021100",
    "Pig iron": "72011011",
    "Cement clinker": "25231000",
    "Cement": "25232900",
}
_GAS = {"n2o": "N2O", "co2": "CO2", "cf4": "CF4", "c2f6": "C2F6"}


def _pct(value: float | None, unit: str | None) -> float | None:
    if value is None:
        return None
    return value / 100.0 if (unit or "").strip() == "%" else value


def _category(label: str | None, name: str = "") -> str | None:
    """Canonical goods category; the template's `Alloys (FeMn, FeCr, FeNi)` resolves by the name."""
    from transforms.reference.goods import to_category

    if label is None:
        return None
    cat = to_category(label)
    if cat is None:
        for alloy in ("FeMn", "FeCr", "FeNi"):
            if alloy.lower() in name.lower():
                return alloy
    return cat


def _coordinate(text: str | None) -> float | None:
    if not text:
        return None
    m = re.search(r"-?\d+(?:\.\d+)?", text)
    return float(m.group()) if m else None


def fixture_to_landing_rows(
    fixture: dict[str, Any], installation_id: str | None = None
) -> dict[str, list[dict]]:
    """Landing-zone rows (dataset → rows with spec column names) describing the fixture's installation.

    Modelling choices (the template's inputs → lingtan's raw datasets):
    - one installation; one row per stream / process / bill / flow covering the whole reporting period;
    - source streams from B_EmInst (a) with one reading each; % columns become fractions; (c) measurement rows
      become `measured` streams with `emissions_t` = the annual amount of the gas;
    - DirEm*: when the installation has one process and its DirEm* equals the installation's direct total, the
      streams attribute to it (`default_process_id`), exercising the stream path; otherwise the template's
      DirEm* is the plant's own attribution (`production.direct_emissions_t`) and the difference is reported;
    - electricity per process as a sub-metered bill with the template's factor and source code;
    - internal flows from D_Processes (c); purchased precursors as one supplier per precursor, one invoice for
      the total purchased and `precursor_consumption` rows per consuming process; their SEE as a
      `supplier_emissions` row (`determination` = `default` when the workbook's source says Default, else
      `actual`, not verified);
    - products from Summary_Communication (qualifying parameters as JSON), one 1000 t export line each.
    """
    from transforms.reference.countries import to_iso2

    iid = installation_id or f"EX-{fixture['name'].upper()}"
    start, end = fixture["period_start"], fixture["period_end"]
    year = start[:4]
    inst = fixture["installation"]
    country = to_iso2(inst["country"])
    rows: dict[str, list[dict]] = {
        k: []
        for k in (
            "installations",
            "processes",
            "source_streams",
            "stream_readings",
            "production",
            "energy_bills",
            "process_flows",
            "materials",
            "suppliers",
            "supplier_invoices",
            "precursor_consumption",
            "supplier_emissions",
            "products",
            "exports",
        )
    }
    rows["installations"].append(
        {
            "installation_id": iid,
            "name": inst["name"],
            "name_en": inst["name"],
            "country": country,
            "city": inst["city"],
            "address": inst["street"],
            "postcode": inst["postcode"],
            "unlocode": (inst["unlocode"] or "").replace(" ", "") or None,
            "latitude": _coordinate(inst["latitude"]),
            "longitude": _coordinate(inst["longitude"]),
        }
    )
    procs = fixture["processes"]
    pid = {p["name"]: f"P{i}" for i, p in enumerate(procs, start=1)}
    for p in procs:
        rows["processes"].append(
            {
                "installation_id": iid,
                "process_id": pid[p["name"]],
                "name": p["name"],
                "goods_category": _category(p["goods_category"]),
                "route": "; ".join(r["route"] for r in p["routes"] if r["amount_t"]) or None,
            }
        )
    sources = fixture["emission_sources"]
    direct_total = fixture["installation_totals"].get("direct_tco2e")
    single = (
        len(procs) == 1
        and procs[0]["dirEm_tco2e"] is not None
        and direct_total is not None
        and abs(procs[0]["dirEm_tco2e"] - direct_total) <= 1e-9 * max(1.0, abs(direct_total))
    )
    default_pid = pid[procs[0]["name"]] if single else None
    for s in sources["source_streams"]:
        sid = f"S{s['index']}"
        cc = s.get("carbon_content")
        if cc is not None and (s.get("carbon_content_unit") or "").strip() == "%":
            cc = cc / 100.0
        rows["source_streams"].append(
            {
                "installation_id": iid,
                "stream_id": sid,
                "name": s["name"],
                "method": _METHODS[s["method"].strip().lower()],
                "unit": s["ad_unit"],
                "ncv": s.get("ncv"),
                "ncv_unit": s.get("ncv_unit") if s.get("ncv") is not None else None,
                "ef": s.get("ef"),
                "ef_unit": s.get("ef_unit") if s.get("ef") is not None else None,
                "carbon_content": cc,
                "oxidation_factor": _pct(s.get("oxidation_factor"), s.get("oxidation_factor_unit")),
                "conversion_factor": _pct(s.get("conversion_factor"), s.get("conversion_factor_unit")),
                "biomass_fraction": _pct(s.get("biomass_content"), s.get("biomass_content_unit")),
                "gas": "CO2",
                "default_process_id": default_pid,
            }
        )
        rows["stream_readings"].append(
            {
                "installation_id": iid,
                "stream_id": sid,
                "process_id": None,
                "period_start": start,
                "period_end": end,
                "quantity": s["activity_data"],
                "unit": s["ad_unit"],
            }
        )
    for s in sources["measured"]:
        sid = f"M{s['index']}"
        gas = _GAS.get(str(s.get("ghg") or "co2").strip().lower(), "CO2e")
        rows["source_streams"].append(
            {
                "installation_id": iid,
                "stream_id": sid,
                "name": s.get("name"),
                "method": "measured",
                "unit": "t",
                "gas": gas,
                "biomass_fraction": _pct(s.get("biomass_content"), s.get("biomass_content_unit")),
                "default_process_id": default_pid,
            }
        )
        rows["stream_readings"].append(
            {
                "installation_id": iid,
                "stream_id": sid,
                "period_start": start,
                "period_end": end,
                "emissions_t": s.get("annual_ghg_t"),
            }
        )
    for s in sources["pfc"]:
        for gas, key in (("CF4", "cf4_t"), ("C2F6", "c2f6_t")):
            if s.get(key):
                sid = f"PFC{s['index']}-{gas}"
                rows["source_streams"].append(
                    {
                        "installation_id": iid,
                        "stream_id": sid,
                        "method": "measured",
                        "unit": "t",
                        "gas": gas,
                        "default_process_id": default_pid,
                    }
                )
                rows["stream_readings"].append(
                    {
                        "installation_id": iid,
                        "stream_id": sid,
                        "period_start": start,
                        "period_end": end,
                        "emissions_t": s[key],
                    }
                )
    for p in procs:
        prow: dict[str, Any] = {
            "installation_id": iid,
            "process_id": pid[p["name"]],
            "period_start": start,
            "period_end": end,
            "produced_t": p["activity_level_t"],
        }
        if not single:
            prow["direct_emissions_t"] = p["dirEm_tco2e"]
        for q, f in (
            ("heat_imported_tj", "heat_imported_ef"),
            ("heat_exported_tj", "heat_exported_ef"),
            ("electricity_exported_mwh", "electricity_exported_ef"),
        ):
            if p.get(q):
                prow[q], prow[f] = p[q], p.get(f)
        for q in ("waste_gas_imported_tj", "waste_gas_exported_tj"):
            if p.get(q):
                prow[q] = p[q]
        rows["production"].append(prow)
        if p.get("electricity_mwh"):
            rows["energy_bills"].append(
                {
                    "bill_id": f"{iid}-EL-{pid[p['name']]}",
                    "installation_id": iid,
                    "carrier": "electricity",
                    "period_start": start,
                    "period_end": end,
                    "quantity": p["electricity_mwh"],
                    "unit": "MWh",
                    "process_id": pid[p["name"]],
                    "supply_type": "grid",
                    "ef_tco2_per_mwh": p["electricity_ef"],
                    "ef_source": p["electricity_ef_source"],
                }
            )
        for c in p["consumed_in_other_processes"]:
            rows["process_flows"].append(
                {
                    "installation_id": iid,
                    "from_process_id": pid[p["name"]],
                    "to_process_id": pid[c["to_process"]],
                    "period_start": start,
                    "period_end": end,
                    "mass_t": c["mass_t"],
                }
            )
    countries = {pp["name"]: pp.get("country_code") for pp in fixture["purchased_precursors_list"]}
    for i, pp in enumerate(fixture["purchased_precursors"], start=1):
        mid, sup, sup_inst = f"{iid}-PP{i}", f"{iid}-SUP{i}", f"{iid}-SUPINST{i}"
        cat = _category(pp["goods_category"], pp["name"])
        cn = ILLUSTRATIVE_CN.get(cat or "")
        consumed = [c for c in pp["consumed"] if c["mass_t"]]
        main = max(consumed, key=lambda c: c["mass_t"])["process"] if consumed else None
        rows["materials"].append(
            {
                "material_id": mid,
                "name": pp["name"],
                "kind": "precursor",
                "cn_code": cn,
                "goods_category": cat,
                "route": "; ".join(r["route"] for r in pp["routes"]) or None,
                "consumed_in_installation_id": iid,
                "consumed_in_process_id": pid.get(main) if main else None,
            }
        )
        rows["suppliers"].append(
            {
                "supplier_id": sup,
                "name": f"Supplier of {pp['name']}",
                "country": to_iso2(countries.get(pp["name"])),
                "installation_id": sup_inst,
            }
        )
        rows["supplier_invoices"].append(
            {
                "invoice_id": f"{iid}-INV{i}",
                "line_no": 1,
                "invoice_date": start,
                "supplier_id": sup,
                "installation_id": iid,
                "material_id": mid,
                "quantity": pp["total_purchased_t"],
                "unit": "t",
            }
        )
        for c in consumed:
            rows["precursor_consumption"].append(
                {
                    "installation_id": iid,
                    "process_id": pid[c["process"]],
                    "material_id": mid,
                    "period_start": start,
                    "period_end": end,
                    "mass_t": c["mass_t"],
                }
            )
        is_default = (pp.get("see_direct_source") or "").strip().lower() == "default"
        rows["supplier_emissions"].append(
            {
                "supplier_installation_id": sup_inst,
                "material_id": mid,
                "cn_code": cn,
                "period_start": start,
                "period_end": end,
                "see_direct": pp["see_direct"],
                "see_indirect": pp["see_indirect"],
                "embedded_electricity_mwh_per_t": pp["electricity_mwh_per_t"],
                "electricity_ef_tco2_per_mwh": pp["electricity_ef"],
                "electricity_ef_source": pp["electricity_ef_source"],
                "determination": "default" if is_default else "actual",
                "verified": None,
                "document_ref": f"{fixture['source']['file']} E_PurchPrec precursor {i}",
            }
        )
    for prod in fixture["expected"]["summary_communication"]:
        prid = f"{iid}-PR{prod['index']}"
        rows["products"].append(
            {
                "product_id": prid,
                "name": prod["product_name"],
                "name_en": prod["product_name"],
                "cn_code": prod["cn_code"],
                "installation_id": iid,
                "process_id": pid[prod["process"]],
                "qualifying_parameters": json.dumps(prod["qualifying_parameters"], sort_keys=True) or None,
            }
        )
        rows["exports"].append(
            {
                "export_id": f"{iid}-EXP{prod['index']}",
                "line_no": 1,
                "declaration_date": end,
                "product_id": prid,
                "quantity": 1000.0,
                "unit": "t",
                "importer_eori": "DE000000000001",
                "importer_name": "Example Importer",
                "importer_country": "DE",
                "destination_country": "DE",
                "production_period": year,
            }
        )
    return rows
