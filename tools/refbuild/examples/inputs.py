"""The template's input sheets (A_InstData, B_EmInst, C_Emissions&Energy, D_Processes, E_PurchPrec) → fixture parts,
as the operator entered them."""

from __future__ import annotations

import re
from typing import Any

from tools.refbuild.examples.sheet import (
    Cell,
    Sheet,
    as_number,
    as_text,
    header_col,
    label_blocks,
    norm_label,
)


def read_inst_data(sh: Sheet) -> dict[str, Any]:
    start = sh.first("Start:")
    end = sh.first("End:")
    fields = {
        "name": "Name of the installation (English name):",
        "street": "Street, Number:",
        "economic_activity": "Economic activity:",
        "postcode": "Post code:",
        "city": "City:",
        "country": "Country:",
        "unlocode": "UNLOCODE:",
        "latitude": "Coordinates of the main emission source (latitude):",
        "longitude": "Coordinates of the main emission source (longitude):",
    }
    about = sh.first("About the installation", exact=True) or (1, 1)
    inst = {
        k: as_text(sh.right_of(c)) if (c := sh.first(lbl, start=about[0])) else None
        for k, lbl in fields.items()
    }
    out: dict[str, Any] = {
        "period_start": as_text(sh.right_of(start)) if start else None,
        "period_end": as_text(sh.right_of(end)) if end else None,
        "installation": inst,
    }
    # (a) goods categories and routes; (b) processes; 5 purchased precursors: tables with an 'ID' header.
    goods_hdr = sh.first("List of aggregated goods categories")
    proc_hdr = sh.first("Relevant production processes")
    prec_hdr = sh.first("Purchased precursors", start=(proc_hdr or (1, 1))[0] + 1, exact=True)
    out["goods"] = _id_table(sh, goods_hdr[0] if goods_hdr else 1, r"G\d+", _goods_row)
    out["processes"] = _id_table(sh, proc_hdr[0] if proc_hdr else 1, r"P\d+", _process_row)
    out["purchased_precursors"] = _id_table(sh, prec_hdr[0] if prec_hdr else 1, r"PP\d+", _precursor_row)
    return out


def _id_table(sh: Sheet, after: int, id_pattern: str, parse: Any) -> list[dict[str, Any]]:
    hdr = sh.first("ID", start=after, exact=True)
    if hdr is None:
        return []
    headers = sh.header_map(hdr[0])
    rows = []
    r = hdr[0] + 1
    while r <= sh.max_row:
        ident = sh.get(r, hdr[1])
        if isinstance(ident, str) and re.fullmatch(id_pattern, ident.strip()):
            item = parse(sh, r, headers)
            if item:
                rows.append({"id": ident.strip(), **item})
        elif r > hdr[0] + 1 and not any(
            isinstance(sh.get(r2, hdr[1]), str) and re.fullmatch(id_pattern, str(sh.get(r2, hdr[1])))
            for r2 in range(r, r + 3)
        ):
            break
        r += 1
    return rows


def _goods_row(sh: Sheet, r: int, h: dict[str, int]) -> dict[str, Any] | None:
    cat = as_text(sh.get(r, header_col(h, "Aggregated goods category") or 0))
    if not cat:
        return None
    routes = [
        as_text(sh.get(r, c))
        for name, c in sorted(h.items(), key=lambda x: x[1])
        if name.startswith("route ")
    ]
    return {
        "goods_category": cat,
        "route_choice": as_text(sh.get(r, header_col(h, "Route") or 0)),
        "routes": [x for x in routes if x],
    }


def _process_row(sh: Sheet, r: int, h: dict[str, int]) -> dict[str, Any] | None:
    cat = as_text(sh.get(r, header_col(h, "Aggregated goods category") or 0))
    name = as_text(sh.get(r, header_col(h, "Name") or 0))
    if not cat or not name:
        return None
    inc = header_col(h, "Included goods categories")
    name_col = header_col(h, "Name") or 0
    included = [as_text(sh.get(r, c)) for c in range(inc or 0, name_col) if inc and sh.get(r, c) is not None]
    return {"goods_category": cat, "name": name, "included": [x for x in included if x]}


