"""Derive `cbam_grid_factors.csv`: DVR Annex II default emission factors of electricity consumed, per country.

These are the defaults for indirect emissions of non-Annex-II goods (MIR Annex II D.4(a)); 'Other countries and
territories' is the row every unlisted country falls back to. The OJ text is the only source (no workbook).
Annex II data come from the IEA under CC BY-NC-SA 4.0 (commercial use needs an IEA licence; see the annex
disclaimer), kept in `licence_note`.
"""

from __future__ import annotations

import re
from pathlib import Path

from tools.refbuild._common import (
    DVR_OJ_VERSION,
    DVR_TEXT,
    act_of_text,
    comma_number,
    read_oj_text,
    require,
    write_csv,
)
from transforms.reference.countries import to_iso2
from transforms.text import norm_key

COLUMNS = [
    "table_kind",
    "iso2",
    "country_name",
    "value_tco2_per_mwh",
    "source_code",
    "annex",
    "act",
    "source_version",
    "source",
    "source_row",
    "licence_note",
]
# Annex II spellings that transforms/reference/countries.py does not know (yet).
ANNEX_II_ALIASES: dict[str, str] = {}  # Annex II spellings now live in countries.csv (refbuild/countries.py)
OTHER = "other countries and territories"
HEADER = "Country or territory Emission factor (tCO2eq/MWh)"
LICENCE = (
    "IEA data, CC BY-NC-SA 4.0: non-commercial use only; commercial use needs an IEA licence "
    "(DVR Annex II disclaimer)"
)


def resolve(name: str) -> str | None:
    return to_iso2(name) or ANNEX_II_ALIASES.get(norm_key(name))


def parse_annex_ii(lines: list[tuple[int, str]]) -> list[tuple[int, str, float]]:
    start = next(i for i, (_, t) in enumerate(lines) if t == "ANNEX II")
    end = next(i for i, (_, t) in enumerate(lines) if t == "ANNEX III")
    out = []
    in_table = False
    for lineno, text in lines[start:end]:
        if text == HEADER:
            in_table = True
            continue
        if not in_table:
            continue
        m = re.fullmatch(r"(?P<name>\D+?) (?P<value>\d+(?:,\d+)?)", text)
        require(m is not None, f"Annex II line {lineno}: unreadable {text!r}")
        out.append((lineno, m.group("name"), comma_number(m.group("value"))))  # type: ignore[union-attr]
    return out


def build(source_dir: Path, out_dir: Path) -> dict[str, int]:
    lines = read_oj_text(source_dir / DVR_TEXT)
    act = act_of_text(lines)
    records = []
    seen: dict[str, str] = {}
    for lineno, name, value in parse_annex_ii(lines):
        if norm_key(name) == OTHER:
            table, iso2 = "other", None
        else:
            table, iso2 = "country", resolve(name)
            require(iso2 is not None, f"Annex II country {name!r} (line {lineno}) resolves to no ISO code")
            require(iso2 not in seen, f"Annex II: {name!r} and {seen.get(iso2)!r} are both {iso2}")  # type: ignore[operator]
            seen[iso2] = name  # type: ignore[index]
        records.append(
            {
                "table_kind": table,
                "iso2": iso2,
                "country_name": name,
                "value_tco2_per_mwh": value,
                "source_code": "D.4(a)",
                "annex": "Annex II",
                "act": act,
                "source_version": DVR_OJ_VERSION,
                "source": DVR_TEXT,
                "source_row": lineno,
                "licence_note": LICENCE,
            }
        )
    require(
        sum(r["table_kind"] == "other" for r in records) == 1, "Annex II: no single 'Other countries' row"
    )
    records.sort(key=lambda r: (r["table_kind"] == "other", r["iso2"] or ""))
    return {"cbam_grid_factors": write_csv(out_dir / "cbam_grid_factors.csv", COLUMNS, records)}
