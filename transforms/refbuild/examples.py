"""The Commission's two worked examples (Communication template v2.1) as committed JSON fixtures, and the
landing-zone rows that describe the same installations.

`extract(xlsx)` reads the input sheets (A_InstData, B_EmInst, C_Emissions&Energy, D_Processes, E_PurchPrec)
and the template's computed outputs (Summary_Processes, Summary_Products, Summary_Communication) with openpyxl
`data_only=True` (cached values; openpyxl never recalculates). Cells are found by their labels and table
headers, not by fixed coordinates, so a template version that inserts a column (2.1.1 adds one in
Summary_Communication) still reads. `build()` writes tests/fixtures/cbam_examples/<name>.json; tests never
need the workbooks.

`fixture_to_landing_rows(fixture)` turns a fixture into rows of the landing datasets (spec column names, ISO2
countries, canonical units, ISO dates), so the same example can run through the engine directly (tests) or
through ingestion as CSV drops. Modelling choices are listed on that function.

Run: `python -m transforms.refbuild.examples [--src DIR] [--out DIR]`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transforms.paths import REPO_ROOT

EXAMPLES = {"cement": "example-cement.xlsx", "steel_eaf_alloys": "example-steel-eaf-alloys.xlsx"}
SHARED_EXAMPLES = REPO_ROOT.parent / "shared" / "reference" / "cbam" / "examples"
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures" / "cbam_examples"

Cell = tuple[int, int]  # (row, column), 1-based


# ---------------------------------------------------------------------------------------------- sheet helpers
class Sheet:
    """A worksheet's non-empty cached values by (row, col), with label search."""

    def __init__(self, ws: Any) -> None:
        self.name = ws.title
        self.cells: dict[Cell, Any] = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None or (isinstance(v, str) and not v.strip()):
                    continue
                self.cells[(c.row, c.column)] = v
        self.max_row = max((r for r, _ in self.cells), default=0)

    def get(self, row: int, col: int) -> Any:
        return self.cells.get((row, col))

    def row(self, row: int) -> dict[int, Any]:
        return {c: v for (r, c), v in self.cells.items() if r == row}

    def find(
        self, label: str, start: int = 1, stop: int | None = None, exact: bool = False
    ) -> Iterator[Cell]:
        """Cells (in row order) whose text equals / starts with `label` (whitespace-normalised)."""
        want = _norm(label)
        for (r, c), v in sorted(self.cells.items()):
            if r < start or (stop is not None and r >= stop) or not isinstance(v, str):
                continue
            got = _norm(v)
            if got == want or (not exact and got.startswith(want)):
                yield r, c

    def first(self, label: str, start: int = 1, stop: int | None = None, exact: bool = False) -> Cell | None:
        return next(self.find(label, start, stop, exact), None)

    def right_of(self, cell: Cell, max_col: int = 15) -> Any:
        """First value right of a label cell on the same row (within the print area)."""
        r, c = cell
        for col in range(c + 1, max_col + 1):
            if (v := self.get(r, col)) is not None:
                return v
        return None

    def header_map(self, row: int) -> dict[str, int]:
        """Header text (normalised) → column, for a table header row."""
        out: dict[str, int] = {}
        for c, v in sorted(self.row(row).items()):
            if isinstance(v, str):
                out.setdefault(_norm(v), c)  # leftmost wins: hidden helper columns repeat some headers
        return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _col(headers: dict[str, int], *names: str) -> int | None:
    """Column of the first header that equals, else starts with, one of `names`."""
    for name in names:
        n = _norm(name)
        if n in headers:
            return headers[n]
    for name in names:
        n = _norm(name)
        for h, c in headers.items():
            if h.startswith(n):
                return c
    return None


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    return None


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime | dt.date):
        return v.date().isoformat() if isinstance(v, dt.datetime) else v.isoformat()
    return str(v).strip()


def _blocks(sh: Sheet, label: str) -> list[tuple[int, int]]:
    """Row ranges [start, stop) of the numbered blocks titled '<label> N:' (e.g. 'Production process 2:')."""
    pattern = re.compile(rf"{re.escape(_norm(label))} \d+:")
    starts = sorted(r for (r, _), v in sh.cells.items() if isinstance(v, str) and pattern.fullmatch(_norm(v)))
    return [(s, (starts[i + 1] if i + 1 < len(starts) else sh.max_row + 1)) for i, s in enumerate(starts)]