def _precursor_row(sh: Sheet, r: int, h: dict[str, int]) -> dict[str, Any] | None:
    cat = as_text(sh.get(r, header_col(h, "Production process") or 0))
    name = as_text(sh.get(r, header_col(h, "Name") or 0))
    if not cat or not name:
        return None
    routes = [
        as_text(sh.get(r, c)) for n, c in sorted(h.items(), key=lambda x: x[1]) if n.startswith("route ")
    ]
    return {
        "goods_category": cat,
        "name": name,
        "country_code": as_text(sh.get(r, header_col(h, "Country code") or 0)),
        "routes": [x for x in routes if x],
    }


_STREAM_FIELDS = {
    "method": ("Method",),
    "name": ("Source stream name",),
    "activity_data": ("Activity data (AD)",),
    "ad_unit": ("AD Unit",),
    "ncv": ("Net calorific value (NCV)",),
    "ncv_unit": ("NCV Unit",),
    "ef": ("Emission factor (EF)",),
    "ef_unit": ("EF Unit",),
    "carbon_content": ("Carbon content",),
    "carbon_content_unit": ("C-Content Unit",),
    "oxidation_factor": ("Oxidation factor (OxF)",),
    "oxidation_factor_unit": ("OxF Unit",),
    "conversion_factor": ("Conversion factor (ConvF)",),
    "conversion_factor_unit": ("ConvF Unit",),
    "biomass_content": ("Biomass content (BioC)", "Biomass fraction"),
    "biomass_content_unit": ("BioC Unit",),
    "ghg": ("Type of GHG",),
    "annual_ghg_t": ("Annual amount of GHG",),
    "gwp": ("GWP (tCO2e/t)",),
    "cf4_t": ("CF4 Emissions (t CF4)",),
    "c2f6_t": ("C2F6 Emissions (t C2F6)",),
    "co2e_fossil_t": ("CO2e fossil (t)",),
    "co2e_bio_t": ("CO2e bio (t)",),
    "energy_fossil_tj": ("Energy content (fossil), TJ",),
    "energy_bio_tj": ("Energy content (bio), TJ",),
}


def read_em_inst(sh: Sheet) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    sections = [
        ("source_streams", "Calculation based approaches"),
        ("pfc", "PFC (perfluorocarbon) emissions"),
        ("measured", "Measurement-Based Approaches"),
    ]
    for key, label in sections:
        sec = sh.first(label)
        hdr = sh.first("#", start=sec[0], exact=True) if sec else None
        if hdr is None:
            out[key] = []
            continue
        h = sh.header_map(hdr[0])
        rows = []
        r = hdr[0] + 1
        while isinstance(sh.get(r, hdr[1]), int | str) and not str(sh.get(r, hdr[1])).startswith("("):
            ident = sh.get(r, hdr[1])
            first = sh.get(r, hdr[1] + 1)
            if isinstance(ident, int) and first is not None:
                rec: dict[str, Any] = {"index": ident}
                for f, names in _STREAM_FIELDS.items():
                    c = header_col(h, *names)
                    if c is not None:
                        v = sh.get(r, c)
                        rec[f] = v if isinstance(v, str) else as_number(v)
                rows.append(rec)
            r += 1
        out[key] = rows
    return out


def read_emissions_energy(sh: Sheet) -> dict[str, float | None]:
    hdr = sh.first("Installation level data:")
    res = sh.first("Results:", start=hdr[0]) if hdr else None
    if not hdr or not res:
        return {}
    h = sh.header_map(hdr[0])
    names = {
        "co2_tco2e": "Total CO2 emissions",
        "biomass_tco2e": "Biomass emissions",
        "n2o_tco2e": "Total N2O emissions",
        "pfc_tco2e": "Total PFC emissions",
        "direct_tco2e": "Total direct emissions",
        "indirect_tco2e": "Total indirect emissions",
        "total_tco2e": "Total emissions",
    }
    return {k: as_number(sh.get(res[0], header_col(h, n) or 0)) for k, n in names.items()}


