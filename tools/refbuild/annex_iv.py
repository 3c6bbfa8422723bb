"""Annex IV of the DVR (IR (EU) 2025/2621): default values of precursors whose country of production is unknown.

Only in the OJ text (not in the workbook): parsed from it line by line, each value checked against its own printed
marked-up columns, and the CN list checked against the 'Other countries and territories' table, so a misparse stops
the build (`SourceError`) instead of writing a wrong seed. Used by default_values.derive.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from tools.refbuild._common import (
    DVR_OJ_VERSION,
    DVR_TEXT,
    MARKUP_YEARS,
    SECTORS,
    cn_digits,
    comma_number,
    require,
)
from transforms.text import norm_key

_V = r"(\d+(?:,\d+)?|[Ss]ee below)"
_VALUES_AT_END = re.compile(
    rf"^(?P<desc>.*?)\s*{_V}\s+{_V}\s+{_V}\s+{_V}"
    r"(?:\s*(?P<route>\([A-L]\)(?:/\([A-L]\))?))?$"
)
_SECTION = re.compile(
    r"(?P<sector>Cement|Fertilisers|Aluminium|Hydrogen|Iron and steel)"
    r"((?:\s+\d+% mark-up){3})$"
)
_CN_START = re.compile(r"^(?P<cn>\d{4}(?: \d{2}){0,2})(?: (?P<rest>\D.*))?$")
_HEADER_START = "Product CN Code Description Highest default value"
_HEADER_FRAGMENTS = {
    "Value",
    "(including mark-up)",
    "2027",
    "Default",
    "2028 and onwards",
    "Underlying production",
    "route determining CBAM",
    "BM",
}


@dataclass
class AnnexIvRow:
    lineno: int
    sector: str
    cn: str
    description: str
    values: tuple[str, str, str, str] | None = None
    route: str | None = None
    route_key: str | None = None


def parse_annex_iv(lines: list[tuple[int, str]]) -> list[AnnexIvRow]:
    start = next(i for i, (_, t) in enumerate(lines) if t == "ANNEX IV")
    body = lines[start + 1 :]
    first = next(i for i, (_, t) in enumerate(body) if t.startswith(_HEADER_START))
    rows: list[AnnexIvRow] = []
    sector: str | None = None
    in_header = False
    for lineno, text in body[first:]:
        if text.startswith(_HEADER_START):
            in_header = True
            continue
        if in_header and text in _HEADER_FRAGMENTS:
            continue
        in_header = False
        section = _SECTION.search(text)
        if section:
            text = text[: section.start()].strip()
            next_sector = SECTORS[norm_key(section.group("sector"))]
            labels = re.findall(r"\d+% mark-up", section.group(2))
            require(len(labels) == 3, f"line {lineno}: section labels {labels}")
        else:
            next_sector = None
        if text:
            start_cn = _CN_START.match(text)
            if start_cn:
                require(sector is not None, f"Annex IV line {lineno}: CN before a sector row")
                require(
                    not rows or rows[-1].values is not None,
                    f"Annex IV line {lineno}: previous row has no values",
                )
                rows.append(
                    AnnexIvRow(lineno, sector, cn_digits(start_cn.group("cn")), start_cn.group("rest") or "")
                )  # type: ignore[arg-type]
            else:
                require(bool(rows), f"Annex IV line {lineno}: text before the first row: {text!r}")
                rows[-1].description += " " + text
            last = rows[-1]
            if last.values is None:
                m = _VALUES_AT_END.match(last.description)
                if m:
                    last.values = m.group(2, 3, 4, 5)  # type: ignore[assignment]
                    last.route = m.group("route")
                    last.description = m.group("desc")
        if next_sector:
            sector = next_sector
    require(all(r.values is not None for r in rows), "Annex IV: a row without values")
    for row in rows:
        row.description = re.sub(r"\s+", " ", row.description).strip()
    return rows


def annex_iv_records(
    lines: list[tuple[int, str]], other: list[dict], markups: dict[str, dict[str, float]], act: str
) -> list[dict]:
    rows = parse_annex_iv(lines)
    groups = Counter(r.cn for r in rows)
    for row in rows:
        if groups[row.cn] > 1:
            desc = row.description.casefold()
            row.route_key = "B" if "white" in desc else "A" if "grey" in desc else None
            require(
                row.route_key is not None,
                f"Annex IV duplicate CN {row.cn} not told apart: {row.description!r}",
            )
    other_keys = [(r["cn_code"], r["route_key"]) for r in other]
    annex_keys = [(r.cn, r.route_key) for r in rows]
    require(
        other_keys == annex_keys,
        f"Annex IV CN list differs from the 'Other' table: {sorted(set(other_keys) ^ set(annex_keys))}",
    )
    other_by_key = {(r["cn_code"], r["route_key"]): r for r in other}
    out = []
    for row in rows:
        assert row.values is not None
        ref = other_by_key[(row.cn, row.route_key)]
        notes: list[str] = []
        direct = indirect = total = None
        pub: list[float | None] = [None, None, None]
        if row.values[0].casefold() == "see below":
            require(
                all(v.casefold() == "see below" for v in row.values), f"Annex IV {row.cn}: mixed 'see below'"
            )
            status, indirect_status = "see_below", "see_below"
        else:
            status = "value"
            total = comma_number(row.values[0])
            pub = [comma_number(v) for v in row.values[1:]]
            for year, value in zip(MARKUP_YEARS, pub, strict=True):
                # Both the printed total and the printed marked-up value are rounded to 3 decimals.
                expected = total * (1 + markups[row.sector][year])
                require(
                    abs(value - expected) <= 0.0005 * (2 + markups[row.sector][year]) + 1e-9,
                    f"Annex IV {row.cn} line {row.lineno}: printed {year} {value} vs {expected}: misparsed?",
                )
            if ref["indirect_status"] == "not_applicable":
                direct, indirect_status = total, "not_applicable"
                notes.append(
                    "direct = total: indirect not applicable (N/A in the 'Other' table; Annex II good)"
                )
            else:
                indirect_status = "not_split"
                notes.append("Annex IV gives the total only (no direct/indirect split)")
        out.append(
            {
                "table_kind": "annex_iv",
                "country_iso2": None,
                "sheet_name": None,
                "source_row": row.lineno,
                "sector": row.sector,
                "cn_code": row.cn,
                "cn_digits": len(row.cn),
                "description": row.description,
                "route": row.route,
                "route_key": row.route_key,
                "direct": direct,
                "indirect": indirect,
                "total": total,
                "value_status": status,
                "indirect_status": indirect_status,
                "published_2026": pub[0],
                "published_2027": pub[1],
                "published_2028": pub[2],
                "published_markup_consistent": None if total is None else True,
                "status_reason": "; ".join(notes) or None,
                "act": act,
                "workbook_version": DVR_OJ_VERSION,
                "source": f"{DVR_TEXT} Annex IV",
            }
        )
    return out
