"""The template's output sheets (Summary_Processes, Summary_Products, Summary_Communication) → the expected results,
as the template computed them (cached values; openpyxl never recalculates)."""

from __future__ import annotations

import re
from typing import Any

from tools.refbuild.examples.sheet import Sheet, as_number, as_text, header_col, norm_label


def read_summary_processes(sh: Sheet) -> dict[str, Any]:
    out: dict[str, Any] = {}
    hdr = sh.first("DirEm*", exact=True)
    ghg = []
    if hdr:
        h = sh.header_map(hdr[0])
        cols = {
            "dirEm_tco2e": "DirEm*",
            "heat_tco2e": "Heat emissions",
            "waste_gas_tco2e": "Waste gas emissions",
            "attributed_direct_tco2e": "Total direct emissions",
            "attributed_indirect_tco2e": "Indirect",
            "activity_level_t": "Activity level",
        }
        name_col = header_col(h, "Production process") or 5
        for r in range(hdr[0] + 1, hdr[0] + 12):
            ident, name = sh.get(r, name_col - 1), as_text(sh.get(r, name_col))
            if isinstance(ident, str) and re.fullmatch(r"P\d+", ident) and name:
                ghg.append(
                    {
                        "id": ident,
                        "name": name,
                        **{k: as_number(sh.get(r, header_col(h, v) or 0)) for k, v in cols.items()},
                    }
                )
    out["ghg"] = ghg
    comp = sh.first("Total emissions of the installation")
    rest = sh.first("Rest (= emissions not attributed")
    if comp and rest:
        hdr_c = sh.first("Comparison:")
        h = sh.header_map(hdr_c[0]) if hdr_c else {}
        d, i = header_col(h, "Total direct emissions") or 11, header_col(h, "Total indirect emissions") or 12
        out["installation_direct_tco2e"] = as_number(sh.get(comp[0], d))
        out["installation_indirect_tco2e"] = as_number(sh.get(comp[0], i))
        out["rest_direct_tco2e"] = as_number(sh.get(rest[0], d))
        out["rest_indirect_tco2e"] = as_number(sh.get(rest[0], i))
    spec_hdr = next(
        (c for c in sh.find("SE (direct)", exact=True) if "see (direct)" in sh.header_map(c[0])), None
    )
    specific = []
    if spec_hdr:
        h = sh.header_map(spec_hdr[0])
        cols = {
            "se_direct": "SE (direct)",
            "see_direct": "SEE (direct)",
            "se_indirect": "SE (indirect)",
            "see_indirect": "SEE (indirect)",
            "electricity_mwh_per_t": "Electricity consumed",
            "embedded_electricity_mwh_per_t": "Embedded electricity",
        }
        for r in range(spec_hdr[0] + 2, spec_hdr[0] + 14):
            ident, name = sh.get(r, 4), as_text(sh.get(r, 5))
            if isinstance(ident, str) and re.fullmatch(r"P\d+", ident) and name:
                specific.append(
                    {
                        "id": ident,
                        "name": name,
                        **{k: as_number(sh.get(r, header_col(h, v) or 0)) for k, v in cols.items()},
                    }
                )
    out["specific"] = specific
    out["detailed"] = _detailed(sh)
    return out


def _detailed(sh: Sheet) -> list[dict[str, Any]]:
    """Per process: its 'Total production process' row and one row per component (own process, precursors)."""
    out = []
    for r, c in sh.find("Mass share", exact=True):
        name = as_text(sh.get(r, c - 3))
        if not name:
            continue
        h = sh.header_map(r)
        cols = {
            "mass_share": "Mass share",
            "default": "(Share of) Default value",
            "see_direct": "SEE (direct)",
            "see_indirect": "SEE (indirect)",
            "see_total": "SEE (total)",
            "embedded_direct_tco2e": "EmbEm (direct)",
            "embedded_indirect_tco2e": "EmbEm (indirect)",
            "embedded_total_tco2e": "EmbEm (total)",
            "electricity_ef_source": "Source of electricity EF",
            "embedded_electricity_mwh_per_t": "Embedded electricity",
            "country_code": "Country code",
        }
        total = sh.first("Total production process", r, r + 4)
        if total is None:
            continue
        rows = []
        rr = total[0]
        while sh.get(rr, c - 3) is not None and rr < total[0] + 30:
            rec: dict[str, Any] = {
                "name": as_text(sh.get(rr, c - 3)),
                "goods_category": as_text(sh.get(rr, c - 1)),
            }
            for k, hname in cols.items():
                v = sh.get(rr, header_col(h, hname) or 0)
                rec[k] = v if isinstance(v, str | bool) else as_number(v)
            rows.append(rec)
            rr += 1
        out.append({"process": name, "total": rows[0], "components": rows[1:]})
    return out


_QP_KEYS = {
    "the main reducing agent of the precursor, if known": "main_reducing_agent",
    "steel mill identification number": "steel_mill_id",
    "% mn": "mn_pct",
    "% cr": "cr_pct",
    "% ni": "ni_pct",
    "% other alloys": "other_alloys_pct",
    "% carbon": "carbon_pct",
    "t scrap per t steel": "scrap_t_per_t_steel",
    "% other materials": "other_materials_pct",
    "% pre-consumer scrap": "pre_consumer_scrap_pct",
    "t scrap per t aluminium": "scrap_t_per_t_aluminium",
    "% non-aluminium elements": "non_aluminium_pct",
    "clinker factor": "clinker_factor",
    "calcined or not": "calcined",
    "concentration, if hydrous solution": "concentration",
    "% nitric acid": "nitric_acid_pct",
    "% urea": "urea_pct",
    "% n contained": "n_content",
    "% n as ammonium (nh4+)": "n_ammonium_pct",
    "% n as nitrate (no3–)": "n_nitrate_pct",
    "% n as urea": "n_urea_pct",
    "% n in other (organic) forms": "n_organic_pct",
}


def read_products(sh: Sheet) -> list[dict[str, Any]]:
    hdr = sh.first("CN Codes", exact=True)
    if hdr is None:
        return []
    h = sh.header_map(hdr[0])
    cols = {
        "process": "Production process from which the products arise",
        "goods_category": "Type of aggregated good or precursor",
        "cn_code": "CN Codes",
        "cn_name": "CN Name",
        "product_name": "Product name",
        "see_direct": "SEE (direct)",
        "see_indirect": "SEE (indirect)",
        "see_total": "SEE (total)",
        "unit": "Unit",
        "default_value_share": "Share of emissions by default value",
        "electricity_ef_source": "Source for electricity EF",
        "embedded_electricity_mwh_per_t": "Embedded electricity (MWh/t)",
        "electricity_ef": "Electricity EF (tCO2/MWh)",
    }
    out = []
    for r in range(hdr[0] + 1, sh.max_row + 1):
        ident = sh.get(r, hdr[1] - 3)
        if not isinstance(ident, int):
            continue
        rec: dict[str, Any] = {"index": ident}
        for k, name in cols.items():
            c = header_col(h, name) if k != "electricity_ef" else h.get(norm_label(name))
            v = sh.get(r, c) if c else None
            rec[k] = v if isinstance(v, str) else as_number(v)
        if not rec.get("cn_code"):
            continue
        qp = {}
        for hname, key in _QP_KEYS.items():
            c = h.get(hname)
            if c is not None and (v := sh.get(r, c)) is not None:
                qp[key] = v  # as entered (a mill id stays an integer)
        rec["qualifying_parameters"] = qp
        out.append(rec)
    return out
