"""Derive `cbam_fuel_factors.csv`, `cbam_gwp.csv` and `cbam_constants.csv` from the MIR (IR (EU) 2025/2547) text.

Fuel and material factors: MIR Annex II point G, Tables 1-5, parsed from the OJ text (decimal commas,
footnote markers split over lines, tables broken over pages). GWP: Table 6 (AR5 values; do not swap in AR6).
Constants: each MIR constant is checked to be printed in the text with its value; the others (CBAM factor,
CSCF) are from outside the folder and carry their status (`unconfirmed`, `provisional`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tools.refbuild._common import (
    MIR_ACT,
    MIR_TEXT,
    OMNIBUS_TEXT,
    VER_TEXT,
    act_of_text,
    comma_number,
    read_oj_text,
    require,
    write_csv,
)

FUEL_COLUMNS = [
    "table_ref",
    "material",
    "ef_tco2_per_tj",
    "ncv_gj_per_t",
    "ef_tco2_per_t",
    "carbon_content_tc_per_t",
    "preliminary",
    "biomass",
    "factor_source",
    "note",
    "source_code",
    "act",
    "source",
    "source_row",
]
GWP_COLUMNS = ["gas", "gwp", "unit", "basis", "source_code", "act", "source"]
CONSTANT_COLUMNS = ["name", "value", "unit", "source", "status", "note"]
_NUM = r"\d+(?:,\d+)?"


def _join_footnotes(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The OJ text splits a footnote marker '(1)' over three lines ('... (' / '1' / ') ...'): glue to '(fn1)'."""
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        lineno, text = lines[i]
        while (
            text.endswith("(")
            and i + 2 < len(lines)
            and lines[i + 1][1].isdigit()
            and lines[i + 2][1].startswith(")")
        ):
            head = text[:-1].rstrip()
            text = f"{head}{' ' if head else ''}(fn{lines[i + 1][1]}){lines[i + 2][1][1:]}"
            i += 2
        out.append((lineno, text))
        i += 1
    return out


def _block(lines: list[tuple[int, str]], start: str, end: str) -> list[tuple[int, str]]:
    texts = [t for _, t in lines]
    i = next(k for k, t in enumerate(texts) if t.startswith(start))
    j = next(k for k in range(i + 1, len(texts)) if texts[k].startswith(end))
    return lines[i + 1 : j]


@dataclass
class FuelRow:
    lineno: int
    name: str
    ef: float
    ncv: float | None
    source: str
    footnotes: list[str]


def _fuel_table(block: list[tuple[int, str]], headers: set[str]) -> tuple[list[FuelRow], dict[str, str]]:
    row_re = re.compile(
        rf"^(?P<name>.+?) (?P<ef>{_NUM})(?: \(fn(?P<fn>\d)\))? (?P<ncv>{_NUM}|n\.a\.) (?P<src>.+)$"
    )
    rows: list[FuelRow] = []
    notes: dict[str, str] = {}
    current_note: str | None = None
    for lineno, text in block:
        if text in headers:
            continue
        fn = re.match(r"^\(fn(\d)\) (.*)$", text)
        if fn:
            current_note = fn.group(1)
            notes[current_note] = fn.group(2)
            continue
        if current_note:
            notes[current_note] += " " + text
            continue
        m = row_re.match(text)
        if m:
            marks = re.findall(r"\(fn(\d)\)", text)
            name = re.sub(r"\s*\(fn\d\)", "", m.group("name")).strip()
            source = re.sub(r"\s*\(fn\d\)", "", m.group("src")).strip()
            ncv = None if m.group("ncv") == "n.a." else comma_number(m.group("ncv"))
            rows.append(FuelRow(lineno, name, comma_number(m.group("ef")), ncv, source, marks))
        else:
            require(bool(rows), f"MIR line {lineno}: unreadable fuel row {text!r}")
            rows[-1].source += " " + text
    return rows, notes


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=\.)\s(?=[A-Z])", text.strip(), maxsplit=1)[0]