# ------------------------------------------------------------------------------------------ input sheets
def _inst_data(sh: Sheet) -> dict[str, Any]:
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
        k: _text(sh.right_of(c)) if (c := sh.first(lbl, start=about[0])) else None
        for k, lbl in fields.items()
    }
    out: dict[str, Any] = {
        "period_start": _text(sh.right_of(start)) if start else None,
        "period_end": _text(sh.right_of(end)) if end else None,
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
    cat = _text(sh.get(r, _col(h, "Aggregated goods category") or 0))
    if not cat:
        return None
    routes = [
        _text(sh.get(r, c)) for name, c in sorted(h.items(), key=lambda x: x[1]) if name.startswith("route ")
    ]
    return {
        "goods_category": cat,
        "route_choice": _text(sh.get(r, _col(h, "Route") or 0)),
        "routes": [x for x in routes if x],
    }


def _process_row(sh: Sheet, r: int, h: dict[str, int]) -> dict[str, Any] | None:
    cat = _text(sh.get(r, _col(h, "Aggregated goods category") or 0))
    name = _text(sh.get(r, _col(h, "Name") or 0))
    if not cat or not name:
        return None
    inc = _col(h, "Included goods categories")
    name_col = _col(h, "Name") or 0
    included = [_text(sh.get(r, c)) for c in range(inc or 0, name_col) if inc and sh.get(r, c) is not None]
    return {"goods_category": cat, "name": name, "included": [x for x in included if x]}


def _precursor_row(sh: Sheet, r: int, h: dict[str, int]) -> dict[str, Any] | None:
    cat = _text(sh.get(r, _col(h, "Production process") or 0))
    name = _text(sh.get(r, _col(h, "Name") or 0))
    if not cat or not name:
        return None
    routes = [_text(sh.get(r, c)) for n, c in sorted(h.items(), key=lambda x: x[1]) if n.startswith("route ")]
    return {
        "goods_category": cat,
        "name": name,
        "country_code": _text(sh.get(r, _col(h, "Country code") or 0)),
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


def _em_inst(sh: Sheet) -> dict[str, list[dict[str, Any]]]:
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
                    c = _col(h, *names)
                    if c is not None:
                        v = sh.get(r, c)
                        rec[f] = v if isinstance(v, str) else _num(v)
                rows.append(rec)
            r += 1
        out[key] = rows
    return out


def _emissions_energy(sh: Sheet) -> dict[str, float | None]:
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
    return {k: _num(sh.get(res[0], _col(h, n) or 0)) for k, n in names.items()}


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
            if isinstance(v, str) and _norm(v) == "unit":
                return c
        r -= 1
    return 11


def _block_category(sh: Sheet, row: int, name: str, max_col: int = 15) -> str | None:
    """A block's title row: '<label> N:' | name | ... | goods category (the last value in the print area)."""
    values = [v for c, v in sorted(sh.row(row).items()) if c <= max_col and isinstance(v, str)]
    return _text(values[-1]) if values and values[-1] != name else None


def _section(sub: dict[str, Cell], stop: int, a: str, b: str | None) -> tuple[int, int]:
    """Rows [start, end) of sub-section `a` (e.g. '(h)') up to sub-section `b` or the block end."""
    return sub[a][0] if a in sub else stop, sub[b][0] if b and b in sub else stop


def _processes(sh: Sheet) -> list[dict[str, Any]]:
    out = []
    for start, stop in _blocks(sh, "Production process"):
        head = sh.first("Production process", start, start + 1)
        assert head is not None
        name = _text(sh.right_of(head))
        if not name:
            continue
        category = _block_category(sh, start, name)
        levels_hdr = sh.first("Total production levels:", start, stop)
        total = sh.first("Total production within installation", start, stop)
        routes = []
        if levels_hdr and total:
            uc = _unit_col(sh, levels_hdr[0])
            route_col = _col(sh.header_map(levels_hdr[0]), "Production route") or 8
            for r in range(levels_hdr[0] + 1, total[0]):
                amount = _num(sh.get(r, uc + 1))
                if sh.get(r, route_col) not in (None, "n.a.") and amount is not None:
                    routes.append({"route": _text(sh.get(r, route_col)), "amount_t": amount})
        consumed_hdr = sh.first("Consumed in other 'production processes'", start, stop)
        non_cbam = sh.first("Consumed for non-CBAM goods", start, stop)
        consumed = []
        if consumed_hdr and non_cbam:
            uc = _unit_col(sh, consumed_hdr[0])
            for r in range(consumed_hdr[0] + 1, non_cbam[0]):
                to, amount = _text(sh.get(r, consumed_hdr[1])), _num(sh.get(r, uc + 1))
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
                "activity_level_t": _num(sh.get(total[0], _unit_col(sh, total[0]) + 1)) if total else None,
                "produced_for_market_t": _num(_lr(sh, "Produced for the market", start, stop)[0]),
                "consumed_in_other_processes": consumed,
                "consumed_for_non_cbam_t": _num(_lr(sh, "Consumed for non-CBAM goods", start, stop)[0]),
                "dirEm_tco2e": _num(_lr(sh, "Directly attributable emissions (DirEm*)", start, stop)[0]),
                "heat_imported_tj": _num(heat_q[0]),
                "heat_exported_tj": _num(heat_q[1]),
                "heat_imported_ef": _num(heat_ef[0]),
                "heat_exported_ef": _num(heat_ef[1]),
                "waste_gas_imported_tj": _num(wg_q[0]),
                "waste_gas_exported_tj": _num(wg_q[1]),
                "waste_gas_imported_ef": _num(wg_ef[0]),
                "waste_gas_exported_ef": _num(wg_ef[1]),
                "electricity_mwh": _num(_lr(sh, "Electricity consumption", j0, j1)[0]),
                "electricity_ef": _num(_lr(sh, "Emission factor of the electricity", j0, j1)[0]),
                "electricity_ef_source": _text(_lr(sh, "Source of the emission factor", j0, j1)[0]),
                "electricity_exported_mwh": _num(_lr(sh, "Amounts exported", k0, k1)[0]),
                "electricity_exported_ef": _num(_lr(sh, "Emission factor of the electricity", k0, k1)[0]),
            }
        )
    return out