def _lr(sh: Sheet, label: str, start: int, stop: int) -> tuple[Any, Any]:
    """Values of columns L and M (first two value columns after the label) on the row labelled `label`."""
    cell = sh.first(label, start, stop)
    if cell is None:
        return None, None
    unit_col = _unit_col(sh, cell[0])
    return sh.get(cell[0], unit_col + 1), sh.get(cell[0], unit_col + 2)


def _unit_col(sh: Sheet, row: int) -> int:
    """The 'Unit' column of a row's sub-table (values follow it), from the nearest header row above."""
    r = row
    while r > 0:
        for c, v in sh.row(r).items():
            if isinstance(v, str) and norm_label(v) == "unit":
                return c
        r -= 1
    return 11


def _block_category(sh: Sheet, row: int, name: str, max_col: int = 15) -> str | None:
    """A block's title row: '<label> N:' | name | ... | goods category (the last value in the print area)."""
    values = [v for c, v in sorted(sh.row(row).items()) if c <= max_col and isinstance(v, str)]
    return as_text(values[-1]) if values and values[-1] != name else None


def _section(sub: dict[str, Cell], stop: int, a: str, b: str | None) -> tuple[int, int]:
    """Rows [start, end) of sub-section `a` (e.g. '(h)') up to sub-section `b` or the block end."""
    return sub[a][0] if a in sub else stop, sub[b][0] if b and b in sub else stop


def read_processes(sh: Sheet) -> list[dict[str, Any]]:
    out = []
    for start, stop in label_blocks(sh, "Production process"):
        head = sh.first("Production process", start, start + 1)
        assert head is not None
        name = as_text(sh.right_of(head))
        if not name:
            continue
        category = _block_category(sh, start, name)
        levels_hdr = sh.first("Total production levels:", start, stop)
        total = sh.first("Total production within installation", start, stop)
        routes = []
        if levels_hdr and total:
            uc = _unit_col(sh, levels_hdr[0])
            route_col = header_col(sh.header_map(levels_hdr[0]), "Production route") or 8
            for r in range(levels_hdr[0] + 1, total[0]):
                amount = as_number(sh.get(r, uc + 1))
                if sh.get(r, route_col) not in (None, "n.a.") and amount is not None:
                    routes.append({"route": as_text(sh.get(r, route_col)), "amount_t": amount})
        consumed_hdr = sh.first("Consumed in other 'production processes'", start, stop)
        non_cbam = sh.first("Consumed for non-CBAM goods", start, stop)
        consumed = []
        if consumed_hdr and non_cbam:
            uc = _unit_col(sh, consumed_hdr[0])
            for r in range(consumed_hdr[0] + 1, non_cbam[0]):
                to, amount = as_text(sh.get(r, consumed_hdr[1])), as_number(sh.get(r, uc + 1))
                if to and amount:
                    consumed.append({"to_process": to, "mass_t": amount})
        sub = {
            lbl: (r, c)
            for lbl in ("(h)", "(i)", "(j)", "(k)")
            for r, c in sh.find(lbl, start, stop, exact=True)
        }

        h0, h1 = _section(sub, stop, "(h)", "(i)")
        i0, i1 = _section(sub, stop, "(i)", "(j)")
        j0, j1 = _section(sub, stop, "(j)", "(k)")
        k0, k1 = _section(sub, stop, "(k)", None)
        heat_q, heat_ef = (
            _lr(sh, "Amount of net measurable heat", h0, h1),
            _lr(sh, "Emissions factor", h0, h1),
        )
        wg_q, wg_ef = _lr(sh, "Amount of waste gas", i0, i1), _lr(sh, "Emission factor", i0, i1)
        out.append(
            {
                "name": name,
                "goods_category": category,
                "routes": routes,
                "activity_level_t": as_number(sh.get(total[0], _unit_col(sh, total[0]) + 1))
                if total
                else None,
                "produced_for_market_t": as_number(_lr(sh, "Produced for the market", start, stop)[0]),
                "consumed_in_other_processes": consumed,
                "consumed_for_non_cbam_t": as_number(_lr(sh, "Consumed for non-CBAM goods", start, stop)[0]),
                "dirEm_tco2e": as_number(_lr(sh, "Directly attributable emissions (DirEm*)", start, stop)[0]),
                "heat_imported_tj": as_number(heat_q[0]),
                "heat_exported_tj": as_number(heat_q[1]),
                "heat_imported_ef": as_number(heat_ef[0]),
                "heat_exported_ef": as_number(heat_ef[1]),
                "waste_gas_imported_tj": as_number(wg_q[0]),
                "waste_gas_exported_tj": as_number(wg_q[1]),
                "waste_gas_imported_ef": as_number(wg_ef[0]),
                "waste_gas_exported_ef": as_number(wg_ef[1]),
                "electricity_mwh": as_number(_lr(sh, "Electricity consumption", j0, j1)[0]),
                "electricity_ef": as_number(_lr(sh, "Emission factor of the electricity", j0, j1)[0]),
                "electricity_ef_source": as_text(_lr(sh, "Source of the emission factor", j0, j1)[0]),
                "electricity_exported_mwh": as_number(_lr(sh, "Amounts exported", k0, k1)[0]),
                "electricity_exported_ef": as_number(
                    _lr(sh, "Emission factor of the electricity", k0, k1)[0]
                ),
            }
        )
    return out