def fuel_records(lines: list[tuple[int, str]], act: str) -> list[dict]:
    lines = _join_footnotes(lines)
    out: list[dict] = []
    base = {"ef_tco2_per_t": None, "carbon_content_tc_per_t": None, "act": act, "source": MIR_TEXT}
    t1, notes1 = _fuel_table(
        _block(
            lines, "Fuel emission factors related to NCV and net calorific values per mass of fuel", "Table 2"
        ),
        {"Fuel type description Emission factor", "(t CO2/TJ)", "Net calorific", "value (TJ/Gg) Source"},
    )
    for row in t1:
        notes = [_first_sentence(notes1[f]) for f in row.footnotes]
        out.append(
            {
                **base,
                "table_ref": "G.1",
                "material": row.name,
                "ef_tco2_per_tj": row.ef,
                "ncv_gj_per_t": row.ncv,
                "preliminary": "1" in row.footnotes and "preliminary" in notes1["1"],
                "biomass": False,
                "factor_source": row.source,
                "note": "; ".join(notes) or None,
                "source_code": "MIR Annex II G Table 1",
                "source_row": row.lineno,
            }
        )
    t2, notes2 = _fuel_table(
        _block(
            lines,
            "Fuel emission factors related to NCV and net calorific values per mass of biomass material",
            "Emission factors related to process emissions",
        ),
        {"Biomass material Preliminary EF", "[t CO2/TJ] NCV [GJ/t] Source"},
    )
    for row in t2:
        notes = [_first_sentence(notes2[f]) for f in row.footnotes]
        out.append(
            {
                **base,
                "table_ref": "G.2",
                "material": row.name,
                "ef_tco2_per_tj": row.ef,
                "ncv_gj_per_t": row.ncv,
                "preliminary": True,
                "biomass": True,
                "factor_source": row.source,
                "note": "; ".join(["preliminary EF, before (1 - biomass fraction)", *notes]),
                "source_code": "MIR Annex II G Table 2",
                "source_row": row.lineno,
            }
        )
    fossil = re.search(
        rf"fossil fraction of municipal waste: EF = ({_NUM}) t CO2/TJ; NCV = ({_NUM}) GJ/t",
        " ".join(notes2.values()),
    )
    require(fossil is not None, "Table 2 footnote on the fossil fraction of municipal waste not found")
    out.append(
        {
            **base,
            "table_ref": "G.2",
            "material": "Municipal waste (fossil fraction)",
            "ef_tco2_per_tj": comma_number(fossil.group(1)),
            "ncv_gj_per_t": comma_number(fossil.group(2)),  # type: ignore[union-attr]
            "preliminary": False,
            "biomass": False,
            "factor_source": "IPCC 2006 GL",
            "note": "from a footnote of Table 2 (IPCC value for the fossil fraction)",
            "source_code": "MIR Annex II G Table 2 footnote",
            "source_row": t2[-1].lineno,
        }
    )
    for ref, start, end, label in (
        ("G.3", "Carbonate Emission factor [t CO2/t Carbonate]", "General Emission factor", "Table 3"),
        ("G.4", "Oxide Emission factor [t CO2/t Oxide]", "general:", "Table 4"),
    ):
        for lineno, text in _block(lines, start, end):
            m = re.fullmatch(rf"(\S+) ({_NUM})", text)
            require(m is not None, f"MIR {label} line {lineno}: unreadable {text!r}")
            out.append(
                {
                    **base,
                    "table_ref": ref,
                    "material": m.group(1),
                    "ef_tco2_per_tj": None,  # type: ignore[union-attr]
                    "ncv_gj_per_t": None,
                    "ef_tco2_per_t": comma_number(m.group(2)),
                    "preliminary": False,  # type: ignore[union-attr]
                    "biomass": False,
                    "factor_source": "stoichiometric",
                    "note": "method A (input based)" if ref == "G.3" else "method B (output based, oxides)",
                    "source_code": f"MIR Annex II G {label}",
                    "source_row": lineno,
                }
            )
    t5 = _block(lines, "Input or output material Carbon content", "Global warming potentials")
    for lineno, text in t5:
        if text in ("(t C/t)", "Emission factor", "(t CO2/t)"):
            continue
        m = re.fullmatch(rf"(.+?) ({_NUM}) ({_NUM})", text)
        require(m is not None, f"MIR Table 5 line {lineno}: unreadable {text!r}")
        out.append(
            {
                **base,
                "table_ref": "G.5",
                "material": m.group(1),
                "ef_tco2_per_tj": None,
                "ncv_gj_per_t": None,  # type: ignore[union-attr]
                "carbon_content_tc_per_t": comma_number(m.group(2)),
                "ef_tco2_per_t": comma_number(m.group(3)),  # type: ignore[union-attr]
                "preliminary": False,
                "biomass": False,
                "factor_source": "IPCC 2006 GL",
                "note": None,
                "source_code": "MIR Annex II G Table 5",
                "source_row": lineno,
            }
        )
    return out