def _purchased(sh: Sheet) -> list[dict[str, Any]]:
    out = []
    for start, stop in _blocks(sh, "Purchased precursor"):
        head = sh.first("Purchased precursor", start, start + 1)
        assert head is not None
        name = _text(sh.right_of(head))
        if not name:
            continue
        category = _block_category(sh, start, name)
        levels = sh.first("Total purchased levels:", start, stop)
        total = sh.first("Total purchase for possible consumption", start, stop)
        routes = []
        if levels and total:
            uc = _unit_col(sh, levels[0])
            route_col = _col(sh.header_map(levels[0]), "Production route") or 8
            for r in range(levels[0] + 1, total[0]):
                amount = _num(sh.get(r, uc + 1))
                if sh.get(r, route_col) is not None and amount is not None:
                    routes.append({"route": _text(sh.get(r, route_col)), "amount_t": amount})
        consumed_hdr = sh.first("Consumed in 'production processes'", start, stop)
        other = sh.first("Consumed for other purposes", start, stop)
        consumed = []
        if consumed_hdr and other:
            uc = _unit_col(sh, consumed_hdr[0])
            for r in range(consumed_hdr[0] + 1, other[0]):
                to, amount = _text(sh.get(r, consumed_hdr[1])), _num(sh.get(r, uc + 1))
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
                "total_purchased_t": _num(sh.get(total[0], _unit_col(sh, total[0]) + 1)) if total else None,
                "consumed": consumed,
                "other_purposes_t": _num(_lr(sh, "Consumed for other purposes", start, stop)[0]),
                "see_direct": _num(see_d[0]),
                "see_direct_source": _text(see_d[1]),
                "electricity_mwh_per_t": _num(el[0]),
                "electricity_source": _text(el[1]),
                "electricity_ef": _num(ef[0]),
                "electricity_ef_source": _text(ef[1]),
                "see_indirect": _num(see_i[0]),
                "default_justification": _text(sh.right_of(just)) if just else None,
            }
        )
    return out