def read_purchased(sh: Sheet) -> list[dict[str, Any]]:
    out = []
    for start, stop in label_blocks(sh, "Purchased precursor"):
        head = sh.first("Purchased precursor", start, start + 1)
        assert head is not None
        name = as_text(sh.right_of(head))
        if not name:
            continue
        category = _block_category(sh, start, name)
        levels = sh.first("Total purchased levels:", start, stop)
        total = sh.first("Total purchase for possible consumption", start, stop)
        routes = []
        if levels and total:
            uc = _unit_col(sh, levels[0])
            route_col = header_col(sh.header_map(levels[0]), "Production route") or 8
            for r in range(levels[0] + 1, total[0]):
                amount = as_number(sh.get(r, uc + 1))
                if sh.get(r, route_col) is not None and amount is not None:
                    routes.append({"route": as_text(sh.get(r, route_col)), "amount_t": amount})
        consumed_hdr = sh.first("Consumed in 'production processes'", start, stop)
        other = sh.first("Consumed for other purposes", start, stop)
        consumed = []
        if consumed_hdr and other:
            uc = _unit_col(sh, consumed_hdr[0])
            for r in range(consumed_hdr[0] + 1, other[0]):
                to, amount = as_text(sh.get(r, consumed_hdr[1])), as_number(sh.get(r, uc + 1))
                if to and amount is not None:
                    consumed.append({"process": to, "mass_t": amount})
        see_d = _lr(sh, "Specific embedded direct emissions", start, stop)
        el = _lr(sh, "Specific electricity consumption", start, stop)
        ef = _lr(sh, "Electricity emission factor", start, stop)
        see_i = _lr(sh, "Specific embedded indirect emissions", start, stop)
        just = sh.first("Justification for use of default values", start, stop)
        out.append(
            {
                "name": name,
                "goods_category": category,
                "routes": routes,
                "total_purchased_t": as_number(sh.get(total[0], _unit_col(sh, total[0]) + 1))
                if total
                else None,
                "consumed": consumed,
                "other_purposes_t": as_number(_lr(sh, "Consumed for other purposes", start, stop)[0]),
                "see_direct": as_number(see_d[0]),
                "see_direct_source": as_text(see_d[1]),
                "electricity_mwh_per_t": as_number(el[0]),
                "electricity_source": as_text(el[1]),
                "electricity_ef": as_number(ef[0]),
                "electricity_ef_source": as_text(ef[1]),
                "see_indirect": as_number(see_i[0]),
                "default_justification": as_text(sh.right_of(just)) if just else None,
            }
        )
    return out