def gwp_records(lines: list[tuple[int, str]], act: str) -> list[dict]:
    block = _block(lines, "Global warming potentials", "ANNEX III")
    by_definition = {
        "basis": "definition",
        "source_code": "definition",
        "act": None,
        "source": "CO2 equivalent is defined relative to CO2",
    }
    out = [
        {"gas": "CO2", "gwp": 1.0, "unit": "t CO2e/t CO2", **by_definition},
        {"gas": "CO2e", "gwp": 1.0, "unit": "t CO2e/t CO2e", **by_definition},
    ]
    for _, text in block:
        m = re.fullmatch(r"(N2O|CF4|C2F6) (\d{1,3}(?: \d{3})*) t CO2e/t \1", text)
        if m:
            out.append(
                {
                    "gas": m.group(1),
                    "gwp": comma_number(m.group(2)),
                    "unit": f"t CO2e/t {m.group(1)}",
                    "basis": "IPCC AR5 (100-year)",
                    "source_code": "MIR Annex II G Table 6",
                    "act": act,
                    "source": MIR_TEXT,
                }
            )
    require(
        [r["gas"] for r in out[2:]] == ["N2O", "CF4", "C2F6"], f"Table 6 gases: {[r['gas'] for r in out]}"
    )
    return out


# name, value, unit, source, status, note, (file, regex that must match the text) or None
CBAM_FACTOR = {
    2026: 0.975,
    2027: 0.95,
    2028: 0.90,
    2029: 0.775,
    2030: 0.515,
    2031: 0.39,
    2032: 0.265,
    2033: 0.14,
    2034: 0.0,
}
CONSTANTS: list[tuple[str, float, str, str, str, str | None, tuple[str, str] | None]] = [
    (
        "f_co2_per_c",
        3.664,
        "tCO2/tC",
        "MIR Annex II B (Eq 8, 9, 13, 14)",
        "fixed",
        "ratio of molar masses CO2/C",
        (MIR_TEXT, r"f = 3,664 t CO2/t C"),
    ),
    (
        "ef_natural_gas_tco2_per_tj",
        56.1,
        "tCO2/TJ",
        "MIR Annex II G Table 1 (natural gas)",
        "fixed",
        "EF_NG of Eq 53-54; cap for waste-gas EF in EF_mix / EF_el (MIR Annex III A.2.2, Annex II D.4.1)",
        (MIR_TEXT, r"Natural gas 56,1 48,0"),
    ),
    (
        "corr_eta_waste_gas",
        0.667,
        "1",
        "MIR Annex III A.2.3 (Eq 54)",
        "fixed",
        "Corr_eta for exported waste gas",
        (MIR_TEXT, r"Corrη = 0,667"),
    ),
    (
        "chp_eta_heat_default",
        0.55,
        "1",
        "MIR Annex III A.2.2 (CHP)",
        "fixed",
        "conservative standard heat efficiency when design values are unavailable",
        (MIR_TEXT, r"ηheat = 0,55"),
    ),
    (
        "chp_eta_el_default",
        0.25,
        "1",
        "MIR Annex III A.2.2 (CHP)",
        "fixed",
        "conservative standard electrical efficiency when design values are unavailable",
        (MIR_TEXT, r"ηel = 0,25"),
    ),
    (
        "heat_boiler_efficiency_default",
        0.9,
        "1",
        "MIR Annex III A.2.2 / A.3",
        "fixed",
        "standard boiler efficiency for heat without verified supplier data",
        (MIR_TEXT, r"boiler efficiency of 90 %"),
    ),
    (
        "standard_temperature_k",
        273.15,
        "K",
        "MIR Annex I pt 1(27)",
        "fixed",
        "normal conditions for Nm3",
        (MIR_TEXT, r"temperature of 273,15 K"),
    ),
    (
        "standard_pressure_pa",
        101325.0,
        "Pa",
        "MIR Annex I pt 1(27)",
        "fixed",
        "normal conditions for Nm3",
        (MIR_TEXT, r"pressure conditions of 101 325 Pa"),
    ),
    (
        "see_max_decimals",
        5.0,
        "decimals",
        "MIR Annex II A.1(8)",
        "fixed",
        "SEE reported with at most 5 decimals (rounding mode not given: lingtan rounds half-up at output)",
        (MIR_TEXT, r"maximum of 5 digits after the comma"),
    ),
    (
        "de_minimis_net_mass_t",
        50.0,
        "t",
        "CBAM Reg Art 2a (Omnibus)",
        "fixed",
        "annual net mass per importer, all CN aggregated; never for hydrogen or electricity",
        (OMNIBUS_TEXT, r"set at 50 tonnes of net mass"),
    ),
    (
        "verification_materiality",
        0.05,
        "1",
        "VER Art 5",
        "fixed",
        "5 % of total SEE and 5 % of specific embedded free allocation",
        (VER_TEXT, r"5 % of the total specific embedded emissions"),
    ),
    *[
        (
            f"cbam_factor_{y}",
            v,
            "1",
            "Directive 2003/87/EC Art 10a(1a) (not in the reference folder)",
            "unconfirmed",
            "CBAM_y of the free-allocation adjustment; 0 from 2034"
            if y == 2034
            else "CBAM_y of the free-allocation adjustment",
            None,
        )
        for y, v in CBAM_FACTOR.items()
    ],
    (
        "cscf",
        1.0,
        "1",
        "IR (EU) 2025/2620 (FAR; not in the reference folder)",
        "provisional",
        "cross-sectoral correction factor: value UNCONFIRMED; 1.0 overstates the free-allocation adjustment; configure",
        None,
    ),
]