# ----------------------------------------------------------------------------------------- output sheets
def _summary_processes(sh: Sheet) -> dict[str, Any]:
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
        name_col = _col(h, "Production process") or 5
        for r in range(hdr[0] + 1, hdr[0] + 12):
            ident, name = sh.get(r, name_col - 1), _text(sh.get(r, name_col))
            if isinstance(ident, str) and re.fullmatch(r"P\d+", ident) and name:
                ghg.append(
                    {
                        "id": ident,
                        "name": name,
                        **{k: _num(sh.get(r, _col(h, v) or 0)) for k, v in cols.items()},
                    }
                )
    out["ghg"] = ghg
    comp = sh.first("Total emissions of the installation")
    rest = sh.first("Rest (= emissions not attributed")
    if comp and rest:
        hdr_c = sh.first("Comparison:")
        h = sh.header_map(hdr_c[0]) if hdr_c else {}
        d, i = _col(h, "Total direct emissions") or 11, _col(h, "Total indirect emissions") or 12
        out["installation_direct_tco2e"] = _num(sh.get(comp[0], d))
        out["installation_indirect_tco2e"] = _num(sh.get(comp[0], i))
        out["rest_direct_tco2e"] = _num(sh.get(rest[0], d))
        out["rest_indirect_tco2e"] = _num(sh.get(rest[0], i))
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
            ident, name = sh.get(r, 4), _text(sh.get(r, 5))
            if isinstance(ident, str) and re.fullmatch(r"P\d+", ident) and name:
                specific.append(
                    {
                        "id": ident,
                        "name": name,
                        **{k: _num(sh.get(r, _col(h, v) or 0)) for k, v in cols.items()},
                    }
                )
    out["specific"] = specific
    out["detailed"] = _detailed(sh)
    return out


def _detailed(sh: Sheet) -> list[dict[str, Any]]:
    """Per process: its 'Total production process' row and one row per component (own process, precursors)."""
    out = []
    for r, c in sh.find("Mass share", exact=True):
        name = _text(sh.get(r, c - 3))
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
                "name": _text(sh.get(rr, c - 3)),
                "goods_category": _text(sh.get(rr, c - 1)),
            }
            for k, hname in cols.items():
                v = sh.get(rr, _col(h, hname) or 0)
                rec[k] = v if isinstance(v, str | bool) else _num(v)
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


def _products(sh: Sheet) -> list[dict[str, Any]]:
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
            c = _col(h, name) if k != "electricity_ef" else h.get(_norm(name))
            v = sh.get(r, c) if c else None
            rec[k] = v if isinstance(v, str) else _num(v)
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


# -------------------------------------------------------------------------------------------- extraction
def extract(path: Path) -> dict[str, Any]:
    """One workbook → fixture dict (inputs as entered, outputs as the template computed them)."""
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # conditional-formatting extensions openpyxl does not support
        wb = openpyxl.load_workbook(path, data_only=True, read_only=False)
    sheets = {
        name: Sheet(wb[name])
        for name in (
            "A_InstData",
            "B_EmInst",
            "C_Emissions&Energy",
            "D_Processes",
            "E_PurchPrec",
            "Summary_Processes",
            "Summary_Products",
            "Summary_Communication",
        )
    }
    a = _inst_data(sheets["A_InstData"])
    return {
        "source": {
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "extracted_by": "transforms/refbuild/examples.py",
        },
        "period_start": a["period_start"],
        "period_end": a["period_end"],
        "installation": a["installation"],
        "goods": a["goods"],
        "processes_list": a["processes"],
        "purchased_precursors_list": a["purchased_precursors"],
        "emission_sources": _em_inst(sheets["B_EmInst"]),
        "installation_totals": _emissions_energy(sheets["C_Emissions&Energy"]),
        "processes": _processes(sheets["D_Processes"]),
        "purchased_precursors": _purchased(sheets["E_PurchPrec"]),
        "expected": {
            "summary_processes": _summary_processes(sheets["Summary_Processes"]),
            "summary_products": _products(sheets["Summary_Products"]),
            "summary_communication": _products(sheets["Summary_Communication"]),
        },
    }


def build(src: Path = SHARED_EXAMPLES, out: Path = FIXTURE_DIR) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, file in EXAMPLES.items():
        fixture = {"name": name, **extract(src / file)}
        p = out / f"{name}.json"
        p.write_text(
            json.dumps(fixture, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
        )
        written.append(p)
    return written


def load_fixture(name: str, directory: Path = FIXTURE_DIR) -> dict[str, Any]:
    return json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------ fixture → landing
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


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=SHARED_EXAMPLES)
    ap.add_argument("--out", type=Path, default=FIXTURE_DIR)
    args = ap.parse_args()
    for p in build(args.src, args.out):
        print(p)


if __name__ == "__main__":
    main()