def constant_records(source_dir: Path) -> list[dict]:
    texts: dict[str, str] = {}
    out = []
    for name, value, unit, source, status, note, check in CONSTANTS:
        if check:
            file, pattern = check
            if file not in texts:
                texts[file] = " ".join(t for _, t in read_oj_text(source_dir / file))
            require(
                re.search(pattern, texts[file]) is not None, f"constant {name}: {pattern!r} not in {file}"
            )
        out.append(
            {"name": name, "value": value, "unit": unit, "source": source, "status": status, "note": note}
        )
    return out


def build(source_dir: Path, out_dir: Path) -> dict[str, int]:
    lines = read_oj_text(source_dir / MIR_TEXT)
    act = act_of_text(lines)
    require(act == MIR_ACT, f"methodology text is {act}, expected {MIR_ACT}")
    fuels = fuel_records(lines, act)
    counts = {ref: sum(r["table_ref"] == ref for r in fuels) for ref in ("G.1", "G.2", "G.3", "G.4", "G.5")}
    require(
        counts == {"G.1": 40, "G.2": 12, "G.3": 9, "G.4": 3, "G.5": 9}, f"MIR Annex II G row counts {counts}"
    )
    return {
        "cbam_fuel_factors": write_csv(out_dir / "cbam_fuel_factors.csv", FUEL_COLUMNS, fuels),
        "cbam_gwp": write_csv(out_dir / "cbam_gwp.csv", GWP_COLUMNS, gwp_records(lines, act)),
        "cbam_constants": write_csv(
            out_dir / "cbam_constants.csv", CONSTANT_COLUMNS, constant_records(source_dir)
        ),
    }
